// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {BatchSettlement} from "../batches/BatchSettlement.sol";
import {IBatchSettlement} from "../interfaces/IBatchSettlement.sol";
import {IGroth16Verifier} from "../interfaces/IGroth16Verifier.sol";
import {ResultStatus} from "../types/Claim.sol";
import {Tier} from "../types/Tier.sol";
import {DisputesFixture} from "./utils/DisputesFixture.sol";

/// @notice Batch settlement: a wrong leaf refuted by a Groth16 proof (trapdoor key as a stand-in circuit) slashes
///         its batch's bond once; bad challenges change nothing; and, fuzzed, cumulative settlement never exceeds
///         the authorization's cap while every token stays accounted for.
contract BatchSettlementTest is DisputesFixture {
    bytes32 internal constant INPUT = bytes32(uint256(1234));
    bytes32 internal constant TRUE_OUTPUT = bytes32(uint256(5678));
    bytes32 internal constant WRONG_OUTPUT = bytes32(uint256(9999));
    uint256 internal constant LEAF_PRICE = 1e16;
    uint256 internal constant DEPOSIT = 100e18;

    BatchSettlement internal batches;
    uint256 internal payerKey = 0xB0B;
    address internal payer;
    address internal stranger = address(0x9000);
    /// @dev What each posted batch charged, its closing leaves and their ranges' starts (its challengers name
    ///      them).
    mapping(bytes32 batchId => IBatchSettlement.Charge[]) internal _chargesOf;
    mapping(bytes32 batchId => IBatchSettlement.Leaf[]) internal _closingLeavesOf;
    mapping(bytes32 batchId => uint256[]) internal _startsOf;

    /// @dev A batch's ledger as its challengers rebuild it.
    struct Ledger {
        IBatchSettlement.Charge[] charges;
        IBatchSettlement.Leaf[] closings;
        uint256[] starts;
    }

    function setUp() public {
        _deployDisputes();
        batches = new BatchSettlement(
            BatchSettlement.Deployment({
                admin: address(this),
                token: IERC20(address(token)),
                models: models,
                operators: operators,
                verifier: IGroth16Verifier(address(groth16)),
                treasury: TREASURY,
                withdrawalDelay: 1 days,
                config: IBatchSettlement.Config({
                    window: WINDOW,
                    bondMultiple: BOND_MULTIPLE,
                    operatorBps: OPERATOR_BPS,
                    modelOwnerBps: OWNER_BPS,
                    rewardBps: REWARD_BPS,
                    compensationBps: COMPENSATION_BPS
                })
            })
        );
        operators.grantRole(operators.BOND_HOLDER_ROLE(), address(batches));
        operators.grantRole(operators.SLASHER_ROLE(), address(batches));
        payer = vm.addr(payerKey);
        token.approve(address(batches), DEPOSIT);
        batches.deposit(payer, DEPOSIT);
    }

    function _authorization(uint256 cap) internal view returns (IBatchSettlement.SpendingAuthorization memory a, bytes32 id) {
        a = IBatchSettlement.SpendingAuthorization({
            requester: payer,
            operator: operator,
            cap: cap,
            expiry: uint64(block.timestamp + 1 days),
            salt: keccak256("salt")
        });
        id = batches.authorizationId(a);
    }

    function _leaf(bytes32 id, uint256 nonce, uint256 cumulative, bytes32 output)
        internal
        view
        returns (IBatchSettlement.Leaf memory)
    {
        return IBatchSettlement.Leaf({
            modelId: modelId,
            inputCommitment: INPUT,
            outputCommitment: output,
            outputDigest: bytes32(0),
            requester: payer,
            tier: Tier.Signature,
            price: LEAF_PRICE,
            nonce: nonce,
            cumulative: cumulative,
            authorization: id
        });
    }

    function _hash(IBatchSettlement.Leaf memory leaf) internal pure returns (bytes32) {
        return keccak256(bytes.concat(keccak256(abi.encode(leaf))));
    }

    function _pair(bytes32 a, bytes32 b) internal pure returns (bytes32) {
        return a < b ? keccak256(abi.encode(a, b)) : keccak256(abi.encode(b, a));
    }

    /// @dev One closing leaf with its proof.
    function _closings(IBatchSettlement.Leaf memory leaf, bytes32[] memory proof)
        internal
        pure
        returns (IBatchSettlement.Closing[] memory c)
    {
        c = new IBatchSettlement.Closing[](1);
        c[0] = IBatchSettlement.Closing({leaf: leaf, proof: proof});
    }

    /// @dev The operator signer `key`'s signature of `header` with these closing leaves (in order).
    function _signBatch(uint256 key, IBatchSettlement.BatchHeader memory header, bytes32[] memory closingHashes)
        internal
        view
        returns (bytes memory)
    {
        (uint8 v, bytes32 r, bytes32 s) =
            vm.sign(key, batches.batchDigest(header, keccak256(abi.encodePacked(closingHashes))));
        return abi.encodePacked(r, s, v);
    }

    function _one(bytes32 h) internal pure returns (bytes32[] memory list) {
        list = new bytes32[](1);
        list[0] = h;
    }

    /// @dev What `settlements` will charge, per authorization, their closing leaves and where each one's range
    ///      starts (before they are posted).
    function _ledgerFor(IBatchSettlement.Settlement[] memory settlements) internal view returns (Ledger memory l) {
        uint256 n;
        for (uint256 i = 0; i < settlements.length; ++i) n += settlements[i].closings.length;
        l.charges = new IBatchSettlement.Charge[](settlements.length);
        l.closings = new IBatchSettlement.Leaf[](n);
        l.starts = new uint256[](n);
        n = 0;
        for (uint256 i = 0; i < settlements.length; ++i) {
            bytes32 id = batches.authorizationId(settlements[i].authorization);
            l.charges[i].requester = settlements[i].authorization.requester;
            for (uint256 j = 0; j < settlements[i].closings.length; ++j) {
                IBatchSettlement.Leaf memory leaf = settlements[i].closings[j].leaf;
                // An earlier closing of the same running total in this post moves both its settled amount and
                // its range's start.
                uint256 settled = batches.settledOf(id, leaf.modelId);
                uint256 start = batches.nextNonceOf(id, leaf.modelId);
                for (uint256 k = 0; k < n; ++k) {
                    if (l.closings[k].authorization == id && l.closings[k].modelId == leaf.modelId) {
                        (settled, start) = (l.closings[k].cumulative, l.closings[k].nonce + 1);
                    }
                }
                l.charges[i].amount += leaf.cumulative - settled;
                (l.closings[n], l.starts[n]) = (leaf, start);
                ++n;
            }
        }
    }

    function _remember(address op, bytes32 root, Ledger memory l) internal {
        bytes32 key = keccak256(abi.encode(op, root));
        for (uint256 i = 0; i < l.charges.length; ++i) _chargesOf[key].push(l.charges[i]);
        for (uint256 i = 0; i < l.closings.length; ++i) {
            _closingLeavesOf[key].push(l.closings[i]);
            _startsOf[key].push(l.starts[i]);
        }
    }

    /// @dev `op`'s batch `root` as a challenger names it (with the charges it made and its ledger's hashes).
    function _ref(address op, bytes32 root) internal view returns (IBatchSettlement.BatchRef memory) {
        bytes32 key = keccak256(abi.encode(op, root));
        IBatchSettlement.Leaf[] memory closings = _closingLeavesOf[key];
        bytes32[] memory hashes = new bytes32[](closings.length);
        for (uint256 i = 0; i < closings.length; ++i) hashes[i] = _hash(closings[i]);
        return IBatchSettlement.BatchRef({
            operator: op,
            root: root,
            charges: _chargesOf[key],
            closings: keccak256(abi.encodePacked(hashes)),
            starts: keccak256(abi.encodePacked(_startsOf[key]))
        });
    }

    /// @dev `op`'s batch `root` with its closing leaves and their ranges' starts.
    function _closed(address op, bytes32 root) internal view returns (IBatchSettlement.ClosedBatch memory) {
        bytes32 key = keccak256(abi.encode(op, root));
        return IBatchSettlement.ClosedBatch({batch: _ref(op, root), closings: _closingLeavesOf[key], starts: _startsOf[key]});
    }

    /// @dev A leaf with its proof in `root`.
    function _lp(bytes32 root, IBatchSettlement.Leaf memory leaf, bytes32[] memory proof)
        internal
        pure
        returns (IBatchSettlement.LeafProof memory)
    {
        return IBatchSettlement.LeafProof({root: root, leaf: leaf, proof: proof});
    }

    /// @dev Posts `leaves` (one or two) whose last leaf closes the authorization; returns the root.
    function _post(IBatchSettlement.SpendingAuthorization memory a, IBatchSettlement.Leaf[] memory leaves)
        internal
        returns (bytes32 root)
    {
        bytes32[] memory proof;
        IBatchSettlement.Leaf memory closing = leaves[leaves.length - 1];
        if (leaves.length == 1) {
            root = _hash(closing);
            proof = new bytes32[](0);
        } else {
            root = _pair(_hash(leaves[0]), _hash(leaves[1]));
            proof = new bytes32[](1);
            proof[0] = _hash(leaves[0]);
        }
        IBatchSettlement.BatchHeader memory header =
            IBatchSettlement.BatchHeader({root: root, leafCount: uint32(leaves.length), uri: "ipfs://leaves"});
        IBatchSettlement.Settlement[] memory settlements = new IBatchSettlement.Settlement[](1);
        settlements[0] = IBatchSettlement.Settlement({
            authorization: a,
            signature: _signAuthorization(a),
            closings: _closings(closing, proof)
        });
        Ledger memory ledger = _ledgerFor(settlements);
        batches.postBatch(header, signer, _signBatch(signerKey, header, _one(_hash(closing))), settlements);
        _remember(operator, root, ledger);
    }

    function _signAuthorization(IBatchSettlement.SpendingAuthorization memory a) internal view returns (bytes memory) {
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(payerKey, batches.authorizationId(a));
        return abi.encodePacked(r, s, v);
    }

    /// @dev A batch of two leaves: an honest one and `second` claiming `output` for INPUT.
    function _twoLeafBatch(bytes32 output)
        internal
        returns (bytes32 root, IBatchSettlement.Leaf[] memory leaves)
    {
        (IBatchSettlement.SpendingAuthorization memory a, bytes32 id) = _authorization(1e18);
        leaves = new IBatchSettlement.Leaf[](2);
        leaves[0] = _leaf(id, 0, LEAF_PRICE, TRUE_OUTPUT);
        leaves[1] = _leaf(id, 1, 2 * LEAF_PRICE, output);
        root = _post(a, leaves);
    }

    function _fraud(bytes32 root, IBatchSettlement.Leaf memory leaf, bytes memory key, address by)
        internal
        view
        returns (uint256[] memory outputs, uint256[8] memory proof)
    {
        outputs = new uint256[](1);
        outputs[0] = 7;
        uint256[] memory signals = new uint256[](SIGNALS);
        signals[0] = uint256(leaf.inputCommitment);
        signals[1] = uint256(TRUE_OUTPUT);
        signals[2] = outputs[0];
        signals[3] = batches.bindingOf(batches.leafIdOf(batches.batchIdOf(operator, root), _hash(leaf)), by);
        proof = _prove(key, signals);
    }

    function _proofOf(IBatchSettlement.Leaf[] memory leaves, uint256 i) internal pure returns (bytes32[] memory p) {
        p = new bytes32[](1);
        p[0] = _hash(leaves[1 - i]);
    }

    function _held() internal view returns (uint256 total) {
        (uint256 balance, uint256 unlocking,) = batches.depositOf(payer);
        total = balance + unlocking + batches.earningsOf(operator) + batches.earningsOf(owner)
            + batches.earningsOf(TREASURY) + batches.earningsOf(payer);
    }

    function test_refutesWrongLeafAndSlashesTheBatchOnce() public {
        (bytes32 root, IBatchSettlement.Leaf[] memory leaves) = _twoLeafBatch(WRONG_OUTPUT);
        uint256 bond = 2 * LEAF_PRICE * BOND_MULTIPLE;
        assertEq(operators.lockedOf(operator), bond, "bond locked");
        (,, ResultStatus status,) = batches.verifyLeaf(operator, root, leaves[1], _proofOf(leaves, 1));
        assertEq(uint256(status), uint256(ResultStatus.Pending), "pending");
        (uint256 depositBefore,,) = batches.depositOf(payer);
        uint256 stakeBefore = operators.stakeOf(operator).bonded;

        (uint256[] memory outputs, uint256[8] memory proof) = _fraud(root, leaves[1], _trapdoorKey(0), challenger);
        vm.prank(challenger);
        IBatchSettlement.Outcome memory o =
            batches.challenge(_closed(operator, root), _lp(root, leaves[1], _proofOf(leaves, 1)), TRUE_OUTPUT, outputs, proof);

        assertEq(o.slashed, bond, "the batch's bond is slashed");
        assertEq(o.reward, bond * REWARD_BPS / 10_000, "challenger's share");
        assertEq(o.refund, 2 * LEAF_PRICE + bond * COMPENSATION_BPS / 10_000, "the batch's charges + compensation");
        assertEq(o.slashed, o.reward + o.refund + o.remainder, "slash fully paid out");
        assertEq(token.balanceOf(challenger), o.reward, "challenger paid");
        (uint256 depositAfter,,) = batches.depositOf(payer);
        assertEq(depositAfter, depositBefore, "refunds are claimed");
        vm.prank(stranger);
        assertEq(batches.claimRefund(_ref(operator, root), payer), o.refund, "its only requester gets the pool");
        (depositAfter,,) = batches.depositOf(payer);
        assertEq(depositAfter, depositBefore + o.refund, "requester refunded");
        vm.expectRevert(
            abi.encodeWithSelector(IBatchSettlement.BatchSettlementNoRefund.selector, batches.batchIdOf(operator, root), payer)
        );
        batches.claimRefund(_ref(operator, root), payer);
        assertEq(operators.stakeOf(operator).bonded, stakeBefore - bond, "stake slashed");
        assertEq(token.balanceOf(address(batches)), _held(), "every token accounted for");
        // The whole batch is refuted: even its honest leaf is no longer reported usable.
        (,, status,) = batches.verifyLeaf(operator, root, leaves[0], _proofOf(leaves, 0));
        assertEq(uint256(status), uint256(ResultStatus.Refuted), "batch refuted");

        // At most once per batch.
        (outputs, proof) = _fraud(root, leaves[0], _trapdoorKey(0), challenger);
        vm.prank(challenger);
        vm.expectRevert(abi.encodeWithSelector(IBatchSettlement.BatchSettlementBatchRefuted.selector, batches.batchIdOf(operator, root)));
        batches.challenge(_closed(operator, root), _lp(root, leaves[0], _proofOf(leaves, 0)), TRUE_OUTPUT, outputs, proof);
    }

    function test_badChallengesChangeNothing() public {
        (bytes32 root, IBatchSettlement.Leaf[] memory leaves) = _twoLeafBatch(WRONG_OUTPUT);
        bytes32[] memory merkle = _proofOf(leaves, 1);
        bytes memory invalid = abi.encodeWithSelector(
            IBatchSettlement.BatchSettlementInvalidProof.selector, batches.leafIdOf(batches.batchIdOf(operator, root), _hash(leaves[1]))
        );
        uint256 held = token.balanceOf(address(batches));
        uint256 locked = operators.lockedOf(operator);

        // A proof under another model's key.
        (uint256[] memory outputs, uint256[8] memory proof) = _fraud(root, leaves[1], _trapdoorKey(1), challenger);
        vm.prank(challenger);
        vm.expectRevert(invalid);
        batches.challenge(_closed(operator, root), _lp(root, leaves[1], merkle), TRUE_OUTPUT, outputs, proof);
        // A proof bound to another challenger (copied from the mempool).
        (outputs, proof) = _fraud(root, leaves[1], _trapdoorKey(0), challenger);
        vm.prank(stranger);
        vm.expectRevert(invalid);
        batches.challenge(_closed(operator, root), _lp(root, leaves[1], merkle), TRUE_OUTPUT, outputs, proof);
        // A leaf that is not in the root.
        IBatchSettlement.Leaf memory forged = _leaf(leaves[1].authorization, 1, 2 * LEAF_PRICE, WRONG_OUTPUT);
        forged.inputCommitment = bytes32(uint256(1));
        vm.prank(challenger);
        vm.expectRevert(
            abi.encodeWithSelector(IBatchSettlement.BatchSettlementLeafNotInRoot.selector, root, _hash(forged))
        );
        batches.challenge(_closed(operator, root), _lp(root, forged, merkle), TRUE_OUTPUT, outputs, proof);
        // After the window.
        vm.warp(block.timestamp + WINDOW);
        vm.prank(challenger);
        vm.expectRevert(
            abi.encodeWithSelector(
                IBatchSettlement.BatchSettlementWindowClosed.selector,
                batches.batchIdOf(operator, root),
                batches.batchOf(operator, root).finalAt
            )
        );
        batches.challenge(_closed(operator, root), _lp(root, leaves[1], merkle), TRUE_OUTPUT, outputs, proof);

        assertEq(token.balanceOf(address(batches)), held, "nothing moved");
        assertEq(operators.lockedOf(operator), locked, "bond intact");
        (,, ResultStatus status,) = batches.verifyLeaf(operator, root, leaves[1], merkle);
        assertEq(uint256(status), uint256(ResultStatus.Final), "final after the window");
    }

    function test_correctLeafCannotBeRefuted() public {
        (bytes32 root, IBatchSettlement.Leaf[] memory leaves) = _twoLeafBatch(TRUE_OUTPUT);
        (uint256[] memory outputs, uint256[8] memory proof) = _fraud(root, leaves[1], _trapdoorKey(0), challenger);
        vm.prank(challenger);
        vm.expectRevert(
            abi.encodeWithSelector(IBatchSettlement.BatchSettlementSameOutput.selector, _hash(leaves[1]))
        );
        batches.challenge(_closed(operator, root), _lp(root, leaves[1], _proofOf(leaves, 1)), TRUE_OUTPUT, outputs, proof);
    }

    function test_refutesAnInflatedRunningTotal() public {
        (IBatchSettlement.SpendingAuthorization memory a, bytes32 id) = _authorization(1e18);
        IBatchSettlement.Leaf[] memory first = new IBatchSettlement.Leaf[](1);
        first[0] = _leaf(id, 0, LEAF_PRICE, TRUE_OUTPUT);
        bytes32 rootA = _post(a, first);
        // The next receipt claims 3 prices in total instead of 2: one price charged for nothing.
        IBatchSettlement.Leaf[] memory second = new IBatchSettlement.Leaf[](1);
        second[0] = _leaf(id, 1, 3 * LEAF_PRICE, TRUE_OUTPUT);
        bytes32 rootB = _post(a, second);
        bytes32[] memory none = new bytes32[](0);

        // A consistent pair (the first receipt on its own) cannot be refuted.
        vm.expectRevert(abi.encodeWithSelector(IBatchSettlement.BatchSettlementChargeConsistent.selector, rootA));
        batches.refuteCharge(_closed(operator, rootA), _lp(rootA, first[0], none), _lp(rootA, first[0], none));
        // Two leaves that do not follow each other prove nothing.
        vm.expectRevert(abi.encodeWithSelector(IBatchSettlement.BatchSettlementNotConsecutive.selector, rootB));
        batches.refuteCharge(_closed(operator, rootB), _lp(rootB, second[0], none), _lp(rootB, second[0], none));

        (uint256 depositBefore,,) = batches.depositOf(payer);
        vm.prank(challenger);
        IBatchSettlement.Outcome memory o = batches.refuteCharge(_closed(operator, rootB), _lp(rootB, second[0], none), _lp(rootA, first[0], none));
        uint256 bond = 2 * LEAF_PRICE * BOND_MULTIPLE;
        assertEq(o.slashed, bond, "the inflating batch's bond is slashed");
        assertEq(o.reward, 0, "copyable evidence pays no reward");
        assertEq(o.refund, 2 * LEAF_PRICE + bond * COMPENSATION_BPS / 10_000, "the batch's charge + compensation");
        batches.claimRefund(_ref(operator, rootB), payer);
        (uint256 depositAfter,,) = batches.depositOf(payer);
        assertEq(depositAfter, depositBefore + o.refund, "requester refunded");
        assertEq(token.balanceOf(address(batches)), _held(), "every token accounted for");
        (,, ResultStatus status,) = batches.verifyLeaf(operator, rootB, second[0], none);
        assertEq(uint256(status), uint256(ResultStatus.Refuted), "batch refuted");
        (,, status,) = batches.verifyLeaf(operator, rootA, first[0], none);
        assertEq(uint256(status), uint256(ResultStatus.Pending), "the honest batch stands");
    }

    function test_refutesAFirstReceiptChargedAboveItsPrice() public {
        (IBatchSettlement.SpendingAuthorization memory a, bytes32 id) = _authorization(1e18);
        IBatchSettlement.Leaf[] memory first = new IBatchSettlement.Leaf[](1);
        first[0] = _leaf(id, 0, 2 * LEAF_PRICE, TRUE_OUTPUT);
        bytes32 root = _post(a, first);
        bytes32[] memory none = new bytes32[](0);
        IBatchSettlement.Outcome memory o = batches.refuteCharge(_closed(operator, root), _lp(root, first[0], none), _lp(bytes32(0), first[0], none));
        assertEq(o.slashed, 2 * LEAF_PRICE * BOND_MULTIPLE, "slashed");
        vm.expectRevert(abi.encodeWithSelector(IBatchSettlement.BatchSettlementBatchRefuted.selector, batches.batchIdOf(operator, root)));
        batches.refuteCharge(_closed(operator, root), _lp(root, first[0], none), _lp(bytes32(0), first[0], none));
    }

    /// @dev Batches adding `counts[i]` receipts each: what is settled never exceeds the cap, the requester pays
    ///      exactly what was settled, and the contract holds exactly deposits + earnings.
    function testFuzz_cumulativeWithinCapAndConserved(uint256 cap, uint8[4] calldata counts) public {
        cap = bound(cap, 1, 20 * LEAF_PRICE);
        (IBatchSettlement.SpendingAuthorization memory a, bytes32 id) = _authorization(cap);
        uint256 cumulative;
        uint256 nonce;
        for (uint256 i = 0; i < counts.length; ++i) {
            uint256 k = uint256(counts[i]) % 5 + 1;
            IBatchSettlement.Leaf[] memory leaves = new IBatchSettlement.Leaf[](1);
            leaves[0] = _leaf(id, nonce + k - 1, cumulative + k * LEAF_PRICE, bytes32(i));
            if (cumulative + k * LEAF_PRICE > cap) {
                vm.expectRevert();
                this.postExternal(a, leaves);
                continue;
            }
            _post(a, leaves);
            cumulative += k * LEAF_PRICE;
            nonce += k;
            uint256 settled = batches.authorizationStateOf(id).settled;
            assertEq(settled, cumulative, "settled = cumulative");
            assertLe(settled, cap, "never above the cap");
        }
        (uint256 balance,,) = batches.depositOf(payer);
        assertEq(balance, DEPOSIT - cumulative, "the requester paid what was settled");
        assertEq(token.balanceOf(address(batches)), _held(), "every token accounted for");
        assertEq(token.balanceOf(address(batches)), DEPOSIT, "nothing created or lost");
    }

    /// @dev External so that a reverting post can be expected.
    function postExternal(IBatchSettlement.SpendingAuthorization memory a, IBatchSettlement.Leaf[] memory leaves)
        external
    {
        _post(a, leaves);
    }
}
