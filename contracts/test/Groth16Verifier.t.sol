// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IGroth16Verifier} from "../interfaces/IGroth16Verifier.sol";
import {Groth16Verifier} from "../verifiers/Groth16Verifier.sol";
import {TestBase} from "./utils/TestBase.sol";

contract Groth16VerifierTest is TestBase {
    uint256 internal constant Q = 21888242871839275222246405745257275088696311157297823662689037894645226208583;
    uint256 internal constant R = 21888242871839275222246405745257275088548364400416034343698204186575808495617;
    uint256 internal constant HEADER_WORDS = 14;

    Groth16Verifier internal verifier;

    function setUp() public {
        verifier = new Groth16Verifier();
    }

    /// @dev A well-formed key for `n` public signals: every word below Q, gamma != delta. Its G1 points
    ///      (alpha, IC) are the generator (1, 2) so the precompiles accept them.
    function _key(uint256 n) internal pure returns (bytes memory) {
        uint256 words = HEADER_WORDS + 2 * (n + 1);
        uint256[] memory w = new uint256[](words);
        w[0] = 1;
        w[1] = 2;
        for (uint256 i = 2; i < HEADER_WORDS; ++i) {
            w[i] = uint256(keccak256(abi.encode("g2 word", i))) % Q;
        }
        for (uint256 i = HEADER_WORDS; i < words; i += 2) {
            w[i] = 1;
            w[i + 1] = 2;
        }
        return abi.encodePacked(w);
    }

    function _setWord(bytes memory key, uint256 index, uint256 value) internal pure {
        assembly ("memory-safe") {
            mstore(add(add(key, 0x20), mul(index, 0x20)), value)
        }
    }

    function _isWellFormedLength(uint256 length) internal pure returns (bool) {
        return length % 64 == 0 && length >= (HEADER_WORDS + 4) * 32;
    }

    // ------------------------------------------------------------ validateVerifyingKey

    function testFuzz_validKeyReportsSignalCount(uint8 n) public view {
        n = uint8(bound(n, 1, 40));
        assertEq(verifier.validateVerifyingKey(_key(n)), n, "signal count");
    }

    /// @notice delta == gamma makes every proof forgeable: refused.
    function testFuzz_forgeableKeyRejected(uint8 n, uint256 salt) public {
        n = uint8(bound(n, 1, 8));
        bytes memory key = _key(n);
        // delta (words 10..13) := gamma (words 6..9), any values below Q.
        for (uint256 i = 0; i < 4; ++i) {
            uint256 value = uint256(keccak256(abi.encode(salt, i))) % Q;
            _setWord(key, 6 + i, value);
            _setWord(key, 10 + i, value);
        }
        vm.expectRevert(IGroth16Verifier.Groth16ForgeableVerifyingKey.selector);
        verifier.validateVerifyingKey(key);
    }

    function test_forgeableKeyRejectedExactCopy() public {
        bytes memory key = _key(1);
        for (uint256 i = 0; i < 4; ++i) {
            uint256 g;
            assembly ("memory-safe") {
                g := mload(add(add(key, 0x20), mul(add(6, i), 0x20)))
            }
            _setWord(key, 10 + i, g);
        }
        vm.expectRevert(IGroth16Verifier.Groth16ForgeableVerifyingKey.selector);
        verifier.validateVerifyingKey(key);
        // One differing word is enough to be accepted.
        _setWord(key, 13, 5);
        assertEq(verifier.validateVerifyingKey(key), 1, "one signal");
    }

    /// @notice Any length that is not 14 + 2(n+1) words with n >= 1 is malformed.
    /// hardhat-config: fuzz.runs = 500
    function testFuzz_badLengthRejected(uint256 length) public {
        length = bound(length, 0, 2_048);
        vm.assume(!_isWellFormedLength(length));
        bytes memory key = new bytes(length);
        vm.expectRevert(abi.encodeWithSelector(IGroth16Verifier.Groth16MalformedVerifyingKey.selector, length));
        verifier.validateVerifyingKey(key);
    }

    function test_badLengthsRejected() public {
        uint256[6] memory lengths = [uint256(0), 32, 512, 544, 576 + 32, 576 + 64 + 1];
        for (uint256 i = 0; i < lengths.length; ++i) {
            vm.expectRevert(
                abi.encodeWithSelector(IGroth16Verifier.Groth16MalformedVerifyingKey.selector, lengths[i])
            );
            verifier.validateVerifyingKey(new bytes(lengths[i]));
        }
        // The smallest well-formed length (18 words, one signal) passes.
        assertEq(verifier.validateVerifyingKey(_key(1)), 1, "smallest key");
    }

    /// @notice A word at or above the base field order is malformed, wherever it is.
    function testFuzz_wordOutOfFieldRejected(uint8 n, uint256 index, uint256 value) public {
        n = uint8(bound(n, 1, 8));
        bytes memory key = _key(n);
        index = bound(index, 0, key.length / 32 - 1);
        value = bound(value, Q, type(uint256).max);
        _setWord(key, index, value);
        vm.expectRevert(abi.encodeWithSelector(IGroth16Verifier.Groth16MalformedVerifyingKey.selector, key.length));
        verifier.validateVerifyingKey(key);
    }

    // ------------------------------------------------------------ verifyProof

    /// @notice A public signal >= r reverts with its index, whatever the signals before it.
    function testFuzz_signalOutOfFieldReverts(uint8 n, uint256 index, uint256 bad, uint256 seed) public {
        n = uint8(bound(n, 1, 6));
        index = bound(index, 0, n - 1);
        bad = bound(bad, R, type(uint256).max);
        uint256[] memory signals = new uint256[](n);
        for (uint256 i = 0; i < n; ++i) {
            signals[i] = uint256(keccak256(abi.encode(seed, i))) % R;
        }
        signals[index] = bad;
        uint256[8] memory proof;
        vm.expectRevert(abi.encodeWithSelector(IGroth16Verifier.Groth16SignalOutOfField.selector, index));
        verifier.verifyProof(_key(n), proof, signals);
    }

    function test_signalExactlyRReverts() public {
        uint256[] memory signals = new uint256[](2);
        signals[0] = R - 1;
        signals[1] = R;
        uint256[8] memory proof;
        vm.expectRevert(abi.encodeWithSelector(IGroth16Verifier.Groth16SignalOutOfField.selector, 1));
        verifier.verifyProof(_key(2), proof, signals);
    }

    function testFuzz_signalCountMismatchReverts(uint8 n, uint8 given) public {
        n = uint8(bound(n, 1, 6));
        given = uint8(bound(given, 0, 8));
        vm.assume(given != n);
        uint256[8] memory proof;
        vm.expectRevert(abi.encodeWithSelector(IGroth16Verifier.Groth16SignalCountMismatch.selector, n, given));
        verifier.verifyProof(_key(n), proof, new uint256[](given));
    }

    function test_malformedKeyRevertsInVerify() public {
        uint256[8] memory proof;
        vm.expectRevert(abi.encodeWithSelector(IGroth16Verifier.Groth16MalformedVerifyingKey.selector, 544));
        verifier.verifyProof(new bytes(544), proof, new uint256[](1));
    }

    /// @notice Garbage proofs (here: random words, usually off the curve) are false, never a revert.
    function testFuzz_garbageProofIsFalse(uint256[8] memory proof, uint256 signal) public view {
        uint256[] memory signals = new uint256[](1);
        signals[0] = signal % R;
        assertTrue(!verifier.verifyProof(_key(1), proof, signals), "garbage proof verified");
    }
}
