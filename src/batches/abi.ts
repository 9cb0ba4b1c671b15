/**
 * The BatchSettlement contract's ABI (hand-written like src/settlement/abi.ts; test/batches.test.ts checks every
 * fragment against the compiled artifact).
 */
export const AUTHORIZATION_TUPLE = "(address requester, address operator, uint256 cap, uint64 expiry, bytes32 salt)";
export const LEAF_TUPLE =
  "(bytes32 modelId, bytes32 inputCommitment, bytes32 outputCommitment, bytes32 outputDigest, address requester, uint8 tier, uint256 price, uint256 nonce, uint256 cumulative, bytes32 authorization)";
export const HEADER_TUPLE = "(bytes32 root, uint32 leafCount, string uri)";
export const CLOSING_TUPLE = `(${LEAF_TUPLE} leaf, bytes32[] proof)`;
export const SETTLEMENT_TUPLE = `(${AUTHORIZATION_TUPLE} authorization, bytes signature, ${CLOSING_TUPLE}[] closings)`;
export const CHARGE_TUPLE = "(address requester, uint256 amount)";
export const BATCH_REF_TUPLE = `(address operator, bytes32 root, ${CHARGE_TUPLE}[] charges, bytes32 closings, bytes32 starts)`;
export const CLOSED_BATCH_TUPLE = `(${BATCH_REF_TUPLE} batch, ${LEAF_TUPLE}[] closings, uint256[] starts)`;
export const LEAF_PROOF_TUPLE = `(bytes32 root, ${LEAF_TUPLE} leaf, bytes32[] proof)`;
const OUTCOME_TUPLE = "(uint256 slashed, uint256 reward, uint256 refund, uint256 remainder)";
export const CONFIG_TUPLE =
  "(uint32 window, uint16 bondMultiple, uint16 operatorBps, uint16 modelOwnerBps, uint16 rewardBps, uint16 compensationBps)";

