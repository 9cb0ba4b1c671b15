// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {MerkleProof} from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";
import {IBatchSettlement} from "../interfaces/IBatchSettlement.sol";
import {IGroth16Verifier} from "../interfaces/IGroth16Verifier.sol";
import {IModelRegistry} from "../interfaces/IModelRegistry.sol";
import {IOperatorRegistry} from "../interfaces/IOperatorRegistry.sol";
import {BatchHashing} from "../libraries/BatchHashing.sol";
import {RefutationProofs} from "../libraries/RefutationProofs.sol";
import {ResultStatus} from "../types/Claim.sol";
import {Tier} from "../types/Tier.sol";
import {BatchEscrow} from "./BatchEscrow.sol";

/// @title BatchChallenges
/// @notice The posted batches (keyed by operator and root) and everything that reads or refutes them: a leaf
///         verified on its own, a wrong output refuted by a Groth16 proof, a running total that does not chain
///         refuted by its predecessor. One refutation per batch slashes its bond; the refund is bounded by what
///         the leaf's requester was charged in that batch (the charges the batch stored the hash of).
/// @dev The posting side is BatchSettlement.
abstract contract BatchChallenges is BatchEscrow {
    using SafeERC20 for IERC20;

    uint256 internal constant BPS = 10_000;
    /// @dev BN254 scalar field order: public signals live below it.
    uint256 internal constant FIELD = 21888242871839275222246405745257275088548364400416034343698204186575808495617;

    IModelRegistry public immutable models;
    IOperatorRegistry public immutable operators;
    IGroth16Verifier public immutable verifier;
    /// @notice Where the treasury's fee share and what is left of a slash accrue (as earnings).
    address public immutable treasury;

    Config internal _config;
    mapping(bytes32 batchId => Batch) internal _batches;

    constructor(
        IERC20 token_,
        uint64 withdrawalDelay_,
        IModelRegistry models_,
        IOperatorRegistry operators_,
        IGroth16Verifier verifier_,
        address treasury_
    ) BatchEscrow(token_, withdrawalDelay_) {
        if (
            address(models_) == address(0) || address(operators_) == address(0)
                || address(verifier_) == address(0) || treasury_ == address(0)
        ) revert BatchSettlementZeroAddress();
        // A slash arrives in the stake token and leaves as rewards and refunds in `token`: they must be one.
        address stakeToken = address(operators_.stakeToken());
        if (stakeToken != address(token_)) revert BatchSettlementTokenMismatch(stakeToken, address(token_));
        models = models_;
        operators = operators_;
        verifier = verifier_;
        treasury = treasury_;
    }

    /// @inheritdoc IBatchSettlement
    function challenge(
        BatchRef calldata batch,
        Leaf calldata leaf,
        bytes32[] calldata proof,
        bytes32 provenOutput,
        uint256[] calldata outputs,
        uint256[8] calldata zkProof
    ) external nonReentrant returns (Outcome memory outcome) {
        (bytes32 batchId, bytes32 leafHash) = _checkLeaf(batch.operator, batch.root, leaf, proof);
        _checkOpen(batchId);
        // A leaf no proof can be checked against (another tier, an input commitment outside the field) is
        // refuted as it stands: the operator signed a root over a receipt nobody could challenge.
        if (_wellFormed(leaf)) {
            if (provenOutput == leaf.outputCommitment) revert BatchSettlementSameOutput(leafHash);
            _checkProof(leafIdOf(batchId, leafHash), leaf, provenOutput, outputs, zkProof);
        } else {
            provenOutput = bytes32(0);
        }
        return _refute(batchId, batch.charges, leafHash, leaf.requester, leaf.price, provenOutput, msg.sender);
    }

    /// @inheritdoc IBatchSettlement
    function refuteCharge(
        BatchRef calldata batch,
        Leaf calldata leaf,
        bytes32[] calldata proof,
        bytes32 previousRoot,
        Leaf calldata previous,
        bytes32[] calldata previousProof
    ) external nonReentrant returns (Outcome memory outcome) {
        (bytes32 batchId, bytes32 leafHash) = _checkLeaf(batch.operator, batch.root, leaf, proof);
        _checkOpen(batchId);
        uint256 expected = _expectedCumulative(batch.operator, leafHash, leaf, previousRoot, previous, previousProof);
        if (leaf.cumulative == expected) revert BatchSettlementChargeConsistent(leafHash);
        // The requester gets back what the running total added beyond the price (nothing if it fell short),
        // and the reward: whoever sends the proof, the injured party is paid, so front-running it is pointless.
        uint256 overcharge = leaf.cumulative > expected ? leaf.cumulative - expected : 0;
        address requester = leaf.requester;
        return _refute(batchId, batch.charges, leafHash, requester, overcharge, bytes32(0), requester);
    }

    /// @inheritdoc IBatchSettlement
    function verifyLeaf(address operator, bytes32 root, Leaf calldata leaf, bytes32[] calldata proof)
        external
        view
        returns (Tier tier, bytes32 outputCommitment, ResultStatus status, uint64 finalAt)
    {
        (bytes32 batchId,) = _checkLeaf(operator, root, leaf, proof);
        if (leaf.tier != Tier.Signature) revert BatchSettlementUnsupportedTier(leaf.tier);
        Batch storage batch = _batches[batchId];
        finalAt = batch.finalAt;
        if (batch.refuted) status = ResultStatus.Refuted;
        else status = block.timestamp < finalAt ? ResultStatus.Pending : ResultStatus.Final;
        return (leaf.tier, leaf.outputCommitment, status, finalAt);
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

    /// @notice A leaf's id: its batch and its hash.
    function leafIdOf(bytes32 batchId, bytes32 leafHash) public pure returns (bytes32) {
        return keccak256(abi.encode(batchId, leafHash));
    }

    /// @notice The binding public signal a challenger's proof must carry, so that a proof seen in the
    ///         mempool cannot be replayed by someone else.
    function bindingOf(bytes32 leafId, address challenger) public view returns (uint256) {
        return uint256(keccak256(abi.encode(block.chainid, address(this), leafId, challenger))) % FIELD;
    }

    /// @dev What `leaf`'s running total must be: its price plus its predecessor's total (the receipt just
    ///      before it under the same authorization and model), or its price alone for the first receipt.
    function _expectedCumulative(
        address operator,
        bytes32 leafHash,
        Leaf calldata leaf,
        bytes32 previousRoot,
        Leaf calldata previous,
        bytes32[] calldata previousProof
    ) private view returns (uint256 expected) {
        expected = leaf.price;
        if (leaf.nonce == 0) return expected;
        // The previous leaf comes from a batch of the same operator (its id says so): another operator's root
        // proves nothing about this operator's running total.
        _checkLeaf(operator, previousRoot, previous, previousProof);
        if (
            previous.authorization != leaf.authorization || previous.modelId != leaf.modelId
                || previous.nonce + 1 != leaf.nonce
        ) {
            revert BatchSettlementNotConsecutive(leafHash);
        }
        // Both totals are the operator's word: one that overflows is as inconsistent as any other, not a panic.
        uint256 before = previous.cumulative;
        expected = before > type(uint256).max - expected ? type(uint256).max : expected + before;
    }

    /// @dev Reverts unless batch `batchId` can still be refuted: not refuted yet, inside its window.
    function _checkOpen(bytes32 batchId) private view {
        Batch storage batch = _batches[batchId];
        if (batch.refuted) revert BatchSettlementBatchRefuted(batchId);
        if (block.timestamp >= batch.finalAt) revert BatchSettlementWindowClosed(batchId, batch.finalAt);
    }

    /// @dev Refutes batch `batchId` (once: its bond id is slashed once): slashes the bond, pays `rewarded` its
    ///      share (the challenger, in tokens; a leaf's requester, as earnings), credits `requester`
    ///      `refundBase` plus compensation, and the treasury the rest.
    function _refute(
        bytes32 batchId,
        Charge[] calldata charges,
        bytes32 leafHash,
        address requester,
        uint256 refundBase,
        bytes32 provenOutput,
        address rewarded
    ) private returns (Outcome memory outcome) {
        (uint256 slashed, uint256 charged) = _slash(batchId, charges, requester);
        outcome = _shares(_batches[batchId], slashed, charged, refundBase);
        if (outcome.refund != 0) _credit(requester, outcome.refund);
        _earn(treasury, outcome.remainder);
        if (rewarded == msg.sender) {
            if (outcome.reward != 0) token.safeTransfer(msg.sender, outcome.reward);
        } else {
            _earn(rewarded, outcome.reward);
        }
        emit BatchRefuted(
            batchId, leafHash, rewarded, provenOutput, outcome.slashed, outcome.reward, outcome.refund, outcome.remainder
        );
    }

    /// @dev How a slash is shared: the reward, the refund (`refundBase` plus compensation, bounded by what the
    ///      refunded requester was charged in the batch, `charged`) and the treasury's remainder.
    function _shares(Batch storage batch, uint256 slashed, uint256 charged, uint256 refundBase)
        private
        view
        returns (Outcome memory outcome)
    {
        (uint16 bondMultiple, uint16 rewardBps, uint16 compensationBps) =
            (batch.bondMultiple, batch.rewardBps, batch.compensationBps);
        outcome.slashed = slashed;
        outcome.reward = slashed * rewardBps / BPS;
        uint256 refund = refundBase + slashed * compensationBps / BPS;
        // Only what the named requester was charged in this batch backs a refund: a leaf naming anyone else
        // (an operator's own decoy, refuted first to win back its slash) is refunded nothing. The bound is
        // that charge back plus its share of the bond's compensation.
        uint256 cap = charged + charged * bondMultiple * compensationBps / BPS;
        if (refund > cap) refund = cap;
        uint256 available = slashed - outcome.reward;
        outcome.refund = refund < available ? refund : available;
        outcome.remainder = available - outcome.refund;
    }

    /// @dev Checks `charges` against the batch's stored hash, marks the batch refuted and slashes its bond (the
    ///      bond multiple × the charges' sum; once per bond id); returns what was slashed and what `requester`
    ///      was charged in the batch.
    function _slash(bytes32 batchId, Charge[] calldata charges, address requester)
        private
        returns (uint256 slashed, uint256 charged)
    {
        Batch storage batch = _batches[batchId];
        if (keccak256(abi.encode(charges)) != batch.charges) revert BatchSettlementWrongCharges(batchId);
        uint256 bond;
        for (uint256 i = 0; i < charges.length; ++i) {
            bond += charges[i].amount;
            if (charges[i].requester == requester) charged += charges[i].amount;
        }
        batch.refuted = true;
        slashed =
            operators.slashBond(batch.operator, bondIdOf(batchId), bond * batch.bondMultiple, batch.finalAt, address(this));
    }

    /// @dev Reverts unless `operator` posted `root` and `leaf` is in it; returns the batch's id and the leaf's hash.
    function _checkLeaf(address operator, bytes32 root, Leaf calldata leaf, bytes32[] calldata proof)
        private
        view
        returns (bytes32 batchId, bytes32 leafHash)
    {
        batchId = batchIdOf(operator, root);
        if (_batches[batchId].finalAt == 0) revert BatchSettlementUnknownBatch(operator, root);
        leafHash = _proveLeaf(root, leaf, proof);
    }

    /// @dev Whether a proof can be checked against `leaf`: Signature tier, input commitment in the field.
    function _wellFormed(Leaf calldata leaf) internal pure returns (bool) {
        return leaf.tier == Tier.Signature && uint256(leaf.inputCommitment) < FIELD;
    }

    /// @dev Reverts unless `leaf` and `proof` lead to `root`; returns the leaf's hash.
    function _proveLeaf(bytes32 root, Leaf calldata leaf, bytes32[] calldata proof)
        internal
        pure
        returns (bytes32 leafHash)
    {
        leafHash = BatchHashing.hashLeaf(leaf);
        if (!MerkleProof.verifyCalldata(proof, root, leafHash)) revert BatchSettlementLeafNotInRoot(root, leafHash);
    }

    function _checkProof(
        bytes32 leafId,
        Leaf calldata leaf,
        bytes32 provenOutput,
        uint256[] calldata outputs,
        uint256[8] calldata zkProof
    ) private view {
        RefutationProofs.Outcome outcome = RefutationProofs.check(
            models, verifier, leaf.modelId, leaf.inputCommitment, provenOutput, outputs, bindingOf(leafId, msg.sender), zkProof
        );
        if (outcome == RefutationProofs.Outcome.NoCircuit) revert BatchSettlementNoCircuit(leaf.modelId);
        if (outcome != RefutationProofs.Outcome.Valid) revert BatchSettlementInvalidProof(leafId);
    }
}
