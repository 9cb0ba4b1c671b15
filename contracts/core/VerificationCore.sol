// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {SignatureChecker} from "@openzeppelin/contracts/utils/cryptography/SignatureChecker.sol";
import {IEnclaveRegistry} from "../interfaces/IEnclaveRegistry.sol";
import {IGroth16Verifier} from "../interfaces/IGroth16Verifier.sol";
import {IInferenceHub} from "../interfaces/IInferenceHub.sol";
import {IModelRegistry} from "../interfaces/IModelRegistry.sol";
import {IOperatorRegistry} from "../interfaces/IOperatorRegistry.sol";
import {DataStore} from "../libraries/DataStore.sol";
import {ReceiptHashing} from "../libraries/ReceiptHashing.sol";
import {Tier} from "../types/Tier.sol";

/// @title VerificationCore
/// @notice The one place that decides whether a step's evidence backs it at its tier: an active
///         operator's signature, a registered enclave key's signature (approved image, unexpired key,
///         staked operator), or a Groth16 proof under the model's key bound to the receipt and its
///         operator. The hub (receipts, operations) and the request book (requests) both inherit it,
///         each under its own EIP-712 domain so evidence made for one never verifies at the other.
/// @dev Reverts with the hub's custom errors (IInferenceHub) whichever contract uses it.
abstract contract VerificationCore is EIP712 {
    /// @notice Models, prices, verifying keys and approved enclave images.
    IModelRegistry public immutable models;
    /// @notice Staked operators and their signer keys.
    IOperatorRegistry public immutable operators;
    /// @notice Attested enclave keys.
    IEnclaveRegistry public immutable enclaves;
    /// @notice Groth16 verification.
    IGroth16Verifier public immutable verifier;

    constructor(
        string memory domainName,
        IModelRegistry models_,
        IOperatorRegistry operators_,
        IEnclaveRegistry enclaves_,
        IGroth16Verifier verifier_
    ) EIP712(domainName, "1") {
        if (
            address(models_) == address(0) || address(operators_) == address(0) || address(enclaves_) == address(0)
                || address(verifier_) == address(0)
        ) revert IInferenceHub.InferenceHubZeroAddress();
        models = models_;
        operators = operators_;
        enclaves = enclaves_;
        verifier = verifier_;
    }

    /// @dev The model's terms at `tier`, refusing deprecated models and tiers it does not accept.
    function _terms(bytes32 modelId, Tier tier) internal view returns (IModelRegistry.ModelTerms memory terms) {
        terms = models.termsOf(modelId, tier);
        if (terms.deprecated) revert IInferenceHub.InferenceHubModelDeprecated(modelId);
        if (terms.acceptedTiers & tier.bit() == 0) revert IInferenceHub.InferenceHubTierNotAccepted(modelId, tier);
    }

    /// @dev Checks a Signature- or TEE-tier step whose receipt has EIP-712 struct hash `structHash`.
    function _checkSigned(
        bytes32 structHash,
        bytes32 modelId,
        address operator,
        Tier tier,
        address signer,
        bytes calldata signature
    ) internal view {
        if (tier == Tier.Signature) {
            // activeOperatorOf answers zero for an unknown or unstaked signer: never a match.
            address bound = operators.activeOperatorOf(signer);
            if (bound == address(0) || bound != operator) revert IInferenceHub.InferenceHubUnauthorizedSigner(signer, operator);
        } else if (tier == Tier.TEE) {
            IEnclaveRegistry.EnclaveKey memory key = enclaves.enclaveKeyOf(signer);
            if (key.operator == address(0) || key.operator != operator || key.expiresAt <= block.timestamp) {
                revert IInferenceHub.InferenceHubInvalidEnclaveKey(signer, operator);
            }
            if (!models.isImageApproved(modelId, key.imageId)) {
                revert IInferenceHub.InferenceHubImageNotApproved(modelId, key.imageId);
            }
            if (!operators.isActive(operator)) revert IInferenceHub.InferenceHubInactiveOperator(operator);
        } else {
            revert IInferenceHub.InferenceHubWrongTier(tier);
        }
        bytes32 digest = _hashTypedDataV4(structHash);
        // ECDSA first: an EOA signer then costs no EXTCODESIZE on a cold account (2,600 gas).
        (address recovered, ECDSA.RecoverError err,) = ECDSA.tryRecoverCalldata(digest, signature);
        if (err == ECDSA.RecoverError.NoError && recovered == signer) return;
        if (!SignatureChecker.isValidERC1271SignatureNowCalldata(signer, digest, signature)) {
            revert IInferenceHub.InferenceHubInvalidSignature(signer);
        }
    }

    /// @dev Checks a ZK-tier step: `proof` shows model `modelId` maps `inputCommitment` to `outputs`
    ///      (committed as `outputCommitment`) with binding = bindingOf(receipt id, operator). The
    ///      operator must be staked: a proof is correct whoever made it, but only a staked operator
    ///      can be paid for it.
    function _checkProof(
        bytes32 modelId,
        bytes32 inputCommitment,
        bytes32 outputCommitment,
        bytes32 receiptId,
        address operator,
        uint256[8] calldata proof,
        uint256[] calldata outputs
    ) internal view {
        if (!operators.isActive(operator)) revert IInferenceHub.InferenceHubInactiveOperator(operator);
        address store = models.verifyingKeyStoreOf(modelId);
        if (store == address(0)) revert IInferenceHub.InferenceHubNoVerifyingKey(modelId);
        uint256[] memory signals = _proofSignals(inputCommitment, outputCommitment, outputs, receiptId, operator);
        if (!_verifyProof(store, proof, signals)) revert IInferenceHub.InferenceHubInvalidProof(modelId);
    }

    /// @dev A ZK step's public signals: [inputCommitment, outputCommitment, outputs..., binding].
    function _proofSignals(
        bytes32 inputCommitment,
        bytes32 outputCommitment,
        uint256[] calldata outputs,
        bytes32 receiptId,
        address operator
    ) internal pure returns (uint256[] memory signals) {
        uint256 binding = ReceiptHashing.bindingOf(receiptId, operator);
        return ReceiptHashing.proofSignals(inputCommitment, outputCommitment, outputs, binding);
    }

    /// @dev Whether `proof` is valid for `signals` under the key stored at `store` (a contract that
    ///      verifies proofs in batches answers for the ones it already checked).
    function _verifyProof(address store, uint256[8] calldata proof, uint256[] memory signals)
        internal
        view
        virtual
        returns (bool)
    {
        return verifier.verifyProof(DataStore.read(store), proof, signals);
    }

    /// @dev Output commitments are BN254 field elements; that is what lets a result fit one word.
    function _fieldCommitment(bytes32 commitment) internal pure returns (bytes32) {
        if (uint256(commitment) >= ReceiptHashing.SNARK_SCALAR_FIELD) {
            revert IInferenceHub.InferenceHubCommitmentOutOfField(commitment);
        }
        return commitment;
    }
}
