/**
 * The challenger's side of fraud proofs. A watcher follows the results that become pending for the
 * models it holds circuits for, recomputes each with the circuit's fixed-point semantics (the same
 * deterministic execution the operator node uses), and challenges any whose output commitment differs
 * from the signed one with a Groth16 proof of the true output, bound to the challenger.
 *
 * Inputs are not on-chain for receipts (only their commitment is): an InputSource finds the input a
 * result committed to, e.g. a folder of input files the watcher was given (`inputDirectory`). A request
 * carries its input in its InferenceRequested event (`requestInputs`), and its fulfilments are pending at
 * the request book (give the watcher the book too).
 */
import { readdir } from "node:fs/promises";
import { join } from "node:path";
import { AbiCoder, type Contract, type EventLog, type Signer, type TransactionReceipt } from "ethers";
import { OpgError } from "../errors.ts";
import { readInputFile, type Execution, type ModelRunner } from "../execution/index.ts";
import type { Hex } from "../receipts/receipt.ts";
import { onChain } from "../settlement/errors.ts";
import { send } from "../settlement/transactions.ts";
import { encodeProofForEvm, encodePublicSignals, type WarmProver } from "../zkml/index.ts";
import { claimTuple, pendingClaims, pendingFulfilments, ResultStatus, type Claim, type PendingClaim } from "./claims.ts";

/** A model the watcher can re-check: its deterministic runner and a (warm) prover of its circuit. */
export interface WatchedModel {
  readonly modelId: Hex;
  readonly runner: ModelRunner;
  readonly prover: () => Promise<WarmProver>;
}

/** Finds the quantized input a claim committed to (undefined when the watcher does not know it). */
export type InputSource = (claim: Claim, id: Hex) => Promise<readonly bigint[] | undefined>;

/**
 * An InputSource over a folder of JSON input files (`{"input": [...]}` or a bare nested array): each file
 * is quantized at each model's scale and indexed by its commitment.
 */
export async function inputDirectory(dir: string, models: Iterable<WatchedModel>): Promise<InputSource> {
  const byCommitment = new Map<string, bigint[]>();
  const files = (await readdir(dir)).filter((f) => f.toLowerCase().endsWith(".json")).sort();
  const runners = [...models].map((m) => m.runner);
  for (const file of files) {
    let values: number[];
    try {
      values = await readInputFile(join(dir, file));
    } catch {
      continue; // not an input file
    }
    for (const runner of runners) {
      if (values.length !== runner.inputSize) continue;
      let quantized: bigint[];
      try {
        quantized = runner.quantizeInput(values);
      } catch {
        continue;
      }
      byCommitment.set((await runner.commitInput(quantized)).toLowerCase(), quantized);
    }
  }
  return async (claim) => byCommitment.get(claim.inputCommitment.toLowerCase());
}

/**
 * An InputSource over the request book's InferenceRequested events: the input of the first step of a
 * request (given as bytes, not as a URI). A claim of a later step is not found here.
 */
export function requestInputs(book: Contract): InputSource {
  return async (claim, id) => {
    const requestId = /^0x0{64}$/i.test(claim.operationId) ? id : claim.operationId;
    const events = await book.queryFilter(book.filters["InferenceRequested"]!(requestId));
    const event = events.find((e): e is EventLog => "args" in e);
    if (event === undefined) return undefined;
    const bytes = event.args.getValue("input") as string;
    if (bytes === "0x") return undefined;
    try {
      const [values] = AbiCoder.defaultAbiCoder().decode(["int256[]"], bytes) as unknown as [bigint[]];
      return [...values];
    } catch {
      return undefined;
    }
  };
}

/** Tries each source in turn. */
export function anyInput(...sources: InputSource[]): InputSource {
  return async (claim, id) => {
    for (const source of sources) {
      const found = await source(claim, id);
      if (found !== undefined) return found;
    }
    return undefined;
  };
}

/** What re-running a claim's model on its input says about it. */
export type Verdict =
  | { readonly outcome: "correct"; readonly execution: Execution }
  | { readonly outcome: "wrong"; readonly execution: Execution }
  /** The input given does not have the claim's input commitment: nothing can be said. */
  | { readonly outcome: "input-mismatch"; readonly execution: Execution };

