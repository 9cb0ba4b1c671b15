// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {RequestBook} from "../requests/RequestBook.sol";
import {RequestHandler} from "./invariant/RequestHandler.sol";
import {HubFixture} from "./utils/HubFixture.sol";

/// @notice Invariants of requests under random sequences of requests, fulfilments (valid and bad),
///         cancellations, deposits, withdrawals, price changes and time jumps (see RequestHandler).
contract RequestBookInvariantTest is HubFixture {
    RequestHandler internal handler;
    RequestBook internal book;

    function setUp() public {
        _deploySystem();
        book = new RequestBook(hub, models, operators, enclaves, groth16);
        hub.setRequestBook(address(book));
        handler = new RequestHandler(hub, book, token, models, operators, TREASURY);
        token.transfer(address(handler), token.balanceOf(address(this)));
        handler.init(MIN_STAKE);
    }

    function targetContracts() public view returns (address[] memory targets) {
        targets = new address[](1);
        targets[0] = address(handler);
    }

    struct FuzzSelector {
        address addr;
        bytes4[] selectors;
    }

    /// @dev The handler's actions (not `init`); requests and fulfilments weighed up.
    function targetSelectors() public view returns (FuzzSelector[] memory targets) {
        bytes4[] memory selectors = new bytes4[](10);
        selectors[0] = RequestHandler.deposit.selector;
        selectors[1] = RequestHandler.withdrawAll.selector;
        selectors[2] = RequestHandler.setPrice.selector;
        selectors[3] = RequestHandler.request.selector;
        selectors[4] = RequestHandler.request.selector;
        selectors[5] = RequestHandler.fulfil.selector;
        selectors[6] = RequestHandler.fulfil.selector;
        selectors[7] = RequestHandler.cancel.selector;
        selectors[8] = RequestHandler.warp.selector;
        selectors[9] = RequestHandler.deposit.selector;
        targets = new FuzzSelector[](1);
        targets[0] = FuzzSelector({addr: address(handler), selectors: selectors});
    }

    /// @notice Every call behaved: nothing accepted that must fail, nothing moved by a refused call,
    ///         tokens conserved (hub balance == Σ balances + treasury + reservations) after each call,
    ///         the hub's reservation total == Σ max fees of open requests, each request settled once.
    /**
     * hardhat-config: invariant.runs = 64
     * hardhat-config: invariant.depth = 64
     * hardhat-config: invariant.failOnRevert = true
     */
    function invariant_requestsConserveTokens() public view {
        if (handler.violationCount() != 0) revert AssertionFailedBytes(handler.firstViolation());
        assertEq(token.balanceOf(address(hub)), handler.owed(), "hub holds other than it owes");
        assertEq(hub.reserved(), handler.ghostReserved(), "reservations differ from open requests");
    }

    /// @notice The runs are not vacuous: requests were made, and some were settled, refused or cancelled.
    function test_handlerExercisesRequests() public {
        handler.deposit(0, 15e18);
        handler.request(0, 0, 5e18, false);
        handler.request(0, 1, 6e18, true);
        handler.fulfil(0, 0);
        handler.fulfil(0, 0);
        handler.fulfil(1, 8);
        handler.fulfil(1, 7);
        handler.fulfil(1, 6);
        handler.cancel(1, false);
        handler.warp(2 hours - 1);
        handler.warp(2 hours - 1);
        handler.cancel(1, true);
        handler.cancel(1, false);
        assertEq(handler.settled(), 1, "settled");
        assertEq(handler.cancelled(), 1, "cancelled");
        assertEq(handler.violationCount(), 0, "violations");
        assertEq(hub.reserved(), 0, "reservations left");
    }
}
