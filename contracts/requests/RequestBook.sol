// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {SignatureChecker} from "@openzeppelin/contracts/utils/cryptography/SignatureChecker.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {VerificationCore} from "../core/VerificationCore.sol";
import {BatchFulfilment} from "./BatchFulfilment.sol";
import {RequestWindows} from "./RequestWindows.sol";
import {IEnclaveRegistry} from "../interfaces/IEnclaveRegistry.sol";
import {IGroth16Verifier} from "../interfaces/IGroth16Verifier.sol";
import {IInferenceConsumer} from "../interfaces/IInferenceConsumer.sol";
import {IModelRegistry} from "../interfaces/IModelRegistry.sol";
import {IOperatorRegistry} from "../interfaces/IOperatorRegistry.sol";
import {IRequestBook} from "../interfaces/IRequestBook.sol";
import {IRequestEscrow} from "../interfaces/IRequestEscrow.sol";
import {ReceiptHashing} from "../libraries/ReceiptHashing.sol";
import {ResultPacking} from "../libraries/ResultPacking.sol";
import {Receipt} from "../types/Receipt.sol";
import {Tier} from "../types/Tier.sol";

/// @title RequestBook
/// @notice Inference requests end to end: a requester reserves a max fee and asks for a pipeline on an
///         input under a tier policy; one operator fulfils every step with its evidence; the book
///         verifies the steps with the shared VerificationCore, charges the actual price through the
///         hub's escrow, records the result and calls the requester's callback with the verified
///         output values. Off-chain, a requester's EIP-712 authorization lets one operator settle
///         exactly one inference (`fulfilAuthorized`). Fulfilments are results like the hub's: a
///         Signature/TEE step of a model with a circuit is pending for the hub's challenge window
///         (`statusOf`), backed by a bond of the operator's stake that the hub locks with the payment,
///         and the disputes contract can refute it (RequestWindows).
/// @dev Storage is one word per request (`_state`): OPEN, CANCELLED, or the packed result (weakest
///      tier, output commitment). Everything else the request asked is committed to by its id
///      (`requestIdOf`) and resent with each call, which costs calldata instead of ~22,100 gas per
///      stored word. A step's receipt is rebuilt here from the request, so evidence can only ever be
///      for the requested model, input chain, requester and deadline.
contract RequestBook is ReentrancyGuardTransient, RequestWindows, BatchFulfilment {
    /// @notice Pipelines take at most this many models (their tiers pack into 64 bits).
    uint256 public constant MAX_STEPS = 16;

    /// @notice EIP-712 type of an off-chain authorization (mirrored by src/requests AUTHORIZATION_TYPES).
    bytes32 public constant AUTHORIZATION_TYPEHASH = keccak256(
        "InferenceAuthorization(address requester,address operator,bytes32[] pipeline,bytes32 inputCommitment,uint8 minEachStep,uint8 minFinalStep,uint256 maxFee,uint64 deadline,uint256 nonce)"
    );

    uint256 private constant OPEN = 1;
    uint256 private constant CANCELLED = 2;
    /// @dev (p - 1) / 2: delivered outputs are the canonical signed representatives of field elements.
    uint256 private constant HALF_FIELD = ReceiptHashing.SNARK_SCALAR_FIELD / 2;
    /// @dev Gas kept beyond the callback's limit for the call itself and what follows it.
    uint256 private constant CALLBACK_RESERVE = 10_000;

    mapping(bytes32 requestId => uint256) private _state;
    mapping(bytes32 requestId => bytes32) private _pendingCallbacks;

    /// @dev What verifying a fulfilment produced.
    struct Verified {
        uint64 stepTiers;
        Tier weakest;
        bytes32 outputCommitment;
        uint256 total;
        IRequestEscrow.StepFee[] fees;
        uint256 bond;
        uint64 finalAt;
        StepWindows windows;
    }

    constructor(
        IRequestEscrow hub_,
        IModelRegistry models_,
        IOperatorRegistry operators_,
        IEnclaveRegistry enclaves_,
        IGroth16Verifier verifier_
    ) VerificationCore("OPG RequestBook", models_, operators_, enclaves_, verifier_) RequestWindows(hub_) {}

    // ---------------------------------------------------------------- requests

    /// @inheritdoc IRequestBook
    function request(RequestParams calldata params, bytes calldata input, string calldata inputURI)
        external
        nonReentrant
        returns (bytes32 requestId)
    {
        if ((input.length == 0) == (bytes(inputURI).length == 0)) revert RequestBookInvalidInput();
        if (params.deadline <= block.timestamp) revert RequestBookInvalidDeadline(params.deadline);
        if (params.callback == address(0) ? params.callbackGasLimit != 0 : params.callback.code.length == 0) {
            revert RequestBookInvalidCallback(params.callback, params.callbackGasLimit);
        }
        uint256 price = _estimate(params.pipeline, params.minEachStep, params.minFinalStep);
        if (price > params.maxFee) revert RequestBookFeeBelowPrice(params.maxFee, price);
        requestId = _requestId(msg.sender, params);
        if (_state[requestId] != 0) revert RequestBookDuplicate(requestId);
        _state[requestId] = OPEN;
        if (params.maxFee != 0) hub.reserve(msg.sender, params.maxFee);
        emit InferenceRequested(requestId, msg.sender, params.operator, params, input, inputURI);
    }

    /// @inheritdoc IRequestBook
    function fulfil(
        address requester,
        RequestParams calldata params,
        address operator,
        StepEvidence[] calldata steps,
        int256[] calldata outputs
    ) public override nonReentrant returns (bytes32 requestId) {
        requestId = _openRequest(requester, params);
        if (params.operator != address(0) && params.operator != operator) {
            revert RequestBookWrongOperator(params.operator, operator);
        }
        Verified memory v = _verifyAll(requestId, requester, params, operator, steps, outputs);
        if (v.weakest != Tier.ZK) {
            (v.bond, v.finalAt) = _openWindows(requestId, requester, params, operator, steps, v.fees, v.windows);
        }
        _record(requestId, requester, operator, v, params.maxFee, outputs);
        _deliver(requestId, params.callback, params.callbackGasLimit, v.stepTiers, outputs);
    }

    /// @inheritdoc IRequestBook
    function fulfilAuthorized(
        address requester,
        RequestParams calldata params,
        bytes calldata requesterSignature,
        StepEvidence[] calldata steps,
        int256[] calldata outputs
    ) external nonReentrant returns (bytes32 requestId) {
        if (params.operator == address(0) || params.callback != address(0) || params.callbackGasLimit != 0) {
            revert RequestBookInvalidAuthorization();
        }
        requestId = _requestId(requester, params);
        uint256 state = _state[requestId];
        if (state != 0) revert RequestBookNotOpen(requestId, _status(state));
        _checkPipeline(params.pipeline, params.minEachStep, params.minFinalStep);
        if (!SignatureChecker.isValidSignatureNowCalldata(requester, authorizationDigest(requester, params), requesterSignature)) {
            revert RequestBookInvalidRequesterSignature(requester);
        }
        Verified memory v = _verifyAll(requestId, requester, params, params.operator, steps, outputs);
        if (v.weakest != Tier.ZK) {
            (v.bond, v.finalAt) = _openWindows(requestId, requester, params, params.operator, steps, v.fees, v.windows);
        }
        // Nothing was reserved: the price is debited from the requester's escrow now.
        _record(requestId, requester, params.operator, v, 0, outputs);
    }

    /// @inheritdoc IRequestBook
    function cancel(address requester, RequestParams calldata params)
        external
        nonReentrant
        returns (bytes32 requestId)
    {
        if (msg.sender != requester) revert RequestBookNotRequester(msg.sender, requester);
        requestId = _openRequest(requester, params);
        if (block.timestamp <= params.deadline) revert RequestBookNotExpired(requestId, params.deadline);
        _state[requestId] = CANCELLED;
        if (params.maxFee != 0) hub.release(requester, params.maxFee);
        emit InferenceCancelled(requestId, requester, params.maxFee);
    }

    /// @inheritdoc IRequestBook
    function retryCallback(bytes32 requestId, uint64 stepTiers, int256[] calldata outputs) external nonReentrant {
        bytes32 pending = _pendingCallbacks[requestId];
        if (pending == 0 || pending != keccak256(abi.encode(msg.sender, stepTiers, outputs))) {
            revert RequestBookNoPendingCallback(requestId);
        }
        delete _pendingCallbacks[requestId];
        try IInferenceConsumer(msg.sender).onInferenceFulfilled(requestId, stepTiers, outputs) {
            emit CallbackDelivered(requestId, msg.sender);
        } catch (bytes memory reason) {
            revert RequestBookCallbackReverted(reason);
        }
    }

    // ---------------------------------------------------------------- views

    /// @inheritdoc IRequestBook
    function requestIdOf(address requester, RequestParams calldata params) public view override returns (bytes32) {
        return _requestId(requester, params);
    }

    /// @inheritdoc IRequestBook
    function resultOf(bytes32 requestId) public view override returns (Status status, Tier tier, bytes32 outputCommitment) {
        uint256 state = _state[requestId];
        status = _status(state);
        if (status == Status.Fulfilled && _isRefuted(requestId)) return (Status.Refuted, Tier.None, bytes32(0));
        if (status == Status.Fulfilled) {
            tier = ResultPacking.tierOf(state);
            outputCommitment = ResultPacking.outputOf(state);
        }
    }

    /// @inheritdoc IRequestBook
    function estimateFee(bytes32[] calldata pipeline, Tier minEachStep, Tier minFinalStep)
        external
        view
        returns (uint256)
    {
        return _estimate(pipeline, minEachStep, minFinalStep);
    }

    /// @inheritdoc IRequestBook
    function pendingCallback(bytes32 requestId) external view returns (bytes32) {
        return _pendingCallbacks[requestId];
    }

    /// @notice The EIP-712 digest a requester signs to authorize `params` off-chain.
    function authorizationDigest(address requester, RequestParams calldata params) public view returns (bytes32) {
        return _hashTypedDataV4(
            keccak256(
                abi.encode(
                    AUTHORIZATION_TYPEHASH,
                    requester,
                    params.operator,
                    keccak256(abi.encodePacked(params.pipeline)),
                    params.inputCommitment,
                    params.minEachStep,
                    params.minFinalStep,
                    params.maxFee,
                    params.deadline,
                    params.nonce
                )
            )
        );
    }

    /// @notice The EIP-712 digest an operator (or enclave key) signs for a request step's receipt.
    function receiptDigest(Receipt calldata receipt) external view returns (bytes32) {
        return _hashTypedDataV4(ReceiptHashing.hashStruct(receipt));
    }

    // ---------------------------------------------------------------- internals

    function _requestId(address requester, RequestParams calldata params) private view returns (bytes32) {
        return keccak256(abi.encode(block.chainid, address(this), requester, params));
    }

    function _status(uint256 state) private pure returns (Status) {
        if (state == 0) return Status.None;
        if (state == OPEN) return Status.Open;
        if (state == CANCELLED) return Status.Cancelled;
        return Status.Fulfilled;
    }

    function _openRequest(address requester, RequestParams calldata params) private view returns (bytes32 requestId) {
        requestId = _requestId(requester, params);
        uint256 state = _state[requestId];
        if (state != OPEN) revert RequestBookNotOpen(requestId, _status(state));
    }

    /// @dev Verifies a fulfilment: deadline, every step, the delivered outputs and the max fee.
    function _verifyAll(
        bytes32 requestId,
        address requester,
        RequestParams calldata params,
        address operator,
        StepEvidence[] calldata steps,
        int256[] calldata outputs
    ) private view returns (Verified memory v) {
        if (block.timestamp > params.deadline) revert RequestBookExpired(requestId, params.deadline);
        v = _verify(requestId, requester, params, operator, steps);
        _checkOutputs(steps[steps.length - 1], outputs);
        if (v.total > params.maxFee) revert RequestBookFeeAboveMaximum(v.total, params.maxFee);
    }

    /// @dev Records the result, pays through the hub (`reserved` zero: debit at once) and announces it.
    function _record(
        bytes32 requestId,
        address requester,
        address operator,
        Verified memory v,
        uint256 reserved,
        int256[] calldata outputs
    ) private {
        _state[requestId] = ResultPacking.pack(v.weakest, v.outputCommitment);
        hub.settle(requester, reserved, operator, v.fees, v.bond, v.finalAt);
        emit InferenceFulfilled(requestId, operator, requester, v.stepTiers, v.outputCommitment, v.total, outputs);
    }

    /// @dev Checks every step against the request: count, policy, chain of commitments, evidence.
    function _verify(
        bytes32 requestId,
        address requester,
        RequestParams calldata params,
        address operator,
        StepEvidence[] calldata steps
    ) private view returns (Verified memory v) {
        uint256 count = params.pipeline.length;
        if (steps.length != count) revert RequestBookStepCount(count, steps.length);
        v.fees = new IRequestEscrow.StepFee[](count);
        v.weakest = Tier.ZK;
        v.windows.allBacked = true;
        Receipt memory r;
        r.inputCommitment = params.inputCommitment;
        r.requester = requester;
        r.operator = operator;
        r.nonce = uint256(requestId);
        r.deadline = params.deadline;
        for (uint256 i = 0; i < count; ++i) {
            StepEvidence calldata e = steps[i];
            Tier required = _required(params.minEachStep, params.minFinalStep, i == count - 1);
            if (e.tier < required) revert RequestBookPolicyNotMet(i, e.tier, required);
            r.modelId = params.pipeline[i];
            r.outputCommitment = e.outputCommitment;
            r.outputDigest = e.outputDigest;
            r.tier = e.tier;
            IModelRegistry.ModelTerms memory terms = _terms(r.modelId, e.tier);
            if (e.tier == Tier.ZK) {
                bytes32 stepId = ReceiptHashing.receiptId(address(this), requester, r.modelId, r.nonce);
                _checkProof(r.modelId, r.inputCommitment, e.outputCommitment, stepId, operator, e.proof, e.outputs);
            } else {
                _checkSigned(ReceiptHashing.hashStructMemory(r), r.modelId, operator, e.tier, e.signer, e.signature);
                _noteStepWindow(v.windows, i, r.modelId, terms);
            }
            v.fees[i] = IRequestEscrow.StepFee({fee: terms.price, modelOwner: terms.owner, tier: e.tier});
            v.total += terms.price;
            if (e.tier < v.weakest) v.weakest = e.tier;
            v.stepTiers |= uint64(uint256(uint8(e.tier)) << (i * 4));
            r.inputCommitment = e.outputCommitment;
        }
        v.outputCommitment = _fieldCommitment(r.inputCommitment);
    }

    /// @dev The delivered outputs are the final step's: its proof's public outputs, or its signed digest.
    function _checkOutputs(StepEvidence calldata last, int256[] calldata outputs) private pure {
        if (last.tier != Tier.ZK) {
            if (keccak256(abi.encode(outputs)) != last.outputDigest) revert RequestBookOutputMismatch();
            return;
        }
        uint256 n = outputs.length;
        if (last.outputs.length != n) revert RequestBookOutputMismatch();
        for (uint256 i = 0; i < n; ++i) {
            int256 x = outputs[i];
            uint256 magnitude = x < 0 ? uint256(-(x + 1)) + 1 : uint256(x);
            if (magnitude > HALF_FIELD) revert RequestBookOutputMismatch();
            uint256 element = x < 0 ? ReceiptHashing.SNARK_SCALAR_FIELD - magnitude : magnitude;
            if (element != last.outputs[i]) revert RequestBookOutputMismatch();
        }
    }

    /// @dev Calls the callback with exactly its gas limit; a failure is recorded, never reverted.
    function _deliver(
        bytes32 requestId,
        address callback,
        uint32 gasLimit,
        uint64 stepTiers,
        int256[] calldata outputs
    ) private {
        if (callback == address(0)) return;
        bytes memory data = abi.encodeCall(IInferenceConsumer.onInferenceFulfilled, (requestId, stepTiers, outputs));
        // EIP-150 forwards at most 63/64 of what is left: refuse a fulfilment that would starve the callback.
        uint256 needed = uint256(gasLimit) + gasLimit / 63 + CALLBACK_RESERVE;
        if (gasleft() < needed) revert RequestBookInsufficientCallbackGas(gasleft(), needed);
        bool ok;
        uint256 size;
        assembly ("memory-safe") {
            ok := call(gasLimit, callback, 0, add(data, 0x20), mload(data), 0, 0)
            size := returndatasize()
        }
        if (ok) {
            emit CallbackDelivered(requestId, callback);
            return;
        }
        // A consumer's revert data is bounded here: it cannot make the fulfilment pay for a huge copy.
        if (size > 256) size = 256;
        bytes memory reason = new bytes(size);
        assembly ("memory-safe") {
            returndatacopy(add(reason, 0x20), 0, size)
        }
        _pendingCallbacks[requestId] = keccak256(abi.encode(callback, stepTiers, outputs));
        emit CallbackFailed(requestId, callback, reason);
    }

    function _windowModels() internal view override returns (IModelRegistry) {
        return models;
    }

    /// @dev A request the book fulfilled (refuted or not) counts as recorded: final at once without a window.
    function _recorded(bytes32 id) internal view override returns (bool) {
        return _state[id] > CANCELLED;
    }

    /// @dev The tier step `isFinal` must reach.
    function _required(Tier minEachStep, Tier minFinalStep, bool isFinal) private pure returns (Tier) {
        return isFinal && minFinalStep > minEachStep ? minFinalStep : minEachStep;
    }

    /// @dev Pipeline length, distinct models and a valid policy.
    function _checkPipeline(bytes32[] calldata pipeline, Tier minEachStep, Tier minFinalStep) private pure {
        uint256 count = pipeline.length;
        if (count == 0 || count > MAX_STEPS) revert RequestBookInvalidPipelineLength(count);
        if (minEachStep == Tier.None || minFinalStep == Tier.None) {
            revert RequestBookInvalidPolicy(minEachStep, minFinalStep);
        }
        for (uint256 i = 1; i < count; ++i) {
            for (uint256 j = 0; j < i; ++j) {
                if (pipeline[j] == pipeline[i]) revert RequestBookRepeatedModel(i);
            }
        }
    }

    /// @dev Σ per step of the price at the lowest accepted tier at or above the required one.
    function _estimate(bytes32[] calldata pipeline, Tier minEachStep, Tier minFinalStep)
        private
        view
        returns (uint256 fee)
    {
        _checkPipeline(pipeline, minEachStep, minFinalStep);
        uint256 count = pipeline.length;
        for (uint256 i = 0; i < count; ++i) {
            bytes32 modelId = pipeline[i];
            Tier tier = _required(minEachStep, minFinalStep, i == count - 1);
            IModelRegistry.ModelTerms memory terms = models.termsOf(modelId, tier);
            if (terms.deprecated) revert RequestBookModelDeprecated(modelId);
            while (terms.acceptedTiers & tier.bit() == 0) {
                if (tier == Tier.ZK) revert RequestBookTierNotAccepted(modelId, _required(minEachStep, minFinalStep, i == count - 1));
                tier = Tier(uint8(tier) + 1);
                terms = models.termsOf(modelId, tier);
            }
            fee += terms.price;
        }
    }
}
