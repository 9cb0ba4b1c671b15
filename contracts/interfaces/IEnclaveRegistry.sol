// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @notice Enclave signing keys registered from AWS Nitro attestations.
interface IEnclaveRegistry {
    /// @notice A registered enclave key: who runs it, which image attested it, until when it counts.
    /// @dev Operator and both times share one slot (seconds fit 40 bits until the year 36812).
    ///      A revoked key keeps its record with `expiresAt` zero, so its old attestation cannot revive it.
    struct EnclaveKey {
        address operator;
        uint40 attestedAt;
        uint40 expiresAt;
        bytes32 imageId;
        bytes32 attestationDigest;
    }

    /// @notice The registration of `key` (all zero when unknown).
    function enclaveKeyOf(address key) external view returns (EnclaveKey memory);

    /// @notice Revokes `key` for good (revoker role: the disputes contract), citing the refuted result.
    function revokeForFraud(address key, bytes32 reason) external;
}
