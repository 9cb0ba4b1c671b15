// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IPendingResults} from "../interfaces/IPendingResults.sol";
import {IRequestBook} from "../interfaces/IRequestBook.sol";
import {RequestBook} from "../requests/RequestBook.sol";
import {ResultStatus} from "../types/Claim.sol";
import {Tier} from "../types/Tier.sol";
import {DisputesHandler} from "./invariant/DisputesHandler.sol";
import {DisputesFixture} from "./utils/DisputesFixture.sol";

/// @notice Invariants of fraud proofs under random sequences of honest and wrong results (hub receipts and
///         request fulfilments), challenges (in time, late, against correct results, repeated), stake
///         top-ups and time jumps.
contract DisputesInvariantTest is DisputesFixture {
    DisputesHandler internal handler;

    function setUp() public {
        _deployDisputes();
        RequestBook book = new RequestBook(hub, models, operators, enclaves, groth16);
        hub.setRequestBook(address(book));
        handler = new DisputesHandler(
            DisputesHandler.System({
                hub: hub,
                book: book,
                token: token,
                operators: operators,
                disputes: disputes,
                modelId: modelId,
                requester: requester,
                operator: operator,
                challenger: challenger,
                treasury: TREASURY,
                signerKey: signerKey,
                price: PRICE,
                bondMultiple: BOND_MULTIPLE
            })
        );
        token.transfer(address(handler), 10_000e18);
    }

    /// @notice The handler's model is not vacuous: a wrong result is refuted, a correct one is not, a late
    ///         challenge fails, and the invariants hold throughout.
    function test_handlerOutcomes() public {
        handler.submit(1, true);
        handler.submit(2, false);
        handler.challenge(0);
        handler.challenge(1);
        handler.challenge(0);
        handler.submit(3, true);
        handler.warp(1 hours);
        handler.challenge(2);
        handler.fulfil(4, true);
        handler.fulfil(5, false);
        handler.challenge(3);
        handler.challenge(4);
        handler.challenge(3);
        handler.fulfil(6, true);
        handler.warp(1 hours);
        handler.challenge(5);
        assertEq(handler.outcomes("fulfil.ok"), 3, "three fulfilments");
        assertEq(handler.outcomes("challenge.ok"), 2, "one refuted receipt, one refuted fulfilment");
        assertEq(handler.outcomes("challenge.refused"), 6, "correct, repeated and late challenges refused");
        invariant_challengesBehave();
        invariant_refutedNeverFinal();
        invariant_tokensConserved();
    }

    /// @dev Only the handler is fuzzed: other callers would break its model of who did what.
    function targetContracts() public view returns (address[] memory targets) {
        targets = new address[](1);
        targets[0] = address(handler);
    }

    /// @notice Random sequences of 24 actions (submit honest or wrong, challenge, top up, warp), with every
    ///         invariant checked after each action.
    function testFuzz_disputeSequences(uint256[24] calldata actions) public {
        for (uint256 i = 0; i < actions.length; ++i) {
            uint256 a = actions[i];
            uint256 kind = a % 8;
            if (kind < 2) handler.submit(a >> 8, kind == 1);
            else if (kind < 4) handler.fulfil(a >> 8, kind == 3);
            else if (kind < 6) handler.challenge(a >> 8);
            else if (kind == 6) handler.topUpStake(a >> 8);
            else handler.warp(a >> 8);
            invariant_challengesBehave();
            invariant_refutedNeverFinal();
            invariant_tokensConserved();
        }
        assertTrue(
            handler.outcomes("submit.ok") + handler.outcomes("submit.refused") + handler.outcomes("fulfil.ok")
                    + handler.outcomes("fulfil.refused") + handler.outcomes("fulfil.unfunded") > 0 || actions[0] % 8 >= 4,
            "ran"
        );
    }

    /// @notice Challenges succeed exactly against pending wrong results, at most once per bond, never
    ///         slashing more than the stake, and every slash is paid out exactly.
    /**
     * hardhat-config: invariant.runs = 128
     * hardhat-config: invariant.depth = 64
     */
    function invariant_challengesBehave() public view {
        if (handler.violationCount() != 0) revert AssertionFailedBytes(handler.firstViolation());
    }

    /// @notice A refuted result is never final, its output never readable, its policy never met; a refuted
    ///         request fulfilment is reported refuted by the book too.
    /**
     * hardhat-config: invariant.runs = 128
     * hardhat-config: invariant.depth = 64
     */
    function invariant_refutedNeverFinal() public {
        vm.warp(handler.currentTime());
        for (uint256 i = 0; i < handler.refutedCount(); ++i) {
            bytes32 id = handler.refutedIds(i);
            (ResultStatus status, uint64 finalAt,) = handler.statusOf(id);
            assertEq(uint256(status), uint256(ResultStatus.Refuted), "refuted stays refuted");
            assertEq(finalAt, 0, "no final time");
            if (handler.isRequest(id)) {
                assertEq(uint256(handler.requestStatus(id)), uint256(IRequestBook.Status.Refuted), "request refuted");
                continue;
            }
            assertTrue(!handler.meetsPolicy(id), "policy never met");
            try handler.verifiedOutput(id) {
                revert AssertionFailedBytes("a refuted output was readable");
            } catch (bytes memory reason) {
                assertEq(bytes4(reason), IPendingResults.PendingResultsRefuted.selector, "refuted error");
            }
        }
    }

    /// @notice Tokens are conserved across bonds, slashes, rewards and refunds: what entered the system is
    ///         still in the registry, the hub, or paid to the challenger and the treasury; the disputes
    ///         contract keeps nothing.
    /**
     * hardhat-config: invariant.runs = 128
     * hardhat-config: invariant.depth = 64
     */
    function invariant_tokensConserved() public view {
        assertEq(handler.systemTokens(), handler.ghostIn(), "tokens conserved");
        assertEq(handler.disputesBalance(), 0, "disputes holds nothing");
        assertEq(handler.ghostSlashed(), handler.ghostPaidOut(), "every slash paid out");
    }
}
