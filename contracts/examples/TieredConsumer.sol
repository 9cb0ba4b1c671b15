// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IPendingResults} from "../interfaces/IPendingResults.sol";
import {IVerifiedInference} from "../interfaces/IVerifiedInference.sol";
import {ResultStatus} from "../types/Claim.sol";
import {Tier} from "../types/Tier.sol";

/// @title TieredConsumer
/// @notice Example dApp: acts on an inference result only if it was verified strongly enough. Single
///         receipts must reach `minTier`; operations must meet the policy "every step at least
///         `minEachStep`, the final step at least `minFinalStep`" (e.g. TEE everywhere, ZK last).
///         With `requireFinal` it also waits until the result's challenge window is over (a pending
///         Signature/TEE result may still be refuted); with `requireChallengeable` it refuses Signature/TEE
///         results nobody could refute by proof (models without a circuit). A refuted result is never
///         accepted, whatever the policy.
contract TieredConsumer {
    /// @notice The result was not verified at the tier this consumer requires.
    error TieredConsumerInsufficientTier(bytes32 id);
    /// @notice The operation did not run the pipeline on the input this consumer asked for.
    error TieredConsumerNotWhatWasAsked(bytes32 id);
    /// @notice The result was already used.
    error TieredConsumerAlreadyAccepted(bytes32 id);
    /// @notice The result is still in its challenge window (or was refuted) and this consumer requires finality.
    error TieredConsumerNotFinal(bytes32 id, ResultStatus status);
    /// @notice The result is Signature/TEE-backed but could not be refuted by proof.
    error TieredConsumerNotChallengeable(bytes32 id);

    /// @notice A result was accepted.
    event ResultAccepted(bytes32 indexed id, Tier tier, bytes32 outputCommitment);

    IVerifiedInference public immutable hub;
    Tier public immutable minEachStep;
    Tier public immutable minFinalStep;
    bool public immutable requireFinal;
    bool public immutable requireChallengeable;

    /// @notice Output commitments this consumer accepted, by receipt or operation id.
    mapping(bytes32 id => bytes32 outputCommitment) public accepted;
    /// @notice Whether `id` was accepted (an output commitment may legitimately be zero).
    mapping(bytes32 id => bool) public isAccepted;

    constructor(IVerifiedInference hub_, Tier minEachStep_, Tier minFinalStep_, bool requireFinal_, bool requireChallengeable_) {
        hub = hub_;
        minEachStep = minEachStep_;
        minFinalStep = minFinalStep_;
        requireFinal = requireFinal_;
        requireChallengeable = requireChallengeable_;
    }

    /// @notice Accepts the result of operation `id` if it ran exactly `pipeline` on `inputCommitment` (what
    ///         this consumer asked for) and meets its policy: the same steps truncated to the first one
    ///         (an intermediate embedding under the same id) are refused.
    function acceptOperation(bytes32 id, bytes32[] calldata pipeline, bytes32 inputCommitment)
        external
        returns (bytes32 outputCommitment)
    {
        if (!hub.describes(id, pipeline, inputCommitment)) revert TieredConsumerNotWhatWasAsked(id);
        return _accept(id);
    }

    /// @notice Accepts the result of receipt `id` if it meets this consumer's policy, and returns its
    ///         output. For operations use `acceptOperation`, which also checks what ran.
    function accept(bytes32 id) external returns (bytes32 outputCommitment) {
        return _accept(id);
    }

    function _accept(bytes32 id) private returns (bytes32 outputCommitment) {
        if (isAccepted[id]) revert TieredConsumerAlreadyAccepted(id);
        if (!hub.meetsPolicy(id, minEachStep, minFinalStep)) revert TieredConsumerInsufficientTier(id);
        if (requireFinal || requireChallengeable) {
            (ResultStatus status,, bool challengeable) = IPendingResults(address(hub)).statusOf(id);
            if (requireFinal && status != ResultStatus.Final) revert TieredConsumerNotFinal(id, status);
            // All-ZK results are proven: nothing to challenge.
            if (requireChallengeable && !challengeable && hub.verifiedTier(id) != Tier.ZK) {
                revert TieredConsumerNotChallengeable(id);
            }
        }
        outputCommitment = hub.verifiedOutput(id, minEachStep);
        isAccepted[id] = true;
        accepted[id] = outputCommitment;
        emit ResultAccepted(id, hub.verifiedTier(id), outputCommitment);
    }
}
