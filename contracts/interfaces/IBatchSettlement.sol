// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {ResultStatus} from "../types/Claim.sol";
import {Tier} from "../types/Tier.sol";

/// @notice Batch settlement: a requester signs once a capped, expiring spending authorization for one
///         operator; the operator serves many inferences under it, signs one Merkle root over their
///         receipts (leaves) and settles, per authorization and model, the running total used so far. A
///         batch is keyed by its operator and root (`batchIdOf`). Every leaf stays usable on its own
///         (verified with its Merkle proof) and refutable during the batch's challenge window.
interface IBatchSettlement {
    /// @notice What a requester signs once (EIP-712): `operator` may charge up to `cap` OPG wei in total
    ///         from the requester's deposit, in batches posted before `expiry`. `salt` makes it unique.
    struct SpendingAuthorization {
        address requester;
        address operator;
        uint256 cap;
        uint64 expiry;
        bytes32 salt;
    }

    /// @notice One receipt of a batch, as a leaf of its Merkle tree (OpenZeppelin standard leaf:
    ///         keccak256(bytes.concat(keccak256(abi.encode(leaf))))).
    /// @param price What this inference cost (the model's price at `tier` when served).
    /// @param nonce The receipt's sequence number under its authorization for its model (0, 1, 2…).
    /// @param cumulative What the requester owes for `modelId` under `authorization` after this receipt
    ///        (running sum of the prices of that authorization's receipts of that model).
    /// @param authorization The id (EIP-712 digest) of the spending authorization it was served under.
    struct Leaf {
        bytes32 modelId;
        bytes32 inputCommitment;
        bytes32 outputCommitment;
        bytes32 outputDigest;
        address requester;
        Tier tier;
        uint256 price;
        uint256 nonce;
        uint256 cumulative;
        bytes32 authorization;
    }

    /// @notice The part of a batch its operator's signer signs (EIP-712 `Batch`, with `closings` the
    ///         keccak256 of the closing leaves' hashes, concatenated in the order they are posted).
    /// @param uri Where the leaves are published (the root is their content address: anyone can rebuild it).
    struct BatchHeader {
        bytes32 root;
        uint32 leafCount;
        string uri;
    }

    /// @notice The last leaf of one (authorization, model) in a batch, with its Merkle proof: the requester
    ///         owes `leaf.cumulative` for that model in total.
    struct Closing {
        Leaf leaf;
        bytes32[] proof;
    }

    /// @notice Brings one authorization up to date: per model it used in the batch, its closing leaf.
    /// @param signature The requester's signature of the authorization (checked on its first settlement
    ///        only; may be empty afterwards).
    struct Settlement {
        SpendingAuthorization authorization;
        bytes signature;
        Closing[] closings;
    }

    /// @notice What an authorization's state is: settled in total (all models) and when a revocation
    ///         takes effect (zero: not revoked).
    struct AuthorizationState {
        uint128 settled;
        uint64 revokedAt;
    }

    /// @notice What one authorization's requester was charged in a batch (posting order; as in the
    ///         `AuthorizationSettled` events of the posting transaction).
    struct Charge {
        address requester;
        uint256 amount;
    }

    /// @notice A stored batch: its operator, when it is final, whether it was refuted, the bond multiple and
    ///         slash shares it was posted with (its bond, locked until `finalAt`, is that multiple of its
    ///         charges' sum; a later configuration does not change how its slash is shared) and `ledger`,
    ///         keccak256(abi.encode(Charge[] charges, bytes32 closings, bytes32 starts)): what it charged
    ///         whom, the hash of its closing leaves (as signed) and of the nonces their ranges start at.
    struct Batch {
        address operator;
        uint40 finalAt;
        bool refuted;
        uint16 bondMultiple;
        uint16 rewardBps;
        uint16 compensationBps;
        bytes32 ledger;
    }

    /// @notice A posted batch as a challenger names it: its operator, root, charges (in the order of the
    ///         posting transaction's `AuthorizationSettled` events), `closings` (the keccak256 of its closing
    ///         leaves' hashes concatenated in posting order) and `starts` (the keccak256 of the nonces their
    ///         ranges start at, each a uint256, concatenated in the same order), both as in its `BatchPosted`
    ///         event. The stored ledger checks them: the charges give the bond and each requester's share.
    struct BatchRef {
        address operator;
        bytes32 root;
        Charge[] charges;
        bytes32 closings;
        bytes32 starts;
    }

