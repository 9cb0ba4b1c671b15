// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IInferenceConsumer} from "../interfaces/IInferenceConsumer.sol";
import {IRequestBook} from "../interfaces/IRequestBook.sol";
import {Tier, TierLib} from "../types/Tier.sol";

/// @title RequestingConsumer
/// @notice Example dApp that asks the request book for a classification and acts on the callback.
///         It only accepts a callback for a request it made: the request id commits to the pipeline,
///         the input commitment and the tier policy it asked for (IRequestBook.requestIdOf), so a
///         result for another pipeline (say, the first step of its pipeline only) or another input can
///         never arrive under one of its ids. Fund it with `hub.deposit(address(consumer), amount)`.
contract RequestingConsumer is IInferenceConsumer {
    /// @notice Only the request book may deliver results.
    error RequestingConsumerNotBook(address caller);
    /// @notice The id is not one of this consumer's open requests.
    error RequestingConsumerUnknownRequest(bytes32 requestId);
    /// @notice The delivered final-step tier is below this consumer's policy.
    error RequestingConsumerInsufficientTier(bytes32 requestId, Tier tier);

    /// @notice A classification arrived: `label` is the index of the largest output.
    event Classified(bytes32 indexed requestId, uint256 label, int256[] outputs, uint64 stepTiers);

    /// @notice The request book this consumer asks.
    IRequestBook public immutable book;
    /// @notice The tier every step must reach, and the final step.
    Tier public immutable minEachStep;
    Tier public immutable minFinalStep;

    bytes32[] private _pipeline;
    uint256 private _nonce;

    /// @notice What was asked under each id: its input commitment (zero once answered or never asked).
    mapping(bytes32 requestId => bytes32 inputCommitment) public pending;
    /// @notice The label each answered request received.
    mapping(bytes32 requestId => uint256) public labelOf;
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
        uint256 label = 0;
        for (uint256 i = 1; i < outputs.length; ++i) {
            if (outputs[i] > outputs[label]) label = i;
        }
        labelOf[requestId] = label;
        _outputs[requestId] = outputs;
        emit Classified(requestId, label, outputs, stepTiers);
    }

    /// @notice The outputs a request received.
    function outputsOf(bytes32 requestId) external view returns (int256[] memory) {
        return _outputs[requestId];
    }

    /// @notice The pipeline this consumer asks for.
    function pipeline() external view returns (bytes32[] memory) {
        return _pipeline;
    }
}
