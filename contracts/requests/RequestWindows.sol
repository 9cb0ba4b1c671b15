// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {ChallengeWindows} from "../disputes/ChallengeWindows.sol";
import {IInferenceHub} from "../interfaces/IInferenceHub.sol";
import {IModelRegistry, MODEL_CIRCUIT_FLAG, MODEL_WINDOW_FLAG} from "../interfaces/IModelRegistry.sol";
import {IPendingResults} from "../interfaces/IPendingResults.sol";
import {IRequestBook} from "../interfaces/IRequestBook.sol";
import {IRequestEscrow} from "../interfaces/IRequestEscrow.sol";
import {ReceiptHashing} from "../libraries/ReceiptHashing.sol";
import {Claim} from "../types/Claim.sol";

/// @title RequestWindows
/// @notice The request book's fraud-proof side: which steps of a fulfilment are pending, until when,
///         under which ids and for which bond. The window, bond multiple and disputes contract are the
///         hub's (`disputeConfig`), so request fulfilments follow the same rule as receipts.
abstract contract RequestWindows is ChallengeWindows {
    /// @notice The hub whose escrow holds requesters' OPG and reservations, and whose dispute configuration
    ///         the book follows.
    IRequestEscrow public immutable hub;

    constructor(IRequestEscrow hub_) {
        if (address(hub_) == address(0)) revert IInferenceHub.InferenceHubZeroAddress();
        hub = hub_;
    }

    /// @inheritdoc IPendingResults
    /// @dev The hub's: request fulfilments have the same window and bond rule as receipts.
    function disputeConfig() external view returns (address disputes, uint32 window, uint16 bondMultiple) {
        return IPendingResults(address(hub)).disputeConfig();
    }

    /// @notice The id a step of a request of several steps is pending under (a request of one step is
    ///         pending under the request id). Also the id a ZK step's proof binds.
    function stepIdOf(address requester, bytes32 modelId, bytes32 requestId) public view returns (bytes32) {
        return ReceiptHashing.receiptId(address(this), requester, modelId, uint256(requestId));
    }

    /// @notice Which Signature/TEE steps of a fulfilment can be refuted by proof (bit i for step i: its
    ///         model has a circuit), whether every such step can, and the longest window their models
    ///         asked for; gathered while the steps are verified, from the model terms read to price them.
    struct StepWindows {
        uint256 backed;
        bool allBacked;
        uint32 modelWindow;
    }

    /// @dev Counts step `i` (Signature or TEE, model `modelId` with terms `terms`) into `w`; only a model
    ///      that asked for its own window costs a call.
    function _noteStepWindow(StepWindows memory w, uint256 i, bytes32 modelId, IModelRegistry.ModelTerms memory terms)
        internal
        view
    {
        if (terms.acceptedTiers & MODEL_CIRCUIT_FLAG == 0) {
            w.allBacked = false;
            return;
        }
        w.backed |= 1 << i;
        if (terms.acceptedTiers & MODEL_WINDOW_FLAG != 0) {
            (, uint32 modelWindow) = _windowModels().disputeTermsOf(modelId);
            if (modelWindow > w.modelWindow) w.modelWindow = modelWindow;
        }
    }

    /// @dev Opens the challenge windows of a fulfilment's Signature/TEE steps whose model has a circuit
    ///      (`w`), all ending at the same time (now + the longest of the hub's and the models' windows),
    ///      and sets the bond (Σ bondMultiple × step fee) the hub locks with the payment. A request of one
    ///      step is pending under its own id (a fulfilment proven entirely at ZK has none: callers skip
    ///      it); a longer one under its steps' ids, with the request id pending until the same time
    ///      (challengeable when every signed step is). Returns the bond and when it frees.
    function _openWindows(
        bytes32 requestId,
        address requester,
        IRequestBook.RequestParams calldata params,
        address operator,
        IRequestBook.StepEvidence[] calldata steps,
        IRequestEscrow.StepFee[] memory fees,
        StepWindows memory w
    ) internal returns (uint256 bond, uint64 finalAt) {
        if (w.backed == 0) return (0, 0);
        (address disputes, uint32 window, uint16 multiple) = IPendingResults(address(hub)).disputeConfig();
        if (disputes == address(0) || window == 0) return (0, 0);
        finalAt = uint64(block.timestamp) + (w.modelWindow > window ? w.modelWindow : window);
        Claim memory claim;
        claim.operator = operator;
        claim.requester = requester;
        claim.finalAt = finalAt;
        if (steps.length != 1) claim.operationId = requestId;
        claim.inputCommitment = params.inputCommitment;
        for (uint256 i = 0; i < steps.length; ++i) {
            if (w.backed & (1 << i) != 0) {
                claim.modelId = params.pipeline[i];
                claim.fee = fees[i].fee;
                claim.bond = claim.fee * multiple;
                bond += claim.bond;
                _storeStepClaim(requestId, steps[i], claim);
            }
            claim.inputCommitment = steps[i].outputCommitment;
        }
        if (steps.length != 1) _openOperationWindow(requestId, finalAt, w.allBacked);
    }

    /// @dev Completes `claim` with step `e`'s evidence, stores it and announces it.
    function _storeStepClaim(bytes32 requestId, IRequestBook.StepEvidence calldata e, Claim memory claim) private {
        claim.outputCommitment = e.outputCommitment;
        claim.signer = e.signer;
        claim.tier = e.tier;
        bytes32 id = claim.operationId == bytes32(0) ? requestId : stepIdOf(claim.requester, claim.modelId, requestId);
        _storeClaim(id, claim);
        emit IRequestBook.FulfilmentPending(id, requestId, claim);
    }

    /// @dev The model registry whose windows the fulfilments follow.
    function _windowModels() internal view virtual returns (IModelRegistry);

    function _disputes() internal view override returns (address disputes) {
        (disputes,,) = IPendingResults(address(hub)).disputeConfig();
    }
}
