// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IDisputes} from "../interfaces/IDisputes.sol";
import {IInferenceHub} from "../interfaces/IInferenceHub.sol";
import {IModelRegistry, MODEL_CIRCUIT_FLAG, MODEL_WINDOW_FLAG} from "../interfaces/IModelRegistry.sol";
import {IOperatorRegistry} from "../interfaces/IOperatorRegistry.sol";
import {IPendingResults} from "../interfaces/IPendingResults.sol";
import {Claim, ResultStatus} from "../types/Claim.sol";
import {Receipt} from "../types/Receipt.sol";
import {Tier} from "../types/Tier.sol";
import {DisputesFixture} from "./utils/DisputesFixture.sol";

/// @notice Fraud proofs: a refutation and what it moves, and every bad challenge reverting with its
///         custom error and changing nothing.
contract DisputesTest is DisputesFixture {
    bytes32 internal constant INPUT = bytes32(uint256(1234));
    bytes32 internal constant TRUE_OUTPUT = bytes32(uint256(5678));
    bytes32 internal constant WRONG_OUTPUT = bytes32(uint256(9999));

    function setUp() public {
        _deployDisputes();
    }

    function _challenge(bytes32 id, Claim memory claim, bytes32 proven, bytes memory key)
        internal
        returns (IDisputes.Outcome memory)
    {
        (uint256[] memory outputs, uint256[8] memory proof) = _fraudProof(key, id, claim.inputCommitment, proven, challenger);
        vm.prank(challenger);
        return disputes.challenge(id, claim, proven, outputs, proof);
    }

    /// @dev Snapshot of everything a failed challenge must leave alone.
    function _state(bytes32 id) internal view returns (bytes32) {
        (ResultStatus status, uint64 finalAt,) = hub.statusOf(id);
        return keccak256(
            abi.encode(
                status,
                finalAt,
                operators.stakeOf(operator),
                operators.lockedOf(operator),
                hub.balanceOf(requester),
                token.balanceOf(challenger),
                token.balanceOf(TREASURY),
                token.balanceOf(address(disputes))
            )
        );
    }

    function test_pendingResultLocksBondAndBecomesFinal() public {
        (bytes32 id,) = _submitSigned(INPUT, TRUE_OUTPUT);
        (ResultStatus status, uint64 finalAt, bool challengeable) = hub.statusOf(id);
        assertEq(uint256(status), uint256(ResultStatus.Pending), "pending");
        assertEq(finalAt, block.timestamp + WINDOW, "final after the window");
        assertTrue(challengeable, "challengeable");
        assertEq(operators.lockedOf(operator), uint256(PRICE) * BOND_MULTIPLE, "bond locked");
        vm.warp(finalAt);
        (status,, challengeable) = hub.statusOf(id);
        assertEq(uint256(status), uint256(ResultStatus.Final), "final");
        assertTrue(challengeable, "still reported as backed by fraud proofs");
        vm.warp(uint256(finalAt) + operators.BOND_EPOCH());
        assertEq(operators.lockedOf(operator), 0, "bond released after finality");
    }

    /// @dev The model's own window (flagged beside its accepted tiers so `termsOf` tells whether to fetch it)
    ///      lengthens the hub's, a shorter one does not shorten it, zero returns to the hub's; the flags
    ///      never show in `modelOf`, and changing the tiers keeps them.
    function test_modelWindowLengthensTheHubsAndFlagsStayHidden() public {
        uint8 tiers = (1 << 1) | (1 << 2) | (1 << 3);
        vm.prank(owner);
        models.setChallengeWindow(modelId, WINDOW * 3);
        assertEq(models.termsOf(modelId, Tier.Signature).acceptedTiers, tiers | MODEL_CIRCUIT_FLAG | MODEL_WINDOW_FLAG, "flags reported to the hub");
        assertEq(models.modelOf(modelId).acceptedTiers, tiers, "flags hidden from modelOf");
        (bytes32 id,) = _submitSigned(INPUT, TRUE_OUTPUT);
        (, uint64 finalAt,) = hub.statusOf(id);
        assertEq(finalAt, block.timestamp + WINDOW * 3, "the model's longer window");

        vm.startPrank(owner);
        models.setAcceptedTiers(modelId, (1 << 1) | (1 << 3));
        models.setChallengeWindow(modelId, WINDOW / 2);
        vm.stopPrank();
        assertEq(models.termsOf(modelId, Tier.Signature).acceptedTiers, (1 << 1) | (1 << 3) | MODEL_CIRCUIT_FLAG | MODEL_WINDOW_FLAG, "tiers changed, flags kept");
        (id,) = _submitSigned(INPUT, TRUE_OUTPUT);
        (, finalAt,) = hub.statusOf(id);
        assertEq(finalAt, block.timestamp + WINDOW, "a shorter model window does not shorten the hub's");

        vm.prank(owner);
        models.setChallengeWindow(modelId, 0);
        assertEq(models.termsOf(modelId, Tier.Signature).acceptedTiers, (1 << 1) | (1 << 3) | MODEL_CIRCUIT_FLAG, "window flag cleared");
        (id,) = _submitSigned(INPUT, TRUE_OUTPUT);
        (, finalAt,) = hub.statusOf(id);
        assertEq(finalAt, block.timestamp + WINDOW, "the hub's window again");
        IModelRegistry.Registration memory reg;
        reg.weightsCommitment = keccak256("no circuit");
        reg.prices = [PRICE, PRICE, PRICE];
        reg.acceptedTiers = 1 << 1;
        vm.prank(owner);
        bytes32 plain = models.registerModel(reg);
        assertEq(models.termsOf(plain, Tier.Signature).acceptedTiers, 1 << 1, "no circuit, no flag");
    }

    function test_refutesWrongResult() public {
        (bytes32 id, Claim memory claim) = _submitSigned(INPUT, WRONG_OUTPUT);
        uint256 escrowBefore = hub.balanceOf(requester);
        uint256 stakeBefore = operators.stakeOf(operator).bonded;
        IDisputes.Outcome memory o = _challenge(id, claim, TRUE_OUTPUT, _trapdoorKey(0));

        uint256 bond = uint256(PRICE) * BOND_MULTIPLE;
        assertEq(o.slashed, bond, "bond slashed");
        assertEq(o.reward, bond * REWARD_BPS / 10_000, "reward");
        assertEq(o.refund, PRICE + bond * COMPENSATION_BPS / 10_000, "fee + compensation");
        assertEq(o.slashed, o.reward + o.refund + o.remainder, "slash fully paid out");
        assertEq(token.balanceOf(challenger), o.reward, "challenger paid");
        assertEq(hub.balanceOf(requester), escrowBefore + o.refund, "requester refunded");
        assertEq(token.balanceOf(TREASURY), o.remainder, "treasury gets the rest");
        assertEq(token.balanceOf(address(disputes)), 0, "disputes keeps nothing");
        assertEq(operators.stakeOf(operator).bonded, stakeBefore - bond, "stake reduced");
        assertTrue(operators.isBondSlashed(id), "bond marked");

        (ResultStatus status, uint64 finalAt, bool challengeable) = hub.statusOf(id);
        assertEq(uint256(status), uint256(ResultStatus.Refuted), "refuted");
        assertEq(finalAt, 0, "never final");
        assertTrue(!challengeable, "not challengeable again");
        vm.warp(block.timestamp + 365 days);
        (status,,) = hub.statusOf(id);
        assertEq(uint256(status), uint256(ResultStatus.Refuted), "still refuted a year later");
        vm.expectRevert(abi.encodeWithSelector(IPendingResults.PendingResultsRefuted.selector, id));
        hub.verifiedOutput(id, Tier.Signature);
        assertTrue(!hub.meetsPolicy(id, Tier.Signature, Tier.Signature), "policy never met");
        assertEq(uint256(hub.verifiedTier(id)), uint256(Tier.None), "no tier");
    }

    function test_secondChallengeFails() public {
        (bytes32 id, Claim memory claim) = _submitSigned(INPUT, WRONG_OUTPUT);
        _challenge(id, claim, TRUE_OUTPUT, _trapdoorKey(0));
        bytes32 before = _state(id);
        (uint256[] memory outputs, uint256[8] memory proof) = _fraudProof(_trapdoorKey(0), id, INPUT, TRUE_OUTPUT, challenger);
        vm.expectRevert(abi.encodeWithSelector(IDisputes.DisputesNotChallengeable.selector, id, ResultStatus.Refuted));
        vm.prank(challenger);
        disputes.challenge(id, claim, TRUE_OUTPUT, outputs, proof);
        assertEq(_state(id), before, "nothing changed");
    }

    function test_sameOutputFails() public {
        (bytes32 id, Claim memory claim) = _submitSigned(INPUT, TRUE_OUTPUT);
        bytes32 before = _state(id);
        (uint256[] memory outputs, uint256[8] memory proof) = _fraudProof(_trapdoorKey(0), id, INPUT, TRUE_OUTPUT, challenger);
        vm.expectRevert(abi.encodeWithSelector(IDisputes.DisputesSameOutput.selector, id));
        vm.prank(challenger);
        disputes.challenge(id, claim, TRUE_OUTPUT, outputs, proof);
        assertEq(_state(id), before, "nothing changed");
    }

    function test_proofForAnotherModelFails() public {
        (bytes32 id, Claim memory claim) = _submitSigned(INPUT, WRONG_OUTPUT);
        bytes32 before = _state(id);
        // A valid proof under the other model's key is not one under this model's key.
        (uint256[] memory outputs, uint256[8] memory proof) = _fraudProof(_trapdoorKey(1), id, INPUT, TRUE_OUTPUT, challenger);
        vm.expectRevert(abi.encodeWithSelector(IDisputes.DisputesInvalidProof.selector, id));
        vm.prank(challenger);
        disputes.challenge(id, claim, TRUE_OUTPUT, outputs, proof);
        // Restating the claim with the other model does not match what the hub stored.
        claim.modelId = otherModelId;
        vm.expectRevert(abi.encodeWithSelector(IDisputes.DisputesClaimMismatch.selector, id));
        vm.prank(challenger);
        disputes.challenge(id, claim, TRUE_OUTPUT, outputs, proof);
        assertEq(_state(id), before, "nothing changed");
    }

    function test_proofForAnotherInputFails() public {
        (bytes32 id, Claim memory claim) = _submitSigned(INPUT, WRONG_OUTPUT);
        bytes32 before = _state(id);
        bytes32 otherInput = bytes32(uint256(4321));
        (uint256[] memory outputs, uint256[8] memory proof) = _fraudProof(_trapdoorKey(0), id, otherInput, TRUE_OUTPUT, challenger);
        vm.expectRevert(abi.encodeWithSelector(IDisputes.DisputesInvalidProof.selector, id));
        vm.prank(challenger);
        disputes.challenge(id, claim, TRUE_OUTPUT, outputs, proof);
        claim.inputCommitment = otherInput;
        vm.expectRevert(abi.encodeWithSelector(IDisputes.DisputesClaimMismatch.selector, id));
        vm.prank(challenger);
        disputes.challenge(id, claim, TRUE_OUTPUT, outputs, proof);
        assertEq(_state(id), before, "nothing changed");
    }

    /// @notice A proof under a forgeable key (delta == gamma: anything verifies) is not a proof under the
    ///         model's registered key; and such a key cannot be registered in the first place.
    function test_proofUnderForgeableKeyFails() public {
        (bytes32 id, Claim memory claim) = _submitSigned(INPUT, WRONG_OUTPUT);
        bytes32 before = _state(id);
        uint256[] memory outputs = new uint256[](1);
        uint256[8] memory forged = [uint256(1), 2, G2_X1, G2_X0, G2_Y1, G2_Y0, 1, 2];
        vm.expectRevert(abi.encodeWithSelector(IDisputes.DisputesInvalidProof.selector, id));
        vm.prank(challenger);
        disputes.challenge(id, claim, TRUE_OUTPUT, outputs, forged);
        assertEq(_state(id), before, "nothing changed");
    }

    function test_proofByAnotherChallengerFails() public {
        (bytes32 id, Claim memory claim) = _submitSigned(INPUT, WRONG_OUTPUT);
        bytes32 before = _state(id);
        (uint256[] memory outputs, uint256[8] memory proof) = _fraudProof(_trapdoorKey(0), id, INPUT, TRUE_OUTPUT, challenger);
        vm.expectRevert(abi.encodeWithSelector(IDisputes.DisputesInvalidProof.selector, id));
        vm.prank(address(0xF00D)); // copied from the mempool: bound to the original challenger
        disputes.challenge(id, claim, TRUE_OUTPUT, outputs, proof);
        assertEq(_state(id), before, "nothing changed");
    }

    function test_challengeAfterWindowFails() public {
        (bytes32 id, Claim memory claim) = _submitSigned(INPUT, WRONG_OUTPUT);
        vm.warp(claim.finalAt);
        bytes32 before = _state(id);
        (uint256[] memory outputs, uint256[8] memory proof) = _fraudProof(_trapdoorKey(0), id, INPUT, TRUE_OUTPUT, challenger);
        vm.expectRevert(abi.encodeWithSelector(IDisputes.DisputesWindowClosed.selector, id, claim.finalAt));
        vm.prank(challenger);
        disputes.challenge(id, claim, TRUE_OUTPUT, outputs, proof);
        assertEq(_state(id), before, "nothing changed");
    }

    function test_zkResultIsNotChallengeable() public {
        Receipt memory r = _receipt(modelId, INPUT, TRUE_OUTPUT, Tier.ZK);
        bytes32 id = hub.receiptIdOf(requester, modelId, r.nonce);
        uint256[] memory outputs = new uint256[](1);
        outputs[0] = 7;
        uint256[] memory signals = new uint256[](SIGNALS);
        (signals[0], signals[1], signals[2], signals[3]) = (uint256(INPUT), uint256(TRUE_OUTPUT), 7, uint256(keccak256(abi.encode(id, operator))) % FIELD);
        uint256[8] memory zkProof = _prove(_trapdoorKey(0), signals);
        vm.prank(requester);
        hub.submitProven(r, zkProof, outputs, PRICE);
        (ResultStatus status,, bool challengeable) = hub.statusOf(id);
        assertEq(uint256(status), uint256(ResultStatus.Final), "ZK results are final at once");
        assertTrue(!challengeable, "not challengeable");

        Claim memory claim;
        claim.modelId = modelId;
        claim.inputCommitment = INPUT;
        claim.outputCommitment = TRUE_OUTPUT;
        bytes32 before = _state(id);
        uint256[8] memory proof;
        (outputs, proof) = _fraudProof(_trapdoorKey(0), id, INPUT, WRONG_OUTPUT, challenger);
        vm.expectRevert(abi.encodeWithSelector(IDisputes.DisputesNotChallengeable.selector, id, ResultStatus.Final));
        vm.prank(challenger);
        disputes.challenge(id, claim, WRONG_OUTPUT, outputs, proof);
        assertEq(_state(id), before, "nothing changed");
    }

    function test_modelWithoutCircuitIsFinalAtOnce() public {
        bytes32 plain = _registerPlainModel();
        Receipt memory r = _receipt(plain, INPUT, WRONG_OUTPUT, Tier.Signature);
        bytes memory signature = _sign(r);
        vm.prank(requester);
        bytes32 id = hub.submitSigned(r, signer, signature, PRICE);
        (ResultStatus status,, bool challengeable) = hub.statusOf(id);
        assertEq(uint256(status), uint256(ResultStatus.Final), "final at once");
        assertTrue(!challengeable, "cannot be refuted by proof");
        assertEq(operators.lockedOf(operator), 0, "no bond");
    }

    function test_noNewResultsWithoutFreeStake() public {
        // 150 OPG staked, bond 10 OPG per result: 15 pending results use it all.
        for (uint256 i = 0; i < 15; ++i) {
            _submitSigned(bytes32(i + 1), TRUE_OUTPUT);
        }
        assertEq(operators.freeStakeOf(operator), 0, "all stake locked");
        Receipt memory r = _receipt(modelId, INPUT, TRUE_OUTPUT, Tier.Signature);
        bytes memory sig = _sign(r);
        vm.expectRevert(
            abi.encodeWithSelector(
                IOperatorRegistry.OperatorRegistryInsufficientFreeStake.selector, operator, uint256(PRICE) * BOND_MULTIPLE, 0
            )
        );
        vm.prank(requester);
        hub.submitSigned(r, signer, sig, PRICE);
        // Locked stake cannot be unbonded away either.
        vm.expectRevert(abi.encodeWithSelector(IOperatorRegistry.OperatorRegistryInsufficientStake.selector, 1, 0));
        vm.prank(operator);
        operators.requestUnbond(1);
        // Once the results are final (and their hour has passed), the stake is free again.
        vm.warp(block.timestamp + WINDOW + operators.BOND_EPOCH());
        r = _receipt(modelId, INPUT, TRUE_OUTPUT, Tier.Signature);
        sig = _sign(r);
        vm.prank(requester);
        hub.submitSigned(r, signer, sig, PRICE);
    }

    function test_refutedStepRefutesOperation() public {
        Receipt[] memory steps = new Receipt[](2);
        uint256 nonce = (1 << 255) | 77;
        steps[0] = _receipt(modelId, INPUT, WRONG_OUTPUT, Tier.Signature);
        steps[1] = _receipt(otherModelId, WRONG_OUTPUT, TRUE_OUTPUT, Tier.Signature);
        steps[0].nonce = nonce;
        steps[1].nonce = nonce;
        steps[1].deadline = steps[0].deadline;
        IInferenceHub.Evidence[] memory evidence = new IInferenceHub.Evidence[](2);
        for (uint256 i = 0; i < 2; ++i) {
            evidence[i].signer = signer;
            evidence[i].signature = _sign(steps[i]);
        }
        vm.prank(requester);
        bytes32 opId = hub.submitOperation(
            steps,
            evidence,
            IInferenceHub.OperationRequest({
                inputCommitment: INPUT,
                minEachStep: Tier.Signature,
                minFinalStep: Tier.Signature,
                maxFee: 2 * uint256(PRICE)
            })
        );
        (ResultStatus status,,) = hub.statusOf(opId);
        assertEq(uint256(status), uint256(ResultStatus.Pending), "operation pending");
        bytes32 stepId = hub.receiptIdOf(requester, modelId, nonce);
        Claim memory claim = Claim({
            modelId: modelId,
            inputCommitment: INPUT,
            outputCommitment: WRONG_OUTPUT,
            operator: operator,
            requester: requester,
            signer: signer,
            tier: Tier.Signature,
            operationId: opId,
            fee: PRICE,
            bond: uint256(PRICE) * BOND_MULTIPLE,
            finalAt: uint64(block.timestamp) + WINDOW
        });
        _challenge(stepId, claim, TRUE_OUTPUT, _trapdoorKey(0));
        (status,,) = hub.statusOf(opId);
        assertEq(uint256(status), uint256(ResultStatus.Refuted), "operation refuted");
        vm.expectRevert(abi.encodeWithSelector(IPendingResults.PendingResultsRefuted.selector, opId));
        hub.verifiedOutput(opId, Tier.Signature);
    }

    function test_onlyDisputesRefutes() public {
        (bytes32 id,) = _submitSigned(INPUT, WRONG_OUTPUT);
        vm.expectRevert(abi.encodeWithSelector(IPendingResults.PendingResultsNotDisputes.selector, address(this)));
        hub.refute(id, bytes32(0));
    }

    function _registerPlainModel() internal returns (bytes32 id) {
        IModelRegistry.Registration memory reg;
        reg.weightsCommitment = keccak256("plain weights");
        reg.prices = [PRICE, PRICE, PRICE];
        reg.acceptedTiers = 1 << 1;
        vm.prank(owner);
        id = models.registerModel(reg);
    }
}
