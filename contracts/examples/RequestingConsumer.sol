// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IInferenceConsumer} from "../interfaces/IInferenceConsumer.sol";
import {IPendingResults} from "../interfaces/IPendingResults.sol";
import {IRequestBook} from "../interfaces/IRequestBook.sol";
import {ResultStatus} from "../types/Claim.sol";
import {Tier, TierLib} from "../types/Tier.sol";

/// @title RequestingConsumer
/// @notice Example dApp that asks the request book for a classification and acts on the callback.
///         It only accepts a callback for a request it made: the request id commits to the pipeline,
///         the input commitment and the tier policy it asked for (IRequestBook.requestIdOf), so a
///         result for another pipeline (say, the first step of its pipeline only) or another input can
///         never arrive under one of its ids. Fund it with `hub.deposit(address(consumer), amount)`.
///
///         It waits for finality before acting. A Signature- or TEE-tier fulfilment of a model with a
///         circuit is only pending when the callback arrives: for the challenge window anyone may prove
///         it wrong (IDisputes.challenge), and a refuted result must never be acted on. So the callback
///         records the delivered outputs and acts at once only when the book already reports the result
///         final (a ZK fulfilment, or a model without a circuit); otherwise anyone calls `act` once
///         `statusOf` says final (a keeper, the user, or the next interaction). A refuted fulfilment is
///         dropped with `discard` (the requester was refunded, this contract's escrow included).
contract RequestingConsumer is IInferenceConsumer {
    /// @notice Only the request book may deliver results.
    error RequestingConsumerNotBook(address caller);
    /// @notice The id is not one of this consumer's open requests.
    error RequestingConsumerUnknownRequest(bytes32 requestId);
    /// @notice The delivered final-step tier is below this consumer's policy.
    error RequestingConsumerInsufficientTier(bytes32 requestId, Tier tier);
    /// @notice No delivered result awaits finality under this id.
    error RequestingConsumerNothingAwaiting(bytes32 requestId);
    /// @notice The result is not final yet (or was refuted): it cannot be acted on.
    error RequestingConsumerNotFinal(bytes32 requestId, ResultStatus status);
    /// @notice The result was not refuted: it cannot be discarded.
    error RequestingConsumerNotRefuted(bytes32 requestId, ResultStatus status);

    /// @notice A classification arrived and is final: `label` is the index of the largest output.
    event Classified(bytes32 indexed requestId, uint256 label, int256[] outputs, uint64 stepTiers);
    /// @notice A result arrived while still in its challenge window: acted on by `act` once final.
    event AwaitingFinality(bytes32 indexed requestId, uint64 finalAt);
    /// @notice A delivered result was refuted before it became final and was dropped.
    event Discarded(bytes32 indexed requestId);

    /// @notice The request book this consumer asks.
    IRequestBook public immutable book;
    /// @notice The tier every step must reach, and the final step.
    Tier public immutable minEachStep;
    Tier public immutable minFinalStep;

    bytes32[] private _pipeline;
    uint256 private _nonce;

    /// @notice What was asked under each id: its input commitment (zero once answered or never asked).
    mapping(bytes32 requestId => bytes32 inputCommitment) public pending;
    /// @notice The label each answered request received (once final).
    mapping(bytes32 requestId => uint256) public labelOf;
    /// @notice Delivered results waiting for the end of their challenge window: their step tiers, with
    ///         bit 63 set so that a wait is never zero (tiers take 2 of each step's 4 bits).
    mapping(bytes32 requestId => uint64 stepTiers) public awaiting;
    /// @notice The outputs each answered request received.
    mapping(bytes32 requestId => int256[]) private _outputs;

    constructor(IRequestBook book_, bytes32[] memory pipeline_, Tier minEachStep_, Tier minFinalStep_) {
        book = book_;
        _pipeline = pipeline_;
        minEachStep = minEachStep_;
        minFinalStep = minFinalStep_;
    }

    /// @notice Asks for a classification of `input` (abi.encode(int256[]) at the first model's scale,
    ///         committed as `inputCommitment`), paying at most `maxFee` from this contract's escrow.
    function classify(bytes32 inputCommitment, bytes calldata input, uint256 maxFee, uint64 deadline, uint32 gasLimit)
        external
        returns (bytes32 requestId)
    {
        IRequestBook.RequestParams memory params = IRequestBook.RequestParams({
            pipeline: _pipeline,
            inputCommitment: inputCommitment,
            minEachStep: minEachStep,
            minFinalStep: minFinalStep,
            operator: address(0),
            maxFee: maxFee,
            deadline: deadline,
            callback: address(this),
            callbackGasLimit: gasLimit,
            nonce: ++_nonce
        });
        requestId = book.request(params, input, "");
        pending[requestId] = inputCommitment;
    }

    /// @inheritdoc IInferenceConsumer
    function onInferenceFulfilled(bytes32 requestId, uint64 stepTiers, int256[] calldata outputs) external {
        if (msg.sender != address(book)) revert RequestingConsumerNotBook(msg.sender);
        if (pending[requestId] == bytes32(0)) revert RequestingConsumerUnknownRequest(requestId);
        Tier last = TierLib.tierAt(stepTiers, _pipeline.length - 1);
        if (last < minFinalStep) revert RequestingConsumerInsufficientTier(requestId, last);
        delete pending[requestId];
        _outputs[requestId] = outputs;
        (ResultStatus status, uint64 finalAt,) = IPendingResults(address(book)).statusOf(requestId);
        if (status == ResultStatus.Final) {
            _act(requestId, stepTiers);
        } else {
            // Pending: the result may still be proven wrong. Keep it and act once it is final.
            awaiting[requestId] = stepTiers | (1 << 63);
            emit AwaitingFinality(requestId, finalAt);
        }
    }

    /// @notice Acts on a delivered result once its challenge window has passed without a refutation.
    ///         Anyone may call it.
    function act(bytes32 requestId) external {
        uint64 stepTiers = awaiting[requestId];
        if (stepTiers == 0) revert RequestingConsumerNothingAwaiting(requestId);
        (ResultStatus status,,) = IPendingResults(address(book)).statusOf(requestId);
        if (status != ResultStatus.Final) revert RequestingConsumerNotFinal(requestId, status);
        delete awaiting[requestId];
        _act(requestId, stepTiers & ~uint64(1 << 63));
    }

    /// @notice Drops a delivered result that was refuted; anyone may call it.
    function discard(bytes32 requestId) external {
        if (awaiting[requestId] == 0) revert RequestingConsumerNothingAwaiting(requestId);
        (ResultStatus status,,) = IPendingResults(address(book)).statusOf(requestId);
        if (status != ResultStatus.Refuted) revert RequestingConsumerNotRefuted(requestId, status);
        delete awaiting[requestId];
        delete _outputs[requestId];
        emit Discarded(requestId);
    }

    function _act(bytes32 requestId, uint64 stepTiers) private {
        int256[] storage outputs = _outputs[requestId];
        uint256 label = 0;
        for (uint256 i = 1; i < outputs.length; ++i) {
            if (outputs[i] > outputs[label]) label = i;
        }
        labelOf[requestId] = label;
        emit Classified(requestId, label, outputs, stepTiers);
    }

    /// @notice The outputs a request received (delivered, possibly still awaiting finality).
    function outputsOf(bytes32 requestId) external view returns (int256[] memory) {
        return _outputs[requestId];
    }

    /// @notice The pipeline this consumer asks for.
    function pipeline() external view returns (bytes32[] memory) {
        return _pipeline;
    }
}
