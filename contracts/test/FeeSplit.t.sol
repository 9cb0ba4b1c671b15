// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IFeeEscrow} from "../interfaces/IFeeEscrow.sol";
import {FeeSplit} from "../libraries/FeeSplit.sol";
import {TestBase} from "./utils/TestBase.sol";
import {FeeSplitHarness} from "./utils/Harnesses.sol";

contract FeeSplitTest is TestBase {
    uint256 internal constant BPS = 10_000;
    FeeSplitHarness internal harness;

    function setUp() public {
        harness = new FeeSplitHarness();
    }

    /// @notice The three parts sum exactly to the fee; operator and owner parts are their bps share
    ///         rounded down (never more, less by under one wei); the treasury gets the remainder.
    /// hardhat-config: fuzz.runs = 2000
    function testFuzz_splitIsExact(uint256 fee, uint16 operatorBps, uint16 modelOwnerBps) public pure {
        fee = bound(fee, 0, 1 << 80);
        operatorBps = uint16(bound(operatorBps, 0, BPS));
        modelOwnerBps = uint16(bound(modelOwnerBps, 0, BPS - operatorBps));

        (uint256 operatorShare, uint256 ownerShare, uint256 treasuryShare) =
            FeeSplit.split(fee, operatorBps, modelOwnerBps);

        assertEq(operatorShare + ownerShare + treasuryShare, fee, "parts do not sum to the fee");
        // Never above the share: part * BPS <= fee * bps.
        assertLe(operatorShare * BPS, fee * operatorBps, "operator part above its share");
        assertLe(ownerShare * BPS, fee * modelOwnerBps, "owner part above its share");
        // Rounded down by less than one wei: (part + 1) * BPS > fee * bps.
        assertTrue((operatorShare + 1) * BPS > fee * operatorBps, "operator part rounded down by >= 1 wei");
        assertTrue((ownerShare + 1) * BPS > fee * modelOwnerBps, "owner part rounded down by >= 1 wei");
        // The treasury's share is at least its own bps share (rounding favours the protocol).
        assertGe(treasuryShare * BPS, fee * (BPS - operatorBps - modelOwnerBps), "treasury part below its share");
    }

    /// @notice The same through an external call (the form the escrow uses after the check).
    function testFuzz_splitExternalMatchesSum(uint80 fee, uint16 operatorBps, uint16 modelOwnerBps) public view {
        operatorBps = uint16(bound(operatorBps, 0, BPS));
        modelOwnerBps = uint16(bound(modelOwnerBps, 0, BPS - operatorBps));
        (uint256 a, uint256 b, uint256 c) = harness.split(fee, operatorBps, modelOwnerBps);
        assertEq(a + b + c, fee, "parts do not sum to the fee");
    }

    /// @notice check() accepts exactly the splits that leave a non-negative treasury share.
    function testFuzz_checkRejectsOverfullSplit(uint16 operatorBps, uint16 modelOwnerBps) public {
        if (uint256(operatorBps) + modelOwnerBps > BPS) {
            vm.expectRevert(
                abi.encodeWithSelector(IFeeEscrow.FeeEscrowInvalidSplit.selector, operatorBps, modelOwnerBps)
            );
        }
        harness.check(operatorBps, modelOwnerBps);
    }

    function test_splitEdges() public pure {
        (uint256 a, uint256 b, uint256 c) = FeeSplit.split(1, 5_000, 5_000);
        assertEq(a + b + c, 1, "1 wei");
        assertEq(c, 1, "the odd wei goes to the treasury");
        (a, b, c) = FeeSplit.split(1 << 80, 10_000, 0);
        assertEq(a, 1 << 80, "all to the operator");
        assertEq(b + c, 0, "nothing left");
        (a, b, c) = FeeSplit.split(9_999, 3_333, 3_333);
        assertEq(a, 3_332, "operator floor");
        assertEq(b, 3_332, "owner floor");
        assertEq(c, 3_335, "treasury remainder");
    }
}
