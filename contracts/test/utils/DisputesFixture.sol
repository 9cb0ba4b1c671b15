// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {Disputes} from "../../disputes/Disputes.sol";
import {IModelRegistry} from "../../interfaces/IModelRegistry.sol";
import {Claim} from "../../types/Claim.sol";
import {Receipt} from "../../types/Receipt.sol";
import {Tier} from "../../types/Tier.sol";
import {HubFixture} from "./HubFixture.sol";

/// @notice The system with fraud proofs on, a model whose verifying key has a trapdoor this fixture
///         knows (so it can make valid proofs for any public signals: a stand-in for a circuit), a staked
///         operator and a funded requester.
/// @dev Trapdoor key: alpha = IC[i] = G1, beta = gamma = G2, delta = −G2 (delta ≠ gamma, so the key
///      passes registration). Then e(−A,B)e(α,β)e(vk_x,γ)e(C,δ) = e(−A + α + vk_x − C, G2) = 1 for
///      B = G2, C = G1 and A = α + vk_x − C.
abstract contract DisputesFixture is HubFixture {
    uint256 internal constant Q = 21888242871839275222246405745257275088696311157297823662689037894645226208583;
    uint256 internal constant FIELD = 21888242871839275222246405745257275088548364400416034343698204186575808495617;
    uint256 internal constant G2_X1 = 11559732032986387107991004021392285783925812861821192530917403151452391805634;
    uint256 internal constant G2_X0 = 10857046999023057135944570762232829481370756359578518086990519993285655852781;
    uint256 internal constant G2_Y1 = 4082367875863433681332203403145435568316851327593401208105741076214120093531;
    uint256 internal constant G2_Y0 = 8495653923123431417604973247489272438418190587263600148770280649306958101930;
    /// @dev Public signals: input commitment, output commitment, one output, binding.
    uint256 internal constant SIGNALS = 4;
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
        operators.registerSigner(signer);
        vm.stopPrank();

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

    /// @dev A trapdoor key; `salt` moves IC[0] so two keys differ (IC[0] = (salt + 1) · G1).
    function _trapdoorKey(uint256 salt) internal view returns (bytes memory) {
        uint256[] memory w = new uint256[](14 + 2 * (SIGNALS + 1));
        (w[0], w[1]) = (1, 2);
        (w[2], w[3], w[4], w[5]) = (G2_X1, G2_X0, G2_Y1, G2_Y0);
        (w[6], w[7], w[8], w[9]) = (G2_X1, G2_X0, G2_Y1, G2_Y0);
        (w[10], w[11], w[12], w[13]) = (G2_X1, G2_X0, Q - G2_Y1, Q - G2_Y0);
        (w[14], w[15]) = _mul(1, 2, salt + 1);
        for (uint256 i = 16; i < w.length; i += 2) {
            (w[i], w[i + 1]) = (1, 2);
        }
        return abi.encodePacked(w);
    }

    /// @dev A valid proof for `signals` under trapdoor key `key`.
    function _prove(bytes memory key, uint256[] memory signals) internal view returns (uint256[8] memory proof) {
        uint256[] memory w = _words(key);
        (uint256 x, uint256 y) = (w[14], w[15]);
        for (uint256 i = 0; i < signals.length; ++i) {
            (uint256 px, uint256 py) = _mul(w[16 + 2 * i], w[17 + 2 * i], signals[i]);
            (x, y) = _add(x, y, px, py);
        }
        (x, y) = _add(x, y, 1, 2); // + alpha
        (x, y) = _add(x, y, 1, Q - 2); // − C
        proof = [x, y, G2_X1, G2_X0, G2_Y1, G2_Y0, 1, 2];
    }

    function _words(bytes memory key) internal pure returns (uint256[] memory w) {
        w = new uint256[](key.length / 32);
        for (uint256 i = 0; i < w.length; ++i) {
            uint256 word;
            assembly ("memory-safe") {
                word := mload(add(add(key, 0x20), mul(i, 0x20)))
            }
            w[i] = word;
        }
    }

    function _mul(uint256 x, uint256 y, uint256 s) internal view returns (uint256 rx, uint256 ry) {
        (bool ok, bytes memory out) = address(7).staticcall(abi.encode(x, y, s));
        require(ok, "ecMul");
        (rx, ry) = abi.decode(out, (uint256, uint256));
    }

    function _add(uint256 x1, uint256 y1, uint256 x2, uint256 y2) internal view returns (uint256 rx, uint256 ry) {
        (bool ok, bytes memory out) = address(6).staticcall(abi.encode(x1, y1, x2, y2));
        require(ok, "ecAdd");
        (rx, ry) = abi.decode(out, (uint256, uint256));
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
