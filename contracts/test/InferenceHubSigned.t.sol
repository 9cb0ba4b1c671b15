// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IFeeEscrow} from "../interfaces/IFeeEscrow.sol";
import {IInferenceHub} from "../interfaces/IInferenceHub.sol";
import {IModelRegistry} from "../interfaces/IModelRegistry.sol";
import {Receipt} from "../types/Receipt.sol";
import {Tier} from "../types/Tier.sol";
import {HubFixture} from "./utils/HubFixture.sol";

/// @notice Signature-tier edge cases: exact split, replay, deadline boundary, foreign and malleable
///         signatures, output range, and receipts that name no operator.
contract InferenceHubSignedTest is HubFixture {
    uint256 internal constant FIELD = 21888242871839275222246405745257275088548364400416034343698204186575808495617;
    /// @dev secp256k1 group order.
    uint256 internal constant N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141;
    uint80 internal constant PRICE = 1e18 + 7;

    address internal requester = address(0x1000);
    address internal operator = address(0x2000);
    address internal owner = address(0x3000);
    uint256 internal signerKey = 0xA11CE;
    address internal signer;
    bytes32 internal modelId;

    function setUp() public {
        _deploySystem();
        signer = vm.addr(signerKey);

        token.transfer(operator, MIN_STAKE);
        vm.startPrank(operator);
        token.approve(address(operators), MIN_STAKE);
        operators.stake(MIN_STAKE);
        vm.stopPrank();
        _bindSigner(operator, signerKey);

        IModelRegistry.Registration memory reg;
        reg.weightsCommitment = keccak256("weights");
        reg.prices = [PRICE, PRICE, PRICE];
        reg.acceptedTiers = 1 << 1;
        vm.prank(owner);
        modelId = models.registerModel(reg);

        token.transfer(requester, 100e18);
        vm.startPrank(requester);
        token.approve(address(hub), 100e18);
        hub.deposit(requester, 100e18);
        vm.stopPrank();
    }

    function _receipt(uint256 nonce, bytes32 output) internal view returns (Receipt memory) {
        return Receipt({
            modelId: modelId,
            inputCommitment: keccak256(abi.encode("input", nonce)),
            outputCommitment: output,
            outputDigest: bytes32(0),
            requester: requester,
            operator: operator,
            nonce: nonce,
            deadline: uint64(block.timestamp + 1 hours),
            tier: Tier.Signature
        });
    }

    function _sign(uint256 key, Receipt memory r) internal view returns (bytes memory) {
        (uint8 v, bytes32 rr, bytes32 ss) = vm.sign(key, hub.receiptDigest(r));
        return abi.encodePacked(rr, ss, v);
    }

    function _submit(Receipt memory r, address signer_, bytes memory signature) internal returns (bytes32) {
        vm.prank(requester);
        return hub.submitSigned(r, signer_, signature, PRICE);
    }

    function test_settlesOnceAndSplitsExactly() public {
        Receipt memory r = _receipt(1, bytes32(uint256(42)));
        bytes32 id = _submit(r, signer, _sign(signerKey, r));
        assertEq(id, hub.receiptIdOf(requester, modelId, 1), "id");
        uint256 toOperator = uint256(PRICE) * OPERATOR_BPS / 10_000;
        uint256 toOwner = uint256(PRICE) * OWNER_BPS / 10_000;
        assertEq(hub.balanceOf(requester), 100e18 - PRICE, "requester debited the price");
        assertEq(hub.balanceOf(operator), toOperator, "operator share");
        assertEq(hub.balanceOf(owner), toOwner, "owner share");
        assertEq(hub.treasuryAccrued(), PRICE - toOperator - toOwner, "treasury remainder");
        assertEq(hub.verifiedOutput(id, Tier.Signature), bytes32(uint256(42)), "output");

        // Same (requester, model, nonce), another output: refused, the first result stays.
        Receipt memory replay = _receipt(1, bytes32(uint256(43)));
        bytes memory signature = _sign(signerKey, replay);
        vm.expectRevert(abi.encodeWithSelector(IInferenceHub.InferenceHubAlreadyVerified.selector, id));
        _submit(replay, signer, signature);
        assertEq(hub.verifiedOutput(id, Tier.Signature), bytes32(uint256(42)), "output unchanged");
    }

    function test_deadlineIsInclusive() public {
        Receipt memory r = _receipt(2, bytes32(uint256(1)));
        r.deadline = uint64(block.timestamp);
        _submit(r, signer, _sign(signerKey, r));

        r = _receipt(3, bytes32(uint256(1)));
        r.deadline = uint64(block.timestamp - 1);
        bytes memory signature = _sign(signerKey, r);
        vm.expectRevert(abi.encodeWithSelector(IInferenceHub.InferenceHubExpired.selector, r.deadline));
        _submit(r, signer, signature);
    }

    /// @notice Any key but the signer's is refused, even though the signer is active.
    function testFuzz_foreignKeyRejected(uint256 key) public {
        key = bound(key, 1, N - 1);
        vm.assume(key != signerKey);
        Receipt memory r = _receipt(4, bytes32(uint256(1)));
        bytes memory signature = _sign(key, r);
        vm.expectRevert(abi.encodeWithSelector(IInferenceHub.InferenceHubInvalidSignature.selector, signer));
        _submit(r, signer, signature);
    }

    /// @notice The malleable twin (r, n − s, v') of a valid signature is refused.
    function testFuzz_highSTwinRejected(uint256 nonce) public {
        Receipt memory r = _receipt(bound(nonce, 0, (1 << 255) - 1), bytes32(uint256(7)));
        (uint8 v, bytes32 rr, bytes32 ss) = vm.sign(signerKey, hub.receiptDigest(r));
        bytes memory twin = abi.encodePacked(rr, bytes32(N - uint256(ss)), v == 27 ? uint8(28) : uint8(27));
        vm.expectRevert(abi.encodeWithSelector(IInferenceHub.InferenceHubInvalidSignature.selector, signer));
        _submit(r, signer, twin);
        // The canonical one passes.
        _submit(r, signer, abi.encodePacked(rr, ss, v));
    }

    /// @notice Output commitments must be field elements; nothing is charged otherwise.
    function testFuzz_outputOutOfFieldRejected(uint256 output) public {
        output = bound(output, FIELD, type(uint256).max);
        Receipt memory r = _receipt(5, bytes32(output));
        bytes memory signature = _sign(signerKey, r);
        vm.expectRevert(
            abi.encodeWithSelector(IInferenceHub.InferenceHubCommitmentOutOfField.selector, bytes32(output))
        );
        _submit(r, signer, signature);
        assertEq(hub.balanceOf(requester), 100e18, "nothing charged");
    }

    function test_unfundedRequesterRejected() public {
        address poor = address(0x1001);
        Receipt memory r = _receipt(6, bytes32(uint256(1)));
        r.requester = poor;
        bytes memory signature = _sign(signerKey, r);
        vm.expectRevert(
            abi.encodeWithSelector(IFeeEscrow.FeeEscrowInsufficientBalance.selector, poor, 0, uint256(PRICE))
        );
        vm.prank(poor);
        hub.submitSigned(r, signer, signature, PRICE);
    }

    /// @notice A receipt that names no operator must not verify at the Signature tier, whoever signed it.
    /// @dev Regression: `operators.activeOperatorOf(signer)` is address(0) for an unknown signer, which
    ///      once matched a receipt naming operator zero; any key then "verified" any output and the
    ///      operator share was credited to address(0), locked for good.
    function test_receiptWithoutOperatorRejected() public {
        uint256 anyKey = 0xBADBAD;
        address anySigner = vm.addr(anyKey);
        Receipt memory r = _receipt(8, bytes32(uint256(666)));
        r.operator = address(0);
        bytes memory signature = _sign(anyKey, r);
        vm.expectRevert(
            abi.encodeWithSelector(IInferenceHub.InferenceHubUnauthorizedSigner.selector, anySigner, address(0))
        );
        _submit(r, anySigner, signature);
    }

    /// @notice The same, for a registered signer whose operator unbonded below the minimum stake.
    function test_inactiveSignerWithoutOperatorRejected() public {
        vm.prank(operator);
        operators.requestUnbond(1);
        Receipt memory r = _receipt(9, bytes32(uint256(666)));
        r.operator = address(0);
        bytes memory signature = _sign(signerKey, r);
        vm.expectRevert(
            abi.encodeWithSelector(IInferenceHub.InferenceHubUnauthorizedSigner.selector, signer, address(0))
        );
        _submit(r, signer, signature);
    }

    /// @notice An inactive operator's own signer is refused (the non-bug counterpart of the above).
    function test_inactiveOperatorRejected() public {
        vm.prank(operator);
        operators.requestUnbond(1);
        Receipt memory r = _receipt(10, bytes32(uint256(1)));
        bytes memory signature = _sign(signerKey, r);
        vm.expectRevert(abi.encodeWithSelector(IInferenceHub.InferenceHubUnauthorizedSigner.selector, signer, operator));
        _submit(r, signer, signature);
    }

    function _operationOf(Receipt memory r, bytes memory signature)
        internal
        view
        returns (Receipt[] memory steps, IInferenceHub.Evidence[] memory evidence, IInferenceHub.OperationRequest memory request)
    {
        steps = new Receipt[](1);
        steps[0] = r;
        evidence = new IInferenceHub.Evidence[](1);
        evidence[0].signer = signer;
        evidence[0].signature = signature;
        request = IInferenceHub.OperationRequest({
            inputCommitment: r.inputCommitment,
            minEachStep: Tier.Signature,
            minFinalStep: Tier.Signature,
            maxFee: PRICE
        });
    }

    function _trySubmitOperation(Receipt memory r, bytes memory signature) internal returns (bool ok) {
        (Receipt[] memory steps, IInferenceHub.Evidence[] memory evidence, IInferenceHub.OperationRequest memory request) =
            _operationOf(r, signature);
        vm.prank(requester);
        try hub.submitOperation(steps, evidence, request) returns (bytes32) {
            return true;
        } catch {
            return false;
        }
    }

    /// @notice A receipt settled by submitSigned cannot be charged again as a step of an operation, nor
    ///         the other way round (its id is one receipt id either way).
    /// @dev Regression: step evidence was once valid as a single receipt and vice versa, so one receipt
    ///      could be billed by both entry points. Step nonces now carry OPERATION_NONCE_FLAG and an
    ///      operation's id depends only on requester and nonce.
    function test_receiptNotChargedTwiceAcrossEntryPoints() public {
        // Control: the one-step operation as built here is accepted for a fresh step receipt.
        Receipt memory fresh = _receipt(12 | (1 << 255), bytes32(uint256(5)));
        assertTrue(_trySubmitOperation(fresh, _sign(signerKey, fresh)), "control operation refused");
        uint256 balance = hub.balanceOf(requester);

        // submitSigned first, then the same receipt as an operation step.
        Receipt memory r = _receipt(11, bytes32(uint256(5)));
        bytes memory signature = _sign(signerKey, r);
        _submit(r, signer, signature);
        assertEq(hub.balanceOf(requester), balance - PRICE, "charged once");
        assertTrue(!_trySubmitOperation(r, signature), "settled receipt accepted again as an operation step");
        assertEq(hub.balanceOf(requester), balance - PRICE, "receipt charged twice");

        // The operation's step, then the same receipt alone.
        bytes memory freshSignature = _sign(signerKey, fresh);
        vm.prank(requester);
        try hub.submitSigned(fresh, signer, freshSignature, PRICE) returns (bytes32) {
            revert AssertionFailed("operation step accepted again by submitSigned", 0, 0);
        } catch {}

        // The same step in another operation (same requester and nonce) is the same operation id.
        Receipt memory sameNonce = _receipt(12 | (1 << 255), bytes32(uint256(6)));
        assertTrue(!_trySubmitOperation(sameNonce, _sign(signerKey, sameNonce)), "second operation with the nonce accepted");
        assertEq(hub.balanceOf(requester), balance - PRICE, "charged again");
    }
}