/** Recomputes `claim` on `input` with the model's fixed-point semantics. */
export async function recheck(runner: ModelRunner, claim: Claim, input: readonly bigint[]): Promise<Verdict> {
  const execution = await runner.execute(input);
  if (execution.inputCommitment.toLowerCase() !== claim.inputCommitment.toLowerCase()) return { outcome: "input-mismatch", execution };
  return { outcome: execution.outputCommitment.toLowerCase() === claim.outputCommitment.toLowerCase() ? "correct" : "wrong", execution };
}

/** What one successful challenge did (amounts in OPG wei). */
export interface ChallengeReport {
  readonly id: Hex;
  readonly refuted: true;
  readonly provenOutput: Hex;
  readonly slashed: bigint;
  readonly reward: bigint;
  readonly refund: bigint;
  readonly remainder: bigint;
  readonly gasUsed: bigint;
  readonly transactionHash: string;
}

/** The result is correct: a proof of its true output has the signed commitment, so it cannot be refuted. */
export class ResultCorrectError extends OpgError {
  override readonly name = "ResultCorrectError";
  constructor(id: Hex) {
    super("RESULT_CORRECT", `result ${id} is correct: the model's output on its input has the signed commitment`);
  }
}

/**
 * Proves the true output of `pending`'s model on `input` (bound to the challenger, the disputes
 * contract's signer) and challenges the result. Refuses, without a transaction, a result that is correct.
 */
export async function challengeResult(disputes: Contract, prover: WarmProver, pending: PendingClaim, input: readonly bigint[]): Promise<ChallengeReport> {
  const runner = disputes.runner as Signer | null;
  if (runner === null || typeof runner.getAddress !== "function") throw new OpgError("NO_SIGNER", "challenging needs a signer");
  const challenger = await runner.getAddress();
  const binding = (await disputes.getFunction("bindingOf")(pending.id, challenger)) as bigint;
  const proven = await prover.prove(input, binding);
  if (proven.inputCommitment.toLowerCase() !== pending.claim.inputCommitment.toLowerCase()) {
    throw new OpgError("INPUT_MISMATCH", `the input given does not have result ${pending.id}'s input commitment`);
  }
  if (proven.outputCommitment.toLowerCase() === pending.claim.outputCommitment.toLowerCase()) throw new ResultCorrectError(pending.id);
  const signals = encodePublicSignals(proven.publicSignals);
  const receipt: TransactionReceipt = await onChain(async () => {
    const tx = await send(disputes, "challenge", pending.id, claimTuple(pending.claim), proven.outputCommitment, signals.slice(2, -1), encodeProofForEvm(proven.proof));
    const mined = (await tx.wait()) as TransactionReceipt | null;
    if (mined === null) throw new OpgError("TX_DROPPED", "the challenge transaction was dropped");
    return mined;
  });
  const event = receipt.logs
    .map((log) => (log.address.toLowerCase() === (disputes.target as string).toLowerCase() ? disputes.interface.parseLog(log) : null))
    .find((e) => e !== null && e.name === "ChallengeSucceeded");
  if (event === undefined || event === null) throw new OpgError("EVENT_MISSING", "ChallengeSucceeded was not emitted");
  const v = (name: string) => event.args.getValue(name) as bigint;
  return {
    id: pending.id,
    refuted: true,
    provenOutput: proven.outputCommitment,
    slashed: v("slashed"),
    reward: v("reward"),
    refund: v("refund"),
    remainder: v("remainder"),
    gasUsed: receipt.gasUsed,
    transactionHash: receipt.hash,
  };
}

/** One thing the watcher did or decided about a pending result. */
export type WatchEvent =
  | { readonly kind: "correct"; readonly id: Hex; readonly modelId: Hex }
  | { readonly kind: "challenged"; readonly id: Hex; readonly modelId: Hex; readonly report: ChallengeReport }
  | { readonly kind: "skipped"; readonly id: Hex; readonly modelId: Hex; readonly reason: string }
  | { readonly kind: "failed"; readonly id: Hex; readonly modelId: Hex; readonly error: Error };

