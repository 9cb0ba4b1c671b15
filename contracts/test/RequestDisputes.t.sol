// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {RequestingConsumer} from "../examples/RequestingConsumer.sol";
import {IDisputes} from "../interfaces/IDisputes.sol";
import {IOperatorRegistry} from "../interfaces/IOperatorRegistry.sol";
import {IPendingResults} from "../interfaces/IPendingResults.sol";
import {IRequestBook} from "../interfaces/IRequestBook.sol";
import {RequestBook} from "../requests/RequestBook.sol";
import {Claim, ResultStatus} from "../types/Claim.sol";
import {Receipt} from "../types/Receipt.sol";
import {Tier} from "../types/Tier.sol";
import {DisputesFixture} from "./utils/DisputesFixture.sol";

/// @notice Request fulfilments are pending results: a wrong signature fulfilment is refuted within its
///         window (requester refunded, bond slashed, the consumer never acts), a correct one cannot be
///         refuted, and no challenge succeeds after the window.
contract RequestDisputesTest is DisputesFixture {
    bytes32 internal constant INPUT = bytes32(uint256(1234));
    bytes32 internal constant TRUE_OUTPUT = bytes32(uint256(5678));
    bytes32 internal constant WRONG_OUTPUT = bytes32(uint256(9999));
    uint32 internal constant CALLBACK_GAS = 300_000;

    RequestBook internal book;
    RequestingConsumer internal consumer;

    function setUp() public {
        _deployDisputes();
        book = new RequestBook(hub, models, operators, enclaves, groth16);
        hub.setRequestBook(address(book));
        bytes32[] memory pipeline = new bytes32[](1);
        pipeline[0] = modelId;
        consumer = new RequestingConsumer(book, pipeline, Tier.Signature, Tier.Signature);
        token.approve(address(hub), 100e18);
        hub.deposit(address(consumer), 100e18);
    }

    function _params(bytes32[] memory pipeline, address callback, uint256 nonce)
        internal
        view
        returns (IRequestBook.RequestParams memory)
    {
        return IRequestBook.RequestParams({
            pipeline: pipeline,
            inputCommitment: INPUT,
            minEachStep: Tier.Signature,
            minFinalStep: Tier.Signature,
            operator: address(0),
            maxFee: uint256(PRICE) * pipeline.length,
            deadline: uint64(block.timestamp + 1 hours),
            callback: callback,
            callbackGasLimit: callback == address(0) ? 0 : CALLBACK_GAS,
            nonce: nonce
        });
    }

    function _outputs() internal pure returns (int256[] memory outputs) {
        outputs = new int256[](3);
        (outputs[0], outputs[1], outputs[2]) = (1, 9, -4);
    }

    /// @dev Signature evidence for step `i` of `params` claiming `output` after `input`.
    function _step(
        bytes32 requestId,
        address by,
        IRequestBook.RequestParams memory params,
        uint256 i,
        bytes32 input,
        bytes32 output
    ) internal view returns (IRequestBook.StepEvidence memory e) {
        Receipt memory r = Receipt({
            modelId: params.pipeline[i],
            inputCommitment: input,
            outputCommitment: output,
            outputDigest: keccak256(abi.encode(_outputs())),
            requester: by,
            operator: operator,
            nonce: uint256(requestId),
            deadline: params.deadline,
            tier: Tier.Signature
        });
        (uint8 v, bytes32 rr, bytes32 ss) = vm.sign(signerKey, book.receiptDigest(r));
        e.tier = Tier.Signature;
        e.outputCommitment = output;
        e.outputDigest = r.outputDigest;
        e.signer = signer;
        e.signature = abi.encodePacked(rr, ss, v);
    }

    /// @dev The consumer asks; the operator fulfils claiming `output`. Returns the id and its claim.
    function _consumerFulfilled(bytes32 output) internal returns (bytes32 id, Claim memory claim) {
        id = consumer.classify(INPUT, abi.encode(_outputs()), PRICE, uint64(block.timestamp + 1 hours), CALLBACK_GAS);
        bytes32[] memory pipeline = consumer.pipeline();
        IRequestBook.RequestParams memory params = _params(pipeline, address(consumer), 1);
        params.maxFee = PRICE;
        params.deadline = uint64(block.timestamp + 1 hours);
        assertEq(book.requestIdOf(address(consumer), params), id, "same request");
        IRequestBook.StepEvidence[] memory steps = new IRequestBook.StepEvidence[](1);
        steps[0] = _step(id, address(consumer), params, 0, INPUT, output);
        book.fulfil(address(consumer), params, operator, steps, _outputs());
        claim = Claim({
            modelId: modelId,
            inputCommitment: INPUT,
            outputCommitment: output,
            operator: operator,
            requester: address(consumer),
            signer: signer,
            tier: Tier.Signature,
            operationId: bytes32(0),
            fee: PRICE,
            bond: uint256(PRICE) * BOND_MULTIPLE,
            finalAt: uint64(block.timestamp) + WINDOW
        });
    }

    function _challenge(bytes32 id, Claim memory claim, bytes32 proven) internal returns (IDisputes.Outcome memory) {
        (uint256[] memory outputs, uint256[8] memory proof) =
            _fraudProof(_trapdoorKey(0), id, claim.inputCommitment, proven, challenger);
        vm.prank(challenger);
        return disputes.challenge(id, claim, proven, outputs, proof);
    }

    /// @dev A fulfilment's window follows the model's own window too (read with its price, `termsOf`).
    function test_fulfilmentFollowsTheModelsLongerWindow() public {
        vm.prank(owner);
        models.setChallengeWindow(modelId, WINDOW * 2);
        (bytes32 id,) = _consumerFulfilled(TRUE_OUTPUT);
        (ResultStatus status, uint64 finalAt,) = book.statusOf(id);
        assertEq(uint256(status), uint256(ResultStatus.Pending), "pending");
        assertEq(finalAt, block.timestamp + WINDOW * 2, "final after the model's window");
    }

    function test_fulfilmentIsPendingWithBond() public {
        (bytes32 id,) = _consumerFulfilled(TRUE_OUTPUT);
        (ResultStatus status, uint64 finalAt, bool challengeable) = book.statusOf(id);
        assertEq(uint256(status), uint256(ResultStatus.Pending), "pending");
        assertEq(finalAt, block.timestamp + WINDOW, "final after the hub's window");
        assertTrue(challengeable, "challengeable");
        assertEq(operators.lockedOf(operator), uint256(PRICE) * BOND_MULTIPLE, "bond locked");
        (IRequestBook.Status requestStatus,,) = book.resultOf(id);
        assertEq(uint256(requestStatus), uint256(IRequestBook.Status.Fulfilled), "fulfilled");
        assertEq(consumer.labelOf(id), 0, "not acted on");
        assertTrue(consumer.awaiting(id) != 0, "awaiting finality");
        vm.expectRevert(abi.encodeWithSelector(RequestingConsumer.RequestingConsumerNotFinal.selector, id, ResultStatus.Pending));
        consumer.act(id);
    }

    function test_wrongFulfilmentRefutedWithinWindow() public {
        (bytes32 id, Claim memory claim) = _consumerFulfilled(WRONG_OUTPUT);
        _refuteAndCheck(id, claim);

        vm.warp(block.timestamp + 365 days);
        vm.expectRevert(abi.encodeWithSelector(RequestingConsumer.RequestingConsumerNotFinal.selector, id, ResultStatus.Refuted));
        consumer.act(id);
        consumer.discard(id);
        assertEq(consumer.labelOf(id), 0, "the consumer never acted");
        assertEq(consumer.awaiting(id), 0, "dropped");

        (uint256[] memory outputs, uint256[8] memory proof) = _fraudProof(_trapdoorKey(0), id, INPUT, TRUE_OUTPUT, challenger);
        vm.expectRevert(abi.encodeWithSelector(IDisputes.DisputesNotChallengeable.selector, id, ResultStatus.Refuted));
        vm.prank(challenger);
        disputes.challenge(id, claim, TRUE_OUTPUT, outputs, proof);
    }

    function _refuteAndCheck(bytes32 id, Claim memory claim) internal {
        uint256 escrowBefore = hub.balanceOf(address(consumer));
        uint256 stakeBefore = operators.stakeOf(operator).bonded;
        vm.warp(claim.finalAt - 1);
        IDisputes.Outcome memory o = _challenge(id, claim, TRUE_OUTPUT);

        uint256 bond = uint256(PRICE) * BOND_MULTIPLE;
        assertEq(o.slashed, bond, "bond slashed");
        assertEq(o.refund, PRICE + bond * COMPENSATION_BPS / 10_000, "fee + compensation");
        assertEq(hub.balanceOf(address(consumer)), escrowBefore + o.refund, "requester refunded");
        assertEq(token.balanceOf(challenger), o.reward, "challenger paid");
        assertEq(operators.stakeOf(operator).bonded, stakeBefore - bond, "stake reduced");
        assertTrue(operators.isBondSlashed(id), "bond marked");

        (ResultStatus status, uint64 finalAt, bool challengeable) = book.statusOf(id);
        assertEq(uint256(status), uint256(ResultStatus.Refuted), "refuted");
        assertEq(finalAt, 0, "never final");
        assertTrue(!challengeable, "not challengeable again");
        (IRequestBook.Status requestStatus, Tier tier, bytes32 output) = book.resultOf(id);
        assertEq(uint256(requestStatus), uint256(IRequestBook.Status.Refuted), "request refuted");
        assertEq(uint256(tier), 0, "no tier");
        assertEq(output, bytes32(0), "no output");
    }

    function test_correctFulfilmentCannotBeRefuted() public {
        (bytes32 id, Claim memory claim) = _consumerFulfilled(TRUE_OUTPUT);
        (uint256[] memory outputs, uint256[8] memory proof) = _fraudProof(_trapdoorKey(0), id, INPUT, TRUE_OUTPUT, challenger);
        vm.expectRevert(abi.encodeWithSelector(IDisputes.DisputesSameOutput.selector, id));
        vm.prank(challenger);
        disputes.challenge(id, claim, TRUE_OUTPUT, outputs, proof);

        vm.warp(claim.finalAt);
        (ResultStatus status,,) = book.statusOf(id);
        assertEq(uint256(status), uint256(ResultStatus.Final), "final");
        consumer.act(id);
        assertEq(consumer.labelOf(id), 1, "acted once final: label of the largest output");
        assertEq(consumer.awaiting(id), 0, "no longer awaiting");
        vm.warp(uint256(claim.finalAt) + operators.BOND_EPOCH());
        assertEq(operators.lockedOf(operator), 0, "bond released after finality");
    }

    function test_challengeAfterWindowFails() public {
        (bytes32 id, Claim memory claim) = _consumerFulfilled(WRONG_OUTPUT);
        vm.warp(claim.finalAt);
        uint256 escrowBefore = hub.balanceOf(address(consumer));
        (uint256[] memory outputs, uint256[8] memory proof) = _fraudProof(_trapdoorKey(0), id, INPUT, TRUE_OUTPUT, challenger);
        vm.expectRevert(abi.encodeWithSelector(IDisputes.DisputesWindowClosed.selector, id, claim.finalAt));
        vm.prank(challenger);
        disputes.challenge(id, claim, TRUE_OUTPUT, outputs, proof);
        assertEq(hub.balanceOf(address(consumer)), escrowBefore, "nothing moved");
        assertEq(operators.stakeOf(operator).bonded, OPERATOR_STAKE, "nothing slashed");
    }

    function test_restatedClaimMustMatch() public {
        (bytes32 id, Claim memory claim) = _consumerFulfilled(WRONG_OUTPUT);
        claim.fee = 100e18; // a bigger refund than the requester paid
        (uint256[] memory outputs, uint256[8] memory proof) = _fraudProof(_trapdoorKey(0), id, INPUT, TRUE_OUTPUT, challenger);
        vm.expectRevert(abi.encodeWithSelector(IDisputes.DisputesClaimMismatch.selector, id));
        vm.prank(challenger);
        disputes.challenge(id, claim, TRUE_OUTPUT, outputs, proof);
    }

    function test_onlyDisputesRefutesFulfilments() public {
        (bytes32 id,) = _consumerFulfilled(WRONG_OUTPUT);
        vm.expectRevert(abi.encodeWithSelector(IPendingResults.PendingResultsNotDisputes.selector, address(this)));
        book.refute(id, bytes32(0));
    }

    /// @dev A two-step request is pending under each step's id; refuting step 1 refutes the request.
    function test_refutedStepRefutesRequest() public {
        bytes32[] memory pipeline = new bytes32[](2);
        (pipeline[0], pipeline[1]) = (modelId, otherModelId);
        IRequestBook.RequestParams memory params = _params(pipeline, address(0), 77);
        vm.prank(requester);
        bytes32 requestId = book.request(params, abi.encode(_outputs()), "");
        bytes32 middle = bytes32(uint256(4321));
        IRequestBook.StepEvidence[] memory steps = new IRequestBook.StepEvidence[](2);
        steps[0] = _step(requestId, requester, params, 0, INPUT, middle);
        steps[1] = _step(requestId, requester, params, 1, middle, WRONG_OUTPUT);
        book.fulfil(requester, params, operator, steps, _outputs());
        assertEq(operators.lockedOf(operator), 2 * uint256(PRICE) * BOND_MULTIPLE, "a bond per step");

        (ResultStatus status,, bool challengeable) = book.statusOf(requestId);
        assertEq(uint256(status), uint256(ResultStatus.Pending), "request pending");
        assertTrue(challengeable, "every signed step is backed");
        bytes32 stepId = book.stepIdOf(requester, otherModelId, requestId);
        Claim memory claim = Claim({
            modelId: otherModelId,
            inputCommitment: middle,
            outputCommitment: WRONG_OUTPUT,
            operator: operator,
            requester: requester,
            signer: signer,
            tier: Tier.Signature,
            operationId: requestId,
            fee: PRICE,
            bond: uint256(PRICE) * BOND_MULTIPLE,
            finalAt: uint64(block.timestamp) + WINDOW
        });
        uint256 escrowBefore = hub.balanceOf(requester);
        (uint256[] memory outputs, uint256[8] memory proof) = _fraudProof(_trapdoorKey(1), stepId, middle, TRUE_OUTPUT, challenger);
        vm.prank(challenger);
        IDisputes.Outcome memory o = disputes.challenge(stepId, claim, TRUE_OUTPUT, outputs, proof);
        assertEq(hub.balanceOf(requester), escrowBefore + o.refund, "refunded");
        (status,,) = book.statusOf(requestId);
        assertEq(uint256(status), uint256(ResultStatus.Refuted), "the request is refuted with its step");
        (IRequestBook.Status requestStatus,,) = book.resultOf(requestId);
        assertEq(uint256(requestStatus), uint256(IRequestBook.Status.Refuted), "request refuted");
    }

    function test_noFulfilmentWithoutFreeStake() public {
        // Other pending results lock all but 5 OPG of the operator's stake; a fulfilment bonds 10.
        operators.grantRole(operators.BOND_HOLDER_ROLE(), address(this));
        operators.lockBond(operator, OPERATOR_STAKE - 5e18, uint64(block.timestamp + 1 hours));
        bytes32 id = consumer.classify(INPUT, abi.encode(_outputs()), PRICE, uint64(block.timestamp + 1 hours), CALLBACK_GAS);
        IRequestBook.RequestParams memory params = _params(consumer.pipeline(), address(consumer), 1);
        params.maxFee = PRICE;
        IRequestBook.StepEvidence[] memory steps = new IRequestBook.StepEvidence[](1);
        steps[0] = _step(id, address(consumer), params, 0, INPUT, TRUE_OUTPUT);
        vm.expectRevert(
            abi.encodeWithSelector(
                IOperatorRegistry.OperatorRegistryInsufficientFreeStake.selector, operator, uint256(PRICE) * BOND_MULTIPLE, 5e18
            )
        );
        book.fulfil(address(consumer), params, operator, steps, _outputs());
    }
}
