// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {BatchSettlement} from "../batches/BatchSettlement.sol";
import {IBatchSettlement} from "../interfaces/IBatchSettlement.sol";
import {IGroth16Verifier} from "../interfaces/IGroth16Verifier.sol";
import {Tier} from "../types/Tier.sol";
import {BatchSettlementTest} from "./BatchSettlement.t.sol";

/// @notice Regressions from a second attacker's review of batch settlement: a leaf no proof can be checked
///         against is refuted as it stands (and cannot close a running total), a deprecated model or one off
///         the Signature tier is not charged, an overflowing running total is refuted rather than a panic, a
///         batch's slash is shared as configured when it was posted, and the stake token is the deposit token.
contract BatchSettlementReviewTest is BatchSettlementTest {
    uint256 internal constant FIELD_ORDER =
        21888242871839275222246405745257275088548364400416034343698204186575808495617;

    /// @dev Posts [`first`, an honest closing leaf after it]; returns the root and both leaves.
    function _withFirst(IBatchSettlement.Leaf memory first)
        internal
        returns (bytes32 root, IBatchSettlement.Leaf[] memory leaves)
    {
        (IBatchSettlement.SpendingAuthorization memory a,) = _authorization(1e18);
        leaves = new IBatchSettlement.Leaf[](2);
        leaves[0] = first;
        leaves[1] = _leaf(first.authorization, 1, 2 * LEAF_PRICE, TRUE_OUTPUT);
        root = _post(a, leaves);
    }

    function _refutedAsItStands(IBatchSettlement.Leaf memory first) internal {
        (bytes32 root, IBatchSettlement.Leaf[] memory leaves) = _withFirst(first);
        uint256 bond = 2 * LEAF_PRICE * BOND_MULTIPLE;
        // Nothing to prove against: no proof is needed, so anyone could copy it and it pays no reward.
        uint256[8] memory noProof;
        vm.prank(challenger);
        IBatchSettlement.Outcome memory o = batches.challenge(_closed(operator, root), _lp(root, leaves[0], _proofOf(leaves, 0)), TRUE_OUTPUT, new uint256[](0), noProof);
        assertEq(o.slashed, bond, "the batch's bond is slashed");
        assertEq(o.reward, 0, "no reward");
        assertEq(token.balanceOf(challenger), 0, "nothing paid to the sender");
        batches.claimRefund(_ref(operator, root), payer);
        assertEq(token.balanceOf(address(batches)), _held(), "every token accounted for");
    }

    function test_leafWithInputOutsideTheFieldIsRefutedWithoutProof() public {
        (, bytes32 id) = _authorization(1e18);
        IBatchSettlement.Leaf memory bad = _leaf(id, 0, LEAF_PRICE, TRUE_OUTPUT);
        bad.inputCommitment = bytes32(FIELD_ORDER);
        _refutedAsItStands(bad);
    }

    function test_leafOfAnotherTierIsRefutedWithoutProof() public {
        (, bytes32 id) = _authorization(1e18);
        IBatchSettlement.Leaf memory bad = _leaf(id, 0, LEAF_PRICE, TRUE_OUTPUT);
        bad.tier = Tier.TEE;
        _refutedAsItStands(bad);
    }

    function test_wellFormedCorrectLeafStillNeedsAProof() public {
        (, bytes32 id) = _authorization(1e18);
        (bytes32 root, IBatchSettlement.Leaf[] memory leaves) = _withFirst(_leaf(id, 0, LEAF_PRICE, TRUE_OUTPUT));
        uint256[8] memory noProof;
        vm.prank(challenger);
        vm.expectRevert(abi.encodeWithSelector(IBatchSettlement.BatchSettlementSameOutput.selector, _hash(leaves[0])));
        batches.challenge(_closed(operator, root), _lp(root, leaves[0], _proofOf(leaves, 0)), TRUE_OUTPUT, new uint256[](0), noProof);
    }

    function test_malformedClosingLeafRefused() public {
        (IBatchSettlement.SpendingAuthorization memory a, bytes32 id) = _authorization(1e18);
        IBatchSettlement.Leaf[] memory leaves = new IBatchSettlement.Leaf[](1);
        leaves[0] = _leaf(id, 0, LEAF_PRICE, TRUE_OUTPUT);
        leaves[0].inputCommitment = bytes32(type(uint256).max);
        vm.expectRevert(abi.encodeWithSelector(IBatchSettlement.BatchSettlementMalformedLeaf.selector, _hash(leaves[0])));
        this.postExternal(a, leaves);
    }

    function test_deprecatedModelIsNotCharged() public {
        (IBatchSettlement.SpendingAuthorization memory a, bytes32 id) = _authorization(1e18);
        IBatchSettlement.Leaf[] memory leaves = new IBatchSettlement.Leaf[](1);
        leaves[0] = _leaf(id, 0, LEAF_PRICE, TRUE_OUTPUT);
        vm.prank(owner);
        models.deprecate(modelId);
        uint256 held = token.balanceOf(address(batches));
        vm.expectRevert(abi.encodeWithSelector(IBatchSettlement.BatchSettlementModelNotAccepted.selector, modelId));
        this.postExternal(a, leaves);
        assertEq(batches.settledOf(id, modelId), 0, "nothing settled");
        assertEq(token.balanceOf(address(batches)), held, "nothing moved");
    }

    function test_modelOffTheSignatureTierIsNotCharged() public {
        (IBatchSettlement.SpendingAuthorization memory a, bytes32 id) = _authorization(1e18);
        IBatchSettlement.Leaf[] memory leaves = new IBatchSettlement.Leaf[](1);
        leaves[0] = _leaf(id, 0, LEAF_PRICE, TRUE_OUTPUT);
        vm.prank(owner);
        models.setAcceptedTiers(modelId, uint8(1) << uint8(Tier.ZK));
        vm.expectRevert(abi.encodeWithSelector(IBatchSettlement.BatchSettlementModelNotAccepted.selector, modelId));
        this.postExternal(a, leaves);
    }

    function test_overflowingRunningTotalIsRefutedNotAPanic() public {
        (, bytes32 id) = _authorization(1e18);
        // The operator signs a predecessor whose total would overflow the next one's expectation.
        (bytes32 root, IBatchSettlement.Leaf[] memory leaves) =
            _withFirst(_leaf(id, 0, type(uint256).max, TRUE_OUTPUT));
        vm.prank(payer);
        IBatchSettlement.Outcome memory o =
            batches.refuteCharge(_closed(operator, root), _lp(root, leaves[1], _proofOf(leaves, 1)), _lp(root, leaves[0], _proofOf(leaves, 0)));
        assertEq(o.slashed, 2 * LEAF_PRICE * BOND_MULTIPLE, "refuted and slashed");
        assertEq(token.balanceOf(address(batches)), _held() + o.refund, "every token accounted for (the pool unclaimed)");
        batches.claimRefund(_ref(operator, root), payer);
        assertEq(token.balanceOf(address(batches)), _held(), "every token accounted for");
    }

    function test_slashSharedAsConfiguredWhenPosted() public {
        (bytes32 root, IBatchSettlement.Leaf[] memory leaves) = _twoLeafBatch(WRONG_OUTPUT);
        uint256 bond = 2 * LEAF_PRICE * BOND_MULTIPLE;
        // The admin changes the shares after the post: the posted batch keeps its own.
        IBatchSettlement.Config memory c = batches.config();
        c.rewardBps = 0;
        c.compensationBps = 0;
        batches.setConfig(c);
        IBatchSettlement.Batch memory stored = batches.batchOf(operator, root);
        assertEq(stored.rewardBps, REWARD_BPS, "reward share stored");
        assertEq(stored.compensationBps, COMPENSATION_BPS, "compensation share stored");
        (uint256[] memory outputs, uint256[8] memory proof) = _fraud(root, leaves[1], _trapdoorKey(0), challenger);
        vm.prank(challenger);
        IBatchSettlement.Outcome memory o =
            batches.challenge(_closed(operator, root), _lp(root, leaves[1], _proofOf(leaves, 1)), TRUE_OUTPUT, outputs, proof);
        assertEq(o.reward, bond * REWARD_BPS / 10_000, "the challenger's share when posted");
        assertEq(o.refund, 2 * LEAF_PRICE + bond * COMPENSATION_BPS / 10_000, "the requesters' compensation when posted");
    }

    function test_aModelsOwnWindowLengthensTheBatchs() public {
        (IBatchSettlement.SpendingAuthorization memory a, bytes32 id) = _authorization(1e18);
        IBatchSettlement.Leaf[] memory leaves = new IBatchSettlement.Leaf[](1);
        leaves[0] = _leaf(id, 0, LEAF_PRICE, TRUE_OUTPUT);
        uint32 longer = WINDOW + 3 days;
        vm.prank(owner);
        models.setChallengeWindow(modelId, longer);
        bytes32 root = _post(a, leaves);
        assertEq(batches.batchOf(operator, root).finalAt, block.timestamp + longer, "the model's window");
        (IBatchSettlement.SpendingAuthorization memory b,) = _authorization(2e18);
        vm.prank(owner);
        models.setChallengeWindow(modelId, 0);
        leaves[0] = _leaf(batches.authorizationId(b), 0, LEAF_PRICE, TRUE_OUTPUT);
        root = _post(b, leaves);
        assertEq(batches.batchOf(operator, root).finalAt, block.timestamp + WINDOW, "the configured window again");
    }

    function test_stakeTokenMustBeTheDepositToken() public {
        IERC20 other = IERC20(address(0xDEAD));
        IBatchSettlement.Config memory c = batches.config();
        vm.expectRevert(
            abi.encodeWithSelector(IBatchSettlement.BatchSettlementTokenMismatch.selector, address(token), address(other))
        );
        new BatchSettlement(
            BatchSettlement.Deployment({
                admin: address(this),
                token: other,
                models: models,
                operators: operators,
                verifier: IGroth16Verifier(address(groth16)),
                treasury: TREASURY,
                withdrawalDelay: 1 days,
                config: c
            })
        );
    }
}
