// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {AccessControlDefaultAdminRules} from
    "@openzeppelin/contracts/access/extensions/AccessControlDefaultAdminRules.sol";
import {IModelRegistry, MODEL_CIRCUIT_FLAG, MODEL_WINDOW_FLAG} from "./interfaces/IModelRegistry.sol";
import {IGroth16Verifier} from "./interfaces/IGroth16Verifier.sol";
import {AdminRules} from "./libraries/AdminRules.sol";
import {DataStore} from "./libraries/DataStore.sol";
import {Tier} from "./types/Tier.sol";

/// @title ModelRegistry
/// @notice Content-addressed models: the id is keccak256(owner, weightsCommitment), so the same weights
///         registered by another owner are another model. Models are never deleted, only deprecated;
///         new weights are a new version linked to their predecessor. Only a model's owner approves the
///         enclave images that serve it; governance can only revoke them.
contract ModelRegistry is IModelRegistry, AccessControlDefaultAdminRules {
    /// @notice May revoke enclave images of any model (never approve them).
    bytes32 public constant GOVERNANCE_ROLE = keccak256("GOVERNANCE_ROLE");

    /// @dev Tiers a model may accept: Signature (bit 1), TEE (bit 2), ZK (bit 3).
    uint8 internal constant VALID_TIERS = (1 << 1) | (1 << 2) | (1 << 3);
    uint8 internal constant ZK_BIT = 1 << 3;
    /// @dev Flags kept in the high bits of the stored `acceptedTiers` (reported by `termsOf`, masked in
    ///      `modelOf`), so that a pending result learns whether its model has a circuit and asked for its
    ///      own window from the slot `termsOf` reads anyway: the third slot (a cold 2,100-gas read) and a
    ///      second call are needed only for a model with its own window.
    uint8 internal constant CIRCUIT_FLAG = MODEL_CIRCUIT_FLAG;
    uint8 internal constant WINDOW_FLAG = MODEL_WINDOW_FLAG;
    /// @notice The longest challenge window a model may ask for.
    uint32 public constant MAX_CHALLENGE_WINDOW = 30 days;

    /// @dev Slot 0 is all a signature-tier receipt reads; TEE and ZK receipts read slot 1 too.
    struct Model {
        // slot 0
        address owner;
        uint8 acceptedTiers;
        bool deprecated;
        uint80 signaturePrice;
        // slot 1
        uint80 teePrice;
        uint80 zkPrice;
        uint40 registeredAt;
        // slot 2
        address verifyingKeyStore;
        uint32 challengeWindow;
        // slots 3, 4
        bytes32 weightsCommitment;
        bytes32 previousVersion;
        string metadataURI;
    }

    /// @notice Checks verifying keys before they are stored.
    IGroth16Verifier public immutable verifier;

    mapping(bytes32 modelId => Model) private _models;
    mapping(bytes32 modelId => mapping(bytes32 imageId => bool)) private _approvedImages;
    uint256 private _modelCount;

    /// @param admin Holds DEFAULT_ADMIN_ROLE (moves in two delayed steps) and GOVERNANCE_ROLE.
    /// @param groth16Verifier Validates verifying keys at registration (well formed, not forgeable).
    constructor(address admin, IGroth16Verifier groth16Verifier)
        AccessControlDefaultAdminRules(AdminRules.INITIAL_DELAY, admin)
    {
        if (address(groth16Verifier) == address(0)) revert ModelRegistryZeroAddress();
        verifier = groth16Verifier;
        _grantRole(GOVERNANCE_ROLE, admin);
    }

    modifier onlyModelOwner(bytes32 modelId) {
        Model storage model = _existing(modelId);
        if (model.owner != msg.sender) revert ModelRegistryNotModelOwner(modelId, msg.sender);
        if (model.deprecated) revert ModelRegistryDeprecated(modelId);
        _;
    }

    /// @inheritdoc IModelRegistry
    function modelIdOf(address owner, bytes32 weightsCommitment) public pure returns (bytes32) {
        return keccak256(abi.encode(owner, weightsCommitment));
    }

    /// @inheritdoc IModelRegistry
    function registerModel(Registration calldata registration) external returns (bytes32 modelId) {
        if (registration.weightsCommitment == bytes32(0)) revert ModelRegistryZeroCommitment();
        _checkTiers(registration.acceptedTiers);
        modelId = modelIdOf(msg.sender, registration.weightsCommitment);
        Model storage model = _models[modelId];
        if (model.owner != address(0)) revert ModelRegistryAlreadyRegistered(modelId);

        bytes32 previous = registration.previousVersion;
        if (previous != bytes32(0) && _models[previous].owner != msg.sender) {
            revert ModelRegistryInvalidPreviousVersion(previous);
        }
        bool acceptsZk = registration.acceptedTiers & ZK_BIT != 0;
        if (acceptsZk != (registration.verifyingKey.length != 0)) revert ModelRegistryVerifyingKeyMismatch(modelId);

        model.owner = msg.sender;
        model.acceptedTiers = registration.acceptedTiers | (acceptsZk ? CIRCUIT_FLAG : 0);
        model.registeredAt = uint40(block.timestamp);
        _setPrices(model, registration.prices);
        model.weightsCommitment = registration.weightsCommitment;
        model.previousVersion = previous;
        model.metadataURI = registration.metadataURI;
        unchecked {
            ++_modelCount;
        }
        emit ModelRegistered(modelId, msg.sender, registration.weightsCommitment, previous, registration.metadataURI);
        emit ModelPricesUpdated(modelId, registration.prices);
        emit ModelTiersUpdated(modelId, registration.acceptedTiers);

        if (acceptsZk) {
            verifier.validateVerifyingKey(registration.verifyingKey);
            address store = DataStore.write(registration.verifyingKey);
            model.verifyingKeyStore = store;
            emit ModelVerifyingKeySet(modelId, keccak256(registration.verifyingKey), store);
        }
    }

    /// @notice Sets the OPG price of one inference at Signature, TEE and ZK.
    function setPrices(bytes32 modelId, uint80[3] calldata prices) external onlyModelOwner(modelId) {
        _setPrices(_models[modelId], prices);
        emit ModelPricesUpdated(modelId, prices);
    }

    /// @notice Sets which tiers the model accepts. ZK can only be accepted by models registered with a key.
    function setAcceptedTiers(bytes32 modelId, uint8 acceptedTiers) external onlyModelOwner(modelId) {
        _checkTiers(acceptedTiers);
        Model storage model = _models[modelId];
        if (acceptedTiers & ZK_BIT != 0 && model.verifyingKeyStore == address(0)) {
            revert ModelRegistryVerifyingKeyMismatch(modelId);
        }
        model.acceptedTiers = acceptedTiers | (model.acceptedTiers & (CIRCUIT_FLAG | WINDOW_FLAG));
        emit ModelTiersUpdated(modelId, acceptedTiers);
    }

    /// @notice Points the model at a new metadata URI (the weights, hence the id, do not change).
    function setMetadataURI(bytes32 modelId, string calldata metadataURI) external onlyModelOwner(modelId) {
        _models[modelId].metadataURI = metadataURI;
        emit ModelMetadataUpdated(modelId, metadataURI);
    }

    /// @notice Asks for a challenge window of `window` seconds for this model's pending results (the hub
    ///         uses the longer of this and its own; zero for the hub's).
    function setChallengeWindow(bytes32 modelId, uint32 window) external onlyModelOwner(modelId) {
        if (window > MAX_CHALLENGE_WINDOW) revert ModelRegistryInvalidChallengeWindow(window);
        Model storage model = _models[modelId];
        model.challengeWindow = window;
        model.acceptedTiers = window == 0 ? model.acceptedTiers & ~WINDOW_FLAG : model.acceptedTiers | WINDOW_FLAG;
        emit ModelChallengeWindowUpdated(modelId, window);
    }

    /// @notice Hands the model to `newOwner`, who then receives its share of fees.
    function transferModelOwnership(bytes32 modelId, address newOwner) external onlyModelOwner(modelId) {
        if (newOwner == address(0)) revert ModelRegistryZeroAddress();
        emit ModelOwnershipTransferred(modelId, msg.sender, newOwner);
        _models[modelId].owner = newOwner;
    }

    /// @notice Retires the model for good: it serves no more receipts. Its record stays readable.
    function deprecate(bytes32 modelId) external onlyModelOwner(modelId) {
        _models[modelId].deprecated = true;
        emit ModelDeprecated(modelId);
    }

    /// @notice Approves enclave image `imageId` = keccak256(PCR0‖PCR1‖PCR2) to serve `modelId` at TEE.
    ///         Only the model's owner decides which images run its model.
    function approveEnclaveImage(bytes32 modelId, bytes32 imageId) external onlyModelOwner(modelId) {
        if (imageId == bytes32(0)) revert ModelRegistryZeroImage();
        _approvedImages[modelId][imageId] = true;
        emit EnclaveImageApproved(modelId, imageId, msg.sender);
    }

    /// @notice Revokes an image: every enclave key attested with it stops counting for this model at once.
    ///         The model's owner or governance (e.g. after a vulnerability in the image) may revoke.
    function revokeEnclaveImage(bytes32 modelId, bytes32 imageId) external {
        Model storage model = _existing(modelId);
        if (model.owner != msg.sender && !hasRole(GOVERNANCE_ROLE, msg.sender)) {
            revert ModelRegistryNotOwnerOrGovernance(modelId, msg.sender);
        }
        if (imageId == bytes32(0)) revert ModelRegistryZeroImage();
        _approvedImages[modelId][imageId] = false;
        emit EnclaveImageRevoked(modelId, imageId, msg.sender);
    }

    /// @inheritdoc IModelRegistry
    function termsOf(bytes32 modelId, Tier tier) external view returns (ModelTerms memory terms) {
        Model storage model = _existing(modelId);
        terms.owner = model.owner;
        terms.acceptedTiers = model.acceptedTiers;
        terms.deprecated = model.deprecated;
        if (tier == Tier.Signature) terms.price = model.signaturePrice;
        else if (tier == Tier.TEE) terms.price = model.teePrice;
        else if (tier == Tier.ZK) terms.price = model.zkPrice;
    }

    /// @inheritdoc IModelRegistry
    function verifyingKeyStoreOf(bytes32 modelId) external view returns (address) {
        return _models[modelId].verifyingKeyStore;
    }

    /// @inheritdoc IModelRegistry
    function disputeTermsOf(bytes32 modelId) external view returns (address verifyingKeyStore, uint32 challengeWindow) {
        Model storage model = _models[modelId];
        return (model.verifyingKeyStore, model.challengeWindow);
    }

    /// @notice The verifying key words the model was registered with (empty if none).
    function verifyingKeyOf(bytes32 modelId) external view returns (bytes memory) {
        return DataStore.read(_models[modelId].verifyingKeyStore);
    }

    /// @inheritdoc IModelRegistry
    function isImageApproved(bytes32 modelId, bytes32 imageId) external view returns (bool) {
        return _approvedImages[modelId][imageId];
    }

    /// @notice The full record of a model.
    function modelOf(bytes32 modelId) external view returns (Model memory model) {
        model = _existing(modelId);
        model.acceptedTiers &= VALID_TIERS;
    }

    /// @inheritdoc IModelRegistry
    function modelCount() external view returns (uint256) {
        return _modelCount;
    }

    /// @notice The prices at Signature, TEE and ZK.
    function pricesOf(bytes32 modelId) external view returns (uint80[3] memory prices) {
        Model storage model = _existing(modelId);
        prices = [model.signaturePrice, model.teePrice, model.zkPrice];
    }

    function _setPrices(Model storage model, uint80[3] memory prices) private {
        model.signaturePrice = prices[0];
        model.teePrice = prices[1];
        model.zkPrice = prices[2];
    }

    function _existing(bytes32 modelId) private view returns (Model storage model) {
        model = _models[modelId];
        if (model.owner == address(0)) revert ModelRegistryUnknownModel(modelId);
    }

    function _checkTiers(uint8 acceptedTiers) private pure {
        if (acceptedTiers == 0 || acceptedTiers & ~VALID_TIERS != 0) revert ModelRegistryInvalidTiers(acceptedTiers);
    }
}
