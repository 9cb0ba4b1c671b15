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
///         the receipts it served (published at a URI; the root is their content address) and, in the same
///         signature, the leaves that close each (authorization, model) in this batch: the requester is
///         charged, per model, that leaf's running total minus what was already settled for it, and each
///         model's owner is paid from its own closing leaves. A batch is keyed by its operator and root.
///         Storage is written per batch, per authorization and per (authorization, model), never per
///         receipt. The batch locks `bondMultiple` × its fees of the operator's stake until its window
///         closes; one leaf proven wrong refutes the batch and slashes the bond, once.
/// @dev Holds BOND_HOLDER_ROLE and SLASHER_ROLE at the operator registry. Knows nothing of the hub.
contract BatchSettlement is BatchEscrow, AccessControlDefaultAdminRules, EIP712 {
    using SafeERC20 for IERC20;

    uint256 internal constant BPS = 10_000;
    /// @dev BN254 scalar field order: public signals live below it.
    uint256 internal constant FIELD = 21888242871839275222246405745257275088548364400416034343698204186575808495617;
    /// @notice The longest challenge window the contract may be configured with.
    uint32 public constant MAX_WINDOW = 30 days;

    /// @dev What postBatch gathers while settling: the closing leaves' hashes in order (their hash is
    ///      signed) and, per model, what its closing leaves charged.
    struct Tally {
        Charge[] charges;
        uint256 settled;
        bytes32[] closings;
        uint256 count;
        bytes32[] modelIds;
        uint256[] fees;
        uint256 models;
        uint256 total;
    }

    IModelRegistry public immutable models;
    IOperatorRegistry public immutable operators;
    IGroth16Verifier public immutable verifier;
    /// @notice Where the treasury's fee share and what is left of a slash accrue (as earnings).
    address public immutable treasury;

    Config private _config;
    mapping(bytes32 batchId => Batch) private _batches;
    mapping(bytes32 authorization => AuthorizationState) private _authorizations;
    /// @dev The running total settled per (authorization, model), keyed by keccak256(authorization, modelId).
    mapping(bytes32 authorizationAndModel => uint256) private _settledPerModel;

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
            new Charge[](settlements.length), 0, new bytes32[](n), 0, new bytes32[](n), new uint256[](n), 0, 0
        );
        for (uint256 i = 0; i < settlements.length; ++i) {
            _settle(batchId, root, operator, settlements[i], t);
        }
        // The signature covers the closing leaves, in order: nobody can post the root with another choice.
        bytes32 digest = batchDigest(header, keccak256(abi.encodePacked(t.closings)));
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

    /// @inheritdoc IBatchSettlement
    function challenge(
        BatchRef calldata batch,
        Leaf calldata leaf,
        bytes32[] calldata proof,
        bytes32 provenOutput,
        uint256[] calldata outputs,
        uint256[8] calldata zkProof
    ) external nonReentrant returns (Outcome memory outcome) {
        (bytes32 batchId, bytes32 leafHash) = _checkLeaf(batch.operator, batch.root, leaf, proof);
        _checkOpen(batchId);
        if (provenOutput == leaf.outputCommitment) revert BatchSettlementSameOutput(leafHash);
        _checkProof(leafIdOf(batchId, leafHash), leaf, provenOutput, outputs, zkProof);
        return _refute(batchId, batch.charges, leafHash, leaf.requester, leaf.price, provenOutput, msg.sender);
    }

    /// @inheritdoc IBatchSettlement
    function refuteCharge(
        BatchRef calldata batch,
        Leaf calldata leaf,
        bytes32[] calldata proof,
        bytes32 previousRoot,
        Leaf calldata previous,
        bytes32[] calldata previousProof
    ) external nonReentrant returns (Outcome memory outcome) {
        (bytes32 batchId, bytes32 leafHash) = _checkLeaf(batch.operator, batch.root, leaf, proof);
        _checkOpen(batchId);
        uint256 expected = _expectedCumulative(batch.operator, leafHash, leaf, previousRoot, previous, previousProof);
        if (leaf.cumulative == expected) revert BatchSettlementChargeConsistent(leafHash);
        // The requester gets back what the running total added beyond the price (nothing if it fell short),
        // and the reward: whoever sends the proof, the injured party is paid, so front-running it is pointless.
        uint256 overcharge = leaf.cumulative > expected ? leaf.cumulative - expected : 0;
        address requester = leaf.requester;
        return _refute(batchId, batch.charges, leafHash, requester, overcharge, bytes32(0), requester);
    }

    /// @notice Sets the challenge window, bond multiple, fee split and slash shares (new batches only).
    function setConfig(Config calldata newConfig) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _setConfig(newConfig);
    }

    /// @inheritdoc IBatchSettlement
    function verifyLeaf(address operator, bytes32 root, Leaf calldata leaf, bytes32[] calldata proof)
        external
        view
        returns (Tier tier, bytes32 outputCommitment, ResultStatus status, uint64 finalAt)
    {
        (bytes32 batchId,) = _checkLeaf(operator, root, leaf, proof);
        Batch storage batch = _batches[batchId];
        finalAt = batch.finalAt;
        if (batch.refuted) status = ResultStatus.Refuted;
        else status = block.timestamp < finalAt ? ResultStatus.Pending : ResultStatus.Final;
        return (leaf.tier, leaf.outputCommitment, status, finalAt);
    }

    /// @notice `operator`'s stored batch with this root (a zero `finalAt` when none).
    function batchOf(address operator, bytes32 root) external view returns (Batch memory) {
        return _batches[batchIdOf(operator, root)];
    }

    /// @notice What was settled under authorization `id` so far (all models), and when its requester's
    ///         revocation takes effect (zero: not revoked).
    function authorizationStateOf(bytes32 id) external view returns (AuthorizationState memory) {
        return _authorizations[id];
    }

    /// @notice The running total settled under authorization `id` for `modelId`: the next closing leaf of
    ///         that model must exceed it.
    function settledOf(bytes32 id, bytes32 modelId) external view returns (uint256) {
        return _settledPerModel[keccak256(abi.encode(id, modelId))];
    }

    /// @notice The current configuration.
    function config() external view returns (Config memory) {
        return _config;
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

    /// @notice A batch's id: its operator and root (two operators' batches never collide).
    function batchIdOf(address operator, bytes32 root) public pure returns (bytes32) {
        return keccak256(abi.encode(operator, root));
    }

    /// @notice The id under which the operator registry locks (and slashes, at most once) a batch's bond.
    function bondIdOf(bytes32 batchId) public view returns (bytes32) {
        return keccak256(abi.encode(block.chainid, address(this), batchId));
    }

    /// @notice A leaf's id: its batch and its hash.
    function leafIdOf(bytes32 batchId, bytes32 leafHash) public pure returns (bytes32) {
        return keccak256(abi.encode(batchId, leafHash));
    }

    /// @notice The binding public signal a challenger's proof must carry, so that a proof seen in the
    ///         mempool cannot be replayed by someone else.
    function bindingOf(bytes32 leafId, address challenger) public view returns (uint256) {
        return uint256(keccak256(abi.encode(block.chainid, address(this), leafId, challenger))) % FIELD;
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
        // The requester's signature is checked once: a stored, non-zero total proves it was.
        if (settled == 0 && !SignatureChecker.isValidSignatureNow(a.requester, id, s.signature)) {
            revert BatchSettlementInvalidAuthorization(id);
        }
        uint256 amount;
        for (uint256 j = 0; j < s.closings.length; ++j) {
            amount += _close(root, id, a.requester, s.closings[j], t);
        }
        uint256 total = settled + amount;
        if (total > a.cap) revert BatchSettlementCapExceeded(id, total, a.cap);
        state.settled = SafeCast.toUint128(total);
        t.charges[t.settled] = Charge(a.requester, amount);
        ++t.settled;
        _charge(a.requester, amount);
        emit AuthorizationSettled(id, batchId, a.requester, total, amount);
    }

    /// @dev Settles one (authorization, model) up to its closing leaf; returns what it charged, which is also
    ///      that model's fee: the split follows the leaves the operator signed, not a list it states.
    function _close(bytes32 root, bytes32 id, address requester, Closing calldata c, Tally memory t)
        private
        returns (uint256 amount)
    {
        Leaf calldata leaf = c.leaf;
        if (leaf.authorization != id || leaf.requester != requester) revert BatchSettlementLeafMismatch(id);
        t.closings[t.count] = _proveLeaf(root, leaf, c.proof);
        ++t.count;
        bytes32 modelId = leaf.modelId;
        bytes32 key = keccak256(abi.encode(id, modelId));
        uint256 settled = _settledPerModel[key];
        uint256 cumulative = leaf.cumulative;
        if (cumulative <= settled) revert BatchSettlementAlreadySettled(id, modelId, cumulative, settled);
        _settledPerModel[key] = cumulative;
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
            address owner = models.termsOf(modelId, Tier.Signature).owner;
            (, uint32 modelWindow) = models.disputeTermsOf(modelId);
            if (modelWindow > window) window = modelWindow;
            (uint256 toOperator, uint256 toOwner, uint256 toTreasury) =
                FeeSplit.split(t.fees[i], operatorBps, modelOwnerBps);
            _earn(owner, toOwner);
            operatorShare += toOperator;
            treasuryShare += toTreasury;
        }
        _earn(operator, operatorShare);
        _earn(treasury, treasuryShare);
    }

    /// @dev What `leaf`'s running total must be: its price plus its predecessor's total (the receipt just
    ///      before it under the same authorization and model), or its price alone for the first receipt.
    function _expectedCumulative(
        address operator,
        bytes32 leafHash,
        Leaf calldata leaf,
        bytes32 previousRoot,
        Leaf calldata previous,
        bytes32[] calldata previousProof
    ) private view returns (uint256 expected) {
        expected = leaf.price;
        if (leaf.nonce == 0) return expected;
        // The previous leaf comes from a batch of the same operator (its id says so): another operator's root
        // proves nothing about this operator's running total.
        _checkLeaf(operator, previousRoot, previous, previousProof);
        if (
            previous.authorization != leaf.authorization || previous.modelId != leaf.modelId
                || previous.nonce + 1 != leaf.nonce
        ) {
            revert BatchSettlementNotConsecutive(leafHash);
        }
        expected += previous.cumulative;
    }

    /// @dev Reverts unless batch `batchId` can still be refuted: not refuted yet, inside its window.
    function _checkOpen(bytes32 batchId) private view {
        Batch storage batch = _batches[batchId];
        if (batch.refuted) revert BatchSettlementBatchRefuted(batchId);
        if (block.timestamp >= batch.finalAt) revert BatchSettlementWindowClosed(batchId, batch.finalAt);
    }

    /// @dev Refutes batch `batchId` (once: its bond id is slashed once): slashes the bond, pays `rewarded` its
    ///      share (the challenger, in tokens; a leaf's requester, as earnings), credits `requester`
    ///      `refundBase` plus compensation, and the treasury the rest.
    function _refute(
        bytes32 batchId,
        Charge[] calldata charges,
        bytes32 leafHash,
        address requester,
        uint256 refundBase,
        bytes32 provenOutput,
        address rewarded
    ) private returns (Outcome memory outcome) {
        (uint256 slashed, uint256 charged, uint16 bondMultiple) = _slash(batchId, charges, requester);
        outcome = _shares(slashed, charged, refundBase, bondMultiple);
        if (outcome.refund != 0) _credit(requester, outcome.refund);
        _earn(treasury, outcome.remainder);
        if (rewarded == msg.sender) {
            if (outcome.reward != 0) token.safeTransfer(msg.sender, outcome.reward);
        } else {
            _earn(rewarded, outcome.reward);
        }
        emit BatchRefuted(
            batchId, leafHash, rewarded, provenOutput, outcome.slashed, outcome.reward, outcome.refund, outcome.remainder
        );
    }

    /// @dev How a slash is shared: the reward, the refund (`refundBase` plus compensation, bounded by what the
    ///      refunded requester was charged in the batch, `charged`) and the treasury's remainder.
    function _shares(uint256 slashed, uint256 charged, uint256 refundBase, uint16 bondMultiple)
        private
        view
        returns (Outcome memory outcome)
    {
        Config memory c = _config;
        outcome.slashed = slashed;
        outcome.reward = slashed * c.rewardBps / BPS;
        uint256 refund = refundBase + slashed * c.compensationBps / BPS;
        // Only what the named requester was charged in this batch backs a refund: a leaf naming anyone else
        // (an operator's own decoy, refuted first to win back its slash) is refunded nothing. The bound is
        // that charge back plus its share of the bond's compensation.
        uint256 cap = charged + charged * bondMultiple * c.compensationBps / BPS;
        if (refund > cap) refund = cap;
        uint256 available = slashed - outcome.reward;
        outcome.refund = refund < available ? refund : available;
        outcome.remainder = available - outcome.refund;
    }

    /// @dev Checks `charges` against the batch's stored hash, marks the batch refuted and slashes its bond (the
    ///      bond multiple × the charges' sum; once per bond id); returns what was slashed, what `requester` was
    ///      charged in the batch and the batch's bond multiple.
    function _slash(bytes32 batchId, Charge[] calldata charges, address requester)
        private
        returns (uint256 slashed, uint256 charged, uint16 bondMultiple)
    {
        Batch storage batch = _batches[batchId];
        if (keccak256(abi.encode(charges)) != batch.charges) revert BatchSettlementWrongCharges(batchId);
        uint256 bond;
        for (uint256 i = 0; i < charges.length; ++i) {
            bond += charges[i].amount;
            if (charges[i].requester == requester) charged += charges[i].amount;
        }
        bondMultiple = batch.bondMultiple;
        batch.refuted = true;
        slashed = operators.slashBond(batch.operator, bondIdOf(batchId), bond * bondMultiple, batch.finalAt, address(this));
    }

    /// @dev Stores the batch and locks its bond until the longer of the configured and the models' windows.
    function _record(BatchHeader calldata header, address signer, address operator, Tally memory t, uint32 window)
        private
    {
        Config memory c = _config;
        uint64 finalAt = uint64(block.timestamp) + (window > c.window ? window : c.window);
        uint256 bond = t.total * c.bondMultiple;
        bytes32 batchId = batchIdOf(operator, header.root);
        _batches[batchId] = Batch({
            operator: operator,
            finalAt: finalAt,
            refuted: false,
            bondMultiple: c.bondMultiple,
            charges: keccak256(abi.encode(t.charges))
        });
        operators.lockBond(operator, bond, finalAt);
        _emitPosted(batchId, header, signer, operator, t.total, bond, finalAt);
    }

    function _emitPosted(
        bytes32 batchId,
        BatchHeader calldata header,
        address signer,
        address operator,
        uint256 total,
        uint256 bond,
        uint64 finalAt
    ) private {
        emit BatchPosted(batchId, header.root, operator, signer, header.leafCount, total, bond, finalAt, header.uri);
    }

    /// @dev Reverts unless `operator` posted `root` and `leaf` is in it; returns the batch's id and the leaf's hash.
    function _checkLeaf(address operator, bytes32 root, Leaf calldata leaf, bytes32[] calldata proof)
        private
        view
        returns (bytes32 batchId, bytes32 leafHash)
    {
        batchId = batchIdOf(operator, root);
        if (_batches[batchId].finalAt == 0) revert BatchSettlementUnknownBatch(operator, root);
        leafHash = _proveLeaf(root, leaf, proof);
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
