// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {AccessControlDefaultAdminRules} from
    "@openzeppelin/contracts/access/extensions/AccessControlDefaultAdminRules.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {MerkleProof} from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";
import {SignatureChecker} from "@openzeppelin/contracts/utils/cryptography/SignatureChecker.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {IBatchSettlement} from "../interfaces/IBatchSettlement.sol";
import {IGroth16Verifier} from "../interfaces/IGroth16Verifier.sol";
import {IModelRegistry} from "../interfaces/IModelRegistry.sol";
import {IOperatorRegistry} from "../interfaces/IOperatorRegistry.sol";
import {AdminRules} from "../libraries/AdminRules.sol";
import {BatchHashing} from "../libraries/BatchHashing.sol";
import {DataStore} from "../libraries/DataStore.sol";
import {ReceiptHashing} from "../libraries/ReceiptHashing.sol";
import {FeeSplit} from "../libraries/FeeSplit.sol";
import {ResultStatus} from "../types/Claim.sol";
import {Tier} from "../types/Tier.sol";
import {BatchEscrow} from "./BatchEscrow.sol";

/// @title BatchSettlement
/// @notice Many Signature-tier receipts settled under one root. A requester signs once a capped,
///         expiring spending authorization for an operator; the operator's signer signs a Merkle root over
///         the receipts it served (published at a URI; the root is their content address) and posts it with,
///         per authorization, the leaf that closes it in this batch: the requester is charged that leaf's
///         running total minus what was already settled. Storage is written per batch, per authorization
///         and per model, never per receipt. The batch locks `bondMultiple` × its fees of the operator's
///         stake until its window closes; one leaf proven wrong by a Groth16 proof refutes the batch and
///         slashes the bond, once.
/// @dev Holds BOND_HOLDER_ROLE and SLASHER_ROLE at the operator registry. Knows nothing of the hub.
contract BatchSettlement is BatchEscrow, AccessControlDefaultAdminRules, EIP712 {
    using SafeERC20 for IERC20;

    uint256 internal constant BPS = 10_000;
    /// @dev BN254 scalar field order: public signals live below it.
    uint256 internal constant FIELD = 21888242871839275222246405745257275088548364400416034343698204186575808495617;
    /// @notice The longest challenge window the contract may be configured with.
    uint32 public constant MAX_WINDOW = 30 days;

    struct AuthorizationState {
        uint128 settled;
        bool revoked;
    }

    IModelRegistry public immutable models;
    IOperatorRegistry public immutable operators;
    IGroth16Verifier public immutable verifier;
    /// @notice Where the treasury's fee share and what is left of a slash accrue (as earnings).
    address public immutable treasury;

    Config private _config;
    mapping(bytes32 root => Batch) private _batches;
    mapping(bytes32 authorization => AuthorizationState) private _authorizations;
    /// @dev What each requester was charged in each batch, keyed by keccak256(root, requester): a refutation
    ///      refunds only a requester the batch charged, and at most in proportion to that charge.
    mapping(bytes32 rootAndRequester => uint256) private _charged;

    /// @notice Constructor arguments.
    struct Deployment {
        address admin;
        IERC20 token;
        IModelRegistry models;
        IOperatorRegistry operators;
        IGroth16Verifier verifier;
        address treasury;
        uint64 withdrawalDelay;
        Config config;
    }

    constructor(Deployment memory d)
        BatchEscrow(d.token, d.withdrawalDelay)
        AccessControlDefaultAdminRules(AdminRules.INITIAL_DELAY, d.admin)
        EIP712("OPG BatchSettlement", "1")
    {
        if (
            address(d.models) == address(0) || address(d.operators) == address(0)
                || address(d.verifier) == address(0) || d.treasury == address(0)
        ) revert BatchSettlementZeroAddress();
        models = d.models;
        operators = d.operators;
        verifier = d.verifier;
        treasury = d.treasury;
        _setConfig(d.config);
    }

    /// @inheritdoc IBatchSettlement
    function postBatch(
        BatchHeader calldata header,
        address signer,
        bytes calldata signature,
        Settlement[] calldata settlements,
        ModelFee[] calldata fees
    ) external nonReentrant {
        if (header.leafCount == 0) revert BatchSettlementEmptyBatch();
        bytes32 root = header.root;
        if (_batches[root].finalAt != 0) revert BatchSettlementRootExists(root);
        if (!SignatureChecker.isValidSignatureNow(signer, batchDigest(header, fees), signature)) {
            revert BatchSettlementInvalidSignature(signer);
        }
        address operator = operators.activeOperatorOf(signer);
        if (operator == address(0)) revert BatchSettlementNotOperator(signer);

        uint256 paid;
        for (uint256 i = 0; i < settlements.length; ++i) {
            paid += _settle(root, operator, settlements[i]);
        }
        (uint256 total, uint32 window) = _payFees(operator, fees);
        if (paid != total) revert BatchSettlementUnbalanced(paid, total);
        // A batch that charges nothing locks no bond: it could only squat a root or feed a false refutation.
        if (total == 0) revert BatchSettlementEmptyBatch();
        _record(header, signer, operator, total, window);
    }

    /// @notice Ends `authorization` for good (its requester only): no further settlement under it.
    function revokeAuthorization(SpendingAuthorization calldata authorization) external {
        if (msg.sender != authorization.requester) revert BatchSettlementNotRequester(msg.sender);
        bytes32 id = authorizationId(authorization);
        _authorizations[id].revoked = true;
        emit AuthorizationRevoked(id, msg.sender);
    }

    /// @inheritdoc IBatchSettlement
    function challenge(
        bytes32 root,
        Leaf calldata leaf,
        bytes32[] calldata proof,
        bytes32 provenOutput,
        uint256[] calldata outputs,
        uint256[8] calldata zkProof
    ) external nonReentrant returns (Outcome memory outcome) {
        bytes32 leafHash = _checkLeaf(root, leaf, proof);
        _checkOpen(root);
        if (provenOutput == leaf.outputCommitment) revert BatchSettlementSameOutput(leafHash);
        _checkProof(leafIdOf(root, leafHash), leaf, provenOutput, outputs, zkProof);
        return _refute(root, leafHash, leaf.requester, leaf.price, provenOutput);
    }

    /// @inheritdoc IBatchSettlement
    function refuteCharge(
        bytes32 root,
        Leaf calldata leaf,
        bytes32[] calldata proof,
        bytes32 previousRoot,
        Leaf calldata previous,
        bytes32[] calldata previousProof
    ) external nonReentrant returns (Outcome memory outcome) {
        bytes32 leafHash = _checkLeaf(root, leaf, proof);
        _checkOpen(root);
        uint256 expected = leaf.price;
        if (leaf.nonce != 0) {
            _checkLeaf(previousRoot, previous, previousProof);
            // The previous leaf must come from a batch of the same operator: another operator's root
            // (even an empty one) proves nothing about this operator's running total.
            if (
                _batches[previousRoot].operator != _batches[root].operator
                    || previous.authorization != leaf.authorization || previous.nonce + 1 != leaf.nonce
            ) {
                revert BatchSettlementNotConsecutive(leafHash);
            }
            expected += previous.cumulative;
        }
        if (leaf.cumulative == expected) revert BatchSettlementChargeConsistent(leafHash);
        // The requester gets back what the running total added beyond the price (nothing if it fell short).
        uint256 overcharge = leaf.cumulative > expected ? leaf.cumulative - expected : 0;
        return _refute(root, leafHash, leaf.requester, overcharge, bytes32(0));
    }

    /// @notice Sets the challenge window, bond multiple, fee split and slash shares (new batches only).
    function setConfig(Config calldata newConfig) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _setConfig(newConfig);
    }

    /// @inheritdoc IBatchSettlement
    function verifyLeaf(bytes32 root, Leaf calldata leaf, bytes32[] calldata proof)
        external
        view
        returns (Tier tier, bytes32 outputCommitment, ResultStatus status, uint64 finalAt)
    {
        _checkLeaf(root, leaf, proof);
        Batch storage batch = _batches[root];
        finalAt = batch.finalAt;
        if (batch.refuted) status = ResultStatus.Refuted;
        else status = block.timestamp < finalAt ? ResultStatus.Pending : ResultStatus.Final;
        return (leaf.tier, leaf.outputCommitment, status, finalAt);
    }

    /// @notice The stored batch with this root (a zero `finalAt` when none).
    function batchOf(bytes32 root) external view returns (Batch memory) {
        return _batches[root];
    }

    /// @notice What was settled under authorization `id` so far, and whether its requester revoked it.
    function authorizationStateOf(bytes32 id) external view returns (uint256 settled, bool revoked) {
        AuthorizationState storage s = _authorizations[id];
        return (s.settled, s.revoked);
    }

    /// @notice The current configuration.
    function config() external view returns (Config memory) {
        return _config;
    }

    /// @notice An authorization's id: the EIP-712 digest its requester signs.
    function authorizationId(SpendingAuthorization calldata authorization) public view returns (bytes32) {
        return _hashTypedDataV4(BatchHashing.hashAuthorization(authorization));
    }

    /// @notice The EIP-712 digest an operator's signer signs for a batch.
    function batchDigest(BatchHeader calldata header, ModelFee[] calldata fees) public view returns (bytes32) {
        return _hashTypedDataV4(BatchHashing.hashBatch(header, fees));
    }

    /// @notice The id under which the operator registry locks (and slashes, at most once) a batch's bond.
    function bondIdOf(bytes32 root) public view returns (bytes32) {
        return keccak256(abi.encode(block.chainid, address(this), root));
    }

    /// @notice A leaf's id: its batch and its hash.
    function leafIdOf(bytes32 root, bytes32 leafHash) public pure returns (bytes32) {
        return keccak256(abi.encode(root, leafHash));
    }

    /// @notice The binding public signal a challenger's proof must carry, so that a proof seen in the
    ///         mempool cannot be replayed by someone else.
    function bindingOf(bytes32 leafId, address challenger) public view returns (uint256) {
        return uint256(keccak256(abi.encode(block.chainid, address(this), leafId, challenger))) % FIELD;
    }

    /// @dev Brings one authorization up to its closing leaf; returns what the requester was charged.
    function _settle(bytes32 root, address operator, Settlement calldata s) private returns (uint256 amount) {
        SpendingAuthorization calldata a = s.authorization;
        bytes32 id = authorizationId(a);
        if (a.operator != operator) revert BatchSettlementWrongOperator(id, a.operator);
        if (block.timestamp > a.expiry) revert BatchSettlementAuthorizationExpired(id, a.expiry);
        Leaf calldata leaf = s.closingLeaf;
        if (leaf.authorization != id || leaf.requester != a.requester) revert BatchSettlementLeafMismatch(id);
        _proveLeaf(root, leaf, s.proof);
        uint256 cumulative = leaf.cumulative;
        if (cumulative > a.cap) revert BatchSettlementCapExceeded(id, cumulative, a.cap);
        AuthorizationState storage state = _authorizations[id];
        if (state.revoked) revert BatchSettlementAuthorizationRevoked(id);
        uint256 settled = state.settled;
        if (cumulative <= settled) revert BatchSettlementAlreadySettled(id, cumulative, settled);
        // The requester's signature is checked once: a stored, non-zero total proves it was.
        if (settled == 0 && !SignatureChecker.isValidSignatureNow(a.requester, id, s.signature)) {
            revert BatchSettlementInvalidAuthorization(id);
        }
        state.settled = SafeCast.toUint128(cumulative);
        amount = cumulative - settled;
        _charged[keccak256(abi.encode(root, a.requester))] += amount;
        _charge(a.requester, amount);
        emit AuthorizationSettled(id, root, a.requester, cumulative, amount);
    }

    /// @dev Splits each model's fees to its owner, the operator and the treasury; returns their sum and the
    ///      longest challenge window the batch's models ask for.
    function _payFees(address operator, ModelFee[] calldata fees) private returns (uint256 total, uint32 window) {
        (uint16 operatorBps, uint16 modelOwnerBps) = (_config.operatorBps, _config.modelOwnerBps);
        uint256 operatorShare;
        uint256 treasuryShare;
        for (uint256 i = 0; i < fees.length; ++i) {
            ModelFee calldata fee = fees[i];
            address owner = models.termsOf(fee.modelId, Tier.Signature).owner;
            (, uint32 modelWindow) = models.disputeTermsOf(fee.modelId);
            if (modelWindow > window) window = modelWindow;
            (uint256 toOperator, uint256 toOwner, uint256 toTreasury) =
                FeeSplit.split(fee.amount, operatorBps, modelOwnerBps);
            _earn(owner, toOwner);
            operatorShare += toOperator;
            treasuryShare += toTreasury;
            total += fee.amount;
        }
        _earn(operator, operatorShare);
        _earn(treasury, treasuryShare);
    }

    /// @dev Reverts unless batch `root` can still be refuted: not refuted yet, inside its window.
    function _checkOpen(bytes32 root) private view {
        Batch storage batch = _batches[root];
        if (batch.refuted) revert BatchSettlementRootRefuted(root);
        if (block.timestamp >= batch.finalAt) revert BatchSettlementWindowClosed(root, batch.finalAt);
    }

    /// @dev Refutes batch `root` (once: its bond id is slashed once): slashes the bond, pays the challenger its
    ///      share, credits `requester` `refundBase` plus compensation, and the treasury the rest.
    function _refute(bytes32 root, bytes32 leafHash, address requester, uint256 refundBase, bytes32 provenOutput)
        private
        returns (Outcome memory outcome)
    {
        Batch storage batch = _batches[root];
        batch.refuted = true;
        Config memory c = _config;
        outcome.slashed = operators.slashBond(batch.operator, bondIdOf(root), batch.bond, batch.finalAt, address(this));
        outcome.reward = outcome.slashed * c.rewardBps / BPS;
        uint256 refund = refundBase + outcome.slashed * c.compensationBps / BPS;
        // Only what the named requester was charged in this batch backs a refund: a leaf naming anyone else
        // (an operator's own decoy, refuted first to win back its slash) is refunded nothing. The bound is
        // that charge back plus its share of the bond's compensation.
        uint256 charged = _charged[keccak256(abi.encode(root, requester))];
        uint256 cap = charged + charged * c.bondMultiple * c.compensationBps / BPS;
        if (refund > cap) refund = cap;
        uint256 available = outcome.slashed - outcome.reward;
        outcome.refund = refund < available ? refund : available;
        outcome.remainder = available - outcome.refund;

        if (outcome.refund != 0) _credit(requester, outcome.refund);
        _earn(treasury, outcome.remainder);
        if (outcome.reward != 0) token.safeTransfer(msg.sender, outcome.reward);
        emit BatchRefuted(
            root, leafHash, msg.sender, provenOutput, outcome.slashed, outcome.reward, outcome.refund, outcome.remainder
        );
    }

    /// @dev Stores the batch and locks its bond until the longer of the configured and the models' windows.
    function _record(BatchHeader calldata header, address signer, address operator, uint256 total, uint32 window)
        private
    {
        Config memory c = _config;
        uint64 finalAt = uint64(block.timestamp) + (window > c.window ? window : c.window);
        uint256 bond = total * c.bondMultiple;
        _batches[header.root] = Batch({operator: operator, finalAt: finalAt, refuted: false, bond: bond});
        operators.lockBond(operator, bond, finalAt);
        emit BatchPosted(header.root, operator, signer, header.leafCount, total, bond, finalAt, header.uri);
    }

    /// @dev Reverts unless `root` was posted and `leaf` is in it; returns the leaf's hash.
    function _checkLeaf(bytes32 root, Leaf calldata leaf, bytes32[] calldata proof)
        private
        view
        returns (bytes32 leafHash)
    {
        if (_batches[root].finalAt == 0) revert BatchSettlementUnknownRoot(root);
        return _proveLeaf(root, leaf, proof);
    }

    /// @dev Reverts unless `leaf` (Signature tier) and `proof` lead to `root`; returns the leaf's hash.
    function _proveLeaf(bytes32 root, Leaf calldata leaf, bytes32[] calldata proof)
        private
        pure
        returns (bytes32 leafHash)
    {
        if (leaf.tier != Tier.Signature) revert BatchSettlementUnsupportedTier(leaf.tier);
        leafHash = BatchHashing.hashLeaf(leaf);
        if (!MerkleProof.verifyCalldata(proof, root, leafHash)) revert BatchSettlementLeafNotInRoot(root, leafHash);
    }

    function _checkProof(
        bytes32 leafId,
        Leaf calldata leaf,
        bytes32 provenOutput,
        uint256[] calldata outputs,
        uint256[8] calldata zkProof
    ) private view {
        address store = models.verifyingKeyStoreOf(leaf.modelId);
        if (store == address(0)) revert BatchSettlementNoCircuit(leaf.modelId);
        uint256[] memory signals =
            ReceiptHashing.proofSignals(leaf.inputCommitment, provenOutput, outputs, bindingOf(leafId, msg.sender));
        // A wrong signal count or an out-of-field signal is as much a bad proof as a failed pairing.
        try verifier.verifyProof(DataStore.read(store), zkProof, signals) returns (bool valid) {
            if (valid) return;
        } catch {} // solhint-disable-line no-empty-blocks
        revert BatchSettlementInvalidProof(leafId);
    }

    function _setConfig(Config memory c) private {
        if (c.window > MAX_WINDOW || uint256(c.rewardBps) + c.compensationBps > BPS) {
            revert BatchSettlementInvalidConfig();
        }
        FeeSplit.check(c.operatorBps, c.modelOwnerBps);
        _config = c;
        emit ConfigUpdated(c);
    }
}
