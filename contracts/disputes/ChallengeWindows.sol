// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IPendingResults} from "../interfaces/IPendingResults.sol";
import {Claim, ClaimHashing, ResultStatus} from "../types/Claim.sol";

/// @title ChallengeWindows
/// @notice The storage and views of pending results, shared by the hub (receipts, operation steps) and
///         the request book (request fulfilments): one word per pending result, its final time and the
///         hash of its claim; the disputes contract marks a pending result (and its operation) refuted.
/// @dev A result with no word is final at once (ZK tier, a model without a circuit, or recorded while
///      fraud proofs were off) when `_recorded` says it exists.
abstract contract ChallengeWindows is IPendingResults {
    uint256 private constant FINAL_AT_SHIFT = 216;
    uint256 private constant HASH_MASK = (1 << FINAL_AT_SHIFT) - 1;
    /// @dev The word of a refuted result (no real final time reaches 2^40 − 1).
    uint256 private constant REFUTED = type(uint256).max;

    /// @dev Result id => finalAt << 216 | low 216 bits of its claim hash; for an operation (or a request
    ///      of several steps), its latest step's finalAt and 1 if every signed step is backed; REFUTED
    ///      once refuted.
    mapping(bytes32 id => uint256) private _pending;

    /// @inheritdoc IPendingResults
    function refute(bytes32 id, bytes32 operationId) external {
        if (msg.sender != _disputes()) revert PendingResultsNotDisputes(msg.sender);
        (,, ResultStatus status) = claimOf(id);
        if (status != ResultStatus.Pending) revert PendingResultsNotPending(id, status);
        _pending[id] = REFUTED;
        if (operationId != bytes32(0)) _pending[operationId] = REFUTED;
        emit ResultRefuted(id, operationId);
    }

    /// @inheritdoc IPendingResults
    function claimOf(bytes32 id) public view returns (bytes32 claimHash, uint64 finalAt, ResultStatus status) {
        uint256 word = _pending[id];
        if (word == REFUTED) return (bytes32(0), 0, ResultStatus.Refuted);
        if (word == 0 && !_recorded(id)) return (bytes32(0), 0, ResultStatus.None);
        finalAt = uint64(word >> FINAL_AT_SHIFT);
        claimHash = bytes32(word & HASH_MASK);
        status = block.timestamp < finalAt ? ResultStatus.Pending : ResultStatus.Final;
    }

    /// @inheritdoc IPendingResults
    function statusOf(bytes32 id) public view returns (ResultStatus status, uint64 finalAt, bool challengeable) {
        bytes32 claimHash;
        (claimHash, finalAt, status) = claimOf(id);
        // A result stores its claim hash; an operation stores 1 when every step that is not ZK had a
        // window (its steps are what a proof refutes).
        challengeable = status != ResultStatus.Refuted && claimHash != bytes32(0);
    }

    /// @dev Stores the window of a pending result: its final time and its claim's hash.
    function _storeClaim(bytes32 id, Claim memory claim) internal {
        _pending[id] = (uint256(claim.finalAt) << FINAL_AT_SHIFT) | (uint256(ClaimHashing.hash(claim)) & HASH_MASK);
    }

    /// @dev Makes an operation pending until its latest step is final (its steps carry the claims);
    ///      `backed` says every step that is not ZK could be refuted during its window.
    function _openOperationWindow(bytes32 operationId, uint64 finalAt, bool backed) internal {
        if (finalAt != 0) _pending[operationId] = (uint256(finalAt) << FINAL_AT_SHIFT) | (backed ? 1 : 0);
    }

    /// @dev Reverts if `id` was refuted; whether it is final does not matter here.
    function _requireNotRefuted(bytes32 id) internal view {
        if (_pending[id] == REFUTED) revert PendingResultsRefuted(id);
    }

    function _isRefuted(bytes32 id) internal view returns (bool) {
        return _pending[id] == REFUTED;
    }

    /// @dev The disputes contract, the only caller of `refute`.
    function _disputes() internal view virtual returns (address);

    /// @dev Whether a result (or an operation step) was recorded under `id`.
    function _recorded(bytes32 id) internal view virtual returns (bool);
}
