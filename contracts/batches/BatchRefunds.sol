// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {IBatchSettlement} from "../interfaces/IBatchSettlement.sol";
import {IOperatorRegistry} from "../interfaces/IOperatorRegistry.sol";
import {BatchEscrow} from "./BatchEscrow.sol";

/// @title BatchRefunds
/// @notice The posted batches and what happens when one is refuted: its bond is slashed once, a bound
///         challenger earns the reward, and every requester the batch charged shares the refund pool in
///         proportion to its charge (claimed one by one, so a refutation costs the same for 1 or 1,000
///         requesters). Every result of a refuted batch is refuted, so each of its requesters gets its charge
///         back plus compensation, whoever refuted it and through whichever leaf: an operator that refutes its
///         own batch first, through a decoy requester of its own, still pays the others.
/// @dev The refutations are BatchChallenges; the posting side is BatchSettlement.
abstract contract BatchRefunds is BatchEscrow {
    using SafeERC20 for IERC20;

    uint256 internal constant BPS = 10_000;

    IOperatorRegistry public immutable operators;
    /// @notice Where the treasury's fee share and what is left of a slash accrue (as earnings).
    address public immutable treasury;

    Config internal _config;
    mapping(bytes32 batchId => Batch) internal _batches;
    mapping(bytes32 batchId => RefundPool) private _pools;
    mapping(bytes32 batchAndRequester => bool) private _refunded;

    constructor(IERC20 token_, uint64 withdrawalDelay_, IOperatorRegistry operators_, address treasury_)
        BatchEscrow(token_, withdrawalDelay_)
    {
        if (address(operators_) == address(0) || treasury_ == address(0)) revert BatchSettlementZeroAddress();
        // A slash arrives in the stake token and leaves as rewards and refunds in `token`: they must be one.
        address stakeToken = address(operators_.stakeToken());
        if (stakeToken != address(token_)) revert BatchSettlementTokenMismatch(stakeToken, address(token_));
        operators = operators_;
        treasury = treasury_;
    }

    /// @inheritdoc IBatchSettlement
    function claimRefund(BatchRef calldata batch, address requester) external nonReentrant returns (uint256 amount) {
        bytes32 batchId = batchIdOf(batch.operator, batch.root);
        if (!_batches[batchId].refuted) revert BatchSettlementNotRefuted(batchId);
        (uint256 total, uint256 charged) = _checkLedger(batchId, batch, requester);
        bytes32 key = keccak256(abi.encode(batchId, requester));
        if (charged == 0 || _refunded[key]) revert BatchSettlementNoRefund(batchId, requester);
        _refunded[key] = true;
        RefundPool storage p = _pools[batchId];
        (uint256 pool, uint256 claimed) = (p.pool, p.claimed);
        // Shares are floors of running sums: once everyone claimed, exactly the pool was paid out.
        amount = pool * (claimed + charged) / total - pool * claimed / total;
        p.claimed = SafeCast.toUint128(claimed + charged);
        _credit(requester, amount);
        emit RefundClaimed(batchId, requester, amount);
    }

    /// @notice Refuted batch `batchId`'s refund pool and the charges of the requesters who claimed from it.
    function refundPoolOf(bytes32 batchId) external view returns (RefundPool memory) {
        return _pools[batchId];
    }

    /// @notice Whether `requester` claimed its refund from batch `batchId`.
    function refundedOf(bytes32 batchId, address requester) external view returns (bool) {
        return _refunded[keccak256(abi.encode(batchId, requester))];
    }

    /// @notice `operator`'s stored batch with this root (a zero `finalAt` when none).
    function batchOf(address operator, bytes32 root) external view returns (Batch memory) {
        return _batches[batchIdOf(operator, root)];
    }

    /// @notice The current configuration.
    function config() external view returns (Config memory) {
        return _config;
    }

    /// @notice A batch's id: its operator and root (two operators' batches never collide).
    function batchIdOf(address operator, bytes32 root) public pure returns (bytes32) {
        return keccak256(abi.encode(operator, root));
    }

    /// @notice The id under which the operator registry locks (and slashes, at most once) a batch's bond.
    function bondIdOf(bytes32 batchId) public view returns (bytes32) {
        return keccak256(abi.encode(block.chainid, address(this), batchId));
    }

    /// @dev The ledger a batch stores: what it charged whom, its closing leaves' hash and their ranges' starts'.
    function _ledgerOf(Charge[] memory charges, bytes32 closings, bytes32 starts) internal pure returns (bytes32) {
        return keccak256(abi.encode(charges, closings, starts));
    }

    /// @dev Reverts unless `batch` gives batch `batchId`'s ledger (charges, closings, starts); returns the charges' sum and
    ///      what `requester` was charged.
    function _checkLedger(bytes32 batchId, BatchRef calldata batch, address requester)
        internal
        view
        returns (uint256 total, uint256 charged)
    {
        if (keccak256(abi.encode(batch.charges, batch.closings, batch.starts)) != _batches[batchId].ledger) {
            revert BatchSettlementWrongLedger(batchId);
        }
        Charge[] calldata charges = batch.charges;
        for (uint256 i = 0; i < charges.length; ++i) {
            total += charges[i].amount;
            if (charges[i].requester == requester) charged += charges[i].amount;
        }
    }

    /// @dev Refutes batch `batchId` (once: its bond id is slashed once): slashes the bond (the bond multiple ×
    ///      the charges' sum), pays `rewarded` its share (none when zero: evidence anyone could copy), keeps the
    ///      refund pool (the charges back plus compensation, at most what is left) and credits the treasury
    ///      the rest.
    function _refute(bytes32 batchId, BatchRef calldata batch, bytes32 leafHash, bytes32 provenOutput, address rewarded)
        internal
        returns (Outcome memory outcome)
    {
        (uint256 total,) = _checkLedger(batchId, batch, address(0));
        Batch storage b = _batches[batchId];
        b.refuted = true;
        uint256 slashed = operators.slashBond(b.operator, bondIdOf(batchId), total * b.bondMultiple, b.finalAt, address(this));
        outcome = _shares(b, slashed, total, rewarded != address(0));
        _pools[batchId].pool = SafeCast.toUint128(outcome.refund);
        _earn(treasury, outcome.remainder);
        if (outcome.reward != 0) token.safeTransfer(rewarded, outcome.reward);
        emit BatchRefuted(
            batchId, leafHash, rewarded, provenOutput, outcome.slashed, outcome.reward, outcome.refund, outcome.remainder
        );
    }

    /// @dev How a slash of batch `b` (which charged `total`) is shared: the reward (when `rewarded`), the refund
    ///      pool (the charges back plus compensation, at most what is left) and the treasury's remainder.
    function _shares(Batch storage b, uint256 slashed, uint256 total, bool rewarded)
        private
        view
        returns (Outcome memory outcome)
    {
        (uint16 bondMultiple, uint16 rewardBps, uint16 compensationBps) = (b.bondMultiple, b.rewardBps, b.compensationBps);
        outcome.slashed = slashed;
        if (rewarded) outcome.reward = slashed * rewardBps / BPS;
        uint256 available = slashed - outcome.reward;
        uint256 cap = total + total * bondMultiple * compensationBps / BPS;
        outcome.refund = cap < available ? cap : available;
        outcome.remainder = available - outcome.refund;
    }
}