export interface WatcherContext {
  readonly hub: Contract;
  /** The request book: its fulfilments are pending there (optional; without it only hub results are watched). */
  readonly book?: Contract;
  /** Bound to the challenger's signer. */
  readonly disputes: Contract;
  readonly models: ReadonlyMap<string, WatchedModel>;
  readonly inputs: InputSource;
  readonly log?: (line: string) => void;
}

function modelOf(ctx: WatcherContext, modelId: string): WatchedModel | undefined {
  return ctx.models.get(modelId.toLowerCase()) ?? ctx.models.get(modelId);
}

/** Re-checks one pending result and challenges it if it is wrong. */
export async function processClaim(ctx: WatcherContext, pending: PendingClaim): Promise<WatchEvent> {
  const { id, claim } = pending;
  const base = { id, modelId: claim.modelId };
  const model = modelOf(ctx, claim.modelId);
  if (model === undefined) return { kind: "skipped", ...base, reason: "no circuit for this model" };
  try {
    const at = pending.source === "requests" && ctx.book !== undefined ? ctx.book : ctx.hub;
    const [status] = (await at.getFunction("statusOf")(id)) as [bigint, bigint, boolean];
    if (Number(status) !== ResultStatus.Pending) return { kind: "skipped", ...base, reason: `no longer pending (status ${status})` };
    const input = await ctx.inputs(claim, id);
    if (input === undefined) return { kind: "skipped", ...base, reason: "input unknown to this watcher" };
    const verdict = await recheck(model.runner, claim, input);
    if (verdict.outcome === "input-mismatch") return { kind: "skipped", ...base, reason: "the input found does not match the commitment" };
    if (verdict.outcome === "correct") return { kind: "correct", ...base };
    ctx.log?.(`result ${id} of model ${claim.modelId} is wrong: challenging`);
    const report = await challengeResult(ctx.disputes, await model.prover(), pending, input);
    ctx.log?.(`result ${id} refuted: slashed ${report.slashed}, reward ${report.reward}, refund ${report.refund} (tx ${report.transactionHash})`);
    return { kind: "challenged", ...base, report };
  } catch (error) {
    const err = error instanceof Error ? error : new Error(String(error));
    ctx.log?.(`result ${id}: ${err.message}`);
    return { kind: "failed", ...base, error: err };
  }
}

/** Processes every result that became pending in blocks [fromBlock, toBlock]. */
export async function scanBlocks(ctx: WatcherContext, fromBlock: number, toBlock: number): Promise<WatchEvent[]> {
  const events: WatchEvent[] = [];
  const pending = await pendingClaims(ctx.hub, fromBlock, toBlock);
  if (ctx.book !== undefined) {
    pending.push(...(await pendingFulfilments(ctx.book, fromBlock, toBlock)));
    pending.sort((a, b) => a.blockNumber - b.blockNumber);
  }
  for (const claim of pending) events.push(await processClaim(ctx, claim));
  return events;
}

export interface WatchOptions {
  readonly fromBlock: number;
  readonly pollMs?: number;
  readonly signal?: AbortSignal;
  readonly onEvent?: (event: WatchEvent) => void;
}

/** Follows the chain until `signal` aborts, processing each new block range once. */
export async function watch(ctx: WatcherContext, options: WatchOptions): Promise<void> {
  const provider = ctx.hub.runner?.provider;
  if (provider === null || provider === undefined) throw new OpgError("NO_PROVIDER", "the hub contract has no provider");
  let next = options.fromBlock;
  while (options.signal?.aborted !== true) {
    const head = await provider.getBlockNumber();
    if (head >= next) {
      for (const event of await scanBlocks(ctx, next, head)) options.onEvent?.(event);
      next = head + 1;
    }
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, options.pollMs ?? 1000);
      options.signal?.addEventListener("abort", () => {
        clearTimeout(timer);
        resolve();
      }, { once: true });
    });
  }
}
