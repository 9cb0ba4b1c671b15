// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IFeeEscrow} from "../interfaces/IFeeEscrow.sol";

/// @notice Splits a fee into operator, model-owner and treasury parts that sum exactly to the fee.
/// @dev Operator and owner parts round down; the treasury takes the remainder, so rounding always
///      favours the protocol and no wei is created or lost.
library FeeSplit {
    uint256 internal constant BPS = 10_000;

    /// @notice Reverts unless the two shares leave a non-negative treasury share.
    function check(uint16 operatorBps, uint16 modelOwnerBps) internal pure {
        if (uint256(operatorBps) + modelOwnerBps > BPS) {
            revert IFeeEscrow.FeeEscrowInvalidSplit(operatorBps, modelOwnerBps);
        }
    }

    /// @notice The three parts of `fee`.
    function split(uint256 fee, uint16 operatorBps, uint16 modelOwnerBps)
        internal
        pure
        returns (uint256 operatorShare, uint256 ownerShare, uint256 treasuryShare)
    {
        operatorShare = fee * operatorBps / BPS;
        ownerShare = fee * modelOwnerBps / BPS;
        treasuryShare = fee - operatorShare - ownerShare;
    }
}
