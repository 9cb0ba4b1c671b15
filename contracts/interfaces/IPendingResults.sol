// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {ResultStatus} from "../types/Claim.sol";

/// @notice The hub's side of fraud proofs: Signature- and TEE-tier results of models with a circuit stay
///         pending for a challenge window, backed by a bond of their operator's stake, and the disputes
///         contract can mark them refuted before they are final.
interface IPendingResults {
    /// @notice The challenge window is longer than the hub's maximum.
    error PendingResultsInvalidWindow(uint32 window);
    /// @notice Only the disputes contract may do this.
    error PendingResultsNotDisputes(address caller);
    /// @notice The result is not pending (unknown, final, refuted, or never challengeable).
    error PendingResultsNotPending(bytes32 id, ResultStatus status);
    /// @notice The result was refuted: it is never final and its output must not be used.
    error PendingResultsRefuted(bytes32 id);

    /// @notice A Signature/TEE result became pending until `finalAt`; `bond` of its operator's stake is
    ///         locked until then. The rest of its claim is in the ReceiptVerified event with the same id.
    event ResultPending(bytes32 indexed id, bytes32 indexed operationId, address signer, uint256 bond, uint64 finalAt);
    /// @notice A pending result (and the operation it is a step of, if any) was refuted.
    event ResultRefuted(bytes32 indexed id, bytes32 indexed operationId);
    /// @notice Fraud proofs were configured (a zero `disputes` or `window` turns them off: results are
    ///         final at once, as before fraud proofs existed).
    event DisputeConfigUpdated(address indexed disputes, uint32 window, uint16 bondMultiple);

    /// @notice Status of a result (receipt, operation step or operation), when it is or becomes final
    ///         (zero when unknown, refuted, or final at once), and whether it is backed by fraud proofs: it
    ///         had (or has, while pending) a challenge window in which a proof could refute it. False for
    ///         results final at once: ZK results (proven already), models without a circuit, and results
    ///         recorded while fraud proofs were off.
    function statusOf(bytes32 id) external view returns (ResultStatus status, uint64 finalAt, bool challengeable);

    /// @notice The stored claim hash and final time of a pending (or already refuted) result.
    function claimOf(bytes32 id) external view returns (bytes32 claimHash, uint64 finalAt, ResultStatus status);

    /// @notice Marks pending result `id` refuted, and its operation `operationId` if nonzero (disputes only).
    function refute(bytes32 id, bytes32 operationId) external;

    /// @notice The disputes contract, the hub's challenge window (seconds) and the bond multiple of a price.
    function disputeConfig() external view returns (address disputes, uint32 window, uint16 bondMultiple);
}
