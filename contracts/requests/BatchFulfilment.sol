// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {TransientSlot} from "@openzeppelin/contracts/utils/TransientSlot.sol";
import {VerificationCore} from "../core/VerificationCore.sol";
import {IBatchFulfilment} from "../interfaces/IBatchFulfilment.sol";
import {IGroth16Verifier} from "../interfaces/IGroth16Verifier.sol";
import {IInferenceHub} from "../interfaces/IInferenceHub.sol";
import {IRequestBook} from "../interfaces/IRequestBook.sol";
import {DataStore} from "../libraries/DataStore.sol";
import {ReceiptHashing} from "../libraries/ReceiptHashing.sol";
import {Tier} from "../types/Tier.sol";

/// @title BatchFulfilment
/// @notice The request book's batch of ZK fulfilments for one model: every proof is verified in one
///         `verifyBatch` call, then every request goes through the book's own `fulfil`, whose proof check
///         finds its proof already verified in this transaction instead of running four pairings again.
/// @dev A proof that passed the batch is marked in transient storage under keccak256(store, proof,
///      signals): the exact key, proof and public signals `_checkProof` rebuilds for it inside `fulfil`
///      (same request id, same step receipt id, same operator binding), so a mark can only ever stand
///      for a proof that verified. Marks live for the transaction; they are consulted only while a
///      batch runs (its key store in `_BATCH_STORE_SLOT`), which costs a single ZK `fulfil` one TLOAD.
///      `fulfilZkBatch` is not itself nonReentrant: each `fulfil` it makes is, so a callback that
///      re-enters the book during the batch is refused as it would be during a single fulfilment.
///      Policy: one invalid proof refuses the whole batch (RequestBookBatchInvalidProof names the first);
///      any other failure of one request's `fulfil` reverts the batch with that error, except a request
///      already fulfilled by another transaction, which is skipped.
abstract contract BatchFulfilment is IRequestBook, IBatchFulfilment, VerificationCore {
    using TransientSlot for *;

    /// @dev Transient: the verifying-key store of the batch being fulfilled (zero outside one).
    bytes32 private constant _BATCH_STORE_SLOT = keccak256("opg-verifier.BatchFulfilment.store");
    /// @dev Tag of the transient marks of batch-verified proofs.
    bytes32 private constant _MARK_TAG = keccak256("opg-verifier.BatchFulfilment.verified");

    /// @inheritdoc IRequestBook
    function fulfil(
        address requester,
        RequestParams calldata params,
        address operator,
        StepEvidence[] calldata steps,
        int256[] calldata outputs
    ) public virtual override returns (bytes32 requestId);

    /// @inheritdoc IRequestBook
    function requestIdOf(address requester, RequestParams calldata params) public view virtual override returns (bytes32);

    /// @inheritdoc IRequestBook
    function resultOf(bytes32 requestId)
        public
        view
        virtual
        override
        returns (Status status, Tier tier, bytes32 outputCommitment);

    /// @inheritdoc IBatchFulfilment
    function fulfilZkBatch(bytes32 modelId, address operator, ZkFulfilment[] calldata batch)
        external
        returns (bytes32[] memory requestIds)
    {
        uint256 k = batch.length;
        if (k == 0) revert RequestBookBatchEmpty();
        address store = models.verifyingKeyStoreOf(modelId);
        if (store == address(0)) revert IInferenceHub.InferenceHubNoVerifyingKey(modelId);
        requestIds = _verifyAndMark(store, modelId, operator, batch);
        _BATCH_STORE_SLOT.asAddress().tstore(store);
        uint256 fulfilled;
        for (uint256 i = 0; i < k; ++i) {
            // Fulfilled since the batch was sent (by anyone, e.g. front-running one request): skipped, so
            // that one request cannot sink the others.
            (Status status,,) = resultOf(requestIds[i]);
            if (status == Status.Fulfilled) {
                emit ZkBatchRequestSkipped(requestIds[i]);
                continue;
            }
            ZkFulfilment calldata f = batch[i];
            fulfil(f.requester, f.params, operator, f.steps, f.outputs);
            ++fulfilled;
        }
        _BATCH_STORE_SLOT.asAddress().tstore(address(0));
        emit ZkBatchFulfilled(modelId, operator, fulfilled);
    }

    /// @dev Checks the batch's shape, verifies every proof in one call and marks each as verified.
    function _verifyAndMark(address store, bytes32 modelId, address operator, ZkFulfilment[] calldata batch)
        private
        returns (bytes32[] memory requestIds)
    {
        uint256 k = batch.length;
        requestIds = new bytes32[](k);
        uint256[8][] memory proofs = new uint256[8][](k);
        uint256[][] memory signals = new uint256[][](k);
        for (uint256 i = 0; i < k; ++i) {
            bytes32 id;
            (id, proofs[i], signals[i]) = _statement(modelId, operator, batch[i], i);
            for (uint256 j = 0; j < i; ++j) {
                if (requestIds[j] == id) revert RequestBookBatchRepeatedRequest(j, i);
            }
            requestIds[i] = id;
        }
        bytes memory key = DataStore.read(store);
        if (!verifier.verifyBatch(key, proofs, _flatten(signals, key.length))) {
            _revertFirstInvalid(key, proofs, signals, requestIds, modelId);
        }
        for (uint256 i = 0; i < k; ++i) {
            _markOf(store, proofs[i], signals[i]).asBoolean().tstore(true);
        }
    }

    /// @dev Request `index`'s id, proof and public signals: those `_checkProof` gives its only step.
    function _statement(bytes32 modelId, address operator, ZkFulfilment calldata f, uint256 index)
        private
        view
        returns (bytes32 id, uint256[8] memory proof, uint256[] memory signals)
    {
        if (f.params.pipeline.length != 1 || f.steps.length != 1 || f.steps[0].tier != Tier.ZK) {
            revert RequestBookBatchNotSingleZkStep(index);
        }
        if (f.params.pipeline[0] != modelId) revert RequestBookBatchMixedModels(index, f.params.pipeline[0]);
        id = requestIdOf(f.requester, f.params);
        StepEvidence calldata e = f.steps[0];
        bytes32 stepId = ReceiptHashing.receiptId(address(this), f.requester, modelId, uint256(id));
        signals = _proofSignals(f.params.inputCommitment, e.outputCommitment, e.outputs, stepId, operator);
        proof = e.proof;
    }

    /// @dev A proof this transaction verified in the batch under `store` is not verified again.
    function _verifyProof(address store, uint256[8] calldata proof, uint256[] memory signals)
        internal
        view
        virtual
        override
        returns (bool)
    {
        if (_BATCH_STORE_SLOT.asAddress().tload() == store) {
            if (keccak256(abi.encode(_MARK_TAG, store, proof, signals)).asBoolean().tload()) return true;
        }
        return super._verifyProof(store, proof, signals);
    }

    function _markOf(address store, uint256[8] memory proof, uint256[] memory signals) private pure returns (bytes32) {
        return keccak256(abi.encode(_MARK_TAG, store, proof, signals));
    }

    /// @dev The proofs' signals one after the other, each row the key's signal count (as `verifyProof`
    ///      requires of a single proof), for `verifyBatch`.
    function _flatten(uint256[][] memory rows, uint256 keyLength) private pure returns (uint256[] memory flat) {
        // A registered key is 14 header words and n + 1 IC points (IGroth16Verifier).
        uint256 n = (keyLength / 32 - 14) / 2 - 1;
        flat = new uint256[](rows.length * n);
        for (uint256 i = 0; i < rows.length; ++i) {
            uint256[] memory row = rows[i];
            if (row.length != n) revert IGroth16Verifier.Groth16SignalCountMismatch(n, row.length);
            for (uint256 j = 0; j < n; ++j) {
                flat[i * n + j] = row[j];
            }
        }
    }

    /// @dev Failure path only: names the first proof that does not verify alone.
    function _revertFirstInvalid(
        bytes memory key,
        uint256[8][] memory proofs,
        uint256[][] memory signals,
        bytes32[] memory requestIds,
        bytes32 modelId
    ) private view {
        for (uint256 i = 0; i < proofs.length; ++i) {
            if (!verifier.verifyProof(key, proofs[i], signals[i])) revert RequestBookBatchInvalidProof(i, requestIds[i]);
        }
        // Every proof verifies alone but not together: only a failing precompile does that.
        revert IInferenceHub.InferenceHubInvalidProof(modelId);
    }
}
