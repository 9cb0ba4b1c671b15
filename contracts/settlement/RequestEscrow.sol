// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {IOperatorRegistry} from "../interfaces/IOperatorRegistry.sol";
import {IRequestEscrow} from "../interfaces/IRequestEscrow.sol";
import {Tier} from "../types/Tier.sol";
import {FeeEscrow} from "./FeeEscrow.sol";

/// @title RequestEscrow
/// @notice The hub's escrow as the request book sees it: reservations of open requests' max fees, their
///         release, and the payment of a fulfilment (with the bond of its pending steps locked at the
///         operator registry). Only the request book, connected once, may call it.
/// @dev Invariant: token balance of the hub == Σ balances + treasury accrued + reserved.
abstract contract RequestEscrow is IRequestEscrow, FeeEscrow {
    /// @notice The request book: the one contract allowed to reserve and settle through IRequestEscrow.
    address public requestBook;
    /// @notice Σ of the book's open reservations. Shares a slot with `requestBook`, which every book
    ///         call reads anyway: keeping the total costs 2,900 gas per call instead of a fresh 22,100.
    uint96 public override reserved;

    constructor(address admin, IERC20 token, address treasury_, uint16 operatorBps, uint16 modelOwnerBps)
        FeeEscrow(admin, token, treasury_, operatorBps, modelOwnerBps)
    {}

    /// @notice Connects the request book, once (the book is deployed with this hub's address).
    function setRequestBook(address book) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (book == address(0) || requestBook != address(0)) revert InferenceHubRequestBookLocked();
        requestBook = book;
        emit RequestBookSet(book);
    }

    modifier onlyRequestBook() {
        if (msg.sender != requestBook) revert InferenceHubNotRequestBook(msg.sender);
        _;
    }

    /// @inheritdoc IRequestEscrow
    function reserve(address requester, uint256 amount) external onlyRequestBook {
        _debit(requester, amount);
        reserved += SafeCast.toUint96(amount);
    }

    /// @inheritdoc IRequestEscrow
    function release(address requester, uint256 amount) external onlyRequestBook {
        // Reverts (underflow) if the book ever released more than it reserved.
        reserved -= SafeCast.toUint96(amount);
        _creditAccount(requester, amount);
    }

    /// @inheritdoc IRequestEscrow
    function settle(
        address requester,
        uint256 reservation,
        address operator,
        StepFee[] calldata fees,
        uint256 bond,
        uint64 bondFinalAt
    ) external onlyRequestBook returns (uint256 total) {
        // Reverts when the operator's free stake does not cover the bond of its pending steps.
        if (bond != 0) _operatorRegistry().lockBond(operator, bond, bondFinalAt);
        Accounting memory acc = _accounting;
        for (uint256 i = 0; i < fees.length; ++i) {
            StepFee calldata step = fees[i];
            total += step.fee;
            _count(acc, step.tier);
            _credit(acc, step.fee, operator, step.modelOwner);
        }
        unchecked {
            ++acc.operations;
        }
        _accounting = acc;
        if (reservation == 0) {
            _debit(requester, total);
        } else {
            // Reverts (underflow) if the book ever tried to pay more than it reserved in total, or
            // more than this reservation.
            reserved -= SafeCast.toUint96(reservation);
            if (reservation > total) _creditAccount(requester, reservation - total);
            else if (reservation < total) revert FeeEscrowInsufficientBalance(msg.sender, reservation, total);
        }
    }

    /// @dev Counts a verified step in the statistics word.
    function _count(Accounting memory acc, Tier tier) internal pure {
        unchecked {
            if (tier == Tier.Signature) ++acc.signatureSteps;
            else if (tier == Tier.TEE) ++acc.teeSteps;
            else ++acc.zkSteps;
        }
    }

    function _operatorRegistry() internal view virtual returns (IOperatorRegistry);
}
