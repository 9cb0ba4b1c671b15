// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @notice How strongly an inference result is backed, weakest first. Comparisons (`>=`) are meaningful.
/// @dev `None` means "not verified". Values match `Tier` in src/receipts/tier.ts.
enum Tier {
    None,
    Signature,
    TEE,
    ZK
}

using TierLib for Tier global;

/// @notice Helpers over tiers and over the 4-bit-per-step tier lists that operations store.
library TierLib {
    /// @notice The bit of `tier` in a model's accepted-tiers mask.
    function bit(Tier tier) internal pure returns (uint8) {
        return uint8(1 << uint8(tier));
    }

    /// @notice The tier of step `index` in a packed list (4 bits per step, step 0 in the lowest bits).
    function tierAt(uint256 packed, uint256 index) internal pure returns (Tier) {
        return Tier((packed >> (index * 4)) & 0xF);
    }
}
