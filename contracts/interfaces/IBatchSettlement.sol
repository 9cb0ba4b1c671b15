// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {ResultStatus} from "../types/Claim.sol";
import {Tier} from "../types/Tier.sol";

/// @notice Batch settlement: a requester signs once a capped, expiring spending authorization for one
///         operator; the operator serves many inferences under it, signs one Merkle root over their
///         receipts (leaves) and settles, per requester, the cumulative amount used so far. Every leaf
///         stays usable on its own (verified with its Merkle proof) and refutable by a Groth16 proof
///         during the batch's challenge window.
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
    /// @param nonce The receipt's sequence number under its authorization (0, 1, 2…).
    /// @param cumulative What the requester owes under `authorization` after this receipt (running sum).
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

    /// @notice The part of a batch its operator's signer signs (EIP-712 `Batch`, with `fees` the hash of
    ///         the per-model fee list).
    /// @param uri Where the leaves are published (the root is their content address: anyone can rebuild it).
    struct BatchHeader {
        bytes32 root;
        uint32 leafCount;
        string uri;
    }

    /// @notice Brings one authorization up to date: the requester owes `closingLeaf.cumulative` in total,
    ///         as the operator signed in that leaf of this batch.
    /// @param signature The requester's signature of the authorization (checked on its first settlement
    ///        only; may be empty afterwards).
    struct Settlement {
        SpendingAuthorization authorization;
        bytes signature;
        Leaf closingLeaf;
        bytes32[] proof;
    }

    /// @notice What one model earned in a batch (split to its owner, the operator and the treasury).
    struct ModelFee {
        bytes32 modelId;
        uint256 amount;
    }

    /// @notice A stored batch: who posted it, when it is final, whether a leaf of it was refuted, and the
    ///         bond of its operator's stake locked until then.
    struct Batch {
        address operator;
        uint64 finalAt;
        bool refuted;
        uint256 bond;
    }

    /// @notice What a refutation moved, in OPG wei (as IDisputes.Outcome).
    struct Outcome {
        uint256 slashed;
        uint256 reward;
        uint256 refund;
        uint256 remainder;
    }

    /// @notice The batch has no leaf, or charges nothing (a batch with no fees locks no bond).
    error BatchSettlementEmptyBatch();
    /// @notice This root was already posted.
    error BatchSettlementRootExists(bytes32 root);
    /// @notice No batch was posted with this root.
    error BatchSettlementUnknownRoot(bytes32 root);
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
    /// @notice The requester revoked the authorization.
    error BatchSettlementAuthorizationRevoked(bytes32 authorization);
    /// @notice The settled cumulative amount exceeds the authorization's cap.
    error BatchSettlementCapExceeded(bytes32 authorization, uint256 cumulative, uint256 cap);
    /// @notice The cumulative amount does not exceed what was already settled (a replayed settlement).
    error BatchSettlementAlreadySettled(bytes32 authorization, uint256 cumulative, uint256 settled);
    /// @notice The closing leaf belongs to another authorization or requester.
    error BatchSettlementLeafMismatch(bytes32 authorization);
    /// @notice The per-model fees do not add up to what the requesters paid.
    error BatchSettlementUnbalanced(uint256 paid, uint256 fees);
    /// @notice The requester's deposit cannot cover the amount.
    error BatchSettlementInsufficientBalance(address requester, uint256 balance, uint256 needed);
    /// @notice Batched leaves are signed by an operator key: only Signature-tier leaves are accepted.
    error BatchSettlementUnsupportedTier(Tier tier);
    /// @notice A leaf of this batch was already refuted (its bond is slashed once).
    error BatchSettlementRootRefuted(bytes32 root);
    /// @notice The batch's challenge window closed at `finalAt`.
    error BatchSettlementWindowClosed(bytes32 root, uint64 finalAt);
    /// @notice The proven output commitment is the signed one: the leaf is correct.
    error BatchSettlementSameOutput(bytes32 leaf);
    /// @notice The leaf's model has no verifying key: it cannot be refuted by proof.
    error BatchSettlementNoCircuit(bytes32 modelId);
    /// @notice The Groth16 proof does not verify for this leaf and challenger.
    error BatchSettlementInvalidProof(bytes32 leaf);
    /// @notice The two leaves are not consecutive receipts of one authorization.
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
    ///         operator's stake locked until `finalAt`; its leaves are published at `uri`.
    event BatchPosted(
        bytes32 indexed root,
        address indexed operator,
        address signer,
        uint32 leafCount,
        uint256 total,
        uint256 bond,
        uint64 finalAt,
        string uri
    );
    /// @notice `requester` now owes `cumulative` in total under `authorization`; `amount` was charged now.
    event AuthorizationSettled(
        bytes32 indexed authorization, bytes32 indexed root, address indexed requester, uint256 cumulative, uint256 amount
    );
    /// @notice The requester revoked an authorization: no further settlement under it.
    event AuthorizationRevoked(bytes32 indexed authorization, address indexed requester);
    /// @notice A leaf of batch `root` was proven wrong: the batch is refuted and its bond slashed. `provenOutput`
    ///         is the proof's output commitment, zero when the leaf's running total was proven wrong.
    event BatchRefuted(
        bytes32 indexed root,
        bytes32 indexed leaf,
        address indexed challenger,
        bytes32 provenOutput,
        uint256 slashed,
        uint256 reward,
        uint256 refund,
        uint256 remainder
    );
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

    /// @notice Posts batch `header`, signed by a staked operator's signer, settles each authorization up
    ///         to its closing leaf's cumulative amount, splits `fees` per model and locks the bond.
    function postBatch(
        BatchHeader calldata header,
        address signer,
        bytes calldata signature,
        Settlement[] calldata settlements,
        ModelFee[] calldata fees
    ) external;

    /// @notice Verifies `leaf` with its Merkle `proof` in batch `root`; reverts if it is not in it.
    /// @return tier The leaf's tier.
    /// @return outputCommitment The committed outputs.
    /// @return status Pending until the window closes, then Final; Refuted if a leaf of the batch was.
    /// @return finalAt When the leaf is (or became) final.
    function verifyLeaf(bytes32 root, Leaf calldata leaf, bytes32[] calldata proof)
        external
        view
        returns (Tier tier, bytes32 outputCommitment, ResultStatus status, uint64 finalAt);

    /// @notice Refutes `leaf` of batch `root` with a Groth16 proof, under its model's registered key, that
    ///         the model maps the leaf's input commitment to `outputs` with commitment `provenOutput`.
    /// @param zkProof Public signals [inputCommitment, provenOutput, outputs…, bindingOf(leafId, msg.sender)].
    function challenge(
        bytes32 root,
        Leaf calldata leaf,
        bytes32[] calldata proof,
        bytes32 provenOutput,
        uint256[] calldata outputs,
        uint256[8] calldata zkProof
    ) external returns (Outcome memory outcome);

    /// @notice Refutes `leaf` of batch `root` whose running total does not chain: its `cumulative` is not
    ///         `previous.cumulative + leaf.price`, `previous` being the receipt just before it under the same
    ///         authorization (nonce − 1, in batch `previousRoot`), or not `leaf.price` for the first receipt
    ///         (nonce 0; `previous` is then ignored). The requester is credited the overcharge plus compensation.
    function refuteCharge(
        bytes32 root,
        Leaf calldata leaf,
        bytes32[] calldata proof,
        bytes32 previousRoot,
        Leaf calldata previous,
        bytes32[] calldata previousProof
    ) external returns (Outcome memory outcome);
}
