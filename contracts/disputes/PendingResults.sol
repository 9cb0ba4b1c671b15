// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {AccessControlDefaultAdminRules} from
    "@openzeppelin/contracts/access/extensions/AccessControlDefaultAdminRules.sol";
import {IModelRegistry} from "../interfaces/IModelRegistry.sol";
import {IOperatorRegistry} from "../interfaces/IOperatorRegistry.sol";
import {IPendingResults} from "../interfaces/IPendingResults.sol";
import {Claim, ClaimHashing, ResultStatus} from "../types/Claim.sol";
import {Receipt} from "../types/Receipt.sol";

/// @title PendingResults
/// @notice The hub's challenge window. A Signature- or TEE-tier result of a model with a registered
///         circuit is pending until `finalAt` = now + max(hub window, model window), and `bondMultiple` ×
///         its fee of the operator's stake is locked until then; a result of a model without a circuit
///         cannot be refuted by proof, so it is final at once (and bonds nothing). One storage word per
///         pending result: its final time and its claim's hash.
/// @dev Results recorded while fraud proofs were off (and every ZK result) have no word: final at once.
abstract contract PendingResults is IPendingResults, AccessControlDefaultAdminRules {
    /// @notice The longest challenge window the hub may be configured with.
    uint32 internal constant MAX_WINDOW = 30 days;

    uint256 private constant FINAL_AT_SHIFT = 216;
    uint256 private constant HASH_MASK = (1 << FINAL_AT_SHIFT) - 1;
    /// @dev The word of a refuted result (no real final time reaches 2^40 − 1).
    uint256 private constant REFUTED = type(uint256).max;

    struct DisputeConfig {
        address disputes;
        uint32 window;
        uint16 bondMultiple;
    }

    DisputeConfig private _config;
    /// @dev Result id => finalAt << 216 | low 216 bits of its claim hash; for an operation, its latest
    ///      step's finalAt and no hash; REFUTED once refuted.
    mapping(bytes32 id => uint256) private _pending;

    /// @notice Turns fraud proofs on (or off with a zero `disputes` or `window`). New results only.
    /// @param bondMultiple The bond of a pending result, as a multiple of its fee.
    function setDisputeConfig(address disputes, uint32 window, uint16 bondMultiple)
        external
        onlyRole(DEFAULT_ADMIN_ROLE)
    {
        if (window > MAX_WINDOW) revert PendingResultsInvalidWindow(window);
        _config = DisputeConfig(disputes, window, bondMultiple);
        emit DisputeConfigUpdated(disputes, window, bondMultiple);
    }

    /// @inheritdoc IPendingResults
    function refute(bytes32 id, bytes32 operationId) external {
        if (msg.sender != _config.disputes) revert PendingResultsNotDisputes(msg.sender);
        (,, ResultStatus status) = claimOf(id);
        if (status != ResultStatus.Pending) revert PendingResultsNotPending(id, status);
        _pending[id] = REFUTED;
        if (operationId != bytes32(0)) _pending[operationId] = REFUTED;
        emit ResultRefuted(id, operationId);
    }

    /// @inheritdoc IPendingResults
    function disputeConfig() external view returns (address disputes, uint32 window, uint16 bondMultiple) {
        return (_config.disputes, _config.window, _config.bondMultiple);
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
        // A receipt or step stores its claim hash; an operation stores 1 when every step that is not ZK
        // had a window (its steps are what a proof refutes).
        challengeable = status != ResultStatus.Refuted && claimHash != bytes32(0);
    }

    /// @dev Opens the challenge window of a Signature/TEE result and locks its bond; returns its final
    ///      time (zero when it is final at once). Reverts when the operator's free stake is short.
    function _openWindow(
        bytes32 id,
        Receipt calldata receipt,
        address signer,
        uint256 fee,
        bytes32 operationId
    ) internal returns (uint64 finalAt) {
        DisputeConfig memory c = _config;
        if (c.disputes == address(0) || c.window == 0) return 0;
        (address keyStore, uint32 modelWindow) = _modelRegistry().disputeTermsOf(receipt.modelId);
        if (keyStore == address(0)) return 0;
        finalAt = uint64(block.timestamp) + (modelWindow > c.window ? modelWindow : c.window);
        uint256 bond = fee * c.bondMultiple;
        _operatorRegistry().lockBond(receipt.operator, bond, finalAt);
        Claim memory claim = Claim({
            modelId: receipt.modelId,
            inputCommitment: receipt.inputCommitment,
            outputCommitment: receipt.outputCommitment,
            operator: receipt.operator,
            requester: receipt.requester,
            signer: signer,
            tier: receipt.tier,
            operationId: operationId,
            fee: fee,
            bond: bond,
            finalAt: finalAt
        });
        _pending[id] = (uint256(finalAt) << FINAL_AT_SHIFT) | (uint256(ClaimHashing.hash(claim)) & HASH_MASK);
        emit ResultPending(id, operationId, signer, bond, finalAt);
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

    /// @dev Whether the hub recorded a result (or an operation step) under `id`.
    function _recorded(bytes32 id) internal view virtual returns (bool);

    function _modelRegistry() internal view virtual returns (IModelRegistry);

    function _operatorRegistry() internal view virtual returns (IOperatorRegistry);
}
