// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {AttestationFacts, IAttestationVerifier} from "../../interfaces/IAttestationVerifier.sol";

/// @notice An attestation verifier that vouches for nothing: enough to deploy an EnclaveRegistry for
///         tests that only exercise the Signature tier.
contract RejectingAttestationVerifier is IAttestationVerifier {
    function verifyAttestation(AttestationFacts calldata, bytes calldata) external pure returns (bool) {
        return false;
    }
}
