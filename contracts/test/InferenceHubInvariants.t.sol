// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {OperatorRegistry} from "../OperatorRegistry.sol";
import {VerifiedResult} from "../types/Receipt.sol";
import {Tier} from "../types/Tier.sol";
import {HubHandler} from "./invariant/HubHandler.sol";
import {HubFixture} from "./utils/HubFixture.sol";

/// @notice Invariants of escrow, settlement and staking under random sequences of deposits, signed
///         receipts (fresh, broken and replayed), withdrawals, fee-split and price changes, stake,
///         unbonding, cancellation, withdrawal, slashing and time jumps (see HubHandler).
contract InferenceHubInvariantTest is HubFixture {
    HubHandler internal handler;

    function setUp() public {
        _deploySystem();
        handler = new HubHandler(
            hub, token, models, operators, TREASURY, MIN_STAKE, UNBONDING_DELAY, OPERATOR_BPS, OWNER_BPS
        );
        hub.grantRole(hub.FEE_ADMIN_ROLE(), address(handler));
        operators.grantRole(operators.SLASHER_ROLE(), address(handler));
        token.transfer(address(handler), token.balanceOf(address(this)));
        handler.init();
    }

    // ------------------------------------------------------------------ fuzzing targets

    function targetContracts() public view returns (address[] memory targets) {
        targets = new address[](1);
        targets[0] = address(handler);
    }

    struct FuzzSelector {
        address addr;
        bytes4[] selectors;
    }

    /// @dev The handler's actions (not `init`). Submissions are listed twice to weigh them up.
    function targetSelectors() public view returns (FuzzSelector[] memory targets) {
        bytes4[] memory selectors = new bytes4[](16);
        selectors[0] = HubHandler.deposit.selector;
        selectors[1] = HubHandler.withdraw.selector;
        selectors[2] = HubHandler.withdrawTreasury.selector;
        selectors[3] = HubHandler.setFeeSplit.selector;
        selectors[4] = HubHandler.setPrice.selector;
        selectors[5] = HubHandler.submitReplay.selector;
        selectors[6] = HubHandler.submitSigned.selector;
        selectors[7] = HubHandler.submitReplay.selector;
        selectors[8] = HubHandler.stake.selector;
        selectors[9] = HubHandler.requestUnbond.selector;
        selectors[10] = HubHandler.cancelUnbond.selector;
        selectors[11] = HubHandler.withdrawStake.selector;
        selectors[12] = HubHandler.slash.selector;
        selectors[13] = HubHandler.warp.selector;
        selectors[14] = HubHandler.submitSigned.selector;
        selectors[15] = HubHandler.deposit.selector;
        targets = new FuzzSelector[](1);
        targets[0] = FuzzSelector({addr: address(handler), selectors: selectors});
    }

    // ------------------------------------------------------------------ invariants

    /// @notice Every call did what the model of the contracts predicted: the exact revert for
    ///         expired, unauthorised, replayed, mispriced, wrongly signed or unfunded receipts, for
    ///         early stake withdrawals and invalid amounts; success otherwise.
    /**
     * hardhat-config: invariant.runs = 128
     * hardhat-config: invariant.depth = 128
     * hardhat-config: invariant.failOnRevert = true
     */
    function invariant_callsBehaveAsModelled() public view {
        if (handler.violationCount() != 0) {
            revert AssertionFailedBytes(
                string.concat("unexpected outcome: ", handler.firstViolation(), " / data: ", _hex(handler.firstViolationData()))
            );
        }
    }

    /// @notice The hub holds at least what it owes: Σ internal balances of every account the handler
    ///         touched + treasury accrued. Nothing else moves tokens to the hub, so it is exactly that,
    ///         and exactly deposits − withdrawals − treasury withdrawals.
    /**
     * hardhat-config: invariant.runs = 128
     * hardhat-config: invariant.depth = 128
     * hardhat-config: invariant.failOnRevert = true
     */
    function invariant_hubSolvent() public view {
        uint256 owed = hub.treasuryAccrued();
        uint256 n = handler.accountCount();
        for (uint256 i = 0; i < n; ++i) {
            owed += hub.balanceOf(handler.accounts(i));
        }
        uint256 held = token.balanceOf(address(hub));
        assertGe(held, owed, "hub holds less than it owes");
        assertEq(held, owed, "hub balance is not exactly what it owes");
        assertEq(
            held,
            handler.ghostDeposited() - handler.ghostWithdrawn() - handler.ghostTreasuryWithdrawn(),
            "hub balance != deposits - withdrawals"
        );
    }

    /// @notice Fee parts sum to the price: Σ debited from requesters == Σ credited to operators,
    ///         owners and treasury == Σ prices; and every balance matches the model (floor shares,
    ///         remainder to the treasury).
    /**
     * hardhat-config: invariant.runs = 128
     * hardhat-config: invariant.depth = 128
     * hardhat-config: invariant.failOnRevert = true
     */
    function invariant_feePartsSumToPrice() public view {
        assertEq(handler.ghostDebited(), handler.ghostCredited(), "debited != credited");
        assertEq(handler.ghostDebited(), handler.ghostPricesCharged(), "debited != prices");
        uint256 n = handler.accountCount();
        for (uint256 i = 0; i < n; ++i) {
            address account = handler.accounts(i);
            assertEq(hub.balanceOf(account), handler.ghostBalance(account), "balance differs from the model");
        }
        assertEq(hub.treasuryAccrued(), handler.ghostTreasury(), "treasury accrued differs from the model");
    }

    /// @notice A receipt id settles at most once: every successful submission created a new id, each
    ///         id settled once, is recorded at the Signature tier with the first output (a replay never
    ///         overwrites it), and the hub counted exactly those steps.
    /**
     * hardhat-config: invariant.runs = 128
     * hardhat-config: invariant.depth = 128
     * hardhat-config: invariant.failOnRevert = true
     */
    function invariant_receiptSettlesOnce() public view {
        uint256 n = handler.settledCount();
        assertEq(handler.successfulSubmits(), n, "more successful submissions than distinct ids");
        for (uint256 i = 0; i < n; ++i) {
            bytes32 id = handler.settledIds(i);
            assertLe(handler.settleCount(id), 1, "receipt id settled twice");
            assertTrue(hub.verifiedTier(id) == Tier.Signature, "settled id not recorded at Signature");
            VerifiedResult memory result = hub.resultOf(id);
            assertEq(result.outputCommitment, handler.settledOutput(id), "recorded output overwritten");
            assertEq(result.stepCount, 1, "step count");
        }
        (uint256 signatureSteps,,,) = hub.stats();
        assertEq(signatureSteps, n, "hub counted another number of signature steps");
    }

    /// @notice Stake never leaves before the unbonding delay (measured from the last request, recorded
    ///         by the handler), and the registry holds exactly Σ bonded + unbonding, which match the model.
    /**
     * hardhat-config: invariant.runs = 128
     * hardhat-config: invariant.depth = 128
     * hardhat-config: invariant.failOnRevert = true
     */
    function invariant_stakeNotWithdrawnEarly() public view {
        assertEq(handler.earlyStakeWithdrawals(), 0, "stake withdrawn before the unbonding delay");
        uint256 total;
        for (uint256 i = 0; i < handler.operatorCount(); ++i) {
            (address op, uint256 bonded, uint256 unbonding, uint64 releaseAt) = handler.ghostStakeOf(i);
            OperatorRegistry.Stake memory s = operators.stakeOf(op);
            assertEq(s.bonded, bonded, "bonded differs from the model");
            assertEq(s.unbonding, unbonding, "unbonding differs from the model");
            assertEq(s.releaseAt, releaseAt, "releaseAt differs from the model");
            total += uint256(s.bonded) + s.unbonding;
        }
        uint256 held = token.balanceOf(address(operators));
        assertEq(held, total, "registry balance != sum of bonded + unbonding");
        assertEq(held, handler.ghostStakeIn() - handler.ghostStakeOut(), "registry balance != stake in - out");
    }

    // ------------------------------------------------------------------ the handler itself

    /// @notice A fixed sequence through the handler reaches every interesting outcome, so the
    ///         invariants above are not vacuous, and the model agrees with the contracts throughout.
    function test_handlerReachesEveryOutcome() public {
        handler.deposit(0, 50e18, true);
        handler.deposit(1, 50e18, false);
        handler.deposit(2, 1e18, true);
        // Valid receipts (model seed 0 is model 0, 3 is model 1; 6, 7, 8 are the TEE-only, deprecated and
        // unknown models), operator 0 (well staked) and 1 (at minimum).
        handler.submitSigned(0, 0, 0, 8, 100, bytes32("out-0"));
        handler.submitSigned(1, 1, 3, 9, 100, bytes32("out-1"));
        handler.submitSigned(0, 0, 3, 10, 100, bytes32("out-2"));
        assertEq(handler.outcome("submit.ok"), 3, "valid receipts settle");
        // Broken ones: expired, unapproved relayer (x2), another operator's key, stranger key, tampered,
        // fee cap, output not a field element, inactive operator, TEE-only model, deprecated model,
        // unknown model, unfunded requester.
        handler.submitSigned(0, 0, 0, 0, 0, bytes32("x"));
        handler.submitSigned(2, 0, 0, 1, 0, bytes32("x"));
        handler.submitSigned(0, 0, 0, 2, 0, bytes32("x"));
        handler.submitSigned(0, 0, 0, 3, 0, bytes32("x"));
        handler.submitSigned(0, 0, 0, 4, 0, bytes32("x"));
        handler.submitSigned(0, 0, 0, 5, 0, bytes32("x"));
        handler.submitSigned(0, 0, 0, 6, 0, bytes32("x"));
        handler.submitSigned(0, 0, 0, 7, 0, bytes32("x"));
        handler.submitSigned(0, 2, 0, 8, 0, bytes32("x"));
        handler.submitSigned(0, 0, 6, 8, 0, bytes32("x"));
        handler.submitSigned(0, 0, 7, 8, 0, bytes32("x"));
        handler.submitSigned(0, 0, 8, 8, 0, bytes32("x"));
        handler.submitSigned(2, 0, 0, 8, 0, bytes32("x"));
        assertEq(handler.outcome("submit.rejected"), 13, "broken receipts rejected with the right error");
        // Replays, by the requester and by the relayer, with another operator and output.
        handler.submitReplay(0, 1, bytes32("other"), false);
        handler.submitReplay(1, 0, bytes32("other"), true);
        handler.submitReplay(2, 2, bytes32("other"), true);
        assertEq(handler.outcome("replay.rejected"), 3, "replays rejected");
        // Earnings and treasury out.
        handler.withdraw(3, 1, 4); // owner 0, part of its balance
        // "accounts" order: requesters 0-2, owners 3-4, relayer 5, sink 6, treasury 7, operators 8-10.
        handler.withdraw(8, 0, 0); // operator 0, all of it
        handler.withdraw(0, 0, 1); // requester 0 asks for more than it has
        handler.withdrawTreasury(0);
        handler.withdrawTreasury(1);
        assertEq(handler.outcome("withdraw.ok"), 2, "withdrawals");
        assertEq(handler.outcome("withdraw.rejected"), 1, "over-withdrawal rejected");
        assertEq(handler.outcome("treasury.ok"), 1, "treasury withdrawal");
        assertEq(handler.outcome("withdrawTreasury.rejected"), 1, "empty treasury withdrawal rejected");
        // Split and price changes, then more receipts.
        handler.setFeeSplit(3_333, 3_333, false);
        handler.setFeeSplit(9_000, 2_000, true);
        handler.setPrice(0, 9_999);
        handler.submitSigned(1, 0, 0, 8, 0, bytes32("out-3"));
        // Staking: unbond, early withdrawal fails, cancel, unbond again, wait, withdraw, slash.
        handler.requestUnbond(0, 5); // all of operator 0's bonded stake
        handler.submitSigned(0, 0, 0, 8, 0, bytes32("inactive")); // operator 0 now inactive
        handler.withdrawStake(0, false);
        handler.warp(4 days);
        handler.withdrawStake(0, false);
        assertEq(handler.outcome("unstake.early"), 2, "early stake withdrawals rejected");
        handler.cancelUnbond(0);
        handler.requestUnbond(0, 5);
        handler.warp(7 days);
        handler.withdrawStake(0, true);
        assertEq(handler.outcome("unstake.ok"), 1, "stake withdrawn after the delay");
        handler.stake(1, 42e18);
        handler.slash(1, 8 * 10 + 2); // m = 2: a part of the stake
        assertEq(handler.outcome("slash.ok"), 1, "slash");

        invariant_callsBehaveAsModelled();
        invariant_hubSolvent();
        invariant_feePartsSumToPrice();
        invariant_receiptSettlesOnce();
        invariant_stakeNotWithdrawnEarly();
    }

    function _hex(bytes memory data) internal pure returns (string memory) {
        bytes memory digits = "0123456789abcdef";
        bytes memory out = new bytes(2 + data.length * 2);
        out[0] = "0";
        out[1] = "x";
        for (uint256 i = 0; i < data.length; ++i) {
            out[2 + 2 * i] = digits[uint8(data[i]) >> 4];
            out[3 + 2 * i] = digits[uint8(data[i]) & 0xf];
        }
        return string(out);
    }
}
