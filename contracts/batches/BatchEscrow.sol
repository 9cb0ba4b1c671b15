// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IERC20Permit} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Permit.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {IBatchSettlement} from "../interfaces/IBatchSettlement.sol";

/// @title BatchEscrow
/// @notice Requesters' deposits behind spending authorizations, and everyone's earnings. A deposit leaves
///         only after a notice (`withdrawalDelay`) during which it still pays settlements: an operator
///         that settles at least once per notice period is always paid for what it served. Earnings
///         (operators, model owners, treasury, refunds of nothing pending) leave at once.
/// @dev Invariant: token.balanceOf(this) == Σ (balance + unlocking) + Σ earnings + what refund pools still hold.
abstract contract BatchEscrow is IBatchSettlement, ReentrancyGuardTransient {
    using SafeERC20 for IERC20;

    struct Account {
        uint128 balance;
        uint128 unlocking;
        uint64 unlockAt;
    }

    /// @notice The fee token (OPG).
    IERC20 public immutable token;
    /// @notice How long a requested withdrawal keeps paying settlements before it can leave.
    uint64 public immutable withdrawalDelay;

    mapping(address account => Account) private _accounts;
    mapping(address account => uint256) private _earnings;

    constructor(IERC20 token_, uint64 withdrawalDelay_) {
        if (address(token_) == address(0)) revert BatchSettlementZeroAddress();
        token = token_;
        withdrawalDelay = withdrawalDelay_;
    }

    /// @notice Deposits `amount` OPG from the caller (approved beforehand) for `account`.
    function deposit(address account, uint256 amount) external nonReentrant {
        _deposit(account, amount);
    }

    /// @notice Deposits with an ERC-2612 permit instead of a prior approval.
    function depositWithPermit(address account, uint256 amount, uint256 deadline, uint8 v, bytes32 r, bytes32 s)
        external
        nonReentrant
    {
        // A front-run permit must not block the deposit: the allowance is what matters.
        // solhint-disable-next-line no-empty-blocks
        try IERC20Permit(address(token)).permit(msg.sender, address(this), amount, deadline, v, r, s) {} catch {}
        _deposit(account, amount);
    }

    /// @notice Starts unlocking `amount` of the caller's deposit (restarting the notice for all of it).
    function requestWithdrawal(uint256 amount) external {
        if (amount == 0) revert BatchSettlementZeroAmount();
        Account storage a = _accounts[msg.sender];
        if (amount > a.balance) revert BatchSettlementInsufficientBalance(msg.sender, a.balance, amount);
        uint64 unlockAt = uint64(block.timestamp) + withdrawalDelay;
        a.balance -= uint128(amount);
        a.unlocking += uint128(amount);
        a.unlockAt = unlockAt;
        emit WithdrawalRequested(msg.sender, amount, unlockAt);
    }

    /// @notice Sends the caller's unlocked deposit to `to` once its notice has passed.
    function withdraw(address to) external nonReentrant {
        if (to == address(0)) revert BatchSettlementZeroAddress();
        Account storage a = _accounts[msg.sender];
        uint256 amount = a.unlocking;
        if (amount == 0 || block.timestamp < a.unlockAt) revert BatchSettlementNotUnlocked(a.unlockAt);
        a.unlocking = 0;
        a.unlockAt = 0;
        token.safeTransfer(to, amount);
        emit Withdrawn(msg.sender, to, amount);
    }

    /// @notice Sends the caller's earnings to `to`.
    function claim(address to) external nonReentrant {
        if (to == address(0)) revert BatchSettlementZeroAddress();
        uint256 amount = _earnings[msg.sender];
        if (amount == 0) revert BatchSettlementZeroAmount();
        _earnings[msg.sender] = 0;
        token.safeTransfer(to, amount);
        emit Withdrawn(msg.sender, to, amount);
    }

    /// @notice `account`'s deposit: spendable balance, the part unlocking (still spendable) and when it unlocks.
    function depositOf(address account) external view returns (uint256 balance, uint256 unlocking, uint64 unlockAt) {
        Account storage a = _accounts[account];
        return (a.balance, a.unlocking, a.unlockAt);
    }

    /// @notice What `account` earned and can claim.
    function earningsOf(address account) external view returns (uint256) {
        return _earnings[account];
    }

    /// @dev Takes `amount` from `requester`'s deposit, its balance first, then what is unlocking.
    function _charge(address requester, uint256 amount) internal {
        Account storage a = _accounts[requester];
        uint256 balance = a.balance;
        if (amount <= balance) {
            unchecked {
                a.balance = uint128(balance - amount);
            }
            return;
        }
        uint256 total = balance + a.unlocking;
        if (amount > total) revert BatchSettlementInsufficientBalance(requester, total, amount);
        a.balance = 0;
        a.unlocking = uint128(total - amount);
    }

    /// @dev Adds to `account`'s deposit (a refund).
    function _credit(address account, uint256 amount) internal {
        _accounts[account].balance += SafeCast.toUint128(amount);
    }

    /// @dev Adds to `account`'s earnings.
    function _earn(address account, uint256 amount) internal {
        if (amount != 0) _earnings[account] += amount;
    }

    function _deposit(address account, uint256 amount) private {
        if (account == address(0)) revert BatchSettlementZeroAddress();
        if (amount == 0) revert BatchSettlementZeroAmount();
        token.safeTransferFrom(msg.sender, address(this), amount);
        _accounts[account].balance += SafeCast.toUint128(amount);
        emit Deposited(msg.sender, account, amount);
    }
}
