// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @notice Errors and events of the EnclaveRegistry.
interface IEnclaveRegistryErrors {
    /// @notice user_data does not bind this chain, this registry, the caller and the enclave key.
    error EnclaveRegistryBindingMismatch(bytes32 expected, bytes32 actual);
    /// @notice The attestation is older than the maximum age, or from the future.
    error EnclaveRegistryStaleAttestation(uint64 timestampMs, uint256 nowSeconds);
    /// @notice The PCRs are not three 48-byte values.
    error EnclaveRegistryMalformedPcrs(uint256 length);
    /// @notice PCR0–2 are all zero: the enclave ran in debug mode and proves nothing.
    error EnclaveRegistryDebugImage();
    /// @notice The image is not approved for the model named at registration.
    error EnclaveRegistryImageNotApproved(bytes32 modelId, bytes32 imageId);
    /// @notice The attestation verifier did not vouch for the facts.
    error EnclaveRegistryAttestationRejected();
    /// @notice The key belongs to another operator.
    error EnclaveRegistryKeyTaken(address key, address operator);
    /// @notice A renewal must carry a newer attestation than the one stored.
    error EnclaveRegistryNotNewer(uint64 storedAt, uint64 givenAt);
    /// @notice The caller has no active stake.
    error EnclaveRegistryInactiveOperator(address operator);
    /// @notice The key is not registered to the caller.
    error EnclaveRegistryNotKeyOperator(address key, address caller);
    /// @notice A zero address was given where an account is required.
    error EnclaveRegistryZeroAddress();
    /// @notice A duration is zero.
    error EnclaveRegistryInvalidDuration();
    /// @notice No attestation verifier change is pending.
    error EnclaveRegistryNoPendingVerifier();
    /// @notice The pending attestation verifier cannot be accepted before `effectiveAt` (unix seconds).
    error EnclaveRegistryVerifierChangeNotReady(uint64 effectiveAt);

    /// @notice An enclave key was registered or renewed (heartbeat).
    event EnclaveKeyRegistered(
        address indexed key,
        address indexed operator,
        bytes32 indexed imageId,
        bytes32 attestationDigest,
        uint64 attestedAt,
        uint64 expiresAt,
        bytes pcrs
    );
    /// @notice An enclave key was revoked by its operator.
    event EnclaveKeyRevoked(address indexed key, address indexed operator);
    /// @notice An enclave key was revoked for good because it signed a refuted result (`reason`).
    event EnclaveKeyBanned(address indexed key, address indexed operator, bytes32 indexed reason);
    /// @notice The attestation verifier changed.
    event AttestationVerifierUpdated(address indexed verifier);
    /// @notice A new attestation verifier was proposed; it can be accepted from `effectiveAt` (unix seconds).
    event AttestationVerifierProposed(address indexed verifier, uint64 effectiveAt);
    /// @notice A pending attestation verifier proposal was dropped.
    event AttestationVerifierProposalCancelled(address indexed verifier);
    /// @notice The maximum attestation age or the key lifetime changed.
    event TimingUpdated(uint64 maxAttestationAge, uint64 keyLifetime);
}
