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
    /// @dev EIP-1108 prices of ecAdd, ecMul and the pairing (base, per pair). A batch forwards exactly these:
    ///      a caller's point off the curve then costs its price, not 63/64 of the gas left.
    uint256 internal constant ECADD_GAS = 150;
    uint256 internal constant ECMUL_GAS = 6_000;
    uint256 internal constant PAIRING_BASE_GAS = 45_000;
    uint256 internal constant PAIRING_PAIR_GAS = 34_000;
    /// @dev Domain of the batch transcript: these coefficients are for nothing else.
    bytes32 internal constant BATCH_DOMAIN = keccak256("opg-verifier Groth16 batch v1");

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

    /// @inheritdoc IGroth16Verifier
    /// @dev Each proof satisfies e(A_i, B_i) = e(α, β)·e(vk_x_i, γ)·e(C_i, δ). Raising proof i's equation to
    ///      r_i and multiplying them gives one check of k + 3 pairs:
    ///        Π e(−r_i·A_i, B_i) · e(ρ·α, β) · e(Σ r_i·vk_x_i, γ) · e(Σ r_i·C_i, δ) == 1,  ρ = Σ r_i,
    ///      where Σ r_i·vk_x_i = ρ·IC[0] + Σ_j t_j·IC[j+1] with t_j = Σ_i r_i·s_ij mod r: the key's n + 1
    ///      IC points are multiplied once per call, whatever k. Cost: k + 3 pairs, 2k + n + 2 ecMul.
    ///      Soundness: take the batch with bad proofs; in GT (prime order r) proof i's equation is off by
    ///      some g^{ε_i}, ε_i ≠ 0 exactly for the bad ones, and the batch passes iff Σ r_i·ε_i ≡ 0 (mod r).
    ///      Fixing every coefficient but one bad proof's, at most one of the r − 1 values of that r_i
    ///      satisfies it: a batch with any bad proof (one, two or all) passes with probability at most
    ///      1/(r − 1) ≈ 2^-254 per transcript. The r_i are a hash of everything the equation depends on
    ///      (`batchCoefficients`), so they are fixed only after the proofs are, and the best a prover can
    ///      do is grind the hash (keccak as a random oracle): ≈ 2^254 tries. Nonzero, because r_i = 0
    ///      would drop proof i from the check. Full width (not 128 bits) costs nothing here: ecMul's
    ///      price does not depend on the scalar (EIP-1108).
    function verifyBatch(bytes calldata verifyingKey, uint256[8][] calldata proofs, uint256[] calldata publicSignals)
        external
        view
        returns (bool valid)
    {
        (uint256 n, uint256 k) = _batchShape(verifyingKey, proofs, publicSignals);
        _checkDistinct(proofs);
        uint256[] memory r = batchCoefficients(verifyingKey, proofs, publicSignals);
        // Memory: s[0..0xa0) scratch (an accumulator at s[0..0x40), a product made at s[0x40..0x80) from
        // (x, y, scalar) at s[0x40..0xa0)); t[0..n] with t[0] = ρ = Σ r_i and t[1 + j] = Σ_i r_i·s_ij;
        // then k + 3 pairs of six words.
        uint256 s;
        assembly ("memory-safe") {
            s := mload(0x40)
            let end := add(add(s, 0xa0), mul(add(n, 1), 0x20))
            mstore(0x40, add(end, mul(add(k, 3), 0xc0)))
            // Fresh memory may hold anything (the transcript was hashed there): clear s and t.
            for { let p := s } lt(p, end) { p := add(p, 0x20) } { mstore(p, 0) }
        }
        bool ok = _addProofs(proofs, publicSignals, r, n, s);
        ok = _addKey(verifyingKey, n, k, s) && ok;
        assembly ("memory-safe") {
            let pairs := add(add(s, 0xa0), mul(add(n, 1), 0x20))
            // B_i off the curve or outside the subgroup makes the pairing fail: false, at its price only.
            let called := staticcall(add(PAIRING_BASE_GAS, mul(add(k, 3), PAIRING_PAIR_GAS)), 0x08, pairs, mul(add(k, 3), 0xc0), s, 0x20)
            valid := and(ok, and(and(called, eq(returndatasize(), 0x20)), eq(mload(s), 1)))
        }
    }

    /// @dev Folds each proof into the batch at `s` (layout in verifyBatch): its signals into t (checking
    ///      each is below r), pair i = (−r_i·A_i, B_i), and r_i·C_i into the accumulator s[0..0x40).
    ///      False when a precompile call fails (a point off the curve) or returns short.
    function _addProofs(
        uint256[8][] calldata proofs,
        uint256[] calldata publicSignals,
        uint256[] memory r,
        uint256 n,
        uint256 s
    ) private view returns (bool ok) {
        bytes4 outOfField = Groth16BatchSignalOutOfField.selector;
        uint256 k = proofs.length;
        assembly ("memory-safe") {
            ok := 1
            let t := add(s, 0xa0)
            let pairs := add(t, mul(add(n, 1), 0x20))
            for { let i := 0 } lt(i, k) { i := add(i, 1) } {
                let ri := mload(add(r, mul(add(i, 1), 0x20)))
                mstore(t, addmod(mload(t), ri, R))
                let row := add(publicSignals.offset, mul(mul(i, n), 0x20))
                for { let j := 0 } lt(j, n) { j := add(j, 1) } {
                    let sij := calldataload(add(row, mul(j, 0x20)))
                    if iszero(lt(sij, R)) {
                        mstore(0, outOfField)
                        mstore(4, i)
                        mstore(0x24, j)
                        revert(0, 0x44)
                    }
                    let tj := add(t, mul(add(j, 1), 0x20))
                    mstore(tj, addmod(mload(tj), mulmod(ri, sij, R), R))
                }
                let proof := add(proofs.offset, mul(i, 0x100))
                // Pair i: (−r_i·A_i, B_i). ecMul refuses an A_i off the curve (or with a coordinate ≥ q).
                let pair := add(pairs, mul(i, 0xc0))
                mstore(add(s, 0x40), calldataload(proof))
                mstore(add(s, 0x60), calldataload(add(proof, 0x20)))
                mstore(add(s, 0x80), ri)
                // A call to a missing precompile succeeds and returns nothing: check the size too.
                let called := staticcall(ECMUL_GAS, 0x07, add(s, 0x40), 0x60, pair, 0x40)
                ok := and(ok, and(called, eq(returndatasize(), 0x40)))
                mstore(add(pair, 0x20), mod(sub(Q, mload(add(pair, 0x20))), Q))
                calldatacopy(add(pair, 0x40), add(proof, 0x40), 0x80)
                // Σ r_i·C_i
                mstore(add(s, 0x40), calldataload(add(proof, 0xc0)))
                mstore(add(s, 0x60), calldataload(add(proof, 0xe0)))
                mstore(add(s, 0x80), ri)
                called := staticcall(ECMUL_GAS, 0x07, add(s, 0x40), 0x60, add(s, 0x40), 0x40)
                ok := and(ok, and(called, eq(returndatasize(), 0x40)))
                called := staticcall(ECADD_GAS, 0x06, s, 0x80, s, 0x40)
                ok := and(ok, and(called, eq(returndatasize(), 0x40)))
            }
        }
    }

    /// @dev The three fixed pairs after the k proofs' (layout in verifyBatch): (Σ r_i·C_i, δ) from the
    ///      accumulator, (ρ·α, β), and (ρ·IC[0] + Σ_j t_j·IC[j+1], γ): n + 2 ecMul for the whole batch.
    function _addKey(bytes calldata verifyingKey, uint256 n, uint256 k, uint256 s) private view returns (bool ok) {
        assembly ("memory-safe") {
            ok := 1
            let t := add(s, 0xa0)
            let pairs := add(t, mul(add(n, 1), 0x20))
            // Pair k + 2: (Σ r_i·C_i, δ).
            let pair := add(pairs, mul(add(k, 2), 0xc0))
            mstore(pair, mload(s))
            mstore(add(pair, 0x20), mload(add(s, 0x20)))
            calldatacopy(add(pair, 0x40), add(verifyingKey.offset, 0x140), 0x80)

            // Pair k: (ρ·α, β).
            pair := add(pairs, mul(k, 0xc0))
            mstore(add(s, 0x40), calldataload(verifyingKey.offset))
            mstore(add(s, 0x60), calldataload(add(verifyingKey.offset, 0x20)))
            mstore(add(s, 0x80), mload(t))
            let called := staticcall(ECMUL_GAS, 0x07, add(s, 0x40), 0x60, pair, 0x40)
            ok := and(ok, and(called, eq(returndatasize(), 0x40)))
            calldatacopy(add(pair, 0x40), add(verifyingKey.offset, 0x40), 0x80)

            // Pair k + 1: (ρ·IC[0] + Σ_j t_j·IC[j+1], γ).
            let ic := add(verifyingKey.offset, mul(HEADER_WORDS, 0x20))
            mstore(s, 0)
            mstore(add(s, 0x20), 0)
            for { let j := 0 } lt(j, add(n, 1)) { j := add(j, 1) } {
                let point := add(ic, mul(j, 0x40))
                mstore(add(s, 0x40), calldataload(point))
                mstore(add(s, 0x60), calldataload(add(point, 0x20)))
                mstore(add(s, 0x80), mload(add(t, mul(j, 0x20))))
                called := staticcall(ECMUL_GAS, 0x07, add(s, 0x40), 0x60, add(s, 0x40), 0x40)
                ok := and(ok, and(called, eq(returndatasize(), 0x40)))
                called := staticcall(ECADD_GAS, 0x06, s, 0x80, s, 0x40)
                ok := and(ok, and(called, eq(returndatasize(), 0x40)))
            }
            pair := add(pairs, mul(add(k, 1), 0xc0))
            mstore(pair, mload(s))
            mstore(add(pair, 0x20), mload(add(s, 0x20)))
            calldatacopy(add(pair, 0x40), add(verifyingKey.offset, 0xc0), 0x80)
        }
    }

    /// @inheritdoc IGroth16Verifier
    /// @dev r_i = 1 + (keccak256(seed, i) mod (r − 1)) with seed = keccak256(BATCH_DOMAIN, keccak256(key), k,
    ///      proofs, signals): in [1, r − 1], from a transcript that fixes the key (hence n), k, and every
    ///      word of every proof and signal (an unambiguous encoding: all lengths follow from the key and k).
    function batchCoefficients(bytes calldata verifyingKey, uint256[8][] calldata proofs, uint256[] calldata publicSignals)
        public
        pure
        returns (uint256[] memory coefficients)
    {
        (, uint256 k) = _batchShape(verifyingKey, proofs, publicSignals);
        bytes32 keyHash = keccak256(verifyingKey);
        bytes32 domain = BATCH_DOMAIN;
        bytes32 seed;
        assembly ("memory-safe") {
            // Hashed in scratch memory past the free pointer, which stays where it is.
            let m := mload(0x40)
            mstore(m, domain)
            mstore(add(m, 0x20), keyHash)
            mstore(add(m, 0x40), k)
            let proofBytes := mul(k, 0x100)
            calldatacopy(add(m, 0x60), proofs.offset, proofBytes)
            let signalBytes := mul(publicSignals.length, 0x20)
            calldatacopy(add(add(m, 0x60), proofBytes), publicSignals.offset, signalBytes)
            seed := keccak256(m, add(0x60, add(proofBytes, signalBytes)))
        }
        coefficients = new uint256[](k);
        for (uint256 i = 0; i < k; ++i) {
            coefficients[i] = 1 + uint256(keccak256(abi.encode(seed, i))) % (R - 1);
        }
    }

    /// @dev The key's signal count n and the batch size k; refuses an empty batch and a signal count other
    ///      than k·n.
    function _batchShape(bytes calldata verifyingKey, uint256[8][] calldata proofs, uint256[] calldata publicSignals)
        private
        pure
        returns (uint256 n, uint256 k)
    {
        n = _signalCount(verifyingKey.length);
        k = proofs.length;
        if (k == 0) revert Groth16BatchEmpty();
        if (publicSignals.length != k * n) revert Groth16SignalCountMismatch(k * n, publicSignals.length);
    }

    /// @dev Refuses a batch that holds the same proof twice (whatever its signals: a proof is made for one
    ///      statement, and a repeat is a submitter's mistake the caller should hear about).
    function _checkDistinct(uint256[8][] calldata proofs) private pure {
        uint256 k = proofs.length;
        bytes32[] memory hashes = new bytes32[](k);
        for (uint256 i = 0; i < k; ++i) {
            bytes32 h;
            assembly ("memory-safe") {
                let m := mload(0x40)
                calldatacopy(m, add(proofs.offset, mul(i, 0x100)), 0x100)
                h := keccak256(m, 0x100)
            }
            for (uint256 j = 0; j < i; ++j) {
                if (hashes[j] == h) revert Groth16BatchRepeatedProof(j, i);
            }
            hashes[i] = h;
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
