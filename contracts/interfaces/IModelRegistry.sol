// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Tier} from "../types/Tier.sol";

/// @dev In ModelTerms.acceptedTiers: the model has a registered circuit (its results can be refuted by proof).
uint8 constant MODEL_CIRCUIT_FLAG = 1 << 7;
/// @dev In ModelTerms.acceptedTiers: the model asked for its own challenge window (see `disputeTermsOf`).
uint8 constant MODEL_WINDOW_FLAG = 1 << 6;

/// @notice Content-addressed AI models: owner, metadata, weights commitment, per-tier prices, accepted
///         tiers, version links, the ZK verifying key and the enclave images approved to run them.
interface IModelRegistry {
    /// @notice What the hub needs to price and route one receipt, and to open its challenge window.
    /// @param acceptedTiers Bits 1–3: the tiers accepted (Tier.bit). Bit 7 (MODEL_CIRCUIT_FLAG): the model
    ///        has a registered circuit, so its Signature/TEE results can be refuted by proof (pending for a
    ///        window, bonded). Bit 6 (MODEL_WINDOW_FLAG): the model asked for its own window
    ///        (`disputeTermsOf` gives it). Both come from the one slot `termsOf` reads for a Signature
    ///        receipt, so a pending result needs no further call unless its model asked for a window.
    struct ModelTerms {
        address owner;
        uint8 acceptedTiers;
        bool deprecated;
        uint80 price;
    }

    /// @notice Arguments of `registerModel`.
    /// @param weightsCommitment Hash of the model's content (weights); with the owner it derives the id.
    /// @param metadataURI Where the model card lives (an IPFS or Walrus CID URI).
    /// @param prices OPG price of one inference at tier Signature, TEE, ZK (index 0, 1, 2).
    /// @param acceptedTiers Bit set of accepted tiers (bit 1 Signature, bit 2 TEE, bit 3 ZK).
    /// @param previousVersion The model this one supersedes (zero for none); must share the owner.
    /// @param verifyingKey Groth16 verifying key words (empty unless ZK is accepted); pins the circuit.
    struct Registration {
        bytes32 weightsCommitment;
        string metadataURI;
        uint80[3] prices;
        uint8 acceptedTiers;
        bytes32 previousVersion;
        bytes verifyingKey;
    }

    /// @notice The model id is already registered.
    error ModelRegistryAlreadyRegistered(bytes32 modelId);
    /// @notice No model has this id.
    error ModelRegistryUnknownModel(bytes32 modelId);
    /// @notice Only the model's owner may do this.
    error ModelRegistryNotModelOwner(bytes32 modelId, address caller);
    /// @notice Only the model's owner or governance may do this.
    error ModelRegistryNotOwnerOrGovernance(bytes32 modelId, address caller);
    /// @notice The model is deprecated and can no longer change or serve.
    error ModelRegistryDeprecated(bytes32 modelId);
    /// @notice The accepted-tiers mask is empty or names a tier that does not exist.
    error ModelRegistryInvalidTiers(uint8 acceptedTiers);
    /// @notice ZK is accepted without a verifying key, or a key is given without ZK.
    error ModelRegistryVerifyingKeyMismatch(bytes32 modelId);
    /// @notice The predecessor does not exist or belongs to another owner.
    error ModelRegistryInvalidPreviousVersion(bytes32 previousVersion);
    /// @notice The weights commitment is zero.
    error ModelRegistryZeroCommitment();
    /// @notice A zero address was given where an account is required.
    error ModelRegistryZeroAddress();
    /// @notice The enclave image id is zero.
    error ModelRegistryZeroImage();
    /// @notice The challenge window is longer than MAX_CHALLENGE_WINDOW.
    error ModelRegistryInvalidChallengeWindow(uint32 window);

    /// @notice A model was registered.
    event ModelRegistered(
        bytes32 indexed modelId,
        address indexed owner,
        bytes32 weightsCommitment,
        bytes32 indexed previousVersion,
        string metadataURI
    );
    /// @notice A model's prices changed.
    event ModelPricesUpdated(bytes32 indexed modelId, uint80[3] prices);
    /// @notice A model's accepted tiers changed.
    event ModelTiersUpdated(bytes32 indexed modelId, uint8 acceptedTiers);
    /// @notice A model's metadata URI changed.
    event ModelMetadataUpdated(bytes32 indexed modelId, string metadataURI);
    /// @notice A model was deprecated: it serves no more receipts.
    event ModelDeprecated(bytes32 indexed modelId);
    /// @notice A model changed owner.
    event ModelOwnershipTransferred(bytes32 indexed modelId, address indexed previousOwner, address indexed newOwner);
    /// @notice A model asked for a challenge window (seconds; zero for the hub's).
    event ModelChallengeWindowUpdated(bytes32 indexed modelId, uint32 window);
    /// @notice A model's verifying key was stored.
    event ModelVerifyingKeySet(bytes32 indexed modelId, bytes32 verifyingKeyHash, address store);
    /// @notice An enclave image (keccak(PCR0‖PCR1‖PCR2)) was approved for a model.
    event EnclaveImageApproved(bytes32 indexed modelId, bytes32 indexed imageId, address indexed by);
    /// @notice An enclave image was revoked for a model: every key attested with it stops counting.
    event EnclaveImageRevoked(bytes32 indexed modelId, bytes32 indexed imageId, address indexed by);

    /// @notice The id a registration by `owner` of `weightsCommitment` gets.
    function modelIdOf(address owner, bytes32 weightsCommitment) external pure returns (bytes32);

    /// @notice Registers a model owned by the caller; returns its id.
    function registerModel(Registration calldata registration) external returns (bytes32 modelId);

    /// @notice Owner, acceptance (with the circuit and window flags), deprecation and the price at `tier`,
    ///         for the hub and the request book. Reverts for unknown ids.
    function termsOf(bytes32 modelId, Tier tier) external view returns (ModelTerms memory);

    /// @notice The pointer to the model's stored verifying key (zero if none).
    function verifyingKeyStoreOf(bytes32 modelId) external view returns (address);

    /// @notice The verifying key pointer (zero: results cannot be refuted by proof) and the challenge
    ///         window the model asked for (zero: the hub's), in one storage read.
    function disputeTermsOf(bytes32 modelId) external view returns (address verifyingKeyStore, uint32 challengeWindow);

    /// @notice Whether `imageId` is approved to run `modelId` at the TEE tier.
    function isImageApproved(bytes32 modelId, bytes32 imageId) external view returns (bool);

    /// @notice How many models were ever registered.
    function modelCount() external view returns (uint256);
}
