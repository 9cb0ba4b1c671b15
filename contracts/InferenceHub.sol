// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {VerificationCore} from "./core/VerificationCore.sol";
import {IEnclaveRegistry} from "./interfaces/IEnclaveRegistry.sol";
import {IGroth16Verifier} from "./interfaces/IGroth16Verifier.sol";
import {IInferenceHub} from "./interfaces/IInferenceHub.sol";
import {IModelRegistry} from "./interfaces/IModelRegistry.sol";
import {IOperatorRegistry} from "./interfaces/IOperatorRegistry.sol";
import {IVerifiedInference} from "./interfaces/IVerifiedInference.sol";
import {PendingResults} from "./disputes/PendingResults.sol";
import {ReceiptHashing} from "./libraries/ReceiptHashing.sol";
import {ResultPacking} from "./libraries/ResultPacking.sol";
import {RequestEscrow} from "./settlement/RequestEscrow.sol";
import {Receipt, VerifiedResult} from "./types/Receipt.sol";
import {Tier, TierLib} from "./types/Tier.sol";

/// @title InferenceHub
/// @notice Verifies inference receipts at the tier they claim — an operator's signature, an attested
///         enclave key's signature, or a Groth16 proof — records the result for dApps, and settles the
///         model's price for that tier from the requester's OPG escrow. Multi-step operations verify
///         every step, each at its own tier, in one call with one escrow debit and one record.
/// @dev Only the requester can make it pay for a receipt or an operation: there is no blanket
///      spending approval (an approved submitter could register its own model priced at the whole
///      escrow and sign a receipt nobody asked for). Operators are paid for work a requester did not
///      submit itself through the request book: an on-chain request reserves a max fee, an off-chain
///      EIP-712 authorization names the exact pipeline, input, max fee and operator. The book reaches
///      the escrow through IRequestEscrow only (RequestEscrow).
contract InferenceHub is IInferenceHub, IVerifiedInference, RequestEscrow, VerificationCore, PendingResults {
    using ReceiptHashing for Receipt;

    /// @notice Operations take at most this many steps (their tiers pack into 64 bits).
    uint256 public constant MAX_STEPS = 16;

    /// @dev Receipt or operation id => tier and output commitment in one word (ResultPacking).
    mapping(bytes32 id => uint256) private _results;
    /// @dev Operation id => step count (low 8 bits) and 4-bit step tiers above them. Empty for receipts.
    mapping(bytes32 id => uint256) private _operationSteps;
    /// @dev Operation id => keccak256(abi.encode(modelIds, inputCommitment)): what the operation ran, so
    ///      a consumer can tell an operation from a truncated one with the same id (see `describes`).
    mapping(bytes32 id => bytes32) private _operationDescriptions;

    /// @notice Wiring of the hub; the fee split is in basis points, the treasury gets the remainder.
    struct Config {
        address admin;
        IERC20 feeToken;
        address treasury;
        uint16 operatorBps;
        uint16 modelOwnerBps;
        IModelRegistry models;
        IOperatorRegistry operators;
        IEnclaveRegistry enclaves;
        IGroth16Verifier verifier;
    }

    constructor(Config memory config)
        RequestEscrow(config.admin, config.feeToken, config.treasury, config.operatorBps, config.modelOwnerBps)
        VerificationCore("OPG InferenceHub", config.models, config.operators, config.enclaves, config.verifier)
    {}

    // ---------------------------------------------------------------- submission

    /// @notice Verifies a Signature- or TEE-tier receipt signed by `signer` and charges its fee.
    /// @param maxFee The most the caller accepts to pay (guards against a price change in flight).
    /// @return id The receipt id dApps query.
    function submitSigned(Receipt calldata receipt, address signer, bytes calldata signature, uint256 maxFee)
        external
        returns (bytes32 id)
    {
        if (receipt.tier != Tier.Signature && receipt.tier != Tier.TEE) revert InferenceHubWrongTier(receipt.tier);
        _checkRequest(receipt.requester, receipt.deadline);
        id = _freshId(receipt);
        IModelRegistry.ModelTerms memory terms = _terms(receipt.modelId, receipt.tier);
        if (terms.price > maxFee) revert InferenceHubFeeAboveMaximum(terms.price, maxFee);
        _checkSigned(receipt.hashStruct(), receipt.modelId, receipt.operator, receipt.tier, signer, signature);
        _settleSingle(id, receipt, terms);
        _openWindow(id, receipt, signer, terms, bytes32(0));
    }

    /// @notice Verifies a ZK-tier receipt: `proof` shows the model maps the input commitment to `outputs`
    ///         (whose commitment is the receipt's output commitment), bound to this receipt's id.
    /// @param outputs The quantized outputs as field elements (negative values as p − |x|).
    function submitProven(
        Receipt calldata receipt,
        uint256[8] calldata proof,
        uint256[] calldata outputs,
        uint256 maxFee
    ) external returns (bytes32 id) {
        if (receipt.tier != Tier.ZK) revert InferenceHubWrongTier(receipt.tier);
        _checkRequest(receipt.requester, receipt.deadline);
        id = _freshId(receipt);
        IModelRegistry.ModelTerms memory terms = _terms(receipt.modelId, receipt.tier);
        if (terms.price > maxFee) revert InferenceHubFeeAboveMaximum(terms.price, maxFee);
        _checkProof(receipt, id, proof, outputs);
        emit ProofVerified(id, receipt.modelId, outputs);
        _settleSingle(id, receipt, terms);
    }

    /// @notice Verifies an operation of several steps, each at its own tier, in one transaction.
    /// @dev Steps share requester, nonce and deadline; step i's output commitment must be step i+1's
    ///      input commitment and step 0's input must be the requested one. Everything is checked before
    ///      anything is charged: any failure reverts the whole operation.
    /// @param request The requested input, the requester's tier policy and the most it accepts to pay.
    ///      Step nonces carry ReceiptHashing.OPERATION_NONCE_FLAG, so step evidence is never valid for a
    ///      single receipt (nor the reverse), and the id depends only on requester and nonce, so the
    ///      same steps can never be charged by two operations.
    /// @return operationId See ReceiptHashing.operationId.
    function submitOperation(Receipt[] calldata steps, Evidence[] calldata evidence, OperationRequest calldata request)
        external
        returns (bytes32 operationId)
    {
        (bytes32[] memory ids, uint64 stepTiers, Tier weakest) = _checkOperation(steps, evidence.length, request);
        operationId = ReceiptHashing.operationId(address(this), steps[0].requester, steps[0].nonce);
        if (_results[operationId] != 0) revert InferenceHubAlreadyVerified(operationId);

        uint256 total = _verifySteps(steps, evidence, ids, operationId);
        if (total > request.maxFee) revert InferenceHubFeeAboveMaximum(total, request.maxFee);
        _debit(steps[0].requester, total);
        _recordOperation(operationId, weakest, stepTiers, ids.length, steps[ids.length - 1].outputCommitment);
        _operationDescriptions[operationId] = _describe(steps);
        emit OperationVerified(operationId, steps[0].requester, ids.length, stepTiers, total);
    }

    // ---------------------------------------------------------------- consumer interface

    /// @inheritdoc IVerifiedInference
    function verifiedTier(bytes32 id) external view returns (Tier) {
        if (_isRefuted(id)) return Tier.None;
        return ResultPacking.tierOf(_results[id]);
    }

    /// @inheritdoc IVerifiedInference
    function resultOf(bytes32 id) public view returns (VerifiedResult memory result) {
        uint256 packed = _results[id];
        result.tier = ResultPacking.tierOf(packed);
        result.outputCommitment = ResultPacking.outputOf(packed);
        if (packed == 0) return result;
        uint256 steps = _operationSteps[id];
        if (steps == 0) {
            result.stepCount = 1;
            result.stepTiers = uint64(uint8(result.tier));
        } else {
            result.stepCount = uint8(steps);
            result.stepTiers = uint64(steps >> 8);
        }
    }

    /// @inheritdoc IVerifiedInference
    function verifiedOutput(bytes32 id, Tier minTier) external view returns (bytes32) {
        _requireNotRefuted(id);
        uint256 packed = _results[id];
        Tier tier = ResultPacking.tierOf(packed);
        if (tier == Tier.None || tier < minTier) revert InferenceHubBelowTier(id, tier, minTier);
        return ResultPacking.outputOf(packed);
    }

    /// @inheritdoc IVerifiedInference
    function meetsPolicy(bytes32 id, Tier minEachStep, Tier minFinalStep) external view returns (bool) {
        if (_isRefuted(id)) return false;
        VerifiedResult memory result = resultOf(id);
        if (result.tier == Tier.None || result.tier < minEachStep) return false;
        return TierLib.tierAt(result.stepTiers, result.stepCount - 1) >= minFinalStep;
    }

    /// @inheritdoc IVerifiedInference
    /// @dev Operations only (a receipt id already commits to its model: see `receiptIdOf`).
    function describes(bytes32 id, bytes32[] calldata modelIds, bytes32 inputCommitment) external view returns (bool) {
        bytes32 description = _operationDescriptions[id];
        return description != 0 && description == keccak256(abi.encode(modelIds, inputCommitment));
    }

    /// @notice The id of the receipt by `requester` for `modelId` with `nonce` on this hub and chain.
    function receiptIdOf(address requester, bytes32 modelId, uint256 nonce) external view returns (bytes32) {
        return ReceiptHashing.receiptId(address(this), requester, modelId, nonce);
    }

    /// @notice The EIP-712 digest an operator or enclave key signs for `receipt`.
    function receiptDigest(Receipt calldata receipt) external view returns (bytes32) {
        return _hashTypedDataV4(receipt.hashStruct());
    }

    /// @notice Steps verified per tier and operations verified, since deployment.
    function stats()
        external
        view
        returns (uint256 signatureSteps, uint256 teeSteps, uint256 zkSteps, uint256 operationCount)
    {
        Accounting memory acc = _accounting;
        return (acc.signatureSteps, acc.teeSteps, acc.zkSteps, acc.operations);
    }

    // ---------------------------------------------------------------- internals

    function _checkRequest(address requester, uint64 deadline) private view {
        if (block.timestamp > deadline) revert InferenceHubExpired(deadline);
        if (msg.sender != requester) revert InferenceHubUnauthorizedSubmitter(requester, msg.sender);
    }

    function _freshId(Receipt calldata receipt) private view returns (bytes32 id) {
        if (receipt.nonce & ReceiptHashing.OPERATION_NONCE_FLAG != 0) revert InferenceHubNonceNamespace(receipt.nonce);
        id = ReceiptHashing.receiptId(address(this), receipt.requester, receipt.modelId, receipt.nonce);
        if (_results[id] != 0) revert InferenceHubAlreadyVerified(id);
    }

    function _checkProof(Receipt calldata receipt, bytes32 id, uint256[8] calldata proof, uint256[] calldata outputs)
        private
        view
    {
        _checkProof(
            receipt.modelId, receipt.inputCommitment, receipt.outputCommitment, id, receipt.operator, proof, outputs
        );
    }

    /// @dev Checks an operation's shape, chain of commitments and policy before any evidence is verified.
    function _checkOperation(Receipt[] calldata steps, uint256 evidenceCount, OperationRequest calldata request)
        private
        view
        returns (bytes32[] memory ids, uint64 stepTiers, Tier weakest)
    {
        uint256 count = steps.length;
        if (count == 0 || count > MAX_STEPS || evidenceCount != count) {
            revert InferenceHubInvalidStepCount(count, evidenceCount);
        }
        Receipt calldata first = steps[0];
        _checkRequest(first.requester, first.deadline);
        if (first.nonce & ReceiptHashing.OPERATION_NONCE_FLAG == 0) revert InferenceHubNonceNamespace(first.nonce);
        if (first.inputCommitment != request.inputCommitment) {
            revert InferenceHubInputMismatch(request.inputCommitment, first.inputCommitment);
        }
        ids = new bytes32[](count);
        weakest = Tier.ZK;
        for (uint256 i = 0; i < count; ++i) {
            Receipt calldata step = steps[i];
            if (i != 0) {
                if (step.requester != first.requester || step.nonce != first.nonce || step.deadline != first.deadline) {
                    revert InferenceHubStepMismatch(i);
                }
                if (step.inputCommitment != steps[i - 1].outputCommitment) revert InferenceHubBrokenChain(i);
                for (uint256 j = 0; j < i; ++j) {
                    if (steps[j].modelId == step.modelId) revert InferenceHubRepeatedModel(i);
                }
            }
            Tier required = i == count - 1 && request.minFinalStep > request.minEachStep
                ? request.minFinalStep
                : request.minEachStep;
            if (step.tier < required) revert InferenceHubPolicyNotMet(i, step.tier, required);
            if (step.tier < weakest) weakest = step.tier;
            stepTiers |= uint64(uint256(uint8(step.tier)) << (i * 4));
            ids[i] = ReceiptHashing.receiptId(address(this), step.requester, step.modelId, step.nonce);
        }
    }

    /// @dev Verifies every step, crediting operators and owners; one write of the accounting word.
    function _verifySteps(
        Receipt[] calldata steps,
        Evidence[] calldata evidence,
        bytes32[] memory ids,
        bytes32 operationId
    ) private returns (uint256 total) {
        Accounting memory acc = _accounting;
        uint64 finalAt;
        bool backed = true;
        for (uint256 i = 0; i < ids.length; ++i) {
            IModelRegistry.ModelTerms memory terms = _verifyStep(acc, steps[i], evidence[i], ids[i]);
            total += terms.price;
            if (steps[i].tier != Tier.ZK) {
                uint64 stepFinalAt = _openWindow(ids[i], steps[i], evidence[i].signer, terms, operationId);
                if (stepFinalAt == 0) backed = false;
                if (stepFinalAt > finalAt) finalAt = stepFinalAt;
            }
        }
        _openOperationWindow(operationId, finalAt, backed);
        unchecked {
            ++acc.operations;
        }
        _accounting = acc;
    }

    /// @dev Verifies one operation step and credits its operator and model owner; returns its model's
    ///      terms (its fee is `terms.price`).
    function _verifyStep(Accounting memory acc, Receipt calldata step, Evidence calldata evidence, bytes32 id)
        private
        returns (IModelRegistry.ModelTerms memory terms)
    {
        terms = _terms(step.modelId, step.tier);
        if (step.tier == Tier.ZK) {
            _checkProof(step, id, evidence.proof, evidence.outputs);
            emit ProofVerified(id, step.modelId, evidence.outputs);
        } else {
            _checkSigned(step.hashStruct(), step.modelId, step.operator, step.tier, evidence.signer, evidence.signature);
        }
        _count(acc, step.tier);
        _recordSettlement(acc, id, step, terms.price, terms.owner);
    }

    function _settleSingle(bytes32 id, Receipt calldata receipt, IModelRegistry.ModelTerms memory terms) private {
        uint256 fee = terms.price;
        _debit(receipt.requester, fee);
        Accounting memory acc = _accounting;
        _count(acc, receipt.tier);
        _recordSettlement(acc, id, receipt, fee, terms.owner);
        _accounting = acc;
        _results[id] = ResultPacking.pack(receipt.tier, _fieldCommitment(receipt.outputCommitment));
    }

    /// @dev Credits the fee's shares and emits the one event that describes the verified receipt.
    function _recordSettlement(
        Accounting memory acc,
        bytes32 id,
        Receipt calldata receipt,
        uint256 fee,
        address modelOwner
    ) private {
        (uint256 operatorShare, uint256 ownerShare, uint256 treasuryShare) =
            _credit(acc, fee, receipt.operator, modelOwner);
        emit ReceiptVerified(
            id,
            receipt.modelId,
            receipt.operator,
            receipt.requester,
            receipt.tier,
            receipt.inputCommitment,
            receipt.outputCommitment,
            fee,
            operatorShare,
            ownerShare,
            treasuryShare
        );
    }

    /// @dev keccak256(abi.encode(modelIds, inputCommitment)) of an operation's steps.
    function _describe(Receipt[] calldata steps) private pure returns (bytes32) {
        bytes32[] memory modelIds = new bytes32[](steps.length);
        for (uint256 i = 0; i < steps.length; ++i) {
            modelIds[i] = steps[i].modelId;
        }
        return keccak256(abi.encode(modelIds, steps[0].inputCommitment));
    }

    function _recordOperation(bytes32 operationId, Tier weakest, uint64 stepTiers, uint256 count, bytes32 output)
        private
    {
        _results[operationId] = ResultPacking.pack(weakest, _fieldCommitment(output));
        _operationSteps[operationId] = count | (uint256(stepTiers) << 8);
    }

    function _recorded(bytes32 id) internal view override returns (bool) {
        return _results[id] != 0;
    }

    function _modelRegistry() internal view override returns (IModelRegistry) {
        return models;
    }

    function _operatorRegistry() internal view override(PendingResults, RequestEscrow) returns (IOperatorRegistry) {
        return operators;
    }
}
