// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Receipt} from "../types/Receipt.sol";

/// @notice EIP-712 struct hash and identifiers of receipts. Mirrored by src/receipts/eip712.ts.
library ReceiptHashing {
    bytes32 internal constant RECEIPT_TYPEHASH = keccak256(
        "Receipt(bytes32 modelId,bytes32 inputCommitment,bytes32 outputCommitment,bytes32 outputDigest,address requester,address operator,uint256 nonce,uint64 deadline,uint8 tier)"
    );

    /// @dev BN254 scalar field order: ZK binding values and commitments live below it.
    uint256 internal constant SNARK_SCALAR_FIELD =
        21888242871839275222246405745257275088548364400416034343698204186575808495617;

    /// @notice The EIP-712 struct hash of `receipt` (the calldata is hashed in place, no copy).
    function hashStruct(Receipt calldata receipt) internal pure returns (bytes32 digest) {
        bytes32 typehash = RECEIPT_TYPEHASH;
        assembly ("memory-safe") {
            let ptr := mload(0x40)
            mstore(ptr, typehash)
            calldatacopy(add(ptr, 0x20), receipt, 0x120)
            digest := keccak256(ptr, 0x140)
        }
    }

    /// @notice The EIP-712 struct hash of a receipt built in memory (request steps).
    function hashStructMemory(Receipt memory r) internal pure returns (bytes32) {
        return keccak256(
            abi.encode(
                RECEIPT_TYPEHASH,
                r.modelId,
                r.inputCommitment,
                r.outputCommitment,
                r.outputDigest,
                r.requester,
                r.operator,
                r.nonce,
                r.deadline,
                r.tier
            )
        );
    }

    /// @notice A receipt's id: unique per chain, hub, requester, model and nonce.
    function receiptId(address hub, address requester, bytes32 modelId, uint256 nonce)
        internal
        view
        returns (bytes32)
    {
        return keccak256(abi.encode(block.chainid, hub, requester, modelId, nonce));
    }

    /// @notice Nonces with this bit set belong to operation steps, the others to single receipts, so a
    ///         signature or proof made for one can never be submitted as the other.
    uint256 internal constant OPERATION_NONCE_FLAG = 1 << 255;

    /// @dev Separates operation ids from receipt ids (no model id is ever this value).
    bytes32 internal constant OPERATION_TAG = keccak256("OPG.operation");

    /// @notice An operation's id: one per requester and nonce, whatever its steps, so no two operations
    ///         can share a step.
    function operationId(address hub, address requester, uint256 nonce) internal view returns (bytes32) {
        return keccak256(abi.encode(block.chainid, hub, requester, OPERATION_TAG, nonce));
    }

    /// @notice The value a ZK proof must carry as its public `binding` input for receipt `id` paid to
    ///         `operator`: the proof then settles only that receipt, and pays only that operator (a
    ///         copied proof cannot name another one).
    function bindingOf(bytes32 id, address operator) internal pure returns (uint256) {
        return uint256(keccak256(abi.encode(id, operator))) % SNARK_SCALAR_FIELD;
    }

    /// @notice A model proof's public signals: [inputCommitment, outputCommitment, outputs..., binding], the
    ///         layout of every ZK receipt, request step and challenge (only the binding differs).
    function proofSignals(bytes32 inputCommitment, bytes32 outputCommitment, uint256[] calldata outputs, uint256 binding)
        internal
        pure
        returns (uint256[] memory signals)
    {
        uint256 n = outputs.length;
        signals = new uint256[](n + 3);
        signals[0] = uint256(inputCommitment);
        signals[1] = uint256(outputCommitment);
        for (uint256 i = 0; i < n; ++i) {
            signals[i + 2] = outputs[i];
        }
        signals[n + 2] = binding;
    }
}
