// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Tier} from "../types/Tier.sol";
import {VerifiedResult} from "../types/Receipt.sol";

/// @notice What a dApp asks the hub: "was receipt (or operation) X verified at tier ≥ T, and what was its output?"
interface IVerifiedInference {
    /// @notice The weakest tier among the steps of `id`; `None` if `id` was never verified.
    function verifiedTier(bytes32 id) external view returns (Tier);

    /// @notice Everything recorded about `id` (all zero if never verified).
    function resultOf(bytes32 id) external view returns (VerifiedResult memory);

    /// @notice The output commitment of `id`, reverting unless it was verified at `minTier` or above.
    function verifiedOutput(bytes32 id, Tier minTier) external view returns (bytes32 outputCommitment);

    /// @notice Whether operation `id` ran exactly the pipeline `modelIds` on the input `inputCommitment`
    ///         (false for anything else, such as the same operation truncated to its first step).
    function describes(bytes32 id, bytes32[] calldata modelIds, bytes32 inputCommitment) external view returns (bool);

    /// @notice Whether every step of `id` reached `minEachStep` and its final step reached `minFinalStep`.
    function meetsPolicy(bytes32 id, Tier minEachStep, Tier minFinalStep) external view returns (bool);
}
