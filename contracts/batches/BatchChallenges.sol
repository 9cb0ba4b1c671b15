// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {MerkleProof} from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";
import {IBatchSettlement} from "../interfaces/IBatchSettlement.sol";
import {IGroth16Verifier} from "../interfaces/IGroth16Verifier.sol";
import {IModelRegistry} from "../interfaces/IModelRegistry.sol";
import {IOperatorRegistry} from "../interfaces/IOperatorRegistry.sol";
import {BatchHashing} from "../libraries/BatchHashing.sol";
import {RefutationProofs} from "../libraries/RefutationProofs.sol";
import {ResultStatus} from "../types/Claim.sol";
import {Tier} from "../types/Tier.sol";
import {BatchRefunds} from "./BatchRefunds.sol";

/// @title BatchChallenges
/// @notice Everything that reads or refutes a posted batch: a leaf verified on its own; a wrong output refuted
///         by a Groth16 proof; a running total that does not chain; a leaf outside the receipts its batch
///         charged; two receipts signed for one nonce. A batch's root holds exactly the receipts it charges
///         (the rest is refutable), and a batch also answers for a receipt it charged that the operator signed
///         into another root once that root is refuted: a wrong receipt costs the bond of the batch that
///         charged it.
/// @dev The posting side is BatchSettlement; slashes and refunds are BatchRefunds.
abstract contract BatchChallenges is BatchRefunds {
    /// @dev BN254 scalar field order: public signals live below it.
    uint256 internal constant FIELD = 21888242871839275222246405745257275088548364400416034343698204186575808495617;

    IModelRegistry public immutable models;
    IGroth16Verifier public immutable verifier;

    constructor(
        IERC20 token_,
        uint64 withdrawalDelay_,
        IModelRegistry models_,
        IOperatorRegistry operators_,
        IGroth16Verifier verifier_,
        address treasury_
    ) BatchRefunds(token_, withdrawalDelay_, operators_, treasury_) {
        if (address(models_) == address(0) || address(verifier_) == address(0)) revert BatchSettlementZeroAddress();
        models = models_;
        verifier = verifier_;
    }

    /// @inheritdoc IBatchSettlement
    function challenge(
        ClosedBatch calldata batch,
        LeafProof calldata leaf,
        bytes32 provenOutput,
        uint256[] calldata outputs,
        uint256[8] calldata zkProof
    ) external nonReentrant returns (Outcome memory outcome) {
        (bytes32 batchId, bytes32 leafHash) = _answeredFor(batch, leaf);
        Leaf calldata signed = leaf.leaf;
        // A leaf no proof can be checked against (another tier, an input commitment outside the field) is
        // refuted as it stands: the operator signed a root over a receipt nobody could challenge. Anyone can
        // copy that from the mempool, so it pays no reward.
        if (!_wellFormed(signed)) return _refute(batchId, batch.batch, leafHash, bytes32(0), address(0));
        if (provenOutput == signed.outputCommitment) revert BatchSettlementSameOutput(leafHash);
        _checkProof(leafIdOf(batchId, leafHash), signed, provenOutput, outputs, zkProof);
        return _refute(batchId, batch.batch, leafHash, provenOutput, msg.sender);
    }

    /// @inheritdoc IBatchSettlement
    function refuteCharge(ClosedBatch calldata batch, LeafProof calldata leaf, LeafProof calldata previous)
        external
        nonReentrant
        returns (Outcome memory outcome)
    {
        (bytes32 batchId, bytes32 leafHash) = _answeredFor(batch, leaf);
        uint256 expected = _expectedCumulative(batch.batch.operator, leafHash, leaf.leaf, previous);
        if (leaf.leaf.cumulative == expected) revert BatchSettlementChargeConsistent(leafHash);
        return _refute(batchId, batch.batch, leafHash, bytes32(0), address(0));
    }

    /// @inheritdoc IBatchSettlement
    function refutePlacement(ClosedBatch calldata batch, Leaf calldata leaf, bytes32[] calldata proof)
        external
        nonReentrant
        returns (Outcome memory outcome)
    {
        BatchRef calldata ref = batch.batch;
        (bytes32 batchId, bytes32 leafHash) = _checkLeaf(ref.operator, ref.root, leaf, proof);
        _checkOpen(batchId);
        if (_charged(batchId, batch, leaf)) revert BatchSettlementLeafInPlace(leafHash);
        return _refute(batchId, ref, leafHash, bytes32(0), address(0));
    }

    /// @inheritdoc IBatchSettlement
    function refuteEquivocation(ClosedBatch calldata batch, LeafProof calldata leaf, LeafProof calldata other)
        external
        nonReentrant
        returns (Outcome memory outcome)
    {
        (bytes32 batchId, bytes32 leafHash) = _answeredFor(batch, leaf);
        Leaf calldata one = leaf.leaf;
        Leaf calldata two = other.leaf;
        (, bytes32 otherHash) = _checkLeaf(batch.batch.operator, other.root, two, other.proof);
        if (
            otherHash == leafHash || two.authorization != one.authorization || two.modelId != one.modelId
                || two.nonce != one.nonce
        ) {
            revert BatchSettlementNotEquivocation(leafHash);
        }
        return _refute(batchId, batch.batch, leafHash, bytes32(0), address(0));
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
    function _expectedCumulative(address operator, bytes32 leafHash, Leaf calldata leaf, LeafProof calldata previous)
        private
        view
        returns (uint256 expected)
    {
        expected = leaf.price;
        if (leaf.nonce == 0) return expected;
        // The previous leaf comes from a batch of the same operator (its id says so): another operator's root
        // proves nothing about this operator's running total.
        Leaf calldata p = previous.leaf;
        _checkLeaf(operator, previous.root, p, previous.proof);
        if (p.authorization != leaf.authorization || p.modelId != leaf.modelId || p.nonce + 1 != leaf.nonce) {
            revert BatchSettlementNotConsecutive(leafHash);
        }
        // Both totals are the operator's word: one that overflows is as inconsistent as any other, not a panic.
        uint256 before = p.cumulative;
        expected = before > type(uint256).max - expected ? type(uint256).max : expected + before;
    }

    /// @dev Reverts unless `batch` can still be refuted and answers for `leaf`: a leaf of its own root, or of a
    ///      refuted batch of the same operator whose nonce `batch` charged. Returns the batch's id and the
    ///      leaf's hash.
    function _answeredFor(ClosedBatch calldata batch, LeafProof calldata leaf)
        private
        view
        returns (bytes32 batchId, bytes32 leafHash)
    {
        BatchRef calldata ref = batch.batch;
        bytes32 leafBatch;
        (leafBatch, leafHash) = _checkLeaf(ref.operator, leaf.root, leaf.leaf, leaf.proof);
        batchId = batchIdOf(ref.operator, ref.root);
        if (leafBatch != batchId) {
            if (_batches[batchId].finalAt == 0) revert BatchSettlementUnknownBatch(ref.operator, ref.root);
            // A leaf of another root counts once its own batch is refuted (so it is never reported final), and
            // only against the batch that charged it.
            if (!_batches[leafBatch].refuted || !_charged(batchId, batch, leaf.leaf)) {
                revert BatchSettlementNotCharged(leafHash);
            }
        }
        _checkOpen(batchId);
    }

    /// @dev Reverts unless batch `batchId` can still be refuted: not refuted yet, inside its window.
    function _checkOpen(bytes32 batchId) private view {
        Batch storage batch = _batches[batchId];
        if (batch.refuted) revert BatchSettlementBatchRefuted(batchId);
        if (block.timestamp >= batch.finalAt) revert BatchSettlementWindowClosed(batchId, batch.finalAt);
    }

    /// @dev Whether batch `batchId` charged `leaf`'s nonce: one of its closing leaves of the leaf's authorization
    ///      and model has a range `starts[i]`…`closings[i].nonce` holding it. Checks the closing leaves and starts
    ///      against `batch.batch`'s hashes; those are checked against the stored ledger when the batch is refuted
    ///      (`_refute`), so false ranges only ever revert.
    function _charged(bytes32 batchId, ClosedBatch calldata batch, Leaf calldata leaf) private pure returns (bool charged) {
        Leaf[] calldata closings = batch.closings;
        uint256[] calldata starts = batch.starts;
        if (starts.length != closings.length) revert BatchSettlementWrongLedger(batchId);
        bytes32[] memory hashes = new bytes32[](closings.length);
        for (uint256 i = 0; i < closings.length; ++i) {
            Leaf calldata c = closings[i];
            hashes[i] = BatchHashing.hashLeaf(c);
            if (c.authorization == leaf.authorization && c.modelId == leaf.modelId) {
                if (starts[i] <= leaf.nonce && leaf.nonce <= c.nonce) charged = true;
            }
        }
        BatchRef calldata ref = batch.batch;
        if (keccak256(abi.encodePacked(hashes)) != ref.closings || keccak256(abi.encodePacked(starts)) != ref.starts) {
            revert BatchSettlementWrongLedger(batchId);
        }
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
