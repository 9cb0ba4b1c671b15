// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {AccessControlDefaultAdminRules} from
    "@openzeppelin/contracts/access/extensions/AccessControlDefaultAdminRules.sol";
import {AttestationFacts, IAttestationVerifier} from "./interfaces/IAttestationVerifier.sol";
import {IEnclaveRegistry} from "./interfaces/IEnclaveRegistry.sol";
import {IEnclaveRegistryErrors} from "./interfaces/IEnclaveRegistryErrors.sol";
import {IModelRegistry} from "./interfaces/IModelRegistry.sol";
import {IOperatorRegistry} from "./interfaces/IOperatorRegistry.sol";
import {AdminRules} from "./libraries/AdminRules.sol";

/// @title EnclaveRegistry
/// @notice Registers enclave signing keys from AWS Nitro attestations. The document's user_data must
///         bind (chain id, this registry, the operator, the enclave key), so a document replayed for
///         another operator, chain or registry is refused; stale documents and unapproved or debug images
///         too. A key lives `keyLifetime` after its attestation; a fresh attestation renews it. A new
///         attestation verifier takes effect only `VERIFIER_CHANGE_DELAY` after it was proposed, so
///         operators and dApps see a change of who vouches for enclaves coming.
contract EnclaveRegistry is IEnclaveRegistry, IEnclaveRegistryErrors, AccessControlDefaultAdminRules {
    /// @notice May propose, accept or cancel a new attestation verifier, and change timings.
    bytes32 public constant ENCLAVE_ADMIN_ROLE = keccak256("ENCLAVE_ADMIN_ROLE");
    /// @notice May revoke any key for good (the disputes contract, when a key signed a refuted result).
    bytes32 public constant REVOKER_ROLE = keccak256("REVOKER_ROLE");

    /// @dev keccak256 of 144 zero bytes: PCR0–2 of a debug-mode enclave.
    bytes32 internal constant DEBUG_IMAGE = keccak256(abi.encodePacked(new bytes(144)));
    /// @dev Tolerated clock skew for documents stamped slightly ahead of the block.
    uint64 internal constant MAX_FUTURE_SKEW = 5 minutes;
    /// @dev Upper bound for the maximum age and the key lifetime: a longer one is a unit mistake.
    uint64 internal constant MAX_DURATION = 365 days;
    /// @notice How long a proposed attestation verifier waits before it can be accepted.
    uint64 public constant VERIFIER_CHANGE_DELAY = 3 days;

    IModelRegistry public immutable models;
    IOperatorRegistry public immutable operators;
    IAttestationVerifier public attestationVerifier;
    /// @notice The proposed next attestation verifier (zero when none is pending).
    IAttestationVerifier public pendingAttestationVerifier;
    /// @notice When the pending verifier can be accepted (unix seconds; zero when none is pending).
    uint64 public pendingVerifierEffectiveAt;
    /// @notice Oldest attestation (seconds) accepted at registration.
    uint64 public maxAttestationAge;
    /// @notice How long a key counts after its attestation's timestamp (seconds).
    uint64 public keyLifetime;
    /// @notice Attestations accepted since deployment (registrations and renewals).
    uint256 public attestationCount;

    mapping(address key => EnclaveKey) private _keys;

    constructor(
        address admin,
        IModelRegistry models_,
        IOperatorRegistry operators_,
        IAttestationVerifier verifier,
        uint64 maxAttestationAge_,
        uint64 keyLifetime_
    ) AccessControlDefaultAdminRules(AdminRules.INITIAL_DELAY, admin) {
        if (
            address(models_) == address(0) || address(operators_) == address(0)
                || address(verifier) == address(0)
        ) revert EnclaveRegistryZeroAddress();
        models = models_;
        operators = operators_;
        attestationVerifier = verifier;
        _setTiming(maxAttestationAge_, keyLifetime_);
        _grantRole(ENCLAVE_ADMIN_ROLE, admin);
        emit AttestationVerifierUpdated(address(verifier));
    }

    /// @notice The user_data an enclave must put in its attestation to register `key` for `operator` here.
    function bindingOf(address operator, address key) public view returns (bytes32) {
        return keccak256(abi.encode(block.chainid, address(this), operator, key));
    }

    /// @notice Registers (or renews) the caller's enclave key from an attestation the verifier vouches for.
    /// @param modelId A model whose approved images include this enclave's image.
    /// @param evidence What the attestation verifier needs (for the quorum: attester signatures).
    function registerEnclaveKey(AttestationFacts calldata facts, bytes32 modelId, bytes calldata evidence) external {
        if (!operators.isActive(msg.sender)) revert EnclaveRegistryInactiveOperator(msg.sender);
        if (facts.enclaveKey == address(0)) revert EnclaveRegistryZeroAddress();
        bytes32 binding = bindingOf(msg.sender, facts.enclaveKey);
        if (facts.userData != binding) revert EnclaveRegistryBindingMismatch(binding, facts.userData);

        uint64 attestedAt = facts.timestamp / 1000;
        if (attestedAt + maxAttestationAge < block.timestamp || attestedAt > block.timestamp + MAX_FUTURE_SKEW) {
            revert EnclaveRegistryStaleAttestation(facts.timestamp, block.timestamp);
        }
        if (facts.pcrs.length != 144) revert EnclaveRegistryMalformedPcrs(facts.pcrs.length);
        bytes32 imageId = keccak256(facts.pcrs);
        if (imageId == DEBUG_IMAGE) revert EnclaveRegistryDebugImage();
        if (!models.isImageApproved(modelId, imageId)) revert EnclaveRegistryImageNotApproved(modelId, imageId);

        EnclaveKey storage stored = _keys[facts.enclaveKey];
        if (stored.operator != address(0)) {
            if (stored.operator != msg.sender) revert EnclaveRegistryKeyTaken(facts.enclaveKey, stored.operator);
            // Also what keeps a revoked key revoked: its last attestation can never be replayed.
            if (attestedAt <= stored.attestedAt) revert EnclaveRegistryNotNewer(stored.attestedAt, attestedAt);
        }
        if (!attestationVerifier.verifyAttestation(facts, evidence)) revert EnclaveRegistryAttestationRejected();

        // attestedAt ≤ now + skew and keyLifetime ≤ MAX_DURATION, so both fit 40 bits.
        uint64 expiresAt = attestedAt + keyLifetime;
        _keys[facts.enclaveKey] = EnclaveKey({
            operator: msg.sender,
            attestedAt: uint40(attestedAt),
            expiresAt: uint40(expiresAt),
            imageId: imageId,
            attestationDigest: facts.attestationDigest
        });
        unchecked {
            ++attestationCount;
        }
        emit EnclaveKeyRegistered(
            facts.enclaveKey, msg.sender, imageId, facts.attestationDigest, attestedAt, expiresAt, facts.pcrs
        );
    }

    /// @notice Revokes one of the caller's enclave keys at once. Only a newer attestation revives it.
    function revokeEnclaveKey(address key) external {
        EnclaveKey storage stored = _keys[key];
        if (stored.operator != msg.sender) revert EnclaveRegistryNotKeyOperator(key, msg.sender);
        stored.expiresAt = 0;
        emit EnclaveKeyRevoked(key, msg.sender);
    }

    /// @notice Revokes `key` for good: it signed a result proven wrong. No attestation can renew it.
    function revokeForFraud(address key, bytes32 reason) external onlyRole(REVOKER_ROLE) {
        EnclaveKey storage stored = _keys[key];
        if (stored.operator == address(0)) return;
        stored.expiresAt = 0;
        // Renewals need a newer attestation than the stored one: none is newer than this.
        stored.attestedAt = type(uint40).max;
        emit EnclaveKeyBanned(key, stored.operator, reason);
    }

    /// @notice Proposes a new attestation verifier (e.g. on-chain P-384 verification instead of a quorum).
    ///         It can be accepted `VERIFIER_CHANGE_DELAY` from now; a new proposal replaces a pending one.
    function proposeAttestationVerifier(IAttestationVerifier verifier) external onlyRole(ENCLAVE_ADMIN_ROLE) {
        if (address(verifier) == address(0)) revert EnclaveRegistryZeroAddress();
        uint64 effectiveAt = uint64(block.timestamp) + VERIFIER_CHANGE_DELAY;
        pendingAttestationVerifier = verifier;
        pendingVerifierEffectiveAt = effectiveAt;
        emit AttestationVerifierProposed(address(verifier), effectiveAt);
    }

    /// @notice Makes the pending verifier the one that vouches for attestations, once its delay has passed.
    function acceptAttestationVerifier() external onlyRole(ENCLAVE_ADMIN_ROLE) {
        IAttestationVerifier verifier = pendingAttestationVerifier;
        if (address(verifier) == address(0)) revert EnclaveRegistryNoPendingVerifier();
        uint64 effectiveAt = pendingVerifierEffectiveAt;
        if (block.timestamp < effectiveAt) revert EnclaveRegistryVerifierChangeNotReady(effectiveAt);
        attestationVerifier = verifier;
        delete pendingAttestationVerifier;
        delete pendingVerifierEffectiveAt;
        emit AttestationVerifierUpdated(address(verifier));
    }

    /// @notice Drops the pending verifier proposal.
    function cancelAttestationVerifier() external onlyRole(ENCLAVE_ADMIN_ROLE) {
        address verifier = address(pendingAttestationVerifier);
        if (verifier == address(0)) revert EnclaveRegistryNoPendingVerifier();
        delete pendingAttestationVerifier;
        delete pendingVerifierEffectiveAt;
        emit AttestationVerifierProposalCancelled(verifier);
    }

    /// @notice Sets the maximum attestation age and the key lifetime (seconds).
    function setTiming(uint64 maxAttestationAge_, uint64 keyLifetime_) external onlyRole(ENCLAVE_ADMIN_ROLE) {
        _setTiming(maxAttestationAge_, keyLifetime_);
    }

    /// @inheritdoc IEnclaveRegistry
    function enclaveKeyOf(address key) external view returns (EnclaveKey memory) {
        return _keys[key];
    }

    function _setTiming(uint64 maxAttestationAge_, uint64 keyLifetime_) private {
        if (maxAttestationAge_ == 0 || keyLifetime_ == 0 || maxAttestationAge_ > MAX_DURATION || keyLifetime_ > MAX_DURATION) {
            revert EnclaveRegistryInvalidDuration();
        }
        maxAttestationAge = maxAttestationAge_;
        keyLifetime = keyLifetime_;
        emit TimingUpdated(maxAttestationAge_, keyLifetime_);
    }
}
