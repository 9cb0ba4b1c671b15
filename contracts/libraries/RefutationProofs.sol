// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IGroth16Verifier} from "../interfaces/IGroth16Verifier.sol";
import {IModelRegistry} from "../interfaces/IModelRegistry.sol";
import {DataStore} from "./DataStore.sol";
import {ReceiptHashing} from "./ReceiptHashing.sol";

/// @notice The check every fraud proof shares (disputes of receipts and request steps, batch leaves): a Groth16
///         proof, under the model's registered key, that the model maps an input commitment to outputs
///         committed as `provenOutput`, bound to the challenger.
library RefutationProofs {
    /// @dev How a refutation proof fared.
    enum Outcome {
        Valid,
        NoCircuit,
        Invalid
    }

    /// @notice Checks `proof` for `modelId` with public signals `[inputCommitment, provenOutput, outputs…,
    ///         binding]`. A wrong signal count or an out-of-field signal is as much an invalid proof as a
    ///         failed pairing (the verifier's revert is caught).
    function check(
        IModelRegistry models,
        IGroth16Verifier verifier,
        bytes32 modelId,
        bytes32 inputCommitment,
        bytes32 provenOutput,
        uint256[] calldata outputs,
        uint256 binding,
        uint256[8] calldata proof
    ) internal view returns (Outcome) {
        address store = models.verifyingKeyStoreOf(modelId);
        if (store == address(0)) return Outcome.NoCircuit;
        uint256[] memory signals = ReceiptHashing.proofSignals(inputCommitment, provenOutput, outputs, binding);
        try verifier.verifyProof(DataStore.read(store), proof, signals) returns (bool valid) {
            return valid ? Outcome.Valid : Outcome.Invalid;
        } catch {
            return Outcome.Invalid;
        }
    }
}
