// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {EnclaveRegistry} from "../../EnclaveRegistry.sol";
import {InferenceHub} from "../../InferenceHub.sol";
import {ModelRegistry} from "../../ModelRegistry.sol";
import {OPGToken} from "../../OPGToken.sol";
import {OperatorRegistry} from "../../OperatorRegistry.sol";
import {Groth16Verifier} from "../../verifiers/Groth16Verifier.sol";
import {TestBase} from "./TestBase.sol";
import {RejectingAttestationVerifier} from "./Stubs.sol";

/// @notice Deploys the token, the registries and the hub, with this contract as admin of everything.
abstract contract HubFixture is TestBase {
    uint256 internal constant MIN_STAKE = 100e18;
    uint64 internal constant UNBONDING_DELAY = 7 days;
    uint16 internal constant OPERATOR_BPS = 7_000;
    uint16 internal constant OWNER_BPS = 2_000;
    address internal constant TREASURY = address(0x4000);
    uint256 internal constant SUPPLY = 1e30;

    OPGToken internal token;
    Groth16Verifier internal groth16;
    ModelRegistry internal models;
    OperatorRegistry internal operators;
    EnclaveRegistry internal enclaves;
    InferenceHub internal hub;

    function _deploySystem() internal {
        vm.warp(1_700_000_000);
        token = new OPGToken(address(this), SUPPLY);
        groth16 = new Groth16Verifier();
        models = new ModelRegistry(address(this), groth16);
        operators = new OperatorRegistry(address(this), token, MIN_STAKE, UNBONDING_DELAY);
        enclaves =
            new EnclaveRegistry(address(this), models, operators, new RejectingAttestationVerifier(), 1 hours, 1 days);
        hub = new InferenceHub(
            InferenceHub.Config({
                admin: address(this),
                feeToken: IERC20(address(token)),
                treasury: TREASURY,
                operatorBps: OPERATOR_BPS,
                modelOwnerBps: OWNER_BPS,
                models: models,
                operators: operators,
                enclaves: enclaves,
                verifier: groth16
            })
        );
    }

    /// @dev Binds the key `signerKey` to `operator` with the signer's EIP-712 consent.
    function _bindSigner(address operator, uint256 signerKey) internal {
        address signer = vm.addr(signerKey);
        uint256 deadline = block.timestamp + 1 hours;
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(signerKey, operators.signerConsentDigest(operator, signer, deadline));
        vm.prank(operator);
        operators.registerSigner(signer, deadline, abi.encodePacked(r, s, v));
    }
}
