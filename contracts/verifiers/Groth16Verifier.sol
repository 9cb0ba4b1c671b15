// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IGroth16Verifier} from "../interfaces/IGroth16Verifier.sol";

/// @title Groth16Verifier
/// @notice One universal BN254 Groth16 verifier: verifying keys are data, so a new circuit needs no new
///         contract (and no GPL-licensed generated verifier). Pure precompile calls, no storage.
/// @dev Checks e(-A, B) · e(alpha, beta) · e(vk_x, gamma) · e(C, delta) == 1 with
///      vk_x = IC[0] + Σ s_i · IC[i+1].
contract Groth16Verifier is IGroth16Verifier {
    /// @dev BN254 base field order (coordinates).
    uint256 internal constant Q = 21888242871839275222246405745257275088696311157297823662689037894645226208583;
    /// @dev BN254 scalar field order (public signals).
    uint256 internal constant R = 21888242871839275222246405745257275088548364400416034343698204186575808495617;
    /// @dev Words before IC: alpha (2), beta (4), gamma (4), delta (4).
    uint256 internal constant HEADER_WORDS = 14;

    /// @inheritdoc IGroth16Verifier
    function validateVerifyingKey(bytes calldata verifyingKey) external pure returns (uint256 publicSignals) {
        publicSignals = _signalCount(verifyingKey.length);
        for (uint256 offset = 0; offset < verifyingKey.length; offset += 32) {
            if (uint256(bytes32(verifyingKey[offset:offset + 32])) >= Q) {
                revert Groth16MalformedVerifyingKey(verifyingKey.length);
            }
        }
        // gamma is words 6..9, delta words 10..13.
        if (keccak256(verifyingKey[192:320]) == keccak256(verifyingKey[320:448])) {
            revert Groth16ForgeableVerifyingKey();
        }
    }

    /// @inheritdoc IGroth16Verifier
    function verifyProof(bytes calldata verifyingKey, uint256[8] calldata proof, uint256[] calldata publicSignals)
        external
        view
        returns (bool valid)
    {
        uint256 count = _signalCount(verifyingKey.length);
        if (publicSignals.length != count) revert Groth16SignalCountMismatch(count, publicSignals.length);
        bytes4 outOfField = Groth16SignalOutOfField.selector;
        assembly ("memory-safe") {
            let m := mload(0x40)
            let ic := add(verifyingKey.offset, mul(HEADER_WORDS, 0x20))
            let ok := 1

            // vk_x accumulates at m[0..64); scratch for ecMul at m[64..160).
            mstore(m, calldataload(ic))
            mstore(add(m, 0x20), calldataload(add(ic, 0x20)))
            for { let i := 0 } lt(i, count) { i := add(i, 1) } {
                let s := calldataload(add(publicSignals.offset, mul(i, 0x20)))
                if iszero(lt(s, R)) {
                    mstore(0, outOfField)
                    mstore(4, i)
                    revert(0, 0x24)
                }
                // A zero scalar contributes the point at infinity: skip both precompile calls.
                if s {
                    let point := add(ic, mul(add(i, 1), 0x40))
                    mstore(add(m, 0x40), calldataload(point))
                    mstore(add(m, 0x60), calldataload(add(point, 0x20)))
                    mstore(add(m, 0x80), s)
                    ok := and(ok, staticcall(gas(), 0x07, add(m, 0x40), 0x60, add(m, 0x40), 0x40))
                    ok := and(ok, staticcall(gas(), 0x06, m, 0x80, m, 0x40))
                }
            }

            // Pairing input: four (G1, G2) pairs of six words each, after vk_x.
            let ay := calldataload(add(proof, 0x20))
            ok := and(ok, lt(ay, Q))
            let p := add(m, 0x40)
            // (-A, B)
            mstore(p, calldataload(proof))
            mstore(add(p, 0x20), mod(sub(Q, ay), Q))
            calldatacopy(add(p, 0x40), add(proof, 0x40), 0x80)
            // (alpha, beta)
            calldatacopy(add(p, 0xc0), verifyingKey.offset, 0xc0)
            // (vk_x, gamma)
            mstore(add(p, 0x180), mload(m))
            mstore(add(p, 0x1a0), mload(add(m, 0x20)))
            calldatacopy(add(p, 0x1c0), add(verifyingKey.offset, 0xc0), 0x80)
            // (C, delta)
            calldatacopy(add(p, 0x240), add(proof, 0xc0), 0x40)
            calldatacopy(add(p, 0x280), add(verifyingKey.offset, 0x140), 0x80)

            ok := and(ok, staticcall(gas(), 0x08, p, 0x300, m, 0x20))
            valid := and(ok, mload(m))
        }
    }

    function _signalCount(uint256 length) private pure returns (uint256) {
        // 14 header words plus (n + 1) points of two words, n ≥ 1: a multiple of 64 bytes, at least 18 words.
        if (length % 64 != 0 || length < (HEADER_WORDS + 4) * 32) revert Groth16MalformedVerifyingKey(length);
        return (length / 32 - HEADER_WORDS) / 2 - 1;
    }
}
