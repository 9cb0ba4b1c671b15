// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IModelRegistry} from "../interfaces/IModelRegistry.sol";
import {BatchSettlementTest} from "./BatchSettlement.t.sol";
import {IBatchSettlement} from "../interfaces/IBatchSettlement.sol";
import {ResultStatus} from "../types/Claim.sol";

/// @notice Regressions from an attacker's review of batch settlement: batches are keyed by operator and root (no
///         squatting), another operator's root is no "previous" leaf, a batch that charges nothing is refused, a
///         decoy leaf refunds only the requesters the batch charged, a revocation takes effect after the
///         withdrawal notice, copyable evidence pays no reward (front-running gains nothing), fees follow the closing
///         leaves' models, and the closing leaves are signed (a griefer cannot post another choice).
contract BatchSettlementAttacksTest is BatchSettlementTest {
    address internal op2 = address(0x7777);
    uint256 internal signer2Key = 0xBAD;

    function _becomeOperator() internal {
        token.transfer(op2, OPERATOR_STAKE);
        vm.startPrank(op2);
        token.approve(address(operators), OPERATOR_STAKE);
        operators.stake(OPERATOR_STAKE);
        vm.stopPrank();
        _bindSigner(op2, signer2Key);
    }

    function _op2Authorization() internal view returns (IBatchSettlement.SpendingAuthorization memory a) {
        a = IBatchSettlement.SpendingAuthorization({
            requester: payer,
            operator: op2,
            cap: 1e18,
            expiry: uint64(block.timestamp + 1 days),
            salt: keccak256("op2")
        });
    }

    function _settlement(IBatchSettlement.SpendingAuthorization memory a, IBatchSettlement.Closing[] memory closings)
        internal
        view
        returns (IBatchSettlement.Settlement[] memory list)
    {
        list = new IBatchSettlement.Settlement[](1);
        list[0] =
            IBatchSettlement.Settlement({authorization: a, signature: _signAuthorization(a), closings: closings});
    }

    /// @dev Posts `root` signed by signer `key` with `settlements`, the signature covering `closingHashes`.
    function postSigned(
        uint256 key,
        bytes32 root,
        uint32 leafCount,
        IBatchSettlement.Settlement[] memory settlements,
        bytes32[] memory closingHashes
    ) public {
        IBatchSettlement.BatchHeader memory header =
            IBatchSettlement.BatchHeader({root: root, leafCount: leafCount, uri: "x"});
        Ledger memory ledger = _ledgerFor(settlements);
        batches.postBatch(header, vm.addr(key), _signBatch(key, header, closingHashes), settlements);
        _remember(operators.activeOperatorOf(vm.addr(key)), root, ledger);
    }

    function postEmpty(bytes32 root) external {
        postSigned(signer2Key, root, 1, new IBatchSettlement.Settlement[](0), new bytes32[](0));
    }

    /// @dev op2 posts a real, paying batch: a "previous" leaf P for the victim's authorization beside the
    ///      closing leaf of an authorization a requester gave op2.
    function _postForged(IBatchSettlement.Leaf memory forged) internal returns (bytes32 root) {
        IBatchSettlement.SpendingAuthorization memory a = _op2Authorization();
        IBatchSettlement.Leaf memory closing = _leaf(batches.authorizationId(a), 0, LEAF_PRICE, TRUE_OUTPUT);
        root = _pair(_hash(forged), _hash(closing));
        postSigned(signer2Key, root, 2, _settlement(a, _closings(closing, _one(_hash(forged)))), _one(_hash(closing)));
    }

    function test_anotherOperatorsRootIsNoPreviousLeaf() public {
        (bytes32 root, IBatchSettlement.Leaf[] memory leaves) = _twoLeafBatch(TRUE_OUTPUT); // fully honest
        _becomeOperator();
        // A fake "previous" leaf for the victim's authorization (running total 0), in op2's own root.
        IBatchSettlement.Leaf memory fake = _leaf(leaves[0].authorization, 0, 0, TRUE_OUTPUT);
        bytes32 fakeRoot = _postForged(fake);
        // The proof of `fake` in op2's root is the closing leaf's hash.
        bytes32[] memory fakeProof =
            _one(_hash(_leaf(batches.authorizationId(_op2Authorization()), 0, LEAF_PRICE, TRUE_OUTPUT)));
        uint256 lockedBefore = operators.lockedOf(operator);
        vm.prank(stranger);
        // The previous root is looked up among the refuted batch's operator's batches: op2's is not one.
        vm.expectRevert(
            abi.encodeWithSelector(IBatchSettlement.BatchSettlementUnknownBatch.selector, operator, fakeRoot)
        );
        batches.refuteCharge(_closed(operator, root), _lp(root, leaves[1], _proofOf(leaves, 1)), _lp(fakeRoot, fake, fakeProof));
        assertEq(operators.lockedOf(operator), lockedBefore, "the honest bond is untouched");
    }

    function test_rootSquatWithoutFeesRefused() public {
        (, bytes32 id) = _authorization(1e18);
        IBatchSettlement.Leaf memory leaf = _leaf(id, 0, LEAF_PRICE, TRUE_OUTPUT);
        _becomeOperator();
        vm.expectRevert(IBatchSettlement.BatchSettlementEmptyBatch.selector);
        this.postEmpty(_hash(leaf));
    }

    /// @dev Finding 1: a staked operator paying a real fee posts a root that holds a leaf of its own first.
    ///      Batches are keyed by (operator, root): the honest operator's batch over the same root still posts.
    function test_anotherOperatorCannotSquatARoot() public {
        (IBatchSettlement.SpendingAuthorization memory a, bytes32 id) = _authorization(1e18);
        IBatchSettlement.SpendingAuthorization memory a2 = _op2Authorization();
        _becomeOperator();
        IBatchSettlement.Leaf memory honest = _leaf(id, 0, LEAF_PRICE, TRUE_OUTPUT);
        IBatchSettlement.Leaf memory squat = _leaf(batches.authorizationId(a2), 0, LEAF_PRICE, TRUE_OUTPUT);
        bytes32 root = _pair(_hash(honest), _hash(squat));

        postSigned(signer2Key, root, 2, _settlement(a2, _closings(squat, _one(_hash(honest)))), _one(_hash(squat)));
        assertEq(batches.batchOf(op2, root).operator, op2, "op2's batch over the root");
        assertEq(batches.batchOf(operator, root).finalAt, 0, "not the honest operator's batch");

        postSigned(signerKey, root, 2, _settlement(a, _closings(honest, _one(_hash(squat)))), _one(_hash(honest)));
        assertEq(batches.batchOf(operator, root).operator, operator, "the honest batch is posted too");
        (,, ResultStatus status,) = batches.verifyLeaf(operator, root, honest, _one(_hash(squat)));
        assertEq(uint256(status), uint256(ResultStatus.Pending), "its leaf verifies under its operator");
        assertEq(batches.earningsOf(operator), LEAF_PRICE * OPERATOR_BPS / 10_000, "the honest operator is paid");
        // The same operator cannot post the same root twice.
        IBatchSettlement.Settlement[] memory again = _settlement(a, _closings(honest, _one(_hash(squat))));
        vm.expectRevert(
            abi.encodeWithSelector(IBatchSettlement.BatchSettlementRootExists.selector, operator, root)
        );
        this.postSigned(signerKey, root, 2, again, _one(_hash(honest)));
    }

    /// @dev An operator plants a decoy leaf (a sybil as requester, a huge running total) and refutes it
    ///      itself first: the sybil was charged nothing in the batch, so it gets nothing, and the batch's real
    ///      requester still gets the whole pool.
    function test_decoyLeafRefundsOnlyTheChargedRequesters() public {
        (IBatchSettlement.SpendingAuthorization memory a, bytes32 id) = _authorization(1e18);
        IBatchSettlement.Leaf[] memory leaves = new IBatchSettlement.Leaf[](2);
        address sybil = address(0x5151);
        IBatchSettlement.Leaf memory decoy = _leaf(keccak256("nothing"), 0, type(uint128).max, TRUE_OUTPUT);
        decoy.requester = sybil;
        leaves[0] = decoy;
        leaves[1] = _leaf(id, 0, LEAF_PRICE, WRONG_OUTPUT);
        bytes32 root = _post(a, leaves);
        // Naming other charges (the sybil charged the whole batch) does not pass the stored hash.
        IBatchSettlement.ClosedBatch memory lie = _closed(operator, root);
        lie.batch.charges[0].requester = sybil;
        bytes memory wrongLedger = abi.encodeWithSelector(
            IBatchSettlement.BatchSettlementWrongLedger.selector, batches.batchIdOf(operator, root)
        );
        vm.expectRevert(wrongLedger);
        batches.refuteCharge(lie, _lp(lie.batch.root, decoy, _proofOf(leaves, 0)), _lp(bytes32(0), decoy, new bytes32[](0)));
        // Nor do other closing leaves.
        lie = _closed(operator, root);
        lie.batch.closings = keccak256("other closings");
        vm.expectRevert(wrongLedger);
        batches.refuteCharge(lie, _lp(lie.batch.root, decoy, _proofOf(leaves, 0)), _lp(bytes32(0), decoy, new bytes32[](0)));
        vm.prank(operator);
        IBatchSettlement.Outcome memory o =
            batches.refuteCharge(_closed(operator, root), _lp(root, decoy, _proofOf(leaves, 0)), _lp(bytes32(0), decoy, new bytes32[](0)));
        assertEq(o.reward, 0, "the operator earns no reward");
        vm.expectRevert(
            abi.encodeWithSelector(IBatchSettlement.BatchSettlementNoRefund.selector, batches.batchIdOf(operator, root), sybil)
        );
        batches.claimRefund(_ref(operator, root), sybil);
        assertEq(batches.claimRefund(_ref(operator, root), payer), o.refund, "the charged requester gets the pool");
        assertEq(o.refund, LEAF_PRICE + LEAF_PRICE * BOND_MULTIPLE * COMPENSATION_BPS / 10_000, "its charge + compensation");
        assertEq(o.remainder, o.slashed - o.refund, "the rest of the slash goes to the treasury");
        assertEq(token.balanceOf(address(batches)), _held(), "every token accounted for");
    }

    /// @dev Finding 2: a requester served under an authorization revokes it before the batch is posted. The
    ///      revocation takes effect after the withdrawal notice: a batch posted within it is paid.
    function test_revocationTakesEffectAfterTheNotice() public {
        (IBatchSettlement.SpendingAuthorization memory a,) = _authorization(10e18);
        a.expiry = uint64(block.timestamp + 10 days);
        bytes32 id = batches.authorizationId(a);
        IBatchSettlement.Leaf[] memory leaves = new IBatchSettlement.Leaf[](1);
        leaves[0] = _leaf(id, 0, LEAF_PRICE, TRUE_OUTPUT); // served, then the requester revokes
        vm.prank(payer);
        batches.revokeAuthorization(a);
        uint64 revokedAt = uint64(block.timestamp + 1 days);
        assertEq(batches.authorizationStateOf(id).revokedAt, revokedAt, "the view says when it takes effect");
        bytes memory revoked =
            abi.encodeWithSelector(IBatchSettlement.BatchSettlementAuthorizationRevoked.selector, id, revokedAt);
        vm.prank(payer);
        vm.expectRevert(revoked);
        batches.revokeAuthorization(a);

        vm.warp(revokedAt - 1);
        _post(a, leaves);
        assertEq(batches.authorizationStateOf(id).settled, LEAF_PRICE, "posted within the notice: paid");

        vm.warp(revokedAt);
        leaves[0] = _leaf(id, 1, 2 * LEAF_PRICE, TRUE_OUTPUT);
        vm.expectRevert(revoked);
        this.postExternal(a, leaves);
    }

    /// @dev Finding 3: a stranger copies a requester's charge refutation from the mempool and sends it first.
    ///      Evidence anyone can copy pays no reward: the requester's refund is the same whoever sends it.
    function test_copyableEvidencePaysNoReward() public {
        (IBatchSettlement.SpendingAuthorization memory a, bytes32 id) = _authorization(1e18);
        IBatchSettlement.Leaf[] memory first = new IBatchSettlement.Leaf[](1);
        first[0] = _leaf(id, 0, 2 * LEAF_PRICE, TRUE_OUTPUT); // charged twice its price
        bytes32 root = _post(a, first);
        uint256 before = token.balanceOf(stranger);
        vm.prank(stranger);
        IBatchSettlement.Outcome memory o =
            batches.refuteCharge(_closed(operator, root), _lp(root, first[0], new bytes32[](0)), _lp(bytes32(0), first[0], new bytes32[](0)));
        assertEq(o.reward, 0, "no reward");
        assertEq(token.balanceOf(stranger), before, "the front-runner gets nothing");
        assertEq(batches.claimRefund(_ref(operator, root), payer), o.refund, "the requester gets the pool");
        assertEq(token.balanceOf(address(batches)), _held(), "every token accounted for");
    }

    function _operatorModel() internal returns (bytes32 id) {
        IModelRegistry.Registration memory reg;
        reg.weightsCommitment = keccak256("the operator's own weights");
        reg.prices = [PRICE, PRICE, PRICE];
        reg.acceptedTiers = (1 << 1) | (1 << 2) | (1 << 3);
        reg.verifyingKey = _trapdoorKey(1);
        vm.prank(operator);
        id = models.registerModel(reg);
    }

    function _tree4(IBatchSettlement.Leaf[] memory l) internal pure returns (bytes32) {
        return _pair(_pair(_hash(l[0]), _hash(l[1])), _pair(_hash(l[2]), _hash(l[3])));
    }

    function _proof4(IBatchSettlement.Leaf[] memory l, uint256 i) internal pure returns (bytes32[] memory p) {
        p = new bytes32[](2);
        p[0] = _hash(l[i ^ 1]);
        p[1] = i < 2 ? _pair(_hash(l[2]), _hash(l[3])) : _pair(_hash(l[0]), _hash(l[1]));
    }

    /// @dev One authorization served two receipts of `modelId` (the owner's) and two of the operator's own
    ///      model, each with its own running total.
    function _mixedLeaves(bytes32 id, bytes32 ownModel) internal view returns (IBatchSettlement.Leaf[] memory l) {
        l = new IBatchSettlement.Leaf[](4);
        l[0] = _leaf(id, 0, LEAF_PRICE, TRUE_OUTPUT);
        l[1] = _leaf(id, 1, 2 * LEAF_PRICE, TRUE_OUTPUT);
        l[2] = _leaf(id, 0, 3 * LEAF_PRICE, TRUE_OUTPUT);
        l[3] = _leaf(id, 1, 6 * LEAF_PRICE, TRUE_OUTPUT);
        for (uint256 i = 2; i < 4; ++i) {
            l[i].modelId = ownModel;
            l[i].price = 3 * LEAF_PRICE;
        }
    }

    /// @dev Finding 4: no operator-stated fee list: each model's fee is what its own closing leaves charged.
    function test_feesFollowTheClosingLeavesModels() public {
        bytes32 ownModel = _operatorModel();
        (IBatchSettlement.SpendingAuthorization memory a, bytes32 id) = _authorization(1e18);
        IBatchSettlement.Leaf[] memory l = _mixedLeaves(id, ownModel);
        IBatchSettlement.Closing[] memory closings = new IBatchSettlement.Closing[](2);
        closings[0] = IBatchSettlement.Closing({leaf: l[1], proof: _proof4(l, 1)});
        closings[1] = IBatchSettlement.Closing({leaf: l[3], proof: _proof4(l, 3)});
        bytes32[] memory hashes = new bytes32[](2);
        (hashes[0], hashes[1]) = (_hash(l[1]), _hash(l[3]));
        postSigned(signerKey, _tree4(l), 4, _settlement(a, closings), hashes);

        uint256 ownerShare = 2 * LEAF_PRICE * OWNER_BPS / 10_000;
        uint256 ownShare = 6 * LEAF_PRICE * OWNER_BPS / 10_000;
        uint256 operatorShare = 8 * LEAF_PRICE * OPERATOR_BPS / 10_000;
        assertEq(batches.earningsOf(owner), ownerShare, "the owner earns 20% of its model's receipts");
        assertEq(batches.earningsOf(operator), operatorShare + ownShare, "the operator's model: its own only");
        assertEq(batches.settledOf(id, modelId), 2 * LEAF_PRICE, "settled per model");
        assertEq(batches.settledOf(id, ownModel), 6 * LEAF_PRICE, "settled per model");
        assertEq(batches.authorizationStateOf(id).settled, 8 * LEAF_PRICE, "settled in total");

        // Running totals chain per (authorization, model): a leaf of the other model is no previous leaf.
        bytes32 root = _tree4(l);
        vm.expectRevert(abi.encodeWithSelector(IBatchSettlement.BatchSettlementNotConsecutive.selector, _hash(l[3])));
        batches.refuteCharge(_closed(operator, root), _lp(root, l[3], _proof4(l, 3)), _lp(root, l[0], _proof4(l, 0)));
        vm.expectRevert(abi.encodeWithSelector(IBatchSettlement.BatchSettlementChargeConsistent.selector, _hash(l[3])));
        batches.refuteCharge(_closed(operator, root), _lp(root, l[3], _proof4(l, 3)), _lp(root, l[2], _proof4(l, 2)));
    }

    /// @dev Finding 4: a griefer holding the operator's signed root posts it with an early closing leaf, or
    ///      with only some of its (authorization, model) closings: the signature covers the closing leaves.
    function test_closingLeavesAreSigned() public {
        bytes32 ownModel = _operatorModel();
        (IBatchSettlement.SpendingAuthorization memory a, bytes32 id) = _authorization(1e18);
        IBatchSettlement.Leaf[] memory l = _mixedLeaves(id, ownModel);
        bytes32 root = _tree4(l);
        bytes32[] memory signedHashes = new bytes32[](2);
        (signedHashes[0], signedHashes[1]) = (_hash(l[1]), _hash(l[3]));
        IBatchSettlement.BatchHeader memory header = IBatchSettlement.BatchHeader({root: root, leafCount: 4, uri: "x"});
        bytes memory signature = _signBatch(signerKey, header, signedHashes);
        bytes memory invalid =
            abi.encodeWithSelector(IBatchSettlement.BatchSettlementInvalidSignature.selector, signer);

        // An early closing leaf (nonce 0 instead of 1) for the owner's model.
        IBatchSettlement.Closing[] memory closings = new IBatchSettlement.Closing[](2);
        closings[0] = IBatchSettlement.Closing({leaf: l[0], proof: _proof4(l, 0)});
        closings[1] = IBatchSettlement.Closing({leaf: l[3], proof: _proof4(l, 3)});
        IBatchSettlement.Settlement[] memory settlements = _settlement(a, closings);
        vm.prank(stranger);
        vm.expectRevert(invalid);
        batches.postBatch(header, signer, signature, settlements);
        // Only one of the two closings.
        IBatchSettlement.Closing[] memory some = new IBatchSettlement.Closing[](1);
        some[0] = IBatchSettlement.Closing({leaf: l[3], proof: _proof4(l, 3)});
        settlements = _settlement(a, some);
        vm.prank(stranger);
        vm.expectRevert(invalid);
        batches.postBatch(header, signer, signature, settlements);
        // An extra settlement with no closing leaf.
        IBatchSettlement.Settlement[] memory padded = new IBatchSettlement.Settlement[](2);
        padded[0] = _settlement(a, closings)[0];
        padded[1] = _settlement(a, new IBatchSettlement.Closing[](0))[0];
        vm.prank(stranger);
        vm.expectRevert(IBatchSettlement.BatchSettlementEmptyBatch.selector);
        batches.postBatch(header, signer, signature, padded);
        // No settlement at all.
        vm.prank(stranger);
        vm.expectRevert(invalid);
        batches.postBatch(header, signer, signature, new IBatchSettlement.Settlement[](0));
        assertEq(batches.authorizationStateOf(id).settled, 0, "nothing settled");

        // Exactly the signed choice posts, whoever sends it.
        closings[0] = IBatchSettlement.Closing({leaf: l[1], proof: _proof4(l, 1)});
        settlements = _settlement(a, closings);
        vm.prank(stranger);
        batches.postBatch(header, signer, signature, settlements);
        assertEq(batches.authorizationStateOf(id).settled, 8 * LEAF_PRICE, "the whole signed amount is settled");
    }
}
