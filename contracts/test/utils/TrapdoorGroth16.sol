// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @notice Groth16 verifying keys with a trapdoor this contract knows, so tests can make valid proofs for
///         any public signals: a stand-in for a circuit (whose soundness the mocha tests exercise).
/// @dev Trapdoor key: alpha = IC[i] = G1, beta = gamma = G2, delta = [2]G2 (neither ±gamma nor infinity,
///      so the key passes registration). Then e(−A,B)e(α,β)e(vk_x,γ)e(C,δ) = e(−A + α + vk_x + 2C, G2) = 1
///      for B = G2, C = G1 and A = α + vk_x + 2C.
abstract contract TrapdoorGroth16 {
    uint256 internal constant Q = 21888242871839275222246405745257275088696311157297823662689037894645226208583;
    uint256 internal constant FIELD = 21888242871839275222246405745257275088548364400416034343698204186575808495617;
    uint256 internal constant G2_X1 = 11559732032986387107991004021392285783925812861821192530917403151452391805634;
    uint256 internal constant G2_X0 = 10857046999023057135944570762232829481370756359578518086990519993285655852781;
    uint256 internal constant G2_Y1 = 4082367875863433681332203403145435568316851327593401208105741076214120093531;
    uint256 internal constant G2_Y0 = 8495653923123431417604973247489272438418190587263600148770280649306958101930;
    /// @dev [2]G2, the trapdoor delta.
    uint256 internal constant G2D_X1 = 14583779054894525174450323658765874724019480979794335525732096752006891875705;
    uint256 internal constant G2D_X0 = 18029695676650738226693292988307914797657423701064905010927197838374790804409;
    uint256 internal constant G2D_Y1 = 11474861747383700316476719153975578001603231366361248090558603872215261634898;
    uint256 internal constant G2D_Y0 = 2140229616977736810657479771656733941598412651537078903776637920509952744750;
    /// @dev Public signals: input commitment, output commitment, one output, binding.
    uint256 internal constant SIGNALS = 4;

    /// @dev A trapdoor key; `salt` moves IC[0] so two keys differ (IC[0] = (salt + 1) · G1).
    function _trapdoorKey(uint256 salt) internal view returns (bytes memory) {
        uint256[] memory w = new uint256[](14 + 2 * (SIGNALS + 1));
        (w[0], w[1]) = (1, 2);
        (w[2], w[3], w[4], w[5]) = (G2_X1, G2_X0, G2_Y1, G2_Y0);
        (w[6], w[7], w[8], w[9]) = (G2_X1, G2_X0, G2_Y1, G2_Y0);
        (w[10], w[11], w[12], w[13]) = (G2D_X1, G2D_X0, G2D_Y1, G2D_Y0);
        (w[14], w[15]) = _mul(1, 2, salt + 1);
        for (uint256 i = 16; i < w.length; i += 2) {
            (w[i], w[i + 1]) = (1, 2);
        }
        return abi.encodePacked(w);
    }

    /// @dev A valid proof for `signals` under trapdoor key `key`.
    function _prove(bytes memory key, uint256[] memory signals) internal view returns (uint256[8] memory proof) {
        uint256[] memory w = _words(key);
        (uint256 x, uint256 y) = (w[14], w[15]);
        for (uint256 i = 0; i < signals.length; ++i) {
            (uint256 px, uint256 py) = _mul(w[16 + 2 * i], w[17 + 2 * i], signals[i]);
            (x, y) = _add(x, y, px, py);
        }
        (x, y) = _add(x, y, 1, 2); // + alpha
        (uint256 cx, uint256 cy) = _mul(1, 2, 2);
        (x, y) = _add(x, y, cx, cy); // + 2C
        proof = [x, y, G2_X1, G2_X0, G2_Y1, G2_Y0, 1, 2];
    }

    function _words(bytes memory key) internal pure returns (uint256[] memory w) {
        w = new uint256[](key.length / 32);
        for (uint256 i = 0; i < w.length; ++i) {
            uint256 word;
            assembly ("memory-safe") {
                word := mload(add(add(key, 0x20), mul(i, 0x20)))
            }
            w[i] = word;
        }
    }

    function _mul(uint256 x, uint256 y, uint256 s) internal view returns (uint256 rx, uint256 ry) {
        (bool ok, bytes memory out) = address(7).staticcall(abi.encode(x, y, s));
        require(ok, "ecMul");
        (rx, ry) = abi.decode(out, (uint256, uint256));
    }

    function _add(uint256 x1, uint256 y1, uint256 x2, uint256 y2) internal view returns (uint256 rx, uint256 ry) {
        (bool ok, bytes memory out) = address(6).staticcall(abi.encode(x1, y1, x2, y2));
        require(ok, "ecAdd");
        (rx, ry) = abi.decode(out, (uint256, uint256));
    }

}