    /// @notice A posted batch with its closing leaves in posting order and the nonce each one's range starts
    ///         at: closing leaf i charged the receipts of its authorization and model with nonces
    ///         `starts[i]`…`closings[i].nonce`. Both arrays may be empty where no range is read.
    struct ClosedBatch {
        BatchRef batch;
        Leaf[] closings;
        uint256[] starts;
    }

    /// @notice A leaf with its Merkle proof in `root`, a batch of the operator of the batch it is used against.
    struct LeafProof {
        bytes32 root;
        Leaf leaf;
        bytes32[] proof;
    }

    /// @notice What a refuted batch's requesters share: `pool` OPG wei, each in proportion to what it was
    ///         charged in the batch; `claimed` is the sum of the charges of those who claimed already.
    struct RefundPool {
        uint128 pool;
        uint128 claimed;
    }

    /// @notice What a refutation moved, in OPG wei: the slash, the challenger's reward, the refund pool the
    ///         batch's requesters claim from (`claimRefund`) and the treasury's remainder.
    struct Outcome {
        uint256 slashed;
        uint256 reward;
        uint256 refund;
        uint256 remainder;
    }

    /// @notice The batch has no leaf, charges nothing (a batch with no fees locks no bond), or settles an
    ///         authorization without a closing leaf.
    error BatchSettlementEmptyBatch();
    /// @notice This operator already posted this root.
    error BatchSettlementRootExists(address operator, bytes32 root);
    /// @notice This operator posted no batch with this root.
    error BatchSettlementUnknownBatch(address operator, bytes32 root);
    /// @notice The batch signature is not `signer`'s.
    error BatchSettlementInvalidSignature(address signer);
    /// @notice The batch's signer is not the signer of a staked operator.
    error BatchSettlementNotOperator(address signer);
    /// @notice The leaf and proof do not lead to the root.
    error BatchSettlementLeafNotInRoot(bytes32 root, bytes32 leaf);
    /// @notice The requester's signature of the authorization is invalid.
    error BatchSettlementInvalidAuthorization(bytes32 authorization);
    /// @notice The authorization names another operator than the batch's.
    error BatchSettlementWrongOperator(bytes32 authorization, address operator);
    /// @notice The authorization expired at `expiry`.
    error BatchSettlementAuthorizationExpired(bytes32 authorization, uint64 expiry);
    /// @notice The requester's revocation of the authorization took effect at `revokedAt` (or, when
    ///         revoking, was already requested).
    error BatchSettlementAuthorizationRevoked(bytes32 authorization, uint64 revokedAt);
    /// @notice The settled cumulative amount exceeds the authorization's cap.
    error BatchSettlementCapExceeded(bytes32 authorization, uint256 cumulative, uint256 cap);
    /// @notice The closing leaf's running total for `modelId` does not exceed what was already settled
    ///         for it (a replayed settlement).
    error BatchSettlementAlreadySettled(bytes32 authorization, bytes32 modelId, uint256 cumulative, uint256 settled);
    /// @notice The closing leaf belongs to another authorization or requester.
    error BatchSettlementLeafMismatch(bytes32 authorization);
    /// @notice The requester's deposit cannot cover the amount.
    error BatchSettlementInsufficientBalance(address requester, uint256 balance, uint256 needed);
    /// @notice Batched leaves are signed by an operator key: only Signature-tier leaves are accepted.
    error BatchSettlementUnsupportedTier(Tier tier);
    /// @notice A closing leaf must be one a proof can be checked against: Signature tier, input commitment
    ///         below the BN254 scalar field order. (Any such leaf of a root is refuted without a proof.)
    error BatchSettlementMalformedLeaf(bytes32 leaf);
    /// @notice The model is deprecated or does not accept the Signature tier: its receipts cannot be charged.
    error BatchSettlementModelNotAccepted(bytes32 modelId);
    /// @notice The operator registry's stake token is not the token deposits are made in.
    error BatchSettlementTokenMismatch(address stakeToken, address token);
    /// @notice The batch was already refuted (its bond is slashed once).
    error BatchSettlementBatchRefuted(bytes32 batchId);
    /// @notice The batch's challenge window closed at `finalAt`.
    error BatchSettlementWindowClosed(bytes32 batchId, uint64 finalAt);
    /// @notice The proven output commitment is the signed one: the leaf is correct.
    error BatchSettlementSameOutput(bytes32 leaf);
    /// @notice The leaf's model has no verifying key: it cannot be refuted by proof.
    error BatchSettlementNoCircuit(bytes32 modelId);
    /// @notice The charges or closing leaves given for the batch are not the ones it made.
    error BatchSettlementWrongLedger(bytes32 batchId);
    /// @notice The closing leaf's nonce does not come after the last one settled for its authorization and
    ///         model (`next` is the lowest nonce the next closing leaf may have).
    error BatchSettlementStaleNonce(bytes32 authorization, bytes32 modelId, uint256 nonce, uint256 next);
    /// @notice The leaf lies in the range of receipts its batch charged: it is in its place.
    error BatchSettlementLeafInPlace(bytes32 leaf);
    /// @notice The batch does not answer for the leaf: the leaf is not in its root, and either the leaf's own
    ///         batch is not refuted or the batch did not charge the leaf's nonce.
    error BatchSettlementNotCharged(bytes32 leaf);
    /// @notice The two leaves are not two different receipts with one authorization, model and nonce.
    error BatchSettlementNotEquivocation(bytes32 leaf);
    /// @notice The batch was not refuted: nothing to refund.
    error BatchSettlementNotRefuted(bytes32 batchId);
    /// @notice The requester already claimed its refund from this batch, or was charged nothing in it.
    error BatchSettlementNoRefund(bytes32 batchId, address requester);
    /// @notice The Groth16 proof does not verify for this leaf and challenger.
    error BatchSettlementInvalidProof(bytes32 leaf);
    /// @notice The two leaves are not consecutive receipts of one authorization and model, in batches of
    ///         one operator.
    error BatchSettlementNotConsecutive(bytes32 leaf);
    /// @notice The leaf's running total is its predecessor's plus its price: nothing to refute.
    error BatchSettlementChargeConsistent(bytes32 leaf);
    /// @notice The amount is zero.
    error BatchSettlementZeroAmount();
    /// @notice A zero address was given where an account is required.
    error BatchSettlementZeroAddress();
    /// @notice Nothing is unlocking, or its delay has not passed.
    error BatchSettlementNotUnlocked(uint64 unlockAt);
    /// @notice The configuration is out of range (window, shares).
    error BatchSettlementInvalidConfig();
    /// @notice Only the authorization's requester may do this.
    error BatchSettlementNotRequester(address caller);

