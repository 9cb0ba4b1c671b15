// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Tier} from "../types/Tier.sol";

/// @notice A verified result in one storage word: the tier in the top two bits, the output commitment
///         (a BN254 field element, so below 2^254) in the rest. One slot per receipt instead of two is
///         22,100 gas saved on every submission.
library ResultPacking {
    uint256 internal constant COMMITMENT_BITS = 254;
    uint256 internal constant COMMITMENT_MASK = (1 << COMMITMENT_BITS) - 1;

    /// @notice Packs `tier` and `outputCommitment` (which must be below 2^254).
    function pack(Tier tier, bytes32 outputCommitment) internal pure returns (uint256) {
        return (uint256(tier) << COMMITMENT_BITS) | uint256(outputCommitment);
    }

    /// @notice The tier of a packed result (`None` for an empty word).
    function tierOf(uint256 packed) internal pure returns (Tier) {
        return Tier(packed >> COMMITMENT_BITS);
    }

    /// @notice The output commitment of a packed result.
    function outputOf(uint256 packed) internal pure returns (bytes32) {
        return bytes32(packed & COMMITMENT_MASK);
    }
}
