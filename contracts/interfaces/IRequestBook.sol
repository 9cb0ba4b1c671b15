// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Claim} from "../types/Claim.sol";
import {Tier} from "../types/Tier.sol";

/// @notice On-chain inference requests: a requester (EOA or contract) asks for a pipeline of models on
///         an input under a tier policy, the max fee is reserved from its hub escrow, one operator
///         fulfils it with the evidence of every step, the book verifies it with the same verification
///         core as the hub, charges the actual price, releases the rest and delivers the verified output
///         values to an optional callback. Described for operators in docs/requests.md.
/// @dev A request's id commits to everything asked (see `requestIdOf`): the id *is* the description,
///      so one storage word per request suffices (open marker, then the packed result).
interface IRequestBook {
    /// @notice What a requester asks. The same struct backs on-chain requests and off-chain
    ///         authorizations (EIP-712 `InferenceAuthorization`, callback fields zero).
    /// @param pipeline Ordered model ids, 1 to 16, no model twice. Step i's output commitment is step
    ///        i+1's input commitment.
    /// @param inputCommitment Chained-Poseidon commitment (src/commitments) to the quantized input of
    ///        the first model, at that model's scale.
    /// @param minEachStep The least tier any step may have (Signature, TEE or ZK).
    /// @param minFinalStep The least tier of the final step (≥ minEachStep to matter).
    /// @param operator The only operator that may fulfil it; zero for any active operator (required
    ///        for authorizations).
    /// @param maxFee The most the requester pays (OPG wei), reserved at request time.
    /// @param deadline Unix seconds: fulfilment until then, cancellation after.
    /// @param callback Contract called with the outputs (IInferenceConsumer); zero for none.
    /// @param callbackGasLimit Gas the callback gets.
    /// @param nonce Any value making the id unique for this requester (a requester never reuses one).
    struct RequestParams {
        bytes32[] pipeline;
        bytes32 inputCommitment;
        Tier minEachStep;
        Tier minFinalStep;
        address operator;
        uint256 maxFee;
        uint64 deadline;
        address callback;
        uint32 callbackGasLimit;
        uint256 nonce;
    }

    /// @notice The evidence for one pipeline step. The book builds the step's Receipt itself from the
    ///         request (model, input = previous output, requester, operator, nonce = uint256(requestId),
    ///         deadline) and these fields, so a step can only ever be the requested one.
    /// @param tier Signature, TEE or ZK (at least the policy's).
    /// @param outputCommitment Commitment to the step's quantized output values.
    /// @param outputDigest keccak256(abi.encode(int256[] outputs)) of the quantized output values;
    ///        checked against the delivered outputs for a Signature/TEE final step, free otherwise.
    /// @param signer The operator's signer key (Signature) or the enclave key (TEE); unused for ZK.
    /// @param signature EIP-712 signature of the step Receipt under the book's domain (Signature/TEE).
    /// @param proof Groth16 proof (ZK), binding = bindingOf(stepReceiptId, operator).
    /// @param outputs The proof's public outputs as field elements (ZK); empty otherwise.
    struct StepEvidence {
        Tier tier;
        bytes32 outputCommitment;
        bytes32 outputDigest;
        address signer;
        bytes signature;
        uint256[8] proof;
        uint256[] outputs;
    }

    /// @notice Life of a request. `Refuted`: fulfilled, then proven wrong by a fraud proof in its
    ///         challenge window (never final; the requester was refunded).
    enum Status {
        None,
        Open,
        Fulfilled,
        Cancelled,
        Refuted
    }

    /// @notice The pipeline is empty or longer than 16 models.
    error RequestBookInvalidPipelineLength(uint256 length);
    /// @notice A model appears twice in the pipeline (its step receipts would share an id).
    error RequestBookRepeatedModel(uint256 index);
    /// @notice A policy tier is not Signature, TEE or ZK.
    error RequestBookInvalidPolicy(Tier minEachStep, Tier minFinalStep);
    /// @notice The model is deprecated.
    error RequestBookModelDeprecated(bytes32 modelId);
    /// @notice The model accepts no tier at or above the required one.
    error RequestBookTierNotAccepted(bytes32 modelId, Tier required);
    /// @notice The max fee does not cover the cheapest fulfilment meeting the policy.
    error RequestBookFeeBelowPrice(uint256 maxFee, uint256 price);
    /// @notice The deadline is not in the future.
    error RequestBookInvalidDeadline(uint64 deadline);
    /// @notice The callback is not a contract, or a gas limit was given without a callback.
    error RequestBookInvalidCallback(address callback, uint32 gasLimit);
    /// @notice Give exactly one of the input bytes and the input URI.
    error RequestBookInvalidInput();
    /// @notice A request with this id already exists (reuse of a nonce).
    error RequestBookDuplicate(bytes32 requestId);
    /// @notice The request is not open (unknown, fulfilled or cancelled).
    error RequestBookNotOpen(bytes32 requestId, Status status);
    /// @notice The request's deadline has passed.
    error RequestBookExpired(bytes32 requestId, uint64 deadline);
    /// @notice Cancellation is only possible after the deadline.
    error RequestBookNotExpired(bytes32 requestId, uint64 deadline);
    /// @notice Only the operator named by the request (or authorization) may be paid for it.
    error RequestBookWrongOperator(address expected, address actual);
    /// @notice An authorization names no operator, or carries a callback.
    error RequestBookInvalidAuthorization();
    /// @notice The requester's signature over the authorization does not verify.
    error RequestBookInvalidRequesterSignature(address requester);
    /// @notice One piece of evidence per pipeline step.
    error RequestBookStepCount(uint256 expected, uint256 actual);
    /// @notice Step `index`'s tier is below the policy.
    error RequestBookPolicyNotMet(uint256 index, Tier tier, Tier required);
    /// @notice The delivered outputs are not the ones the final step's evidence covers.
    error RequestBookOutputMismatch();
    /// @notice The actual price is above the max fee (prices rose since the request).
    error RequestBookFeeAboveMaximum(uint256 fee, uint256 maxFee);
    /// @notice Not enough gas left to give the callback its full gas limit.
    error RequestBookInsufficientCallbackGas(uint256 available, uint256 needed);
    /// @notice No failed callback is waiting for a retry under this id and outputs.
    error RequestBookNoPendingCallback(bytes32 requestId);
    /// @notice The retried callback reverted again (nothing changed; retry later).
    error RequestBookCallbackReverted(bytes reason);
    /// @notice Only the requester may cancel.
    error RequestBookNotRequester(address caller, address requester);