    /// @notice A batch was posted: `leafCount` receipts under `root`, `total` OPG settled, `bond` of the
    ///         operator's stake locked until `finalAt`; its leaves are published at `uri`; `closings` and
    ///         `starts` are the hashes of its closing leaves and of their ranges' first nonces (see `BatchRef`).
    event BatchPosted(
        bytes32 indexed batchId,
        bytes32 indexed root,
        address indexed operator,
        address signer,
        uint32 leafCount,
        uint256 total,
        uint256 bond,
        uint64 finalAt,
        string uri,
        bytes32 closings,
        bytes32 starts
    );
    /// @notice `requester` now owes `settled` in total (all models) under `authorization`; `amount` was
    ///         charged now, in batch `batchId`.
    event AuthorizationSettled(
        bytes32 indexed authorization, bytes32 indexed batchId, address indexed requester, uint256 settled, uint256 amount
    );
    /// @notice The requester revoked an authorization: batches posted from `revokedAt` on cannot settle it.
    event AuthorizationRevoked(bytes32 indexed authorization, address indexed requester, uint64 revokedAt);
    /// @notice Batch `batchId` was refuted through its leaf `leaf`: its bond was slashed; `rewarded` got the
    ///         reward (a challenger whose proof was bound to it; zero for evidence anyone can copy, which pays
    ///         no reward); `refund` is the pool its requesters claim from, `remainder` went to the treasury.
    ///         `provenOutput` is the proof's output commitment, zero for other evidence.
    event BatchRefuted(
        bytes32 indexed batchId,
        bytes32 indexed leaf,
        address indexed rewarded,
        bytes32 provenOutput,
        uint256 slashed,
        uint256 reward,
        uint256 refund,
        uint256 remainder
    );
    /// @notice `requester` was credited `amount` (to its deposit) from refuted batch `batchId`'s refund pool.
    event RefundClaimed(bytes32 indexed batchId, address indexed requester, uint256 amount);
    /// @notice OPG was deposited for `account`.
    event Deposited(address indexed from, address indexed account, uint256 amount);
    /// @notice `amount` of `account`'s deposit starts unlocking; it still pays settlements until `unlockAt`.
    event WithdrawalRequested(address indexed account, uint256 amount, uint64 unlockAt);
    /// @notice Unlocked deposit or earnings left for `to`.
    event Withdrawn(address indexed account, address indexed to, uint256 amount);
    /// @notice The challenge window, bond multiple, fee split or slash shares changed (new batches).
    event ConfigUpdated(Config config);

