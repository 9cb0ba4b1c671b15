/**
 * The Disputes contract's ABI (hand-written like src/settlement/abi.ts; test/disputes.test.ts checks every
 * fragment against the compiled artifact).
 */
export const CLAIM =
  "(bytes32 modelId, bytes32 inputCommitment, bytes32 outputCommitment, address operator, address requester, address signer, uint8 tier, bytes32 operationId, uint256 fee, uint256 bond, uint64 finalAt)";

export const DISPUTES_ABI = [
  `function challenge(bytes32 id, ${CLAIM} claim, bytes32 provenOutput, uint256[] outputs, uint256[8] proof) returns ((uint256 slashed, uint256 reward, uint256 refund, uint256 remainder) outcome)`,
  "function bindingOf(bytes32 id, address challenger) view returns (uint256)",
  "function rewardBps() view returns (uint16)",
  "function compensationBps() view returns (uint16)",
  "function hub() view returns (address)",
  "event ChallengeSucceeded(bytes32 indexed id, address indexed challenger, address indexed operator, bytes32 provenOutput, uint256 slashed, uint256 reward, uint256 refund, uint256 remainder)",
  "error DisputesNotChallengeable(bytes32 id, uint8 status)",
  "error DisputesWindowClosed(bytes32 id, uint64 finalAt)",
  "error DisputesClaimMismatch(bytes32 id)",
  "error DisputesNoCircuit(bytes32 modelId)",
  "error DisputesSameOutput(bytes32 id)",
  "error DisputesInvalidProof(bytes32 id)",
  "error PendingResultsNotPending(bytes32 id, uint8 status)",
  "error OperatorRegistryBondAlreadySlashed(bytes32 bondId)",
] as const;