    /// @notice A request was made and `maxFee` reserved. Carries everything an operator needs: the
    ///         input as bytes (abi.encode(int256[]) quantized at the first model's scale) or a URI
    ///         whose content commits to `params.inputCommitment`.
    event InferenceRequested(
        bytes32 indexed requestId, address indexed requester, address indexed operator, RequestParams params, bytes input, string inputURI
    );
    /// @notice A request (or authorization) was fulfilled: `fee` charged (the rest released), the
    ///         final step's verified output values and commitment recorded. `stepTiers` packs 4 bits
    ///         per step, step 0 lowest.
    event InferenceFulfilled(
        bytes32 indexed requestId,
        address indexed operator,
        address indexed requester,
        uint64 stepTiers,
        bytes32 outputCommitment,
        uint256 fee,
        int256[] outputs
    );
    /// @notice A fulfilled Signature/TEE step is pending under `id` until `claim.finalAt` (the request
    ///         id itself for a request of one step, else `stepIdOf`): `claim` is what a challenge restates
    ///         (IDisputes.challenge), and `claim.bond` of the operator's stake is locked until then.
    event FulfilmentPending(bytes32 indexed id, bytes32 indexed requestId, Claim claim);

    /// @notice The callback ran without reverting.
    event CallbackDelivered(bytes32 indexed requestId, address indexed callback);
    /// @notice The callback reverted, ran out of gas or reentered: the fulfilment stands and the
    ///         consumer may `retryCallback` (reason truncated to 256 bytes).
    event CallbackFailed(bytes32 indexed requestId, address indexed callback, bytes reason);
    /// @notice An expired request was cancelled and its reservation returned.
    event InferenceCancelled(bytes32 indexed requestId, address indexed requester, uint256 refund);

    /// @notice Requests an inference by the caller; reserves `params.maxFee` from its hub escrow.
    /// @param input The input values as abi.encode(int256[]) at the first model's scale (or empty).
    /// @param inputURI Where a large input lives (or empty); its content is checked off-chain against
    ///        `params.inputCommitment`.
    function request(RequestParams calldata params, bytes calldata input, string calldata inputURI)
        external
        returns (bytes32 requestId);

    /// @notice Fulfils an open request: verifies every step, charges the actual price, records the
    ///         result and calls the callback. Anyone may submit; `operator` is paid and must be bound
    ///         by the evidence (signer of the operator, its enclave key, or the ZK binding).
    /// @param outputs The final step's quantized output values delivered to the callback.
    function fulfil(
        address requester,
        RequestParams calldata params,
        address operator,
        StepEvidence[] calldata steps,
        int256[] calldata outputs
    ) external returns (bytes32 requestId);

    /// @notice Settles an inference the requester authorized off-chain (EIP-712 `InferenceAuthorization`
    ///         signed by `requester`, ERC-1271 accepted) for exactly `params.operator`: the price is
    ///         debited from the requester's escrow now. Each authorization settles once.
    function fulfilAuthorized(
        address requester,
        RequestParams calldata params,
        bytes calldata requesterSignature,
        StepEvidence[] calldata steps,
        int256[] calldata outputs
    ) external returns (bytes32 requestId);

    /// @notice Cancels the caller's request after its deadline and returns the reservation.
    /// @param requester Must be the caller (named so that a stranger gets a clear error).
    function cancel(address requester, RequestParams calldata params) external returns (bytes32 requestId);

    /// @notice Delivers a failed callback again, with all the gas the caller gives. Only the callback
    ///         contract itself can, with exactly the step tiers and outputs of the failed delivery
    ///         (see the CallbackFailed event and the InferenceFulfilled event).
    function retryCallback(bytes32 requestId, uint64 stepTiers, int256[] calldata outputs) external;

    /// @notice keccak256(abi.encode(chainid, book, requester, params)): what a request's id commits to.
    function requestIdOf(address requester, RequestParams calldata params) external view returns (bytes32);

    /// @notice Status of `requestId`, and for a fulfilled one its weakest tier and output commitment.
    ///         A fulfilled request may still be pending (IPendingResults.statusOf says until when).
    function resultOf(bytes32 requestId) external view returns (Status status, Tier tier, bytes32 outputCommitment);

    /// @notice The cheapest fee that meets the policy: per step, the price at the lowest tier the model
    ///         accepts at or above the required one. Reverts like `request` for bad pipelines.
    function estimateFee(bytes32[] calldata pipeline, Tier minEachStep, Tier minFinalStep)
        external
        view
        returns (uint256 fee);

    /// @notice keccak256(abi.encode(callback, stepTiers, outputs)) of a failed callback awaiting retry
    ///         (zero if none).
    function pendingCallback(bytes32 requestId) external view returns (bytes32 outputsHash);
}
