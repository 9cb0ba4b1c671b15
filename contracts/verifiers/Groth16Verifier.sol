// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IGroth16Verifier} from "../interfaces/IGroth16Verifier.sol";

/// @title Groth16Verifier
/// @notice One universal BN254 Groth16 verifier: verifying keys are data, so a new circuit needs no new
///         contract (and no GPL-licensed generated verifier). Pure precompile calls, no storage.
/// @dev Checks e(-A, B) · e(alpha, beta) · e(vk_x, gamma) · e(C, delta) == 1 with
///      vk_x = IC[0] + Σ s_i · IC[i+1]. Every precompile call must succeed and return its full output
///      (a chain without 0x06-0x08 yields false, never whatever memory held).
contract Groth16Verifier is IGroth16Verifier {
    /// @dev BN254 base field order (coordinates).
    uint256 internal constant Q = 21888242871839275222246405745257275088696311157297823662689037894645226208583;
    /// @dev BN254 scalar field order (public signals).
    uint256 internal constant R = 21888242871839275222246405745257275088548364400416034343698204186575808495617;
    /// @dev Words before IC: alpha (2), beta (4), gamma (4), delta (4).
    uint256 internal constant HEADER_WORDS = 14;

    /// @dev The twist's constant b' = 3 / (9 + u) = B0 + B1 u.
    uint256 internal constant B0 = 19485874751759354771024239261021720505790618469301721065564631296452457478373;
    uint256 internal constant B1 = 266929791119991161246907387137283842545076965332900288569378510910307636690;
    /// @dev Gas of the pairing precompile for three pairs (EIP-1108: 45,000 + 34,000 per pair).
    uint256 internal constant SUBGROUP_CHECK_GAS = 45_000 + 3 * 34_000;

    /// @inheritdoc IGroth16Verifier
    function validateVerifyingKey(bytes calldata verifyingKey) external view returns (uint256 publicSignals) {
        publicSignals = _signalCount(verifyingKey.length);
        for (uint256 offset = 0; offset < verifyingKey.length; offset += 32) {
            if (_word(verifyingKey, offset / 32) >= Q) revert Groth16MalformedVerifyingKey(verifyingKey.length);
        }
        // gamma is words 6..9, delta words 10..13, each (x1, x0, y1, y0). Forgeable: either at infinity
        // (all zero), delta == gamma, or delta == -gamma = (x, Q - y).
        bool gammaZero = true;
        bool deltaZero = true;
        bool equal = true;
        bool negated = true;
        for (uint256 i = 0; i < 4; ++i) {
            uint256 g = _word(verifyingKey, 6 + i);
            uint256 d = _word(verifyingKey, 10 + i);
            gammaZero = gammaZero && g == 0;
            deltaZero = deltaZero && d == 0;
            equal = equal && g == d;
            negated = negated && d == (i < 2 ? g : (Q - g) % Q);
        }
        if (gammaZero || deltaZero || equal || negated) revert Groth16ForgeableVerifyingKey();
        // Every point on its curve: an off-curve key would make every proof fail, forever.
        if (!_onG1(verifyingKey, 0)) revert Groth16VerifyingKeyPointNotOnCurve(0);
        for (uint256 p = 1; p < 4; ++p) {
            if (!_onG2(verifyingKey, 2 + 4 * (p - 1))) revert Groth16VerifyingKeyPointNotOnCurve(p);
        }
        for (uint256 i = 0; i <= publicSignals; ++i) {
            if (!_onG1(verifyingKey, HEADER_WORDS + 2 * i)) revert Groth16VerifyingKeyPointNotOnCurve(4 + i);
        }
        _checkG2Subgroup(verifyingKey);
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
                    // A call to a missing precompile succeeds and returns nothing: check the size too.
                    // (Yul evaluates arguments right to left, so the call must come first.)
                    let called := staticcall(gas(), 0x07, add(m, 0x40), 0x60, add(m, 0x40), 0x40)
                    ok := and(ok, and(called, eq(returndatasize(), 0x40)))
                    called := staticcall(gas(), 0x06, m, 0x80, m, 0x40)
                    ok := and(ok, and(called, eq(returndatasize(), 0x40)))
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

            let paired := staticcall(gas(), 0x08, p, 0x300, m, 0x20)
            ok := and(ok, and(paired, eq(returndatasize(), 0x20)))
            valid := and(ok, eq(mload(m), 1))
        }
    }

    function _word(bytes calldata data, uint256 index) private pure returns (uint256) {
        return uint256(bytes32(data[index * 32:index * 32 + 32]));
    }

    /// @dev G1 point (x, y) at word `start`: y^2 == x^3 + 3 (words already below Q; (0, 0) is not on it).
    function _onG1(bytes calldata key, uint256 start) private pure returns (bool) {
        uint256 x = _word(key, start);
        uint256 y = _word(key, start + 1);
        return mulmod(y, y, Q) == addmod(mulmod(mulmod(x, x, Q), x, Q), 3, Q);
    }

    /// @dev G2 point (x1, x0, y1, y0) at word `start`: y^2 == x^3 + b' in Fq2 (u^2 = -1).
    function _onG2(bytes calldata key, uint256 start) private pure returns (bool) {
        uint256 x1 = _word(key, start);
        uint256 x0 = _word(key, start + 1);
        uint256 y1 = _word(key, start + 2);
        uint256 y0 = _word(key, start + 3);
        // x^2 = (x0^2 - x1^2) + 2 x0 x1 u
        uint256 s0 = addmod(mulmod(x0, x0, Q), Q - mulmod(x1, x1, Q), Q);
        uint256 s1 = mulmod(2, mulmod(x0, x1, Q), Q);
        // x^3 + b'
        uint256 r0 = addmod(addmod(mulmod(s0, x0, Q), Q - mulmod(s1, x1, Q), Q), B0, Q);
        uint256 r1 = addmod(addmod(mulmod(s0, x1, Q), mulmod(s1, x0, Q), Q), B1, Q);
        // y^2
        uint256 l0 = addmod(mulmod(y0, y0, Q), Q - mulmod(y1, y1, Q), Q);
        uint256 l1 = mulmod(2, mulmod(y0, y1, Q), Q);
        return l0 == r0 && l1 == r1;
    }

    /// @dev beta, gamma and delta must lie in the order-r subgroup (G1 has cofactor 1, the twist does not):
    ///      the pairing precompile refuses any other point (EIP-197), so one call with (G1, beta),
    ///      (G1, gamma), (G1, delta) checks all three. Its result is irrelevant, only that it succeeds.
    function _checkG2Subgroup(bytes calldata verifyingKey) private view {
        bool called;
        uint256 size;
        assembly ("memory-safe") {
            let p := mload(0x40)
            for { let k := 0 } lt(k, 3) { k := add(k, 1) } {
                let pair := add(p, mul(k, 0xc0))
                mstore(pair, 1)
                mstore(add(pair, 0x20), 2)
                calldatacopy(add(pair, 0x40), add(verifyingKey.offset, add(0x40, mul(k, 0x80))), 0x80)
            }
            // The precompile's price for three pairs; a failing call burns only this much.
            called := staticcall(SUBGROUP_CHECK_GAS, 0x08, p, 0x240, p, 0x20)
            size := returndatasize()
        }
        if (!called) revert Groth16VerifyingKeyNotInSubgroup();
        if (size != 32) revert Groth16PrecompileUnavailable(0x08);
    }

    function _signalCount(uint256 length) private pure returns (uint256) {
        // 14 header words plus (n + 1) points of two words, n ≥ 1: a multiple of 64 bytes, at least 18 words.
        if (length % 64 != 0 || length < (HEADER_WORDS + 4) * 32) revert Groth16MalformedVerifyingKey(length);
        return (length / 32 - HEADER_WORDS) / 2 - 1;
    }
}
