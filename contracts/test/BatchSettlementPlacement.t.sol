// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IBatchSettlement} from "../interfaces/IBatchSettlement.sol";
import {ResultStatus} from "../types/Claim.sol";
import {BatchSettlementTest} from "./BatchSettlement.t.sol";

/// @notice Regressions from the third attacker's review of batch settlement.
///         H1: a wrong receipt placed in a batch that charged little (a small bond) while another batch charged it.
///         A root must hold exactly the receipts its batch charges (its ledger holds each running total's range:
///         a leaf outside them refutes the batch, refutePlacement); two receipts signed for one nonce refute the
///         batch that charged it (refuteEquivocation); and a receipt kept out of the batch that charged it, in a
///         refuted root, refutes the charging batch too (every refutation).
///         Decoy: every requester a refuted batch charged shares its refund pool in proportion, whoever refuted
///         it: an operator refuting its own batch first through a requester of its own still pays the others.
contract BatchSettlementPlacementTest is BatchSettlementTest {
    uint256 internal otherKey = 0xC0C;
    address internal other;

    struct Posted {
        bytes32 root;
        IBatchSettlement.Leaf[] leaves;
        IBatchSettlement.Leaf[] closings;
    }

    function setUpOther() internal {
        other = vm.addr(otherKey);
        token.approve(address(batches), DEPOSIT);
        batches.deposit(other, DEPOSIT);
    }

    function _authorizationOf(address requester, bytes32 salt)
        internal
        view
        returns (IBatchSettlement.SpendingAuthorization memory a)
    {
        a = IBatchSettlement.SpendingAuthorization({
            requester: requester,
            operator: operator,
            cap: 1e18,
            expiry: uint64(block.timestamp + 1 days),
            salt: salt
        });
    }

    function _signedBy(uint256 key, IBatchSettlement.SpendingAuthorization memory a) internal view returns (bytes memory) {
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(key, batches.authorizationId(a));
        return abi.encodePacked(r, s, v);
    }

    /// @dev The root of 1, 2 or 4 leaves (sorted pairs, as OpenZeppelin's StandardMerkleTree for these sizes
    ///      in this test's order).
    function _rootOf(IBatchSettlement.Leaf[] memory l) internal pure returns (bytes32) {
        if (l.length == 1) return _hash(l[0]);
        if (l.length == 2) return _pair(_hash(l[0]), _hash(l[1]));
        return _pair(_pair(_hash(l[0]), _hash(l[1])), _pair(_hash(l[2]), _hash(l[3])));
    }

    function _proofIn(IBatchSettlement.Leaf[] memory l, uint256 i) internal pure returns (bytes32[] memory p) {
        if (l.length == 1) return new bytes32[](0);
        if (l.length == 2) {
            p = new bytes32[](1);
            p[0] = _hash(l[1 - i]);
            return p;
        }
        p = new bytes32[](2);
        p[0] = _hash(l[i ^ 1]);
        p[1] = i < 2 ? _pair(_hash(l[2]), _hash(l[3])) : _pair(_hash(l[0]), _hash(l[1]));
    }

    /// @dev Posts `leaves`; settlement i settles authorization `auths[i]` (signed by `keys[i]`) with the
    ///      closing leaves at indices `closing[i]`.
    function _postBatch(
        IBatchSettlement.Leaf[] memory leaves,
        IBatchSettlement.SpendingAuthorization[] memory auths,
        uint256[] memory keys,
        uint256[][] memory closing
    ) internal returns (Posted memory posted) {
        posted.root = _rootOf(leaves);
        posted.leaves = leaves;
        uint256 n;
        for (uint256 i = 0; i < closing.length; ++i) n += closing[i].length;
        posted.closings = new IBatchSettlement.Leaf[](n);
        bytes32[] memory hashes = new bytes32[](n);
        IBatchSettlement.Settlement[] memory settlements = new IBatchSettlement.Settlement[](auths.length);
        n = 0;
        for (uint256 i = 0; i < auths.length; ++i) {
            IBatchSettlement.Closing[] memory c = new IBatchSettlement.Closing[](closing[i].length);
            for (uint256 j = 0; j < closing[i].length; ++j) {
                uint256 k = closing[i][j];
                c[j] = IBatchSettlement.Closing({leaf: leaves[k], proof: _proofIn(leaves, k)});
                posted.closings[n] = leaves[k];
                hashes[n++] = _hash(leaves[k]);
            }
            settlements[i] =
                IBatchSettlement.Settlement({authorization: auths[i], signature: _signedBy(keys[i], auths[i]), closings: c});
        }
        IBatchSettlement.BatchHeader memory header =
            IBatchSettlement.BatchHeader({root: posted.root, leafCount: uint32(leaves.length), uri: "ipfs://leaves"});
        Ledger memory ledger = _ledgerFor(settlements);
        batches.postBatch(header, signer, _signBatch(signerKey, header, hashes), settlements);
        _remember(operator, posted.root, ledger);
    }

    /// @dev One authorization of the payer, closing at `closingIndex`.
    function _postPayer(IBatchSettlement.Leaf[] memory leaves, uint256 closingIndex) internal returns (Posted memory) {
        (IBatchSettlement.SpendingAuthorization memory a,) = _authorization(1e18);
        IBatchSettlement.SpendingAuthorization[] memory auths = new IBatchSettlement.SpendingAuthorization[](1);
        auths[0] = a;
        uint256[] memory keys = new uint256[](1);
        keys[0] = payerKey;
        uint256[][] memory closing = new uint256[][](1);
        closing[0] = new uint256[](1);
        closing[0][0] = closingIndex;
        return _postBatch(leaves, auths, keys, closing);
    }

    function _two(IBatchSettlement.Leaf memory a, IBatchSettlement.Leaf memory b)
        internal
        pure
        returns (IBatchSettlement.Leaf[] memory l)
    {
        l = new IBatchSettlement.Leaf[](2);
        (l[0], l[1]) = (a, b);
    }

    function _closed(Posted memory p) internal view returns (IBatchSettlement.ClosedBatch memory) {
        return _closed(operator, p.root);
    }

    function _in(Posted memory p, uint256 i) internal pure returns (IBatchSettlement.LeafProof memory) {
        return _lp(p.root, p.leaves[i], _proofIn(p.leaves, i));
    }

    function _inPlace(IBatchSettlement.Leaf memory leaf) internal pure returns (bytes memory) {
        return abi.encodeWithSelector(IBatchSettlement.BatchSettlementLeafInPlace.selector, _hash(leaf));
    }

    /// @dev H1, the attack: batch 1 charges receipt 0 alone (a bond of one price) but its root also holds a wrong
    ///      receipt 1; batch 2 charges receipts 1 and 2 (a bond of two prices) under another receipt 1. The wrong
    ///      receipt is out of place in batch 1, and an equivocation that refutes batch 2, the one that charged it.
    function test_wrongReceiptAnswersWithTheBondOfTheBatchThatChargedIt() public {
        (, bytes32 id) = _authorization(1e18);
        IBatchSettlement.Leaf memory r0 = _leaf(id, 0, LEAF_PRICE, TRUE_OUTPUT);
        IBatchSettlement.Leaf memory wrong1 = _leaf(id, 1, 2 * LEAF_PRICE, WRONG_OUTPUT);
        IBatchSettlement.Leaf memory r1 = _leaf(id, 1, 2 * LEAF_PRICE, TRUE_OUTPUT);
        IBatchSettlement.Leaf memory r2 = _leaf(id, 2, 3 * LEAF_PRICE, TRUE_OUTPUT);
        Posted memory b1 = _postPayer(_two(r0, wrong1), 0);
        Posted memory b2 = _postPayer(_two(r1, r2), 1);
        assertEq(operators.lockedOf(operator), 3 * LEAF_PRICE * BOND_MULTIPLE, "bonds of one and two prices");
        assertEq(_startsOf[keccak256(abi.encode(operator, b2.root))][0], 1, "batch 2 charged nonces 1 and 2");

        // Receipt 0 is in its place; the closing leaves and starts given must be the batch's own.
        vm.expectRevert(_inPlace(r0));
        batches.refutePlacement(_closed(b1), r0, _proofIn(b1.leaves, 0));
        IBatchSettlement.ClosedBatch memory lie = _closed(b1);
        lie.closings = b2.closings;
        bytes memory wrongLedger =
            abi.encodeWithSelector(IBatchSettlement.BatchSettlementWrongLedger.selector, batches.batchIdOf(operator, b1.root));
        vm.expectRevert(wrongLedger);
        batches.refutePlacement(lie, wrong1, _proofIn(b1.leaves, 1));
        lie = _closed(b1);
        lie.starts[0] = 1; // as if batch 1's range were [1, 0]: receipt 0 "out of place"
        vm.expectRevert(wrongLedger);
        batches.refutePlacement(lie, r0, _proofIn(b1.leaves, 0));

        // Not equivocations: a leaf against itself, or against a receipt of another nonce.
        bytes memory notEquivocation =
            abi.encodeWithSelector(IBatchSettlement.BatchSettlementNotEquivocation.selector, _hash(r1));
        vm.expectRevert(notEquivocation);
        batches.refuteEquivocation(_closed(b2), _in(b2, 0), _in(b2, 0));
        vm.expectRevert(notEquivocation);
        batches.refuteEquivocation(_closed(b2), _in(b2, 0), _in(b1, 0));

        // The batch that charged receipt 1 answers for the receipt signed beside it.
        IBatchSettlement.Outcome memory o = batches.refuteEquivocation(_closed(b2), _in(b2, 0), _in(b1, 1));
        assertEq(o.slashed, 2 * LEAF_PRICE * BOND_MULTIPLE, "the charging batch's bond");
        assertEq(o.reward, 0, "copyable evidence: no reward");
        (,, ResultStatus status,) = batches.verifyLeaf(operator, b2.root, r1, _proofIn(b2.leaves, 0));
        assertEq(uint256(status), uint256(ResultStatus.Refuted), "the charging batch is refuted");

        // And the out-of-place receipt refutes the small batch too.
        o = batches.refutePlacement(_closed(b1), wrong1, _proofIn(b1.leaves, 1));
        assertEq(o.slashed, LEAF_PRICE * BOND_MULTIPLE, "the containing batch's bond");
        assertEq(batches.claimRefund(_ref(operator, b1.root), payer), o.refund, "its requester refunded");
        batches.claimRefund(_ref(operator, b2.root), payer);
        assertEq(token.balanceOf(address(batches)), _held(), "every token accounted for");
    }

    /// @dev The third review's bypass: batch 2 charges receipt 1 but leaves it out of its root, and the operator
    ///      signs the wrong receipt 1 into batch 1 (which charged only receipt 0). Once batch 1 is refuted (the
    ///      receipt is out of place there), the wrong receipt refutes batch 2 too: the batch that charged it.
    function test_wrongReceiptKeptOutOfTheChargingBatchStillCostsItsBond() public {
        (, bytes32 id) = _authorization(1e18);
        IBatchSettlement.Leaf memory r0 = _leaf(id, 0, LEAF_PRICE, TRUE_OUTPUT);
        IBatchSettlement.Leaf memory wrong1 = _leaf(id, 1, 51 * LEAF_PRICE, WRONG_OUTPUT);
        wrong1.price = 50 * LEAF_PRICE;
        IBatchSettlement.Leaf memory r2 = _leaf(id, 2, 52 * LEAF_PRICE, TRUE_OUTPUT);
        Posted memory b1 = _postPayer(_two(r0, wrong1), 0);
        Posted memory b2 = _postPayer(_two(r2, r2), 0);
        assertEq(operators.lockedOf(operator), 52 * LEAF_PRICE * BOND_MULTIPLE, "batch 2 charged 51 prices");

        (uint256[] memory outputs, uint256[8] memory proof) = _fraud(b2.root, wrong1, _trapdoorKey(0), challenger);
        bytes memory notCharged = abi.encodeWithSelector(IBatchSettlement.BatchSettlementNotCharged.selector, _hash(wrong1));
        // While batch 1 stands, its receipt is batch 1's to answer for.
        vm.prank(challenger);
        vm.expectRevert(notCharged);
        batches.challenge(_closed(b2), _in(b1, 1), TRUE_OUTPUT, outputs, proof);

        batches.refutePlacement(_closed(b1), wrong1, _proofIn(b1.leaves, 1));
        // Batch 2 did not charge receipt 0: it answers only for what it charged.
        vm.expectRevert(abi.encodeWithSelector(IBatchSettlement.BatchSettlementNotCharged.selector, _hash(r0)));
        batches.refuteEquivocation(_closed(b2), _in(b1, 0), _in(b1, 0));
        // Nor can a challenger narrow its range to dodge that: the starts are the ledger's.
        IBatchSettlement.ClosedBatch memory lie = _closed(b2);
        lie.starts[0] = 0;
        (uint256[] memory outputs0, uint256[8] memory proof0) = _fraud(b2.root, r0, _trapdoorKey(0), challenger);
        vm.prank(challenger);
        vm.expectRevert(
            abi.encodeWithSelector(IBatchSettlement.BatchSettlementWrongLedger.selector, batches.batchIdOf(operator, b2.root))
        );
        batches.challenge(lie, _in(b1, 0), TRUE_OUTPUT, outputs0, proof0);

        vm.prank(challenger);
        IBatchSettlement.Outcome memory o = batches.challenge(_closed(b2), _in(b1, 1), TRUE_OUTPUT, outputs, proof);
        assertEq(o.slashed, 51 * LEAF_PRICE * BOND_MULTIPLE, "the charging batch's bond");
        assertEq(o.reward, o.slashed * REWARD_BPS / 10_000, "the bound challenger is rewarded");
        uint256 refund = batches.claimRefund(_ref(operator, b2.root), payer);
        assertEq(refund, 51 * LEAF_PRICE + 51 * LEAF_PRICE * BOND_MULTIPLE * COMPENSATION_BPS / 10_000, "the 51 prices back");
        batches.claimRefund(_ref(operator, b1.root), payer);
        assertEq(token.balanceOf(address(batches)), _held(), "every token accounted for");
    }

    /// @dev A receipt a batch charged earlier, placed again in a later root, is out of place there.
    function test_receiptOfAnEarlierBatchIsOutOfPlace() public {
        (, bytes32 id) = _authorization(1e18);
        IBatchSettlement.Leaf memory r0 = _leaf(id, 0, LEAF_PRICE, TRUE_OUTPUT);
        IBatchSettlement.Leaf memory r1 = _leaf(id, 1, 2 * LEAF_PRICE, TRUE_OUTPUT);
        IBatchSettlement.Leaf memory r2 = _leaf(id, 2, 3 * LEAF_PRICE, TRUE_OUTPUT);
        Posted memory b1 = _postPayer(_two(r0, r1), 1);
        Posted memory b2 = _postPayer(_two(r0, r2), 1);
        vm.expectRevert(_inPlace(r2));
        batches.refutePlacement(_closed(b2), r2, _proofIn(b2.leaves, 1));
        IBatchSettlement.Outcome memory o = batches.refutePlacement(_closed(b2), r0, _proofIn(b2.leaves, 0));
        assertEq(o.slashed, LEAF_PRICE * BOND_MULTIPLE, "batch 2's bond");
        (,, ResultStatus status,) = batches.verifyLeaf(operator, b1.root, r1, _proofIn(b1.leaves, 1));
        assertEq(uint256(status), uint256(ResultStatus.Pending), "batch 1 stands");
    }

    /// @dev Closing nonces rise with running totals: a later batch cannot close at an old nonce with a new total.
    function test_closingNoncesRise() public {
        (, bytes32 id) = _authorization(1e18);
        IBatchSettlement.Leaf memory r1 = _leaf(id, 1, 2 * LEAF_PRICE, TRUE_OUTPUT);
        _postPayer(_two(_leaf(id, 0, LEAF_PRICE, TRUE_OUTPUT), r1), 1);
        IBatchSettlement.Leaf memory again = _leaf(id, 1, 3 * LEAF_PRICE, TRUE_OUTPUT);
        again.outputCommitment = WRONG_OUTPUT;
        vm.expectRevert(
            abi.encodeWithSelector(IBatchSettlement.BatchSettlementStaleNonce.selector, id, modelId, uint256(1), uint256(2))
        );
        this.postPayerExternal(_two(again, again), 0);
    }

    function postPayerExternal(IBatchSettlement.Leaf[] memory leaves, uint256 closingIndex) external {
        _postPayer(leaves, closingIndex);
    }

    /// @dev Two requesters charged one and three prices; a wrong receipt of the first refutes the batch: both
    ///      share the pool in proportion, exactly the pool is paid out, and each claims once.
    function _twoRequesterBatch(IBatchSettlement.Leaf memory payerLeaf, IBatchSettlement.Leaf memory otherLeaf)
        internal
        returns (Posted memory)
    {
        IBatchSettlement.SpendingAuthorization[] memory auths = new IBatchSettlement.SpendingAuthorization[](2);
        (auths[0],) = _authorization(1e18);
        auths[1] = _authorizationOf(other, "other");
        uint256[] memory keys = new uint256[](2);
        (keys[0], keys[1]) = (payerKey, otherKey);
        uint256[][] memory closing = new uint256[][](2);
        closing[0] = new uint256[](1);
        closing[1] = new uint256[](1);
        closing[1][0] = 1;
        return _postBatch(_two(payerLeaf, otherLeaf), auths, keys, closing);
    }

    function test_refundSharedInProportionToCharges() public {
        setUpOther();
        (, bytes32 id) = _authorization(1e18);
        bytes32 otherId = batches.authorizationId(_authorizationOf(other, "other"));
        IBatchSettlement.Leaf memory wrong = _leaf(id, 0, LEAF_PRICE, WRONG_OUTPUT);
        IBatchSettlement.Leaf memory big = _leaf(otherId, 2, 3 * LEAF_PRICE, TRUE_OUTPUT);
        big.requester = other;
        Posted memory b = _twoRequesterBatch(wrong, big);
        bytes32 batchId = batches.batchIdOf(operator, b.root);

        vm.expectRevert(abi.encodeWithSelector(IBatchSettlement.BatchSettlementNotRefuted.selector, batchId));
        batches.claimRefund(_ref(operator, b.root), payer);

        (uint256[] memory outputs, uint256[8] memory proof) = _fraud(b.root, wrong, _trapdoorKey(0), challenger);
        vm.prank(challenger);
        IBatchSettlement.Outcome memory o =
            batches.challenge(_closed(b), _in(b, 0), TRUE_OUTPUT, outputs, proof);
        uint256 total = 4 * LEAF_PRICE;
        assertEq(o.refund, total + total * BOND_MULTIPLE * COMPENSATION_BPS / 10_000, "charges + compensation");

        vm.expectRevert(abi.encodeWithSelector(IBatchSettlement.BatchSettlementNoRefund.selector, batchId, stranger));
        batches.claimRefund(_ref(operator, b.root), stranger);
        uint256 toOther = batches.claimRefund(_ref(operator, b.root), other);
        uint256 toPayer = batches.claimRefund(_ref(operator, b.root), payer);
        assertEq(toOther, o.refund * 3 / 4, "three quarters");
        assertEq(toPayer + toOther, o.refund, "exactly the pool");
        assertTrue(batches.refundedOf(batchId, payer) && batches.refundedOf(batchId, other), "both claimed");
        vm.expectRevert(abi.encodeWithSelector(IBatchSettlement.BatchSettlementNoRefund.selector, batchId, other));
        batches.claimRefund(_ref(operator, b.root), other);
        assertEq(token.balanceOf(address(batches)), _held() + _depositOf(other), "every token accounted for");
    }

    /// @dev The decoy: the operator charges a requester of its own heavily in the batch that holds a victim's
    ///      wrong receipt, and refutes the batch first through its own leaf. The victim still gets its charge
    ///      back plus its compensation, and the operator earns no reward.
    function test_decoyRefutationStillPaysTheVictim() public {
        setUpOther(); // `other` is the operator's own account here
        (, bytes32 id) = _authorization(1e18);
        bytes32 decoyId = batches.authorizationId(_authorizationOf(other, "other"));
        IBatchSettlement.Leaf memory victim = _leaf(id, 0, LEAF_PRICE, WRONG_OUTPUT);
        // Its own running total is inconsistent on purpose: nonce 0 charged ten prices.
        IBatchSettlement.Leaf memory decoy = _leaf(decoyId, 0, 10 * LEAF_PRICE, TRUE_OUTPUT);
        decoy.requester = other;
        Posted memory b = _twoRequesterBatch(victim, decoy);
        (uint256 victimBefore,,) = batches.depositOf(payer);

        vm.prank(other);
        IBatchSettlement.Outcome memory o =
            batches.refuteCharge(_closed(b), _in(b, 1), _in(b, 1));
        assertEq(o.reward, 0, "no reward for the operator");
        assertEq(o.slashed, 11 * LEAF_PRICE * BOND_MULTIPLE, "the whole bond");
        uint256 toVictim = batches.claimRefund(_ref(operator, b.root), payer);
        assertEq(toVictim, LEAF_PRICE + LEAF_PRICE * BOND_MULTIPLE * COMPENSATION_BPS / 10_000, "charge + compensation");
        (uint256 victimAfter,,) = batches.depositOf(payer);
        assertEq(victimAfter, victimBefore + toVictim, "credited to the victim's deposit");
        // An honest challenger comes too late, but the victim is already whole.
        (uint256[] memory outputs, uint256[8] memory proof) = _fraud(b.root, victim, _trapdoorKey(0), challenger);
        vm.prank(challenger);
        vm.expectRevert(abi.encodeWithSelector(IBatchSettlement.BatchSettlementBatchRefuted.selector, batches.batchIdOf(operator, b.root)));
        batches.challenge(_closed(b), _in(b, 0), TRUE_OUTPUT, outputs, proof);
    }

    function _depositOf(address account) internal view returns (uint256) {
        (uint256 balance, uint256 unlocking,) = batches.depositOf(account);
        return balance + unlocking;
    }
}
