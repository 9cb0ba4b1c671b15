// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {AccessControlDefaultAdminRules} from
    "@openzeppelin/contracts/access/extensions/AccessControlDefaultAdminRules.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {SignatureChecker} from "@openzeppelin/contracts/utils/cryptography/SignatureChecker.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {IBatchSettlement} from "../interfaces/IBatchSettlement.sol";
import {IGroth16Verifier} from "../interfaces/IGroth16Verifier.sol";
import {IModelRegistry, MODEL_WINDOW_FLAG} from "../interfaces/IModelRegistry.sol";
import {IOperatorRegistry} from "../interfaces/IOperatorRegistry.sol";
import {AdminRules} from "../libraries/AdminRules.sol";
import {BatchHashing} from "../libraries/BatchHashing.sol";
import {FeeSplit} from "../libraries/FeeSplit.sol";
import {Tier} from "../types/Tier.sol";
import {BatchChallenges} from "./BatchChallenges.sol";

/// @title BatchSettlement
/// @notice Many Signature-tier receipts settled under one root. A requester signs once a capped,
///         expiring spending authorization for an operator; the operator's signer signs a Merkle root over
///         the receipts it served (published at a URI; the root is their content address) and, in the same
///         signature, the leaves that close each (authorization, model) in this batch: the requester is
///         charged, per model, that leaf's running total minus what was already settled for it, and each
///         model's owner is paid from its own closing leaves. A batch is keyed by its operator and root.
///         Storage is written per batch, per authorization and per (authorization, model), never per
///         receipt. The batch locks `bondMultiple` × its fees of the operator's stake until its window
///         closes; one leaf proven wrong (or out of place: a root holds exactly the receipts it charges)
///         refutes the batch and slashes the bond, once, and its requesters share the refund.
/// @dev Holds BOND_HOLDER_ROLE and SLASHER_ROLE at the operator registry. Knows nothing of the hub. The
///      challenge side (views, refutations) is BatchChallenges, slashes and refunds BatchRefunds, deposits and
///      earnings BatchEscrow.
contract BatchSettlement is BatchChallenges, AccessControlDefaultAdminRules, EIP712 {
    /// @notice The longest challenge window the contract may be configured with.
    uint32 public constant MAX_WINDOW = 30 days;

    /// @dev What postBatch gathers while settling: the closing leaves' hashes in order (their hash is
    ///      signed) and, per model, what its closing leaves charged.
    struct Tally {
        Charge[] charges;
        uint256 settled;
        bytes32[] closings;
        uint256[] starts;
        uint256 count;
        bytes32[] modelIds;
        uint256[] fees;
        uint256 models;
        uint256 total;
        bytes32 closingsHash;
        bytes32 startsHash;
    }

    /// @dev What was settled per (authorization, model): the running total, and one more than the nonce of
    ///      the closing leaf that settled it (zero: nothing yet). Both rise with every closing.
    struct RunningTotal {
        uint192 settled;
        uint64 nextNonce;
    }

    mapping(bytes32 authorization => AuthorizationState) private _authorizations;
    /// @dev Keyed by keccak256(authorization, modelId).
    mapping(bytes32 authorizationAndModel => RunningTotal) private _runningTotals;

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
        BatchChallenges(d.token, d.withdrawalDelay, d.models, d.operators, d.verifier, d.treasury)
        AccessControlDefaultAdminRules(AdminRules.INITIAL_DELAY, d.admin)
        EIP712("OPG BatchSettlement", "1")
    {
        _setConfig(d.config);
    }

    /// @inheritdoc IBatchSettlement
    function postBatch(
        BatchHeader calldata header,
        address signer,
        bytes calldata signature,
        Settlement[] calldata settlements
    ) external nonReentrant {
        if (header.leafCount == 0) revert BatchSettlementEmptyBatch();
        address operator = operators.activeOperatorOf(signer);
        if (operator == address(0)) revert BatchSettlementNotOperator(signer);
        bytes32 root = header.root;
        bytes32 batchId = batchIdOf(operator, root);
        if (_batches[batchId].finalAt != 0) revert BatchSettlementRootExists(operator, root);

        uint256 n;
        for (uint256 i = 0; i < settlements.length; ++i) {
            n += settlements[i].closings.length;
        }
        Tally memory t = Tally(
            new Charge[](settlements.length),
            0,
            new bytes32[](n),
            new uint256[](n),
            0,
            new bytes32[](n),
            new uint256[](n),
            0,
            0,
            bytes32(0),
            bytes32(0)
        );
        for (uint256 i = 0; i < settlements.length; ++i) {
            _settle(batchId, root, operator, settlements[i], t);
        }
        // The signature covers the closing leaves, in order: nobody can post the root with another choice.
        t.closingsHash = keccak256(abi.encodePacked(t.closings));
        bytes32 digest = batchDigest(header, t.closingsHash);
        if (!SignatureChecker.isValidSignatureNow(signer, digest, signature)) {
            revert BatchSettlementInvalidSignature(signer);
        }
        // A batch that charges nothing locks no bond: it could only feed a false refutation.
        if (t.total == 0) revert BatchSettlementEmptyBatch();
        uint32 window = _payFees(operator, t);
        _record(header, signer, operator, t, window);
    }

    /// @notice Revokes `authorization` (its requester only). It takes effect after the withdrawal notice:
    ///         batches posted before `revokedAt` (see `authorizationStateOf`) still settle it, so an
    ///         operator that posts at least once per notice is paid for what it served.
    function revokeAuthorization(SpendingAuthorization calldata authorization) external {
        if (msg.sender != authorization.requester) revert BatchSettlementNotRequester(msg.sender);
        bytes32 id = authorizationId(authorization);
        AuthorizationState storage state = _authorizations[id];
        if (state.revokedAt != 0) revert BatchSettlementAuthorizationRevoked(id, state.revokedAt);
        uint64 revokedAt = uint64(block.timestamp) + withdrawalDelay;
        state.revokedAt = revokedAt;
        emit AuthorizationRevoked(id, msg.sender, revokedAt);
    }

    /// @notice Sets the challenge window, bond multiple, fee split and slash shares (new batches only).
    function setConfig(Config calldata newConfig) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _setConfig(newConfig);
    }

    /// @notice What was settled under authorization `id` so far (all models), and when its requester's
    ///         revocation takes effect (zero: not revoked).
    function authorizationStateOf(bytes32 id) external view returns (AuthorizationState memory) {
        return _authorizations[id];
    }

    /// @notice The running total settled under authorization `id` for `modelId`: the next closing leaf of
    ///         that model must exceed it.
    function settledOf(bytes32 id, bytes32 modelId) external view returns (uint256) {
        return _runningTotals[keccak256(abi.encode(id, modelId))].settled;
    }

    /// @notice The lowest nonce the next closing leaf of authorization `id` for `modelId` may have: one more than
    ///         the last one settled (zero: none yet). The next batch's range of that running total starts there.
    function nextNonceOf(bytes32 id, bytes32 modelId) external view returns (uint256) {
        return _runningTotals[keccak256(abi.encode(id, modelId))].nextNonce;
    }

    /// @notice An authorization's id: the EIP-712 digest its requester signs.
    function authorizationId(SpendingAuthorization calldata authorization) public view returns (bytes32) {
        return _hashTypedDataV4(BatchHashing.hashAuthorization(authorization));
    }

    /// @notice The EIP-712 digest an operator's signer signs for a batch: its header and `closings`, the
    ///         keccak256 of its closing leaves' hashes concatenated in posting order.
    function batchDigest(BatchHeader calldata header, bytes32 closings) public view returns (bytes32) {
        return _hashTypedDataV4(BatchHashing.hashBatch(header, closings));
    }

    /// @dev Brings one authorization up to its closing leaves (one per model); charges the requester.
    function _settle(bytes32 batchId, bytes32 root, address operator, Settlement calldata s, Tally memory t)
        private
    {
        SpendingAuthorization calldata a = s.authorization;
        bytes32 id = authorizationId(a);
        if (a.operator != operator) revert BatchSettlementWrongOperator(id, a.operator);
        if (block.timestamp > a.expiry) revert BatchSettlementAuthorizationExpired(id, a.expiry);
        AuthorizationState storage state = _authorizations[id];
        uint64 revokedAt = state.revokedAt;
        if (revokedAt != 0 && block.timestamp >= revokedAt) revert BatchSettlementAuthorizationRevoked(id, revokedAt);
        uint256 settled = state.settled;
        address requester = a.requester;
        // The requester's signature is checked once: a stored, non-zero total proves it was.
        if (settled == 0 && !SignatureChecker.isValidSignatureNow(requester, id, s.signature)) {
            revert BatchSettlementInvalidAuthorization(id);
        }
        uint256 amount;
        for (uint256 j = 0; j < s.closings.length; ++j) {
            amount += _close(root, id, requester, s.closings[j], t);
        }
        // Every closing leaf charges something: nothing charged means no closing leaf, an empty charge.
        if (amount == 0) revert BatchSettlementEmptyBatch();
        uint256 total = settled + amount;
        if (total > a.cap) revert BatchSettlementCapExceeded(id, total, a.cap);
        state.settled = SafeCast.toUint128(total);
        t.charges[t.settled] = Charge(requester, amount);
        ++t.settled;
        _charge(requester, amount);
        emit AuthorizationSettled(id, batchId, requester, total, amount);
    }

    /// @dev Settles one (authorization, model) up to its closing leaf; returns what it charged, which is also
    ///      that model's fee: the split follows the leaves the operator signed, not a list it states.
    function _close(bytes32 root, bytes32 id, address requester, Closing calldata c, Tally memory t)
        private
        returns (uint256 amount)
    {
        Leaf calldata leaf = c.leaf;
        if (leaf.authorization != id || leaf.requester != requester) revert BatchSettlementLeafMismatch(id);
        bytes32 leafHash = _proveLeaf(root, leaf, c.proof);
        // A closing leaf is one a challenger can check: Signature tier, input commitment in the field.
        if (!_wellFormed(leaf)) revert BatchSettlementMalformedLeaf(leafHash);
        t.closings[t.count] = leafHash;
        bytes32 modelId = leaf.modelId;
        RunningTotal storage running = _runningTotals[keccak256(abi.encode(id, modelId))];
        (uint256 settled, uint256 nextNonce) = (running.settled, running.nextNonce);
        uint256 cumulative = leaf.cumulative;
        if (cumulative <= settled) revert BatchSettlementAlreadySettled(id, modelId, cumulative, settled);
        // Closing nonces rise too: a batch's receipts of a running total are the nonces after the last
        // closing, up to its own (refutePlacement relies on it).
        if (leaf.nonce < nextNonce) revert BatchSettlementStaleNonce(id, modelId, leaf.nonce, nextNonce);
        (running.settled, running.nextNonce) = (SafeCast.toUint192(cumulative), SafeCast.toUint64(leaf.nonce + 1));
        // This closing leaf charged the receipts with nonces nextNonce…leaf.nonce (refutations read the range).
        t.starts[t.count] = nextNonce;
        ++t.count;
        amount = cumulative - settled;
        t.total += amount;
        for (uint256 i = 0; i < t.models; ++i) {
            if (t.modelIds[i] == modelId) {
                t.fees[i] += amount;
                return amount;
            }
        }
        t.modelIds[t.models] = modelId;
        t.fees[t.models] = amount;
        ++t.models;
    }

    /// @dev Splits each model's fees to its owner, the operator and the treasury; returns the longest
    ///      challenge window the batch's models ask for.
    function _payFees(address operator, Tally memory t) private returns (uint32 window) {
        (uint16 operatorBps, uint16 modelOwnerBps) = (_config.operatorBps, _config.modelOwnerBps);
        uint256 operatorShare;
        uint256 treasuryShare;
        for (uint256 i = 0; i < t.models; ++i) {
            bytes32 modelId = t.modelIds[i];
            IModelRegistry.ModelTerms memory terms = models.termsOf(modelId, Tier.Signature);
            // Nobody is charged for a model its owner withdrew or does not offer at this tier.
            if (terms.deprecated || terms.acceptedTiers & (uint8(1) << uint8(Tier.Signature)) == 0) {
                revert BatchSettlementModelNotAccepted(modelId);
            }
            address owner = terms.owner;
            // Only a model that asked for its own window has one to read.
            if (terms.acceptedTiers & MODEL_WINDOW_FLAG != 0) {
                (, uint32 modelWindow) = models.disputeTermsOf(modelId);
                if (modelWindow > window) window = modelWindow;
            }
            (uint256 toOperator, uint256 toOwner, uint256 toTreasury) =
                FeeSplit.split(t.fees[i], operatorBps, modelOwnerBps);
            _earn(owner, toOwner);
            operatorShare += toOperator;
            treasuryShare += toTreasury;
        }
        _earn(operator, operatorShare);
        _earn(treasury, treasuryShare);
    }

    /// @dev Stores the batch and locks its bond until the longer of the configured and the models' windows.
    function _record(
        BatchHeader calldata header,
        address signer,
        address operator,
        Tally memory t,
        uint32 window
    ) private {
        Config memory c = _config;
        uint64 finalAt = uint64(block.timestamp) + (window > c.window ? window : c.window);
        uint256 bond = t.total * c.bondMultiple;
        bytes32 batchId = batchIdOf(operator, header.root);
        t.startsHash = keccak256(abi.encodePacked(t.starts));
        _batches[batchId] = Batch({
            operator: operator,
            finalAt: uint40(finalAt),
            refuted: false,
            bondMultiple: c.bondMultiple,
            rewardBps: c.rewardBps,
            compensationBps: c.compensationBps,
            ledger: _ledgerOf(t.charges, t.closingsHash, t.startsHash)
        });
        operators.lockBond(operator, bond, finalAt);
        _emitPosted(batchId, header, signer, operator, t, bond, finalAt);
    }

    /// @dev The batch's event, with the hashes a challenger's BatchRef repeats.
    function _emitPosted(
        bytes32 batchId,
        BatchHeader calldata header,
        address signer,
        address operator,
        Tally memory t,
        uint256 bond,
        uint64 finalAt
    ) private {
        emit BatchPosted(
            batchId,
            header.root,
            operator,
            signer,
            header.leafCount,
            t.total,
            bond,
            finalAt,
            header.uri,
            t.closingsHash,
            t.startsHash
        );
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
