// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IGroth16Verifier} from "../interfaces/IGroth16Verifier.sol";
import {Groth16Verifier} from "../verifiers/Groth16Verifier.sol";
import {TestBase} from "./utils/TestBase.sol";
import {TrapdoorGroth16} from "./utils/TrapdoorGroth16.sol";

/// @notice verifyBatch: k proofs under one key in k + 3 pairings, with Fiat–Shamir coefficients. Proofs
///         come from the trapdoor key (valid for any signals), so tampering is the only way to be invalid.
contract Groth16VerifierBatchTest is TestBase, TrapdoorGroth16 {
    Groth16Verifier internal verifier;
    bytes internal key;

    function setUp() public {
        verifier = new Groth16Verifier();
        key = _trapdoorKey(7);
        verifier.validateVerifyingKey(key);
    }

    /// @dev k valid proofs for distinct signals derived from `seed`, and their signals flattened.
    function _batch(uint256 k, uint256 seed) internal view returns (uint256[8][] memory proofs, uint256[] memory flat) {
        proofs = new uint256[8][](k);
        flat = new uint256[](k * SIGNALS);
        for (uint256 i = 0; i < k; ++i) {
            uint256[] memory signals = new uint256[](SIGNALS);
            for (uint256 j = 0; j < SIGNALS; ++j) {
                signals[j] = uint256(keccak256(abi.encode(seed, i, j))) % FIELD;
                flat[i * SIGNALS + j] = signals[j];
            }
            proofs[i] = _prove(key, signals);
        }
    }

    function _row(uint256[] memory flat, uint256 i) internal pure returns (uint256[] memory row) {
        row = new uint256[](SIGNALS);
        for (uint256 j = 0; j < SIGNALS; ++j) {
            row[j] = flat[i * SIGNALS + j];
        }
    }

    /// @dev Moves A by `scalar`·G1: the proof no longer verifies (B = G2, so e(A, B) changes).
    function _tamper(uint256[8] memory proof, uint256 scalar) internal view {
        (uint256 x, uint256 y) = _mul(1, 2, scalar);
        (proof[0], proof[1]) = _add(proof[0], proof[1], x, y);
    }

    function test_validBatchesOfEverySizeVerify() public view {
        for (uint256 k = 1; k <= 8; k *= 2) {
            (uint256[8][] memory proofs, uint256[] memory flat) = _batch(k, k);
            for (uint256 i = 0; i < k; ++i) {
                assertTrue(verifier.verifyProof(key, proofs[i], _row(flat, i)), "each proof alone");
            }
            assertTrue(verifier.verifyBatch(key, proofs, flat), "the batch");
        }
    }

    function test_oneTwoOrAllTamperedProofsRefuseTheBatch() public view {
        (uint256[8][] memory proofs, uint256[] memory flat) = _batch(5, 1);
        _tamper(proofs[3], 1);
        assertTrue(!verifier.verifyBatch(key, proofs, flat), "one tampered");
        _tamper(proofs[0], 5);
        assertTrue(!verifier.verifyBatch(key, proofs, flat), "two tampered");
        for (uint256 i = 0; i < 5; ++i) {
            if (i != 0 && i != 3) _tamper(proofs[i], i + 11);
        }
        assertTrue(!verifier.verifyBatch(key, proofs, flat), "all tampered");
        // Tampered signals instead of points: one, then every proof's.
        (proofs, flat) = _batch(5, 2);
        flat[2 * SIGNALS + 1] = addmod(flat[2 * SIGNALS + 1], 1, FIELD);
        assertTrue(!verifier.verifyBatch(key, proofs, flat), "one signal");
        for (uint256 i = 0; i < 5; ++i) {
            flat[i * SIGNALS] = addmod(flat[i * SIGNALS], i + 1, FIELD);
        }
        assertTrue(!verifier.verifyBatch(key, proofs, flat), "every proof's signal");
    }

    /// @dev Two bad proofs built to cancel under the coefficients of the honest batch: Σ r_i·A_i is
    ///      unchanged, so a verifier with fixed (or caller-chosen) coefficients would accept them. The
    ///      coefficients are a hash of the proofs, so they move and the batch fails.
    function test_tamperingThatCancelsUnderKnownCoefficientsFails() public view {
        (uint256[8][] memory proofs, uint256[] memory flat) = _batch(3, 3);
        uint256[] memory r = verifier.batchCoefficients(key, proofs, flat);
        (uint256[8][] memory bad,) = _batch(3, 3);
        _tamper(bad[0], r[1]); // A_0 + r_1·G1
        _tamper(bad[1], FIELD - r[0]); // A_1 − r_0·G1
        (uint256 x0, uint256 y0) = _weighted(proofs, r);
        (uint256 x1, uint256 y1) = _weighted(bad, r);
        assertEq(x0, x1, "the weighted sum is unchanged under the old coefficients (x)");
        assertEq(y0, y1, "the weighted sum is unchanged under the old coefficients (y)");
        assertTrue(!verifier.verifyProof(key, bad[0], _row(flat, 0)), "proof 0 is bad alone");
        assertTrue(!verifier.verifyProof(key, bad[1], _row(flat, 1)), "proof 1 is bad alone");
        uint256[] memory moved = verifier.batchCoefficients(key, bad, flat);
        assertTrue(moved[0] != r[0] && moved[1] != r[1], "the coefficients follow the proofs");
        assertTrue(!verifier.verifyBatch(key, bad, flat), "the batch fails");

        // The same with the folded public inputs: s_0j + d·r_1 and s_1j − d·r_0 leave Σ_i r_i·s_ij as it was.
        uint256 d = 12345;
        flat[0] = addmod(flat[0], mulmod(d, r[1], FIELD), FIELD);
        flat[SIGNALS] = addmod(flat[SIGNALS], FIELD - mulmod(d, r[0], FIELD), FIELD);
        assertEq(
            addmod(mulmod(r[0], flat[0], FIELD), mulmod(r[1], flat[SIGNALS], FIELD), FIELD),
            addmod(mulmod(r[0], _batchSignal(0), FIELD), mulmod(r[1], _batchSignal(1), FIELD), FIELD),
            "the folded signal is unchanged under the old coefficients"
        );
        assertTrue(!verifier.verifyBatch(key, proofs, flat), "the batch with cancelling signals fails");
    }

    function _batchSignal(uint256 i) internal pure returns (uint256) {
        return uint256(keccak256(abi.encode(uint256(3), i, uint256(0)))) % FIELD;
    }

    function _weighted(uint256[8][] memory proofs, uint256[] memory r) internal view returns (uint256 x, uint256 y) {
        for (uint256 i = 0; i < proofs.length; ++i) {
            (uint256 px, uint256 py) = _mul(proofs[i][0], proofs[i][1], r[i]);
            (x, y) = _add(x, y, px, py);
        }
    }

    function test_coefficientsAreNonzeroFieldElementsBoundToEveryWord() public view {
        (uint256[8][] memory proofs, uint256[] memory flat) = _batch(4, 4);
        uint256[] memory r = verifier.batchCoefficients(key, proofs, flat);
        for (uint256 i = 0; i < 4; ++i) {
            assertTrue(r[i] != 0 && r[i] < FIELD, "a nonzero field element");
            for (uint256 j = 0; j < i; ++j) {
                assertTrue(r[i] != r[j], "distinct");
            }
        }
        flat[15] = addmod(flat[15], 1, FIELD);
        assertTrue(verifier.batchCoefficients(key, proofs, flat)[0] != r[0], "a signal moves them");
        flat[15] = addmod(flat[15], FIELD - 1, FIELD);
        proofs[3][7] = 3;
        assertTrue(verifier.batchCoefficients(key, proofs, flat)[0] != r[0], "a proof word moves them");
        proofs[3][7] = 2;
        assertTrue(verifier.batchCoefficients(_trapdoorKey(8), proofs, flat)[0] != r[0], "the key moves them");
        assertEq(verifier.batchCoefficients(key, proofs, flat)[0], r[0], "and they are deterministic");
    }

    function test_refusesAnEmptyBatch() public {
        vm.expectRevert(IGroth16Verifier.Groth16BatchEmpty.selector);
        verifier.verifyBatch(key, new uint256[8][](0), new uint256[](0));
    }

    function test_refusesARepeatedProof() public {
        (uint256[8][] memory proofs, uint256[] memory flat) = _batch(3, 5);
        proofs[2] = proofs[0];
        vm.expectRevert(abi.encodeWithSelector(IGroth16Verifier.Groth16BatchRepeatedProof.selector, 0, 2));
        verifier.verifyBatch(key, proofs, flat);
    }

    function test_refusesAWrongSignalCount() public {
        (uint256[8][] memory proofs,) = _batch(2, 6);
        vm.expectRevert(abi.encodeWithSelector(IGroth16Verifier.Groth16SignalCountMismatch.selector, 8, 7));
        verifier.verifyBatch(key, proofs, new uint256[](7));
    }

    function test_refusesASignalOutsideTheField() public {
        (uint256[8][] memory proofs, uint256[] memory flat) = _batch(2, 7);
        flat[SIGNALS + 2] += FIELD; // the same point if reduced: refused, as for one proof
        vm.expectRevert(abi.encodeWithSelector(IGroth16Verifier.Groth16BatchSignalOutOfField.selector, 1, 2));
        verifier.verifyBatch(key, proofs, flat);
    }

    function test_pointsOffTheCurveMakeTheBatchFalse() public view {
        (uint256[8][] memory proofs, uint256[] memory flat) = _batch(3, 8);
        uint256[8] memory saved = _copy(proofs[1]);
        proofs[1][1] = addmod(proofs[1][1], 1, Q); // A off the curve
        assertTrue(!verifier.verifyBatch(key, proofs, flat), "A off the curve");
        proofs[1] = _copy(saved);
        proofs[1][1] = proofs[1][1] + Q; // a coordinate ≥ q
        assertTrue(!verifier.verifyBatch(key, proofs, flat), "A with y >= q");
        proofs[1] = _copy(saved);
        proofs[1][7] = 3; // C off the curve
        assertTrue(!verifier.verifyBatch(key, proofs, flat), "C off the curve");
        proofs[1] = _copy(saved);
        proofs[1][5] = addmod(proofs[1][5], 1, Q); // B off the twist
        assertTrue(!verifier.verifyBatch(key, proofs, flat), "B off the twist");
        proofs[1] = _copy(saved);
        assertTrue(verifier.verifyBatch(key, proofs, flat), "restored");
    }

    function test_refusesAMalformedKey() public {
        (uint256[8][] memory proofs, uint256[] memory flat) = _batch(1, 9);
        vm.expectRevert(abi.encodeWithSelector(IGroth16Verifier.Groth16MalformedVerifyingKey.selector, key.length - 32));
        verifier.verifyBatch(bytes(_slice(key, key.length - 32)), proofs, flat);
    }

    function _copy(uint256[8] memory proof) internal pure returns (uint256[8] memory out) {
        for (uint256 i = 0; i < 8; ++i) {
            out[i] = proof[i];
        }
    }

    function _slice(bytes memory data, uint256 length) internal pure returns (bytes memory out) {
        out = new bytes(length);
        for (uint256 i = 0; i < length; ++i) {
            out[i] = data[i];
        }
    }

    /// @dev A batch under another key (another model) is false: each proof is only valid under its own.
    function test_proofsOfAnotherKeyAreRefused() public view {
        (uint256[8][] memory proofs, uint256[] memory flat) = _batch(2, 10);
        assertTrue(!verifier.verifyBatch(_trapdoorKey(8), proofs, flat), "another key");
    }

    /// forge-config: default.fuzz.runs = 24
    function testFuzz_anyTamperedSubsetRefusesTheBatch(uint256 seed, uint256 mask, uint256 size) public view {
        uint256 k = bound(size, 1, 6);
        (uint256[8][] memory proofs, uint256[] memory flat) = _batch(k, seed);
        assertTrue(verifier.verifyBatch(key, proofs, flat), "honest batch");
        mask = bound(mask, 1, (1 << k) - 1); // a nonempty subset
        for (uint256 i = 0; i < k; ++i) {
            if (mask & (1 << i) != 0) _tamper(proofs[i], uint256(keccak256(abi.encode(seed, i))) % FIELD | 1);
        }
        assertTrue(!verifier.verifyBatch(key, proofs, flat), "tampered subset");
    }
}
