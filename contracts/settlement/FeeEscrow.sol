// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {AccessControlDefaultAdminRules} from
    "@openzeppelin/contracts/access/extensions/AccessControlDefaultAdminRules.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IERC20Permit} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Permit.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {IFeeEscrow} from "../interfaces/IFeeEscrow.sol";
import {AdminRules} from "../libraries/AdminRules.sol";
import {FeeSplit} from "../libraries/FeeSplit.sol";

/// @title FeeEscrow
/// @notice OPG escrow with exact fee splits and pull withdrawals. Requesters' deposits and operators' or
///         model owners' earnings are one internal balance per account; the treasury's share accrues in
///         one packed word (see `Accounting`) shared with the hub's counters, so settling a fee touches
///         three balances and one word.
/// @dev Invariant: token.balanceOf(this) ≥ Σ balances + treasury accrued.
abstract contract FeeEscrow is IFeeEscrow, AccessControlDefaultAdminRules, ReentrancyGuardTransient {
    using SafeERC20 for IERC20;

    /// @notice May change the fee split and the treasury address.
    bytes32 public constant FEE_ADMIN_ROLE = keccak256("FEE_ADMIN_ROLE");

    /// @notice One storage word read and written once per settlement.
    /// @dev Counters wrap after 2^32 steps of a tier: they are statistics, never used for accounting.
    struct Accounting {
        uint16 operatorBps;
        uint16 modelOwnerBps;
        uint96 treasuryAccrued;
        uint32 signatureSteps;
        uint32 teeSteps;
        uint32 zkSteps;
        uint32 operations;
    }

    /// @notice The fee token (OPG).
    IERC20 public immutable feeToken;
    /// @notice Where the treasury's share goes.
    address public treasury;

    Accounting internal _accounting;
    mapping(address account => uint256) private _balances;

    /// @param admin Holds DEFAULT_ADMIN_ROLE (moves in two delayed steps) and FEE_ADMIN_ROLE.
    constructor(address admin, IERC20 token, address treasury_, uint16 operatorBps, uint16 modelOwnerBps)
        AccessControlDefaultAdminRules(AdminRules.INITIAL_DELAY, admin)
    {
        if (address(token) == address(0) || treasury_ == address(0)) {
            revert FeeEscrowZeroAddress();
        }
        FeeSplit.check(operatorBps, modelOwnerBps);
        feeToken = token;
        treasury = treasury_;
        _accounting.operatorBps = operatorBps;
        _accounting.modelOwnerBps = modelOwnerBps;
        _grantRole(FEE_ADMIN_ROLE, admin);
        emit TreasuryUpdated(treasury_);
        emit FeeSplitUpdated(operatorBps, modelOwnerBps);
    }

    /// @inheritdoc IFeeEscrow
    function deposit(address account, uint256 amount) external nonReentrant {
        _deposit(account, amount);
    }

    /// @inheritdoc IFeeEscrow
    function depositWithPermit(address account, uint256 amount, uint256 deadline, uint8 v, bytes32 r, bytes32 s)
        external
        nonReentrant
    {
        // A front-run permit must not block the deposit: the allowance is what matters.
        // solhint-disable-next-line no-empty-blocks
        try IERC20Permit(address(feeToken)).permit(msg.sender, address(this), amount, deadline, v, r, s) {} catch {}
        _deposit(account, amount);
    }

    /// @inheritdoc IFeeEscrow
    function withdraw(address to, uint256 amount) external nonReentrant {
        if (to == address(0)) revert FeeEscrowZeroAddress();
        if (amount == 0) revert FeeEscrowZeroAmount();
        _debit(msg.sender, amount);
        feeToken.safeTransfer(to, amount);
        emit Withdrawn(msg.sender, to, amount);
    }

    /// @notice Sends the accrued treasury share to the treasury. Anyone may call it.
    function withdrawTreasury() external nonReentrant {
        uint256 amount = _accounting.treasuryAccrued;
        if (amount == 0) revert FeeEscrowZeroAmount();
        _accounting.treasuryAccrued = 0;
        address to = treasury;
        feeToken.safeTransfer(to, amount);
        emit TreasuryWithdrawn(to, amount);
    }

    /// @notice Sets the operator and model-owner shares in basis points; the treasury gets the rest.
    function setFeeSplit(uint16 operatorBps, uint16 modelOwnerBps) external onlyRole(FEE_ADMIN_ROLE) {
        FeeSplit.check(operatorBps, modelOwnerBps);
        _accounting.operatorBps = operatorBps;
        _accounting.modelOwnerBps = modelOwnerBps;
        emit FeeSplitUpdated(operatorBps, modelOwnerBps);
    }

    /// @notice Sets where the treasury's share goes.
    function setTreasury(address treasury_) external onlyRole(FEE_ADMIN_ROLE) {
        if (treasury_ == address(0)) revert FeeEscrowZeroAddress();
        treasury = treasury_;
        emit TreasuryUpdated(treasury_);
    }

    /// @inheritdoc IFeeEscrow
    function balanceOf(address account) external view returns (uint256) {
        return _balances[account];
    }

    /// @notice Treasury fees accrued and not yet withdrawn.
    function treasuryAccrued() external view returns (uint256) {
        return _accounting.treasuryAccrued;
    }

    /// @notice Operator and model-owner shares in basis points.
    function feeSplit() external view returns (uint16 operatorBps, uint16 modelOwnerBps) {
        return (_accounting.operatorBps, _accounting.modelOwnerBps);
    }

    /// @dev Credits the operator and model-owner shares of `fee` and adds the treasury share to `acc`
    ///      (the caller writes `acc` back once). The requester is debited separately, once per call.
    ///      A fee is a model price (uint80), so a treasury share always fits the uint96 accumulator.
    function _credit(Accounting memory acc, uint256 fee, address operator, address owner)
        internal
        returns (uint256 operatorShare, uint256 ownerShare, uint256 treasuryShare)
    {
        (operatorShare, ownerShare, treasuryShare) = FeeSplit.split(fee, acc.operatorBps, acc.modelOwnerBps);
        if (operatorShare != 0) _balances[operator] += operatorShare;
        if (ownerShare != 0) _balances[owner] += ownerShare;
        acc.treasuryAccrued += uint96(treasuryShare);
    }

    /// @dev Adds `amount` to `account`'s internal balance.
    function _creditAccount(address account, uint256 amount) internal {
        _balances[account] += amount;
    }

    /// @dev Takes `amount` from `account`'s internal balance.
    function _debit(address account, uint256 amount) internal {
        uint256 balance = _balances[account];
        if (balance < amount) revert FeeEscrowInsufficientBalance(account, balance, amount);
        unchecked {
            _balances[account] = balance - amount;
        }
    }

    function _deposit(address account, uint256 amount) private {
        if (account == address(0)) revert FeeEscrowZeroAddress();
        if (amount == 0) revert FeeEscrowZeroAmount();
        feeToken.safeTransferFrom(msg.sender, address(this), amount);
        _balances[account] += amount;
        emit Deposited(msg.sender, account, amount);
    }
}
