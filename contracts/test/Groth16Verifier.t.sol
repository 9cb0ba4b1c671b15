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

    /// @dev The verifying key of a real build (gemm-relu-3x4, 7 public signals; encodeVerifyingKey), a
    ///      proof made with it and its public signals [inputCommitment, outputCommitment, 4 outputs, binding].
    function _realKey() internal pure returns (bytes memory) {
        uint256[30] memory w = [
            uint256(0x0e0cbe292b3f0b4d72a0877cc69719a5e190dec2558d62a489fa90c9909b605e),
            0x190f2bbe08679809ae5aa85e7e8ec5520fe882bef05196f31ba87b23aec92b95,
            0x095306e1f2e73ff2aaad6c206188a403d406e44e0951bcff93e3b5b05d9a9a59,
            0x22927ee18bfec0b141c4b842676cec1c0e229487620308f689369464a728f5cd,
            0x0b25616347a9ecf566e30742369b955e67b5142bfc3214aafa6513e2cbfdeda7,
            0x0ccfcdf6b84bc486cc955694b126b7c3226e91631d11bc0b2947a88f0a72ae86,
            0x198e9393920d483a7260bfb731fb5d25f1aa493335a9e71297e485b7aef312c2,
            0x1800deef121f1e76426a00665e5c4479674322d4f75edadd46debd5cd992f6ed,
            0x090689d0585ff075ec9e99ad690c3395bc4b313370b38ef355acdadcd122975b,
            0x12c85ea5db8c6deb4aab71808dcb408fe3d1e7690c43d37b4ce6cc0166fa7daa,
            0x214b9b169933e908c623e352d1c5cab591c4acfd463426c68e4573a8806d8f84,
            0x1d16077ff7022d89445dd9b6bcbd0d63a4719b3ca2a863651294084da81a7476,
            0x2573c210214eb996d05cfe81a7bd9a27d0ebc7e9eda92655548b29428c482354,
            0x14ecd3e1ded2e19d8c17cb51438b4c208bbbff54b1ddf266a133503dfb022077,
            0x137709743f3831180db53e44e2d3fdcc443949fc115666e9f39e020ef8e3453e,
            0x2c66c28eda050445b01b8f7635cae180ac2584b384b8584e1fb5dffe50d9a914,
            0x2d61d6bcf2f499070c026bdaf815be5ded0c23ecc0840821990cf508f3b08c26,
            0x005358e613f5b4775862572e63d63859f9007786fdb124bc552498a0c8e303a5,
            0x28a743915dfbfe6701b353e758ec53d166adbbc768b06165df0425ead8bc7c38,
            0x11c668a76a6c30402cfc585f9cfba7ee5e5a1034041c042c5cd46624df2eac21,
            0x12018635e3b36b524781c0e4840cb7f7f02261421585b312df7afe778cc0d703,
            0x23f3df00f472ea127aa4de6a4dc7b208f5fe26d4a7b79941ccfeff30190172ff,
            0x1e6b99396a41bf8188d4e24ffa69b845fad64aebba8bc8c1a8db3309e0528062,
            0x1d59ff2437da2df8e3b1f8281e8b0c0b4d56a1ab3017e6e8da6bd9e84c512958,
            0x0b40fa7f5374ed0ecd729a28851cffdc9addef181f802df0ee3c6d164e78df65,
            0x1f01ac0c773a268b7c2702e682413338b50b3d7ebefbef34c5e87aad91dec26d,
            0x0edcf1aa30e124548fd18d46e2636bc013a90e065b1c64208bd05aca50fb202b,
            0x2d75e9d13a32a9d153bd49616930a5435a421e8dea954bf8c3a3d3094db3d361,
            0x21af73d0814a1b17eec9ed20b84ef24216a01c1d1f395b3b243419dedf31119e,
            0x024e7d913644e50796bf26734b28a7aa7469e44b172410719f19c6248fbd6f36
        ];
        return abi.encodePacked(w);
    }

    function _realProof() internal pure returns (uint256[8] memory proof, uint256[] memory signals) {
        proof = [
            uint256(5533975920413010296761370276978776619142885242539009301570347706949326621896),
            11265202529147439358159133947692850760666165362847346055968941087041127876694,
            1607427636515125916825718982220816745333373645702209753984501267920415946294,
            2248669999560522184558297014967317755312427602162533378794336334952063688517,
            16721585911287183366165229926875032856249740207921904525133527988435027721500,
            11400406522316515639929082724940053070920767360461553576232447146072283285294,
            12288993057289497260568074482755939449679704626754077592121125984359691138688,
            2698226618549724977960873179352110793141626472250279121232957385187262935091
        ];
        signals = new uint256[](7);
        signals[0] = 2480860226746345426717743627570845439176176132997796434736012009695267551150;
        signals[1] = 3479308540991606340808582798603716542050795886474767516096192673421005313248;
        signals[2] = 1120;
        signals[3] = 2655;
        signals[4] = 0;
        signals[5] = 0;
        signals[6] = 4660;
    }

    /// @dev A well-formed key for `n` public signals: the real key's alpha, beta, gamma and delta, and
    ///      every IC point the G1 generator (1, 2).
    function _key(uint256 n) internal pure returns (bytes memory) {
        bytes memory real = _realKey();
        uint256 words = HEADER_WORDS + 2 * (n + 1);
        uint256[] memory w = new uint256[](words);
        for (uint256 i = 0; i < HEADER_WORDS; ++i) {
            w[i] = _getWord(real, i);
        }
        for (uint256 i = HEADER_WORDS; i < words; i += 2) {
            w[i] = 1;
            w[i + 1] = 2;
        }
        return abi.encodePacked(w);
    }

    function _getWord(bytes memory key, uint256 index) internal pure returns (uint256 value) {
        assembly ("memory-safe") {
            value := mload(add(add(key, 0x20), mul(index, 0x20)))
        }
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
        // The real, distinct delta is accepted.
        for (uint256 i = 10; i < 14; ++i) {
            _setWord(key, i, _getWord(_realKey(), i));
        }
        assertEq(verifier.validateVerifyingKey(key), 1, "one signal");
    }

    /// @notice delta == -gamma = (x, -y) is as forgeable as delta == gamma.
    function test_negatedGammaRejected() public {
        bytes memory key = _key(2);
        for (uint256 i = 0; i < 4; ++i) {
            uint256 g = _getWord(key, 6 + i);
            _setWord(key, 10 + i, i < 2 ? g : (Q - g) % Q);
        }
        vm.expectRevert(IGroth16Verifier.Groth16ForgeableVerifyingKey.selector);
        verifier.validateVerifyingKey(key);
    }

    /// @notice gamma or delta at infinity (all four words zero) is forgeable.
    function test_gammaOrDeltaAtInfinityRejected() public {
        for (uint256 which = 6; which <= 10; which += 4) {
            bytes memory key = _key(1);
            for (uint256 i = 0; i < 4; ++i) {
                _setWord(key, which + i, 0);
            }
            vm.expectRevert(IGroth16Verifier.Groth16ForgeableVerifyingKey.selector);
            verifier.validateVerifyingKey(key);
        }
    }

    /// @notice The real key passes; moving any one word of any point off its curve is refused with the
    ///         point's index (0 alpha, 1 beta, 2 gamma, 3 delta, 4 + i IC[i]).
    function testFuzz_offCurvePointRejected(uint256 index, uint256 delta) public {
        bytes memory key = _realKey();
        assertEq(verifier.validateVerifyingKey(key), 7, "real key");
        index = bound(index, 0, key.length / 32 - 1);
        delta = bound(delta, 1, 1_000);
        _setWord(key, index, (_getWord(key, index) + delta) % Q);
        uint256 point = index < 2 ? 0 : index < HEADER_WORDS ? 1 + (index - 2) / 4 : 4 + (index - HEADER_WORDS) / 2;
        vm.expectRevert(abi.encodeWithSelector(IGroth16Verifier.Groth16VerifyingKeyPointNotOnCurve.selector, point));
        verifier.validateVerifyingKey(key);
    }

    /// @notice The classic encoding mistake: G2 coordinates in snarkjs order (c0, c1) instead of (c1, c0).
    function test_swappedG2CoordinatesRejected() public {
        bytes memory key = _realKey();
        uint256 x1 = _getWord(key, 2);
        _setWord(key, 2, _getWord(key, 3));
        _setWord(key, 3, x1);
        vm.expectRevert(abi.encodeWithSelector(IGroth16Verifier.Groth16VerifyingKeyPointNotOnCurve.selector, 1));
        verifier.validateVerifyingKey(key);
    }

    /// @notice A point on the twist outside the order-r subgroup ((2 + u, y), cofactor part nonzero) is
    ///         refused wherever it sits (beta, gamma, delta): the pairing precompile would refuse every proof.
    function test_g2PointOutsideSubgroupRejected() public {
        uint256[4] memory point = [
            uint256(1),
            2,
            19659275751359636165940301690575149581329631496732780143538578556285923319774,
            7292567877523311580221095596750716176434782432868683424513645834767876293070
        ];
        for (uint256 word = 2; word <= 10; word += 4) {
            bytes memory key = _realKey();
            for (uint256 i = 0; i < 4; ++i) {
                _setWord(key, word + i, point[i]);
            }
            vm.expectRevert(IGroth16Verifier.Groth16VerifyingKeyNotInSubgroup.selector);
            verifier.validateVerifyingKey(key);
        }
    }

    /// @notice Points at infinity elsewhere ((0, 0) in G1, all-zero beta) are refused too.
    function test_infinityPointsRejected() public {
        bytes memory key = _realKey();
        _setWord(key, 0, 0);
        _setWord(key, 1, 0);
        vm.expectRevert(abi.encodeWithSelector(IGroth16Verifier.Groth16VerifyingKeyPointNotOnCurve.selector, 0));
        verifier.validateVerifyingKey(key);
        key = _realKey();
        for (uint256 i = 2; i < 6; ++i) {
            _setWord(key, i, 0);
        }
        vm.expectRevert(abi.encodeWithSelector(IGroth16Verifier.Groth16VerifyingKeyPointNotOnCurve.selector, 1));
        verifier.validateVerifyingKey(key);
        key = _realKey();
        _setWord(key, HEADER_WORDS + 2, 0);
        _setWord(key, HEADER_WORDS + 3, 0);
        vm.expectRevert(abi.encodeWithSelector(IGroth16Verifier.Groth16VerifyingKeyPointNotOnCurve.selector, 5));
        verifier.validateVerifyingKey(key);
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

    // ------------------------------------------------------------ real proof, missing precompiles

    function test_realProofVerifies() public view {
        (uint256[8] memory proof, uint256[] memory signals) = _realProof();
        assertTrue(verifier.verifyProof(_realKey(), proof, signals), "real proof");
        signals[2] += 1;
        assertTrue(!verifier.verifyProof(_realKey(), proof, signals), "altered output verified");
    }

    /// @dev The verifier's runtime code with its calls to `precompile` (PUSH1 p GAS STATICCALL, or
    ///      PUSH1 p PUSH3 gas STATICCALL) pointed at an empty account instead, deployed by etching: what a
    ///      chain without that precompile runs.
    function _withoutPrecompile(uint8 precompile) internal returns (Groth16Verifier) {
        bytes memory code = type(Groth16Verifier).runtimeCode;
        uint256 patched;
        for (uint256 i = 0; i + 6 < code.length; ++i) {
            if (code[i] != 0x60 || uint8(code[i + 1]) != precompile) continue;
            if ((code[i + 2] == 0x5a && code[i + 3] == 0xfa) || (code[i + 2] == 0x62 && code[i + 6] == 0xfa)) {
                code[i + 1] = bytes1(uint8(0xee));
                ++patched;
            }
        }
        // ecAdd and ecMul: one call each (verifyProof); ecPairing: verifyProof and the subgroup check.
        assertEq(patched, precompile == 8 ? 2 : 1, "call sites found");
        address target = address(uint160(0xbeef00 + precompile));
        IVmEtch(address(vm)).etch(target, code);
        return Groth16Verifier(target);
    }

    /// @notice Without ecAdd, ecMul or ecPairing the call "succeeds" with no output: the verifier must say
    ///         false, not the parity of whatever memory held (vk_x.x = 1 for IC = G1 and zero signals).
    function test_missingPrecompileIsInvalid() public {
        (uint256[8] memory proof, uint256[] memory signals) = _realProof();
        uint256[] memory zeros = new uint256[](1);
        uint256[8] memory garbage;
        for (uint8 precompile = 6; precompile <= 8; ++precompile) {
            Groth16Verifier crippled = _withoutPrecompile(precompile);
            assertTrue(!crippled.verifyProof(_realKey(), proof, signals), "real proof without a precompile");
            assertTrue(!crippled.verifyProof(_key(1), garbage, zeros), "garbage without a precompile");
        }
        // Registration refuses a key it cannot check, rather than accepting it.
        Groth16Verifier noPairing = _withoutPrecompile(8);
        vm.expectRevert(abi.encodeWithSelector(IGroth16Verifier.Groth16PrecompileUnavailable.selector, 8));
        noPairing.validateVerifyingKey(_realKey());
        // Control: the unpatched code, etched the same way, verifies.
        IVmEtch(address(vm)).etch(address(0xbeef), type(Groth16Verifier).runtimeCode);
        assertTrue(Groth16Verifier(address(0xbeef)).verifyProof(_realKey(), proof, signals), "etched original");
    }
}

/// @dev The one cheatcode this file needs beyond utils/Vm.sol.
interface IVmEtch {
    function etch(address target, bytes calldata code) external;
}
