/**
 * Fraud proofs: pending results and their claims, re-checking them with the circuit's fixed-point
 * semantics, and challenging wrong ones with a Groth16 proof of the true output.
 */
export { DISPUTES_ABI, CLAIM } from "./abi.ts";
export { claimTuple, findAnyClaim, findClaim, pendingClaims, pendingFulfilments, ResultStatus, statusName } from "./claims.ts";
export type { Claim, PendingClaim } from "./claims.ts";
export { anyInput, challengeResult, inputDirectory, processClaim, requestInputs, recheck, ResultCorrectError, scanBlocks, watch } from "./watch.ts";
export type { ChallengeReport, InputSource, Verdict, WatchedModel, WatchEvent, WatcherContext, WatchOptions } from "./watch.ts";
