// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IBatchSettlement} from "../interfaces/IBatchSettlement.sol";

/// @notice Hashes of batch settlement: EIP-712 struct hashes of authorizations and batch headers, and the
///         OpenZeppelin standard Merkle leaf of a receipt. Mirrored by src/batches.
library BatchHashing {
    bytes32 internal constant AUTHORIZATION_TYPEHASH =
        keccak256("SpendingAuthorization(address requester,address operator,uint256 cap,uint64 expiry,bytes32 salt)");
    bytes32 internal constant BATCH_TYPEHASH =
        keccak256("Batch(bytes32 root,uint32 leafCount,string uri,bytes32 closings)");

    /// @notice The EIP-712 struct hash of an authorization.
    function hashAuthorization(IBatchSettlement.SpendingAuthorization calldata a) internal pure returns (bytes32) {
        return keccak256(abi.encode(AUTHORIZATION_TYPEHASH, a.requester, a.operator, a.cap, a.expiry, a.salt));
    }

    /// @notice The EIP-712 struct hash of a batch header with `closings`, the keccak256 of its closing
    ///         leaves' hashes concatenated in posting order.
    function hashBatch(IBatchSettlement.BatchHeader calldata h, bytes32 closings) internal pure returns (bytes32) {
        return keccak256(abi.encode(BATCH_TYPEHASH, h.root, h.leafCount, keccak256(bytes(h.uri)), closings));
    }

    /// @notice The standard Merkle leaf (double keccak of the ABI encoding) of `leaf`.
    function hashLeaf(IBatchSettlement.Leaf calldata leaf) internal pure returns (bytes32) {
        return keccak256(bytes.concat(keccak256(abi.encode(leaf))));
    }
}
