// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Claim, ResultStatus} from "../types/Claim.sol";

/// @notice Fraud proofs: a Groth16 proof that a model maps a pending result's input commitment to an
///         output commitment other than the one its operator (or enclave key) signed refutes the result.
interface IDisputes {
    /// @notice What a refutation moved, in OPG wei.
    /// @param slashed Taken from the operator's stake (the bond, or all that was left).
    /// @param reward Paid to the challenger.
    /// @param refund Credited to the requester's hub escrow (its fee plus compensation).
    /// @param remainder Sent to the treasury.
    struct Outcome {
        uint256 slashed;
        uint256 reward;
        uint256 refund;
        uint256 remainder;
    }

    /// @notice The result is not pending: unknown, already final, already refuted, or never challengeable
    ///         (ZK tier, a model without a circuit, or recorded before fraud proofs were on).
    error DisputesNotChallengeable(bytes32 id, ResultStatus status);
    /// @notice The challenge window closed at `finalAt`.
    error DisputesWindowClosed(bytes32 id, uint64 finalAt);
    /// @notice The restated claim is not the one the hub stored for this result.
    error DisputesClaimMismatch(bytes32 id);
    /// @notice The model has no verifying key.
    error DisputesNoCircuit(bytes32 modelId);
    /// @notice The proven output commitment is the signed one: the result is correct.
    error DisputesSameOutput(bytes32 id);
    /// @notice The proof does not verify under the model's key for this input, output and challenger.
    error DisputesInvalidProof(bytes32 id);
    /// @notice Reward and compensation shares exceed 100%.
    error DisputesInvalidShares(uint16 rewardBps, uint16 compensationBps);
    /// @notice A zero address was given where an account is required.
    error DisputesZeroAddress();

    /// @notice Result `id` was proven wrong by `challenger`: the proof's output commitment is
    ///         `provenOutput`, not the signed one.
    event ChallengeSucceeded(
        bytes32 indexed id,
        address indexed challenger,
        address indexed operator,
        bytes32 provenOutput,
        uint256 slashed,
        uint256 reward,
        uint256 refund,
        uint256 remainder
    );
    /// @notice The challenger's and the requester's shares of a slash changed.
    event SharesUpdated(uint16 rewardBps, uint16 compensationBps);

    /// @notice Refutes pending result `id` with a proof that its model maps the claimed input commitment
    ///         to `outputs`, whose commitment `provenOutput` differs from the signed one.
    /// @param claim The result's claim, as the hub stored it (from its ReceiptVerified and ResultPending events).
    /// @param proof Groth16 proof under the model's registered key, with public signals
    ///        [inputCommitment, provenOutput, outputs…, bindingOf(id, msg.sender)].
    function challenge(
        bytes32 id,
        Claim calldata claim,
        bytes32 provenOutput,
        uint256[] calldata outputs,
        uint256[8] calldata proof
    ) external returns (Outcome memory outcome);

    /// @notice The binding public signal a challenger's proof must carry: the result id and the challenger,
    ///         so a proof seen in the mempool cannot be replayed by someone else.
    function bindingOf(bytes32 id, address challenger) external view returns (uint256);
}
