// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {AccessControlDefaultAdminRules} from
    "@openzeppelin/contracts/access/extensions/AccessControlDefaultAdminRules.sol";
import {ChallengeWindows} from "./ChallengeWindows.sol";
import {IModelRegistry, MODEL_CIRCUIT_FLAG, MODEL_WINDOW_FLAG} from "../interfaces/IModelRegistry.sol";
import {IOperatorRegistry} from "../interfaces/IOperatorRegistry.sol";
import {IPendingResults} from "../interfaces/IPendingResults.sol";
import {Claim} from "../types/Claim.sol";
import {Receipt} from "../types/Receipt.sol";

/// @title PendingResults
/// @notice The hub's challenge window. A Signature- or TEE-tier result of a model with a registered
///         circuit is pending until `finalAt` = now + max(hub window, model window), and `bondMultiple` ×
///         its fee of the operator's stake is locked until then; a result of a model without a circuit
///         cannot be refuted by proof, so it is final at once (and bonds nothing). The request book reads
///         the same configuration (`disputeConfig`) for request fulfilments.
/// @dev Results recorded while fraud proofs were off (and every ZK result) have no word: final at once.
abstract contract PendingResults is ChallengeWindows, AccessControlDefaultAdminRules {
    /// @notice The longest challenge window the hub may be configured with.
    uint32 internal constant MAX_WINDOW = 30 days;

    struct DisputeConfig {
        address disputes;
        uint32 window;
        uint16 bondMultiple;
    }

    DisputeConfig private _config;

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
    function disputeConfig() external view returns (address disputes, uint32 window, uint16 bondMultiple) {
        return (_config.disputes, _config.window, _config.bondMultiple);
    }

    /// @dev Opens the challenge window of a Signature/TEE result and locks its bond; returns its final
    ///      time (zero when it is final at once). Reverts when the operator's free stake is short.
    ///      `terms` are the model's (ModelRegistry.termsOf, already read to price the result): whether it
    ///      has a circuit comes with them; only a model that asked for its own window costs another call.
    function _openWindow(
        bytes32 id,
        Receipt calldata receipt,
        address signer,
        IModelRegistry.ModelTerms memory terms,
        bytes32 operationId
    ) internal returns (uint64 finalAt) {
        // A model without a circuit is final at once whatever the configuration: no cold read of it.
        if (terms.acceptedTiers & MODEL_CIRCUIT_FLAG == 0) return 0;
        DisputeConfig memory c = _config;
        if (c.disputes == address(0) || c.window == 0) return 0;
        uint32 window = c.window;
        if (terms.acceptedTiers & MODEL_WINDOW_FLAG != 0) {
            (, uint32 modelWindow) = _modelRegistry().disputeTermsOf(receipt.modelId);
            if (modelWindow > window) window = modelWindow;
        }
        finalAt = uint64(block.timestamp) + window;
        uint256 fee = terms.price;
        uint256 bond = fee * c.bondMultiple;
        _operatorRegistry().lockBond(receipt.operator, bond, finalAt);
        _storeClaim(
            id,
            Claim({
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
            })
        );
        emit ResultPending(id, operationId, signer, bond, finalAt);
    }

    function _disputes() internal view override returns (address) {
        return _config.disputes;
    }

    function _modelRegistry() internal view virtual returns (IModelRegistry);

    function _operatorRegistry() internal view virtual returns (IOperatorRegistry);
}
