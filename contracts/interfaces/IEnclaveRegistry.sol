// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @notice Enclave signing keys registered from AWS Nitro attestations.
interface IEnclaveRegistry {
    /// @notice A registered enclave key: who runs it, which image attested it, until when it counts.
    struct EnclaveKey {
        address operator;
        uint64 attestedAt;
        uint64 expiresAt;
        bytes32 imageId;
        bytes32 attestationDigest;
    }

    /// @notice The registration of `key` (all zero when unknown).
    function enclaveKeyOf(address key) external view returns (EnclaveKey memory);
}
