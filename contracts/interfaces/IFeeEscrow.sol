// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @notice OPG escrow: requesters deposit, receipts debit them, operators, model owners and the treasury
///         are credited, and everyone pulls their balance out.
interface IFeeEscrow {
    /// @notice The amount is zero.
    error FeeEscrowZeroAmount();
    /// @notice A zero address was given where an account is required.
    error FeeEscrowZeroAddress();
    /// @notice The account's escrow cannot cover the amount.
    error FeeEscrowInsufficientBalance(address account, uint256 balance, uint256 needed);
    /// @notice Operator and model-owner shares exceed 100%.
    error FeeEscrowInvalidSplit(uint16 operatorBps, uint16 modelOwnerBps);

    /// @notice OPG was deposited into `account`'s balance.
    event Deposited(address indexed from, address indexed account, uint256 amount);
    /// @notice OPG left `account`'s balance to `to`.
    event Withdrawn(address indexed account, address indexed to, uint256 amount);
    /// @notice The split changed.
    event FeeSplitUpdated(uint16 operatorBps, uint16 modelOwnerBps);
    /// @notice The treasury address changed.
    event TreasuryUpdated(address indexed treasury);
    /// @notice Accrued treasury fees were sent to the treasury.
    event TreasuryWithdrawn(address indexed treasury, uint256 amount);

    /// @notice Deposits `amount` OPG from the caller (approved beforehand) into `account`'s balance.
    function deposit(address account, uint256 amount) external;

    /// @notice Deposits with an ERC-2612 permit: no separate approve transaction.
    function depositWithPermit(address account, uint256 amount, uint256 deadline, uint8 v, bytes32 r, bytes32 s)
        external;

    /// @notice Sends `amount` of the caller's balance to `to`.
    function withdraw(address to, uint256 amount) external;

    /// @notice The internal balance (escrow or earnings) of `account`.
    function balanceOf(address account) external view returns (uint256);
}
