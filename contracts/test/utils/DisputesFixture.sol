// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {Disputes} from "../../disputes/Disputes.sol";
import {IModelRegistry} from "../../interfaces/IModelRegistry.sol";
import {Claim} from "../../types/Claim.sol";
import {Receipt} from "../../types/Receipt.sol";
import {Tier} from "../../types/Tier.sol";
import {HubFixture} from "./HubFixture.sol";
import {TrapdoorGroth16} from "./TrapdoorGroth16.sol";

/// @notice The system with fraud proofs on, a model whose verifying key has a trapdoor this fixture
///         knows (so it can make valid proofs for any public signals: a stand-in for a circuit), a staked
///         operator and a funded requester.
abstract contract DisputesFixture is HubFixture, TrapdoorGroth16 {
    uint80 internal constant PRICE = 1e18;
    uint32 internal constant WINDOW = 1 hours;
    uint16 internal constant BOND_MULTIPLE = 10;
    uint16 internal constant REWARD_BPS = 2_000;
    uint16 internal constant COMPENSATION_BPS = 3_000;
    uint256 internal constant OPERATOR_STAKE = MIN_STAKE + 50e18;

    Disputes internal disputes;
    address internal requester = address(0x1000);
    address internal operator = address(0x2000);
    address internal owner = address(0x3000);
    address internal challenger = address(0x7000);
    uint256 internal signerKey = 0xA11CE;
    address internal signer;
    bytes32 internal modelId;
    bytes32 internal otherModelId;
    uint256 internal nextNonce = 1;

    function _deployDisputes() internal {
        _deploySystem();
        disputes = new Disputes(
            Disputes.Config({
                admin: address(this),
                hub: hub,
                models: models,
                operators: operators,
                enclaves: enclaves,
                verifier: groth16,
                token: IERC20(address(token)),
                treasury: TREASURY,
                rewardBps: REWARD_BPS,
                compensationBps: COMPENSATION_BPS
            })
        );
        operators.grantRole(operators.SLASHER_ROLE(), address(disputes));
        operators.grantRole(operators.BOND_HOLDER_ROLE(), address(hub));
        enclaves.grantRole(enclaves.REVOKER_ROLE(), address(disputes));
        hub.setDisputeConfig(address(disputes), WINDOW, BOND_MULTIPLE);

        signer = vm.addr(signerKey);
        token.transfer(operator, OPERATOR_STAKE);
        vm.startPrank(operator);
        token.approve(address(operators), OPERATOR_STAKE);
        operators.stake(OPERATOR_STAKE);
        vm.stopPrank();
        _bindSigner(operator, signerKey);

        modelId = _registerModel(keccak256("weights"), _trapdoorKey(0));
        otherModelId = _registerModel(keccak256("other weights"), _trapdoorKey(1));

        token.transfer(requester, 1_000e18);
        vm.startPrank(requester);
        token.approve(address(hub), 1_000e18);
        hub.deposit(requester, 1_000e18);
        vm.stopPrank();
    }

    function _registerModel(bytes32 weights, bytes memory key) internal returns (bytes32 id) {
        IModelRegistry.Registration memory reg;
        reg.weightsCommitment = weights;
        reg.prices = [PRICE, PRICE, PRICE];
        reg.acceptedTiers = (1 << 1) | (1 << 2) | (1 << 3);
        reg.verifyingKey = key;
        vm.prank(owner);
        id = models.registerModel(reg);
    }

    function _receipt(bytes32 model, bytes32 input, bytes32 output, Tier tier) internal returns (Receipt memory) {
        return Receipt({
            modelId: model,
            inputCommitment: input,
            outputCommitment: output,
            outputDigest: bytes32(0),
            requester: requester,
            operator: operator,
            nonce: nextNonce++,
            deadline: uint64(block.timestamp + 1 hours),
            tier: tier
        });
    }

    function _sign(Receipt memory r) internal view returns (bytes memory) {
        (uint8 v, bytes32 rr, bytes32 ss) = vm.sign(signerKey, hub.receiptDigest(r));
        return abi.encodePacked(rr, ss, v);
    }

    /// @dev Submits a signature-tier receipt claiming `output` for `input`; returns its id and claim.
    function _submitSigned(bytes32 input, bytes32 output) internal returns (bytes32 id, Claim memory claim) {
        Receipt memory r = _receipt(modelId, input, output, Tier.Signature);
        bytes memory signature = _sign(r);
        vm.prank(requester);
        id = hub.submitSigned(r, signer, signature, PRICE);
        claim = Claim({
            modelId: modelId,
            inputCommitment: input,
            outputCommitment: output,
            operator: operator,
            requester: requester,
            signer: signer,
            tier: Tier.Signature,
            operationId: bytes32(0),
            fee: PRICE,
            bond: uint256(PRICE) * BOND_MULTIPLE,
            finalAt: uint64(block.timestamp) + WINDOW
        });
    }

    /// @dev Signals [input, output, value, binding(id, by)] and a valid proof of them under `key`.
    function _fraudProof(bytes memory key, bytes32 id, bytes32 input, bytes32 output, address by)
        internal
        view
        returns (uint256[] memory outputs, uint256[8] memory proof)
    {
        outputs = new uint256[](1);
        outputs[0] = 7;
        uint256[] memory signals = new uint256[](SIGNALS);
        signals[0] = uint256(input);
        signals[1] = uint256(output);
        signals[2] = outputs[0];
        signals[3] = disputes.bindingOf(id, by);
        proof = _prove(key, signals);
    }
}
