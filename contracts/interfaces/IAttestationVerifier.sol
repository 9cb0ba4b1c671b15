// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @notice The facts of an AWS Nitro attestation document that the chain relies on.
/// @param attestationDigest SHA-256 of the document in canonical form (untagged COSE_Sign1, low-S signature), so
///        one signed payload has one digest (src/nitro attestationDigestOf).
/// @param pcrs PCR0‖PCR1‖PCR2 (48 bytes each): the enclave image.
/// @param enclaveKey Address of the secp256k1 key in the document's public_key field.
/// @param userData The document's user_data (32 bytes: the registration binding).
/// @param timestamp The document's timestamp, milliseconds since the epoch.
struct AttestationFacts {
    bytes32 attestationDigest;
    bytes pcrs;
    address enclaveKey;
    bytes32 userData;
    uint64 timestamp;
}

/// @notice Vouches that a Nitro attestation document with these facts exists and verifies (COSE ES384
///         signature, certificate chain to the pinned AWS root, validity at its time).
/// @dev Today an attester quorum; full on-chain P-384 verification plugs into the same interface.
interface IAttestationVerifier {
    /// @notice Returns true if `evidence` proves `facts`; reverts with a reason or returns false otherwise.
    function verifyAttestation(AttestationFacts calldata facts, bytes calldata evidence) external view returns (bool);
}