    /// @notice Settings read once per batch.
    /// @param window Challenge window in seconds (a model may ask for a longer one).
    /// @param bondMultiple A batch bonds this multiple of its total fees.
    struct Config {
        uint32 window;
        uint16 bondMultiple;
        uint16 operatorBps;
        uint16 modelOwnerBps;
        uint16 rewardBps;
        uint16 compensationBps;
    }

    /// @notice Posts batch `header`, signed by a staked operator's signer (over the header and the closing
    ///         leaves in order), settles each (authorization, model) up to its closing leaf's running total,
    ///         pays each model's owner its share of what its own closing leaves charged, and locks the bond.
    function postBatch(
        BatchHeader calldata header,
        address signer,
        bytes calldata signature,
        Settlement[] calldata settlements
    ) external;

    /// @notice Verifies `leaf` with its Merkle `proof` in `operator`'s batch `root`; reverts if it is not in it.
    /// @return tier The leaf's tier.
    /// @return outputCommitment The committed outputs.
    /// @return status Pending until the window closes, then Final; Refuted if a leaf of the batch was.
    /// @return finalAt When the leaf is (or became) final.
    function verifyLeaf(address operator, bytes32 root, Leaf calldata leaf, bytes32[] calldata proof)
        external
        view
        returns (Tier tier, bytes32 outputCommitment, ResultStatus status, uint64 finalAt);

    /// @notice Refutes `batch` with a Groth16 proof, under the leaf's model's registered key, that the model
    ///         maps `leaf`'s input commitment to `outputs` with commitment `provenOutput`. The caller earns the
    ///         reward; the batch's requesters share the refund pool (`claimRefund`).
    ///
    ///         Every refutation names a leaf the batch *answers for*: a leaf of its own root, or a leaf of
    ///         another of its operator's roots that is refuted already and whose nonce the batch charged (its
    ///         authorization and model's range in `batch.closings`/`batch.starts`). So a wrong receipt that
    ///         an operator keeps out of the batch that charges it, and signs into another root, still costs
    ///         the charging batch's bond once that other root is refuted (`BatchSettlementNotCharged` else).
    /// @param zkProof Public signals [inputCommitment, provenOutput, outputs…, bindingOf(leafId, msg.sender)],
    ///        leafId = leafIdOf(batch's id, the leaf's hash).
    function challenge(
        ClosedBatch calldata batch,
        LeafProof calldata leaf,
        bytes32 provenOutput,
        uint256[] calldata outputs,
        uint256[8] calldata zkProof
    ) external returns (Outcome memory outcome);

    /// @notice Refutes `batch` through a `leaf` it answers for (see `challenge`) whose running total does not
    ///         chain: its `cumulative` is not `previous.cumulative + leaf.price`, `previous` being the receipt
    ///         just before it under the same authorization and model (nonce − 1, in a root of the same
    ///         operator), or not `leaf.price` for the first receipt (nonce 0; `previous` is then ignored).
    ///         Anyone can copy this evidence from the mempool, so it pays no reward: the whole slash backs
    ///         the refund pool.
    function refuteCharge(ClosedBatch calldata batch, LeafProof calldata leaf, LeafProof calldata previous)
        external
        returns (Outcome memory outcome);

    /// @notice Refutes `batch` through a `leaf` of its own root that lies outside the receipts it charged
    ///         (no range of `batch.closings`/`batch.starts` for its authorization and model holds its nonce): a
    ///         root holds exactly the receipts its batch charges. Pays no reward (see refuteCharge).
    function refutePlacement(ClosedBatch calldata batch, Leaf calldata leaf, bytes32[] calldata proof)
        external
        returns (Outcome memory outcome);

    /// @notice Refutes `batch` through a `leaf` it answers for (see `challenge`) when the operator signed
    ///         another receipt `other` (in any of its roots) with the same authorization, model and nonce: one
    ///         of them is not what it served. Pays no reward (see refuteCharge).
    function refuteEquivocation(ClosedBatch calldata batch, LeafProof calldata leaf, LeafProof calldata other)
        external
        returns (Outcome memory outcome);

    /// @notice Credits `requester` (anyone may send it) its share of refuted `batch`'s refund pool: the pool
    ///         times what it was charged in the batch over the batch's total charges. Once per requester.
    function claimRefund(BatchRef calldata batch, address requester) external returns (uint256 amount);
}
