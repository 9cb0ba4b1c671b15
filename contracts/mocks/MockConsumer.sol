// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IInferenceConsumer} from "../interfaces/IInferenceConsumer.sol";
import {IRequestBook} from "../interfaces/IRequestBook.sol";

/// @notice Test double: a requester contract whose callback succeeds, reverts, burns all its gas or
///         reenters the book, to show none of these undoes a fulfilment.
contract MockConsumer is IInferenceConsumer {
    enum Mode {
        Accept,
        Revert,
        BurnGas,
        Reenter
    }

    error MockConsumerRefused(bytes32 requestId);

    IRequestBook public immutable book;
    Mode public mode;
    uint256 public delivered;
    int256[] public lastOutputs;

    constructor(IRequestBook book_) {
        book = book_;
    }

    function setMode(Mode mode_) external {
        mode = mode_;
    }

    function ask(IRequestBook.RequestParams calldata params, bytes calldata input) external returns (bytes32) {
        return book.request(params, input, "");
    }

    function cancel(IRequestBook.RequestParams calldata params) external returns (bytes32) {
        return book.cancel(address(this), params);
    }

    function retry(bytes32 requestId, uint64 stepTiers, int256[] calldata outputs) external {
        book.retryCallback(requestId, stepTiers, outputs);
    }

    function onInferenceFulfilled(bytes32 requestId, uint64, int256[] calldata outputs) external {
        if (mode == Mode.Revert) revert MockConsumerRefused(requestId);
        if (mode == Mode.BurnGas) {
            uint256 i;
            while (true) {
                ++i;
            }
        }
        if (mode == Mode.Reenter) {
            // Tries to retry its own callback from inside the delivery: the book refuses reentry.
            book.retryCallback(requestId, 0, outputs);
        }
        ++delivered;
        lastOutputs = outputs;
    }
}
