// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Tier} from "../types/Tier.sol";

/// @notice Errors and events of the InferenceHub: receipt and operation verification.
interface IInferenceHub {
    /// @notice Evidence for one step of an operation.
    /// @param signer The key that signed (Signature/TEE); ignored for ZK.
    /// @param signature EIP-712 signature over the step's receipt (Signature/TEE).
    /// @param proof Groth16 proof (ZK), see IGroth16Verifier.
    /// @param outputs Quantized outputs as field elements, the ZK public outputs (ZK).
    struct Evidence {
        address signer;
        bytes signature;
        uint256[8] proof;
        uint256[] outputs;
    }

    /// @notice What the requester asks of a multi-step operation.
    /// @param inputCommitment Commitment to the input the first step must consume.
    /// @param minEachStep The least tier any step may have.
    /// @param minFinalStep The least tier of the final step.
    /// @param maxFee The most the requester accepts to pay for all steps together.
    struct OperationRequest {
        bytes32 inputCommitment;
        Tier minEachStep;
        Tier minFinalStep;
        uint256 maxFee;
    }

    /// @notice The id (receipt or operation) was already verified.
    error InferenceHubAlreadyVerified(bytes32 id);
    /// @notice The deadline has passed.
    error InferenceHubExpired(uint64 deadline);
    /// @notice The model is deprecated.
    error InferenceHubModelDeprecated(bytes32 modelId);
    /// @notice The model does not accept this tier.
    error InferenceHubTierNotAccepted(bytes32 modelId, Tier tier);
    /// @notice This entry point does not serve this tier.
    error InferenceHubWrongTier(Tier tier);
    /// @notice The signer is not an active signer of the receipt's operator.
    error InferenceHubUnauthorizedSigner(address signer, address operator);
    /// @notice The signature does not verify (malformed, malleable, or by another key).
    error InferenceHubInvalidSignature(address signer);
    /// @notice The key is not a registered, unexpired enclave key of the operator.
    error InferenceHubInvalidEnclaveKey(address key, address operator);
    /// @notice The enclave image behind the key is not approved for the model.
    error InferenceHubImageNotApproved(bytes32 modelId, bytes32 imageId);
    /// @notice The operator has no active stake.
    error InferenceHubInactiveOperator(address operator);
    /// @notice The Groth16 proof does not verify.
    error InferenceHubInvalidProof(bytes32 modelId);
    /// @notice The model has no verifying key.
    error InferenceHubNoVerifyingKey(bytes32 modelId);
    /// @notice Only the requester may submit its receipts and operations (operators get paid through
    ///         the request book: an on-chain request or an EIP-712 authorization).
    error InferenceHubUnauthorizedSubmitter(address requester, address caller);
    /// @notice The fee is above what the submitter accepted.
    error InferenceHubFeeAboveMaximum(uint256 fee, uint256 maxFee);
    /// @notice Step `index`'s input commitment is not the previous step's output commitment.
    error InferenceHubBrokenChain(uint256 index);
    /// @notice The operation's first input commitment is not the requested one.
    error InferenceHubInputMismatch(bytes32 expected, bytes32 actual);
    /// @notice Operations take 1 to 16 steps, with one piece of evidence each.
    error InferenceHubInvalidStepCount(uint256 steps, uint256 evidence);
    /// @notice Step `index` does not share the operation's requester, nonce and deadline.
    error InferenceHubStepMismatch(uint256 index);
    /// @notice The operation's step tiers do not meet the requester's policy.
    error InferenceHubPolicyNotMet(uint256 index, Tier tier, Tier required);
    /// @notice The id was not verified at the required tier.
    error InferenceHubBelowTier(bytes32 id, Tier tier, Tier required);
    /// @notice A zero address was given where an account is required.
    error InferenceHubZeroAddress();
    /// @notice A single receipt used an operation-step nonce (top bit set), or a step one without it.
    error InferenceHubNonceNamespace(uint256 nonce);
    /// @notice Two steps of one operation name the same model (they would share a receipt id).
    error InferenceHubRepeatedModel(uint256 index);
    /// @notice An output commitment is not a BN254 field element (the one commitment scheme's range).
    error InferenceHubCommitmentOutOfField(bytes32 commitment);

    /// @notice A receipt (or an operation step) was verified and `requester` paid `fee`, split exactly
    ///         into the operator's, the model owner's and the treasury's shares.
    event ReceiptVerified(
        bytes32 indexed id,
        bytes32 indexed modelId,
        address indexed operator,
        address requester,
        Tier tier,
        bytes32 inputCommitment,
        bytes32 outputCommitment,
        uint256 fee,
        uint256 operatorShare,
        uint256 modelOwnerShare,
        uint256 treasuryShare
    );
    /// @notice A ZK step's quantized outputs (field elements), for readers of the values.
    event ProofVerified(bytes32 indexed id, bytes32 indexed modelId, uint256[] outputs);
    /// @notice A multi-step operation was verified in one call. Its id is derived from requester and nonce.
    event OperationVerified(
        bytes32 indexed operationId, address indexed requester, uint256 steps, uint64 stepTiers, uint256 fee
    );
}