export const BATCH_SETTLEMENT_ABI = [
  `function postBatch(${HEADER_TUPLE} header, address signer, bytes signature, ${SETTLEMENT_TUPLE}[] settlements)`,
  `function verifyLeaf(address operator, bytes32 root, ${LEAF_TUPLE} leaf, bytes32[] proof) view returns (uint8 tier, bytes32 outputCommitment, uint8 status, uint64 finalAt)`,
  `function challenge(${CLOSED_BATCH_TUPLE} batch, ${LEAF_PROOF_TUPLE} leaf, bytes32 provenOutput, uint256[] outputs, uint256[8] zkProof) returns (${OUTCOME_TUPLE} outcome)`,
  `function refuteCharge(${CLOSED_BATCH_TUPLE} batch, ${LEAF_PROOF_TUPLE} leaf, ${LEAF_PROOF_TUPLE} previous) returns (${OUTCOME_TUPLE} outcome)`,
  `function refutePlacement(${CLOSED_BATCH_TUPLE} batch, ${LEAF_TUPLE} leaf, bytes32[] proof) returns (${OUTCOME_TUPLE} outcome)`,
  `function refuteEquivocation(${CLOSED_BATCH_TUPLE} batch, ${LEAF_PROOF_TUPLE} leaf, ${LEAF_PROOF_TUPLE} other) returns (${OUTCOME_TUPLE} outcome)`,
  `function claimRefund(${BATCH_REF_TUPLE} batch, address requester) returns (uint256 amount)`,
  "function refundPoolOf(bytes32 batchId) view returns ((uint128 pool, uint128 claimed))",
  "function refundedOf(bytes32 batchId, address requester) view returns (bool)",
  `function revokeAuthorization(${AUTHORIZATION_TUPLE} authorization)`,
  `function authorizationId(${AUTHORIZATION_TUPLE} authorization) view returns (bytes32)`,
  `function batchDigest(${HEADER_TUPLE} header, bytes32 closings) view returns (bytes32)`,
  "function authorizationStateOf(bytes32 id) view returns ((uint128 settled, uint64 revokedAt))",
  "function settledOf(bytes32 id, bytes32 modelId) view returns (uint256)",
  "function nextNonceOf(bytes32 id, bytes32 modelId) view returns (uint256)",
  "function batchOf(address operator, bytes32 root) view returns ((address operator, uint40 finalAt, bool refuted, uint16 bondMultiple, uint16 rewardBps, uint16 compensationBps, bytes32 ledger))",
  `function config() view returns (${CONFIG_TUPLE})`,
  "function bindingOf(bytes32 leafId, address challenger) view returns (uint256)",
  "function batchIdOf(address operator, bytes32 root) pure returns (bytes32)",
  "function leafIdOf(bytes32 batchId, bytes32 leafHash) pure returns (bytes32)",
  "function bondIdOf(bytes32 batchId) view returns (bytes32)",
  "function deposit(address account, uint256 amount)",
  "function depositWithPermit(address account, uint256 amount, uint256 deadline, uint8 v, bytes32 r, bytes32 s)",
  "function requestWithdrawal(uint256 amount)",
  "function withdraw(address to)",
  "function claim(address to)",
  "function depositOf(address account) view returns (uint256 balance, uint256 unlocking, uint64 unlockAt)",
  "function earningsOf(address account) view returns (uint256)",
  "function token() view returns (address)",
  "function withdrawalDelay() view returns (uint64)",
  "event BatchPosted(bytes32 indexed batchId, bytes32 indexed root, address indexed operator, address signer, uint32 leafCount, uint256 total, uint256 bond, uint64 finalAt, string uri, bytes32 closings, bytes32 starts)",
  "event AuthorizationSettled(bytes32 indexed authorization, bytes32 indexed batchId, address indexed requester, uint256 settled, uint256 amount)",
  "event AuthorizationRevoked(bytes32 indexed authorization, address indexed requester, uint64 revokedAt)",
  "event BatchRefuted(bytes32 indexed batchId, bytes32 indexed leaf, address indexed rewarded, bytes32 provenOutput, uint256 slashed, uint256 reward, uint256 refund, uint256 remainder)",
  "event RefundClaimed(bytes32 indexed batchId, address indexed requester, uint256 amount)",
  "event Deposited(address indexed from, address indexed account, uint256 amount)",
  "event WithdrawalRequested(address indexed account, uint256 amount, uint64 unlockAt)",
  "event Withdrawn(address indexed account, address indexed to, uint256 amount)",
  "error BatchSettlementEmptyBatch()",
  "error BatchSettlementRootExists(address operator, bytes32 root)",
  "error BatchSettlementUnknownBatch(address operator, bytes32 root)",
  "error BatchSettlementInvalidSignature(address signer)",
  "error BatchSettlementNotOperator(address signer)",
  "error BatchSettlementLeafNotInRoot(bytes32 root, bytes32 leaf)",
  "error BatchSettlementInvalidAuthorization(bytes32 authorization)",
  "error BatchSettlementWrongOperator(bytes32 authorization, address operator)",
  "error BatchSettlementAuthorizationExpired(bytes32 authorization, uint64 expiry)",
  "error BatchSettlementAuthorizationRevoked(bytes32 authorization, uint64 revokedAt)",
  "error BatchSettlementCapExceeded(bytes32 authorization, uint256 cumulative, uint256 cap)",
  "error BatchSettlementAlreadySettled(bytes32 authorization, bytes32 modelId, uint256 cumulative, uint256 settled)",
  "error BatchSettlementLeafMismatch(bytes32 authorization)",
  "error BatchSettlementInsufficientBalance(address requester, uint256 balance, uint256 needed)",
  "error BatchSettlementUnsupportedTier(uint8 tier)",
  "error BatchSettlementMalformedLeaf(bytes32 leaf)",
  "error BatchSettlementModelNotAccepted(bytes32 modelId)",
  "error BatchSettlementTokenMismatch(address stakeToken, address token)",
  "error BatchSettlementBatchRefuted(bytes32 batchId)",
  "error BatchSettlementWindowClosed(bytes32 batchId, uint64 finalAt)",
  "error BatchSettlementSameOutput(bytes32 leaf)",
  "error BatchSettlementNoCircuit(bytes32 modelId)",
  "error BatchSettlementWrongLedger(bytes32 batchId)",
  "error BatchSettlementStaleNonce(bytes32 authorization, bytes32 modelId, uint256 nonce, uint256 next)",
  "error BatchSettlementLeafInPlace(bytes32 leaf)",
  "error BatchSettlementNotCharged(bytes32 leaf)",
  "error BatchSettlementNotEquivocation(bytes32 leaf)",
  "error BatchSettlementNotRefuted(bytes32 batchId)",
  "error BatchSettlementNoRefund(bytes32 batchId, address requester)",
  "error BatchSettlementInvalidProof(bytes32 leaf)",
  "error BatchSettlementNotConsecutive(bytes32 leaf)",
  "error BatchSettlementChargeConsistent(bytes32 leaf)",
  "error BatchSettlementZeroAmount()",
  "error BatchSettlementZeroAddress()",
  "error BatchSettlementNotUnlocked(uint64 unlockAt)",
  "error BatchSettlementInvalidConfig()",
  "error BatchSettlementNotRequester(address caller)",
  "error OperatorRegistryInsufficientFreeStake(address operator, uint256 bond, uint256 free)",
  "error OperatorRegistryBondAlreadySlashed(bytes32 bondId)",
  "error ModelRegistryUnknownModel(bytes32 modelId)",
] as const;
