// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {BatchSettlementTest} from "./BatchSettlement.t.sol";
import {IBatchSettlement} from "../interfaces/IBatchSettlement.sol";

/// @notice Regressions from an attacker's review: another operator cannot slash an honest batch through
///         refuteCharge with a "previous" leaf of its own root, and a batch that charges nothing (no bond) is
///         refused, so a root cannot be squatted for free.
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

    function postEmpty(bytes32 root) external {
        IBatchSettlement.BatchHeader memory header =
            IBatchSettlement.BatchHeader({root: root, leafCount: 1, uri: "x"});
        IBatchSettlement.ModelFee[] memory fees = new IBatchSettlement.ModelFee[](0);
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(signer2Key, batches.batchDigest(header, fees));
        IBatchSettlement.Settlement[] memory none = new IBatchSettlement.Settlement[](0);
        batches.postBatch(header, vm.addr(signer2Key), abi.encodePacked(r, s, v), none, fees);
    }

    /// @dev op2 posts a real, paying batch: a "previous" leaf P for the victim's authorization beside the
    ///      closing leaf of an authorization a requester gave op2.
    function _postForged(IBatchSettlement.Leaf memory forged) internal returns (bytes32 root) {
        IBatchSettlement.SpendingAuthorization memory a = IBatchSettlement.SpendingAuthorization({
            requester: payer,
            operator: op2,
            cap: 1e18,
            expiry: uint64(block.timestamp + 1 days),
            salt: keccak256("op2")
        });
        IBatchSettlement.Leaf memory closing = _leaf(batches.authorizationId(a), 0, LEAF_PRICE, TRUE_OUTPUT);
        root = _pair(_hash(forged), _hash(closing));
        bytes32[] memory proof = new bytes32[](1);
        proof[0] = _hash(forged);
        IBatchSettlement.BatchHeader memory header = IBatchSettlement.BatchHeader({root: root, leafCount: 2, uri: "x"});
        IBatchSettlement.ModelFee[] memory fees = new IBatchSettlement.ModelFee[](1);
        fees[0] = IBatchSettlement.ModelFee({modelId: modelId, amount: LEAF_PRICE});
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(signer2Key, batches.batchDigest(header, fees));
        IBatchSettlement.Settlement[] memory settlements = new IBatchSettlement.Settlement[](1);
        settlements[0] = IBatchSettlement.Settlement({
            authorization: a,
            signature: _signAuthorization(a),
            closingLeaf: closing,
            proof: proof
        });
        batches.postBatch(header, vm.addr(signer2Key), abi.encodePacked(r, s, v), settlements, fees);
    }

    function test_anotherOperatorsRootIsNoPreviousLeaf() public {
        (bytes32 root, IBatchSettlement.Leaf[] memory leaves) = _twoLeafBatch(TRUE_OUTPUT); // fully honest
        _becomeOperator();
        // A fake "previous" leaf for the victim's authorization (running total 0), in op2's own root.
        IBatchSettlement.Leaf memory fake = _leaf(leaves[0].authorization, 0, 0, TRUE_OUTPUT);
        bytes32 fakeRoot = _postForged(fake);
        bytes32[] memory fakeProof = new bytes32[](1);
        // The proof of `fake` in op2's root is the closing leaf's hash.
        IBatchSettlement.SpendingAuthorization memory a2 = IBatchSettlement.SpendingAuthorization({
            requester: payer,
            operator: op2,
            cap: 1e18,
            expiry: uint64(block.timestamp + 1 days),
            salt: keccak256("op2")
        });
        fakeProof[0] = _hash(_leaf(batches.authorizationId(a2), 0, LEAF_PRICE, TRUE_OUTPUT));
        uint256 lockedBefore = operators.lockedOf(operator);
        vm.prank(stranger);
        vm.expectRevert(
            abi.encodeWithSelector(IBatchSettlement.BatchSettlementNotConsecutive.selector, _hash(leaves[1]))
        );
        batches.refuteCharge(root, leaves[1], _proofOf(leaves, 1), fakeRoot, fake, fakeProof);
        assertEq(operators.lockedOf(operator), lockedBefore, "the honest bond is untouched");
    }

    function test_rootSquatWithoutFeesRefused() public {
        (, bytes32 id) = _authorization(1e18);
        IBatchSettlement.Leaf[] memory leaves = new IBatchSettlement.Leaf[](1);
        leaves[0] = _leaf(id, 0, LEAF_PRICE, TRUE_OUTPUT);
        _becomeOperator();
        vm.expectRevert(IBatchSettlement.BatchSettlementEmptyBatch.selector);
        this.postEmpty(_hash(leaves[0]));
    }

    /// @dev An operator plants a decoy leaf (a sybil as requester, a huge running total) and refutes it
    ///      itself first: the sybil was charged nothing in the batch, so it is refunded nothing.
    function test_decoyLeafRefundsNothing() public {
        (IBatchSettlement.SpendingAuthorization memory a, bytes32 id) = _authorization(1e18);
        IBatchSettlement.Leaf[] memory leaves = new IBatchSettlement.Leaf[](2);
        address sybil = address(0x5151);
        IBatchSettlement.Leaf memory decoy = _leaf(keccak256("nothing"), 0, type(uint128).max, TRUE_OUTPUT);
        decoy.requester = sybil;
        leaves[0] = decoy;
        leaves[1] = _leaf(id, 0, LEAF_PRICE, WRONG_OUTPUT);
        bytes32 root = _post(a, leaves, LEAF_PRICE);
        vm.prank(operator);
        IBatchSettlement.Outcome memory o =
            batches.refuteCharge(root, decoy, _proofOf(leaves, 0), bytes32(0), decoy, new bytes32[](0));
        (uint256 sybilBalance,,) = batches.depositOf(sybil);
        assertEq(o.refund, 0, "nothing refunded to a requester the batch did not charge");
        assertEq(sybilBalance, 0, "the sybil got nothing");
        assertEq(o.remainder, o.slashed - o.reward, "the rest of the slash goes to the treasury");
    }
}
