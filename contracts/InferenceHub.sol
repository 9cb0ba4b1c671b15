// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {SignatureChecker} from "@openzeppelin/contracts/utils/cryptography/SignatureChecker.sol";
import {IEnclaveRegistry} from "./interfaces/IEnclaveRegistry.sol";
import {IGroth16Verifier} from "./interfaces/IGroth16Verifier.sol";
import {IInferenceHub} from "./interfaces/IInferenceHub.sol";
import {IModelRegistry} from "./interfaces/IModelRegistry.sol";
import {IOperatorRegistry} from "./interfaces/IOperatorRegistry.sol";
import {IVerifiedInference} from "./interfaces/IVerifiedInference.sol";
import {PendingResults} from "./disputes/PendingResults.sol";
import {DataStore} from "./libraries/DataStore.sol";
import {ReceiptHashing} from "./libraries/ReceiptHashing.sol";
import {ResultPacking} from "./libraries/ResultPacking.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {FeeEscrow} from "./settlement/FeeEscrow.sol";
import {Receipt, VerifiedResult} from "./types/Receipt.sol";
import {Tier, TierLib} from "./types/Tier.sol";

/// @title InferenceHub
/// @notice Verifies inference receipts at the tier they claim — an operator's signature, an attested
///         enclave key's signature, or a Groth16 proof — records the result for dApps, and settles the
///         model's price for that tier from the requester's OPG escrow. Multi-step operations verify
///         every step, each at its own tier, in one call with one escrow debit and one record.
/// @dev Only the requester, or a submitter it approved, can make it pay.
contract InferenceHub is IInferenceHub, IVerifiedInference, FeeEscrow, PendingResults, EIP712 {
    using ReceiptHashing for Receipt;

    /// @notice Operations take at most this many steps (their tiers pack into 64 bits).
    uint256 public constant MAX_STEPS = 16;

    /// @notice Models, prices, verifying keys and approved enclave images.
    IModelRegistry public immutable models;
    /// @notice Staked operators and their signer keys.
    IOperatorRegistry public immutable operators;
    /// @notice Attested enclave keys.
    IEnclaveRegistry public immutable enclaves;
    /// @notice Groth16 verification.
    IGroth16Verifier public immutable verifier;

    /// @dev Receipt or operation id => tier and output commitment in one word (ResultPacking).
    mapping(bytes32 id => uint256) private _results;
    /// @dev Operation id => step count (low 8 bits) and 4-bit step tiers above them. Empty for receipts.
    mapping(bytes32 id => uint256) private _operationSteps;
    mapping(address requester => mapping(address submitter => bool)) private _approvedSubmitters;

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
        FeeEscrow(config.admin, config.feeToken, config.treasury, config.operatorBps, config.modelOwnerBps)
        EIP712("OPG InferenceHub", "1")
    {
        if (
            address(config.models) == address(0) || address(config.operators) == address(0)
                || address(config.enclaves) == address(0) || address(config.verifier) == address(0)
        ) revert InferenceHubZeroAddress();
        models = config.models;
        operators = config.operators;
        enclaves = config.enclaves;
        verifier = config.verifier;
    }

    // ---------------------------------------------------------------- submission

    /// @notice Lets `submitter` submit receipts that charge the caller's escrow (an operator or relayer).
    function approveSubmitter(address submitter, bool approved) external {
        if (submitter == address(0)) revert InferenceHubZeroAddress();
        _approvedSubmitters[msg.sender][submitter] = approved;
        emit SubmitterApproved(msg.sender, submitter, approved);
    }

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
        IModelRegistry.ModelTerms memory terms = _terms(receipt);
        if (terms.price > maxFee) revert InferenceHubFeeAboveMaximum(terms.price, maxFee);
        _checkSigned(receipt, signer, signature);
        _settleSingle(id, receipt, terms);
        _openWindow(id, receipt, signer, terms.price, bytes32(0));
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
        IModelRegistry.ModelTerms memory terms = _terms(receipt);
        if (terms.price > maxFee) revert InferenceHubFeeAboveMaximum(terms.price, maxFee);
        if (!operators.isActive(receipt.operator)) revert InferenceHubInactiveOperator(receipt.operator);
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

        (uint256 total, uint64 finalAt) = _verifySteps(steps, evidence, ids, operationId);
        if (total > request.maxFee) revert InferenceHubFeeAboveMaximum(total, request.maxFee);
        _debit(steps[0].requester, total);
        _recordOperation(operationId, weakest, stepTiers, ids.length, steps[ids.length - 1].outputCommitment);
        _openOperationWindow(operationId, finalAt);
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

    /// @notice The id of the receipt by `requester` for `modelId` with `nonce` on this hub and chain.
    function receiptIdOf(address requester, bytes32 modelId, uint256 nonce) external view returns (bytes32) {
        return ReceiptHashing.receiptId(address(this), requester, modelId, nonce);
    }

    /// @notice The EIP-712 digest an operator or enclave key signs for `receipt`.
    function receiptDigest(Receipt calldata receipt) external view returns (bytes32) {
        return _hashTypedDataV4(receipt.hashStruct());
    }

    /// @notice Whether `submitter` may submit on `requester`'s behalf.
    function isApprovedSubmitter(address requester, address submitter) external view returns (bool) {
        return _approvedSubmitters[requester][submitter];
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
        if (msg.sender != requester && !_approvedSubmitters[requester][msg.sender]) {
            revert InferenceHubUnauthorizedSubmitter(requester, msg.sender);
        }
    }

    function _freshId(Receipt calldata receipt) private view returns (bytes32 id) {
        if (receipt.nonce & ReceiptHashing.OPERATION_NONCE_FLAG != 0) revert InferenceHubNonceNamespace(receipt.nonce);
        id = ReceiptHashing.receiptId(address(this), receipt.requester, receipt.modelId, receipt.nonce);
        if (_results[id] != 0) revert InferenceHubAlreadyVerified(id);
    }

    function _terms(Receipt calldata receipt) private view returns (IModelRegistry.ModelTerms memory terms) {
        terms = models.termsOf(receipt.modelId, receipt.tier);
        if (terms.deprecated) revert InferenceHubModelDeprecated(receipt.modelId);
        if (terms.acceptedTiers & receipt.tier.bit() == 0) {
            revert InferenceHubTierNotAccepted(receipt.modelId, receipt.tier);
        }
    }

    function _checkSigned(Receipt calldata receipt, address signer, bytes calldata signature) private view {
        if (receipt.tier == Tier.Signature) {
            // activeOperatorOf answers zero for an unknown or unstaked signer: never a match.
            address operator = operators.activeOperatorOf(signer);
            if (operator == address(0) || operator != receipt.operator) {
                revert InferenceHubUnauthorizedSigner(signer, receipt.operator);
            }
        } else {
            IEnclaveRegistry.EnclaveKey memory key = enclaves.enclaveKeyOf(signer);
            if (key.operator == address(0) || key.operator != receipt.operator || key.expiresAt <= block.timestamp) {
                revert InferenceHubInvalidEnclaveKey(signer, receipt.operator);
            }
            if (!models.isImageApproved(receipt.modelId, key.imageId)) {
                revert InferenceHubImageNotApproved(receipt.modelId, key.imageId);
            }
            if (!operators.isActive(receipt.operator)) revert InferenceHubInactiveOperator(receipt.operator);
        }
        bytes32 digest = _hashTypedDataV4(receipt.hashStruct());
        // ECDSA first: an EOA signer then costs no EXTCODESIZE on a cold account (2,600 gas).
        (address recovered, ECDSA.RecoverError err,) = ECDSA.tryRecoverCalldata(digest, signature);
        if (err == ECDSA.RecoverError.NoError && recovered == signer) return;
        if (!SignatureChecker.isValidERC1271SignatureNowCalldata(signer, digest, signature)) {
            revert InferenceHubInvalidSignature(signer);
        }
    }

    function _checkProof(Receipt calldata receipt, bytes32 id, uint256[8] calldata proof, uint256[] calldata outputs)
        private
        view
    {
        address store = models.verifyingKeyStoreOf(receipt.modelId);
        if (store == address(0)) revert InferenceHubNoVerifyingKey(receipt.modelId);
        // Public signals: [inputCommitment, outputCommitment, outputs..., binding].
        uint256 n = outputs.length;
        uint256[] memory signals = new uint256[](n + 3);
        signals[0] = uint256(receipt.inputCommitment);
        signals[1] = uint256(receipt.outputCommitment);
        for (uint256 i = 0; i < n; ++i) {
            signals[i + 2] = outputs[i];
        }
        signals[n + 2] = ReceiptHashing.bindingOf(id);
        if (!verifier.verifyProof(DataStore.read(store), proof, signals)) revert InferenceHubInvalidProof(receipt.modelId);
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
    ) private returns (uint256 total, uint64 finalAt) {
        Accounting memory acc = _accounting;
        for (uint256 i = 0; i < ids.length; ++i) {
            uint256 fee = _verifyStep(acc, steps[i], evidence[i], ids[i]);
            total += fee;
            if (steps[i].tier != Tier.ZK) {
                uint64 stepFinalAt = _openWindow(ids[i], steps[i], evidence[i].signer, fee, operationId);
                if (stepFinalAt > finalAt) finalAt = stepFinalAt;
            }
        }
        unchecked {
            ++acc.operations;
        }
        _accounting = acc;
    }

    /// @dev Verifies one operation step and credits its operator and model owner; returns its fee.
    function _verifyStep(Accounting memory acc, Receipt calldata step, Evidence calldata evidence, bytes32 id)
        private
        returns (uint256 fee)
    {
        IModelRegistry.ModelTerms memory terms = _terms(step);
        if (step.tier == Tier.ZK) {
            if (!operators.isActive(step.operator)) revert InferenceHubInactiveOperator(step.operator);
            _checkProof(step, id, evidence.proof, evidence.outputs);
            emit ProofVerified(id, step.modelId, evidence.outputs);
        } else if (step.tier == Tier.Signature || step.tier == Tier.TEE) {
            _checkSigned(step, evidence.signer, evidence.signature);
        } else {
            revert InferenceHubWrongTier(step.tier);
        }
        fee = terms.price;
        _count(acc, step.tier);
        _recordSettlement(acc, id, step, fee, terms.owner);
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

    function _recordOperation(bytes32 operationId, Tier weakest, uint64 stepTiers, uint256 count, bytes32 output)
        private
    {
        _results[operationId] = ResultPacking.pack(weakest, _fieldCommitment(output));
        _operationSteps[operationId] = count | (uint256(stepTiers) << 8);
    }

    /// @dev Output commitments are BN254 field elements; that is what lets a result fit one word.
    function _fieldCommitment(bytes32 commitment) private pure returns (bytes32) {
        if (uint256(commitment) >= ReceiptHashing.SNARK_SCALAR_FIELD) revert InferenceHubCommitmentOutOfField(commitment);
        return commitment;
    }

    function _recorded(bytes32 id) internal view override returns (bool) {
        return _results[id] != 0;
    }

    function _modelRegistry() internal view override returns (IModelRegistry) {
        return models;
    }

    function _operatorRegistry() internal view override returns (IOperatorRegistry) {
        return operators;
    }

    function _count(Accounting memory acc, Tier tier) private pure {
        unchecked {
            if (tier == Tier.Signature) ++acc.signatureSteps;
            else if (tier == Tier.TEE) ++acc.teeSteps;
            else ++acc.zkSteps;
        }
    }
}
