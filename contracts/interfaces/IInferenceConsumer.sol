// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @notice Implemented by contracts that request inferences with a callback (see IRequestBook).
interface IInferenceConsumer {
    /// @notice Called by the request book once a request is fulfilled, under the requested gas limit.
    /// @param requestId The id `request` returned (it commits to pipeline, input and policy).
    /// @param stepTiers The tier of each step, 4 bits per step, step 0 in the lowest bits.
    /// @param outputs The final model's quantized output values, verified on-chain (the proof's public
    ///        outputs for a ZK final step, the signed digest for a Signature/TEE one).
    function onInferenceFulfilled(bytes32 requestId, uint64 stepTiers, int256[] calldata outputs) external;
}
