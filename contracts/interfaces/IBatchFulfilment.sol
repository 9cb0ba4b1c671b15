// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IRequestBook} from "./IRequestBook.sol";

/// @notice Fulfils several single-step ZK requests of one model in one transaction, their Groth16 proofs
///         checked together (IGroth16Verifier.verifyBatch: k + 3 pairings instead of 4k). Each request
///         gets exactly what `fulfil` would give it alone: the same checks, payment, record, events and
///         callback. Described for operators in docs/requests.md.
/// @dev Bad-proof policy: one invalid proof refuses the whole batch, nothing is fulfilled, and the error
///      names the first invalid proof (found by verifying the proofs one by one, on the failure path
///      only) so that the operator resubmits the rest. No bad proof is ever accepted, alone or together.
interface IBatchFulfilment {
    /// @notice One request of a batch, as `fulfil` takes it: exactly one step, at the ZK tier.
    struct ZkFulfilment {
        address requester;
        IRequestBook.RequestParams params;
        IRequestBook.StepEvidence[] steps;
        int256[] outputs;
    }

    /// @notice The batch holds no request.
    error RequestBookBatchEmpty();
    /// @notice Request `index` is not one step (pipeline and evidence) proven at the ZK tier.
    error RequestBookBatchNotSingleZkStep(uint256 index);
    /// @notice Request `index` is for `modelId`, not the batch's model: one batch, one verifying key.
    error RequestBookBatchMixedModels(uint256 index, bytes32 modelId);
    /// @notice Requests `first` and `second` are the same request.
    error RequestBookBatchRepeatedRequest(uint256 first, uint256 second);
    /// @notice The batch's proofs do not all verify; proof `index` (request `requestId`) is invalid.
    error RequestBookBatchInvalidProof(uint256 index, bytes32 requestId);

    /// @notice A batch's proofs of `modelId` by `operator` were verified together and `count` requests
    ///         fulfilled (each also emits InferenceFulfilled, like `fulfil`).
    event ZkBatchFulfilled(bytes32 indexed modelId, address indexed operator, uint256 count);
    /// @notice A request of the batch was already fulfilled when the batch ran (by another transaction):
    ///         left as it was, the rest of the batch goes on.
    event ZkBatchRequestSkipped(bytes32 indexed requestId);

    /// @notice Fulfils every request of `batch` for `operator`: single-step requests for model `modelId`
    ///         at the ZK tier, their proofs verified in one batch, then each request fulfilled in order
    ///         exactly as `fulfil(requester, params, operator, steps, outputs)` would (any check failing
    ///         for any request reverts the whole batch), except that a request already fulfilled is
    ///         skipped (`ZkBatchRequestSkipped`): front-running one request cannot sink the batch.
    ///         Anyone may submit.
    /// @return requestIds The requests' ids, in batch order.
    function fulfilZkBatch(bytes32 modelId, address operator, ZkFulfilment[] calldata batch)
        external
        returns (bytes32[] memory requestIds);
}
