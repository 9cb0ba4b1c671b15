/**
 * The operator node: follows the request book, serves the requests it can (runs the pipeline with the
 * circuit's fixed-point semantics, produces the evidence each step's tier needs) and fulfils them, with
 * every step of a request's life in the store so a crash at any instant loses nothing and sends nothing
 * twice. See store.ts for the states, sender.ts for how a transaction is made crash-safe.
 */
import { formatUnits, type Provider, type Wallet } from "ethers";
import { ExecutionError, rescaleQuantized, type Execution } from "../execution/index.ts";
import { OpgError } from "../errors.ts";
import type { Hex } from "../receipts/receipt.ts";
import { Tier, tierName } from "../receipts/tier.ts";
import { ContractRevertError } from "../settlement/errors.ts";
import { encodeProofForEvm } from "../zkml/index.ts";
import { ZERO_ADDRESS } from "../requests/types.ts";
import { parseAuthorizedRequest } from "./authorization.ts";
import type { RequestInputContent } from "../requests/types.ts";
import type { InferenceRequest, RequestBook, StepEvidence, StepRun } from "./book.ts";
import { HttpError } from "./http.ts";
import { DEFAULT_INPUT_FETCH, InputFetchError, fetchRequestInput, printableUri, type InputFetchOptions } from "./inputs.ts";
import { NodeMetrics } from "./metrics.ts";
import type { ServedModel } from "./models.ts";
import { WorkQueue } from "./queue.ts";
import { TxSender, type SignedTx } from "./sender.ts";
import type { NodeStore, StoredRequest } from "./store.ts";

/** A request this node will not serve; reported once and never retried. */
export class UnservableRequestError extends OpgError {
  override readonly name = "UnservableRequestError";
  constructor(
    message: string,
    readonly outcome: "rejected" | "closed" = "rejected",
    options: { cause?: unknown } = {},
  ) {
    super("REQUEST_UNSERVABLE", message, options);
  }
}

export interface OperatorNodeOptions {
  readonly provider: Provider;
  /** The operator's key: signs signature-tier steps and sends the fulfilments. */
  readonly wallet: Wallet;
  /** A registered enclave key: enables the TEE tier. */
  readonly enclave?: Wallet | undefined;
  readonly book: RequestBook;
  readonly models: ReadonlyMap<Hex, ServedModel>;
  readonly store: NodeStore;
  /** A request is served once its block has this many confirmations (1 = mined). */
  readonly confirmations: number;
  /** Block to start from when the store is new (default: the current head). */
  readonly fromBlock?: number | undefined;
  readonly pollMs: number;
  readonly concurrency: number;
  readonly queueCapacity: number;
  /** Transient failures (RPC down) are retried this many times. */
  readonly maxAttempts?: number;
  readonly log: (line: string) => void;
  /** Limits for inputs given by URI (default DEFAULT_INPUT_FETCH: http(s) only, public hosts only). */
  readonly inputs?: InputFetchOptions | undefined;
}

/** What serving a request produced (also stored as its `result`). */
export interface ServedResult {
  readonly id: Hex;
  readonly steps: readonly { modelId: Hex; tier: string; inputCommitment: Hex; outputCommitment: Hex; output: string[]; signer: string; signature: Hex; proof: string[] }[];
  /** Final step's outputs, dequantized. */
  readonly output: number[];
  readonly fee: string;
}

const SCAN_CHUNK = 2_000;

/** A stored request: what was asked, and for an HTTP authorization the requester's signature. */
function serializePayload(request: InferenceRequest, authorization?: Hex): string {
  return JSON.stringify({ request, authorization }, (_, v: unknown) => (typeof v === "bigint" ? `${v}n` : v));
}

export function deserializePayload(payload: string): { request: InferenceRequest; authorization: Hex | undefined } {
  return JSON.parse(payload, (_, v: unknown) => (typeof v === "string" && /^-?\d+n$/.test(v) ? BigInt(v.slice(0, -1)) : v)) as {
    request: InferenceRequest;
    authorization: Hex | undefined;
  };
}

export class OperatorNode {
  readonly metrics: NodeMetrics;
  readonly queue: WorkQueue;
  readonly sender: TxSender;
  readonly #o: OperatorNodeOptions;
  #stopped = false;
  #timer: NodeJS.Timeout | undefined;
  #ticking: Promise<void> | undefined;
  readonly #settling = new Set<Promise<void>>();
  #head = 0;

  constructor(options: OperatorNodeOptions) {
    this.#o = options;
    this.queue = new WorkQueue(options.concurrency, options.queueCapacity);
    this.sender = new TxSender(options.wallet, options.provider);
    this.metrics = new NodeMetrics({ queueDepth: () => this.queue.depth, inFlight: () => this.queue.running });
  }

  get stopped(): boolean {
    return this.#stopped;
  }

  get head(): number {
    return this.#head;
  }

  #log(line: string): void {
    this.#o.log(line);
  }

  /** Recovers interrupted work, then follows the chain until stop(). */
  async start(): Promise<void> {
    const { store } = this.#o;
    // "running" means nothing was sent (a send is recorded as "submitted" first): serve it again.
    for (const row of store.byStatus("running")) {
      store.transition(row.id, ["running"], "seen");
      this.#log(`resuming ${row.id} (interrupted before any transaction)`);
    }
    for (const row of store.byStatus("submitted")) {
      this.#log(`resuming ${row.id}: checking its fulfilment ${row.txHash}`);
      this.#track(this.#settle(row));
    }
    if (store.lastBlock() === undefined) {
      const start = this.#o.fromBlock ?? (await this.#o.book.head());
      store.recordScan([], start - 1);
    }
    this.metrics.up.set(1);
    await this.#tick();
    this.#schedule();
  }

  #schedule(): void {
    if (this.#stopped) return;
    this.#timer = setTimeout(() => {
      this.#ticking = this.#tick().finally(() => {
        this.#ticking = undefined;
        this.#schedule();
      });
    }, this.#o.pollMs);
  }

  #track(work: Promise<void>): void {
    this.#settling.add(work);
    void work.finally(() => this.#settling.delete(work));
  }

  /** One poll: record new requests up to the confirmed head, then hand waiting ones to the workers. */
  async #tick(): Promise<void> {
    const { book, store } = this.#o;
    try {
      const head = await book.head();
      this.#head = head;
      const safe = head - Math.max(1, this.#o.confirmations) + 1;
      let from = (store.lastBlock() ?? safe) + 1;
      while (from <= safe && !this.#stopped) {
        const to = Math.min(safe, from + SCAN_CHUNK - 1);
        const found = (await book.scan(from, to)).filter((r) => r.params.operator === ZERO_ADDRESS || r.params.operator.toLowerCase() === book.operator.toLowerCase());
        const fresh = store.recordScan(
          found.map((r) => ({ id: r.id, source: "chain" as const, tier: r.params.minFinalStep, block: r.block, payload: serializePayload(r) })),
          to,
        );
        for (const r of fresh) this.#log(`request ${r.id} seen in block ${r.block} (min tier ${tierName(r.tier as Tier)})`);
        this.metrics.lastBlock.set(to);
        from = to + 1;
      }
    } catch (error) {
      this.#log(`chain poll failed: ${describe(error)}`);
    }
    this.#dispatch();
  }

  #dispatch(): void {
    if (this.#stopped) return;
    for (const row of this.#o.store.byStatus("seen")) {
      if (this.queue.has(row.id)) continue;
      if (!this.queue.hasRoom) break;
      this.queue.push(row.id, async () => {
        await this.#serveStored(row.id as Hex).catch(() => undefined);
      });
    }
  }

  /**
   * Serves a stored request: claims it (seen → running), runs it, sends the fulfilment (recorded as
   * submitted before broadcast) and hands it to settlement tracking. Resolves once the transaction is
   * broadcast, with what was served; rejects (after recording the outcome) when it is not served.
   */
  async #serveStored(id: Hex): Promise<{ result: ServedResult; transactionHash: string } | undefined> {
    const { store, book } = this.#o;
    const row = store.get(id);
    if (row === undefined || !store.transition(id, ["seen"], "running", { countAttempt: true })) return undefined;
    const { request, authorization } = deserializePayload(row.payload);
    const started = Date.now();
    let tier: Tier = request.params.minFinalStep;
    try {
      const steps = await this.run(request, authorization !== undefined);
      tier = steps.at(-1)!.tier;
      const result = this.#result(request, steps);
      if (this.#stopped) {
        store.transition(id, ["running"], "seen");
        throw new OpgError("NODE_STOPPING", "the node is shutting down");
      }
      const call = authorization === undefined ? book.fulfilCall(request, steps) : book.fulfilAuthorizedCall(request, authorization, steps);
      const signed = await this.sender.send(call, (tx) => {
        if (!store.transition(id, ["running"], "submitted", { txHash: tx.hash, rawTx: tx.raw, result: JSON.stringify(result) })) {
          throw new OpgError("STATE_LOST", `request ${id} left the running state`);
        }
      });
      this.#log(`request ${id}: fulfilment sent (${tierName(tier)}), tx ${signed.hash}`);
      this.#track(this.#settle(store.get(id)!, started));
      return { result, transactionHash: signed.hash };
    } catch (error) {
      const now = store.get(id);
      if (now?.status === "submitted") {
        // Recorded but the broadcast failed: settlement rebroadcasts it or finds it dropped and retries.
        this.#log(`request ${id}: broadcast failed (${describe(error)}); checking again`);
        this.#track(this.#settle(now, started));
      } else if (!(error instanceof OpgError && error.code === "NODE_STOPPING")) this.#fail(row, tier, error);
      throw error;
    }
  }

  /**
   * POST /v1/infer: a requester's EIP-712 authorization for this operator, and the input. Runs it now
   * (through the same bounded queue and store as chain requests) and answers with the outputs and the
   * evidence once the settlement transaction is sent.
   */
  async inferHttp(body: unknown): Promise<{ status: number; body: unknown }> {
    const { book, store, models } = this.#o;
    if (this.#stopped) throw new HttpError(503, "NODE_STOPPING", "the node is shutting down");
    const { request, authorization } = parseAuthorizedRequest(body, (modelId) => models.get(modelId)?.runner, book);
    if (request.params.operator.toLowerCase() !== book.operator.toLowerCase()) {
      throw new HttpError(403, "WRONG_OPERATOR", `the authorization names operator ${request.params.operator}, this node is ${book.operator}`);
    }
    let signer: string;
    try {
      signer = book.authorizationSigner(request, authorization);
    } catch (cause) {
      throw new HttpError(401, "BAD_AUTHORIZATION", "the authorization signature is malformed", { cause });
    }
    if (signer.toLowerCase() !== request.requester.toLowerCase() && (await this.#o.provider.getCode(request.requester)) === "0x") {
      throw new HttpError(401, "BAD_AUTHORIZATION", `the authorization is signed by ${signer}, not by the requester ${request.requester}`);
    }
    const known = store.get(request.id);
    if (known !== undefined) {
      return { status: 409, body: { error: { code: "DUPLICATE", message: `authorization ${request.id} was already received (${known.status})` }, requestId: request.id, status: known.status } };
    }
    if (!this.queue.hasRoom) throw new HttpError(503, "BUSY", "the node's queue is full; retry later");
    store.add({ id: request.id, source: "http", tier: request.params.minFinalStep, block: 0, payload: serializePayload(request, authorization) });
    const served = await new Promise<{ result: ServedResult; transactionHash: string } | undefined>((resolve, reject) => {
      const queued = this.queue.push(request.id, () => this.#serveStored(request.id).then(resolve, reject));
      if (!queued) reject(new HttpError(503, "BUSY", "the node's queue is full; retry later"));
    }).catch((error: unknown) => {
      if (error instanceof UnservableRequestError) throw new HttpError(422, "UNSERVABLE", error.message, { cause: error });
      if (error instanceof ContractRevertError) throw new HttpError(422, "REFUSED_ON_CHAIN", error.message, { cause: error });
      throw error;
    });
    if (served === undefined) throw new HttpError(409, "DUPLICATE", `authorization ${request.id} is already being served`);
    return { status: 200, body: { requestId: request.id, status: "submitted", transactionHash: served.transactionHash, ...served.result } };
  }

  #fail(row: StoredRequest, tier: Tier, error: unknown): void {
    const { store } = this.#o;
    const id = row.id;
    const label = { tier: tierName(tier) };
    if (error instanceof UnservableRequestError) {
      store.transition(id, ["running"], "rejected", { error: error.message });
      this.metrics.requests.inc({ ...label, outcome: error.outcome });
      this.#log(`request ${id} not served: ${error.message}`);
    } else if (error instanceof ContractRevertError) {
      store.transition(id, ["running"], "failed", { error: error.message });
      this.metrics.requests.inc({ ...label, outcome: "failed" });
      this.#log(`request ${id} failed: ${error.message}`);
    } else {
      const attempts = (store.get(id)?.attempts ?? row.attempts + 1);
      if (attempts >= (this.#o.maxAttempts ?? 3)) {
        store.transition(id, ["running"], "failed", { error: describe(error) });
        this.metrics.requests.inc({ ...label, outcome: "failed" });
        this.#log(`request ${id} failed after ${attempts} attempts: ${describe(error)}`);
      } else {
        store.transition(id, ["running"], "seen", { error: describe(error) });
        this.#log(`request ${id}: attempt ${attempts} failed (${describe(error)}), will retry`);
      }
    }
  }

  /** Waits for a submitted fulfilment and records its outcome. */
  async #settle(row: StoredRequest, started = Date.now()): Promise<void> {
    const { store, book } = this.#o;
    const id = row.id as Hex;
    const signed: SignedTx = { hash: row.txHash!, raw: row.rawTx! };
    const tier = row.tier;
    try {
      const state = await this.sender.wait(signed, this.#o.confirmations, Math.min(this.#o.pollMs, 250), () => this.#stopped);
      if (state.state === "pending") return; // shutting down: the next start resumes it
      if (state.state === "dropped") {
        const onChain = await book.state(id);
        if (onChain === "open") {
          store.transition(id, ["submitted"], "seen", { txHash: null, rawTx: null, error: state.reason });
          this.#log(`request ${id}: fulfilment ${signed.hash} was dropped (${state.reason}); serving it again`);
        } else {
          store.transition(id, ["submitted"], "failed", { error: `fulfilment dropped; request ${onChain}` });
          this.metrics.requests.inc({ tier: tierName(tier as Tier), outcome: "failed" });
        }
        return;
      }
      const outcome = state.receipt.status === 1 ? book.fulfilledIn(state.receipt, id) : { fulfilled: false, callback: undefined };
      const result = JSON.parse(store.get(id)?.result ?? "{}") as ServedResult & { tier?: string };
      const finalTier = result.steps?.at(-1)?.tier ?? tierName(tier as Tier);
      if (outcome.fulfilled) {
        store.transition(id, ["submitted"], "fulfilled", {
          result: JSON.stringify({ ...result, transactionHash: signed.hash, gasUsed: state.receipt.gasUsed.toString(), callback: outcome.callback ?? null }),
        });
        this.metrics.requests.inc({ tier: finalTier, outcome: "fulfilled" });
        this.metrics.serve.observe((Date.now() - started) / 1000, { tier: finalTier });
        this.#log(`request ${id} fulfilled at ${finalTier} tier in block ${state.receipt.blockNumber} (gas ${state.receipt.gasUsed}${outcome.callback === undefined ? "" : `, callback ${outcome.callback ? "ok" : "failed"}`})`);
      } else {
        store.transition(id, ["submitted"], "failed", { error: `fulfilment ${signed.hash} reverted` });
        this.metrics.requests.inc({ tier: finalTier, outcome: "failed" });
        this.#log(`request ${id}: fulfilment ${signed.hash} reverted`);
      }
    } catch (error) {
      // RPC trouble: leave it submitted; the next start (or the next settle) checks again.
      this.#log(`request ${id}: cannot check fulfilment ${signed.hash} (${describe(error)})`);
    }
  }

  #result(request: InferenceRequest, steps: readonly StepEvidence[]): ServedResult {
    const last = steps.at(-1)!;
    return {
      id: request.id,
      steps: steps.map((s) => ({
        modelId: s.modelId,
        tier: tierName(s.tier),
        inputCommitment: s.inputCommitment,
        outputCommitment: s.outputCommitment,
        output: s.output.map(String),
        signer: s.signer,
        signature: s.signature,
        proof: s.proof.map(String),
      })),
      output: last.output.map((v) => Number(v) / 2 ** last.scaleBits),
      fee: "0",
    };
  }

  /** Checks that the request can be served and plans each step's tier; throws UnservableRequestError. */
  async plan(request: InferenceRequest, authorized = false): Promise<{ tiers: Exclude<Tier, 0>[]; fee: bigint; input: bigint[] }> {
    const { book, models } = this.#o;
    if (request.params.pipeline.length === 0 || request.params.pipeline.length > 16) throw new UnservableRequestError(`a pipeline has 1 to 16 models, got ${request.params.pipeline.length}`);
    const state = await book.state(request.id);
    // An on-chain request must be open; an authorization is settled once, so it must be unknown to the book.
    if (authorized ? state !== "unknown" : state !== "open") throw new UnservableRequestError(`the request is ${authorized && state === "fulfilled" ? "already settled" : state}`, "closed");
    const now = await book.now();
    if (request.params.deadline <= now) throw new UnservableRequestError(`the request expired at ${request.params.deadline} (chain time ${now})`, "closed");
    const tiers: Exclude<Tier, 0>[] = [];
    let fee = 0n;
    for (const [i, modelId] of request.params.pipeline.entries()) {
      const served = models.get(modelId);
      if (served === undefined) throw new UnservableRequestError(`model ${modelId} is not served by this node`);
      const terms = await book.terms(modelId);
      if (terms === undefined) throw new UnservableRequestError(`model ${modelId} is not registered`);
      if (terms.deprecated) throw new UnservableRequestError(`model ${modelId} is deprecated`);
      const last = i === request.params.pipeline.length - 1;
      const min = Math.max(Tier.Signature, request.params.minEachStep, last ? request.params.minFinalStep : Tier.None) as Exclude<Tier, 0>;
      const available = ([Tier.Signature, Tier.TEE, Tier.ZK] as const).filter(
        (t) => t >= min && (terms.acceptedTiers >> t) & 1 && (t !== Tier.TEE || this.#o.enclave !== undefined) && (t !== Tier.ZK || served.canProve),
      );
      const tier = available[0];
      if (tier === undefined) {
        throw new UnservableRequestError(`model ${modelId}: no tier at or above ${tierName(min)} that both the model accepts and this node can produce`);
      }
      tiers.push(tier);
      fee += terms.prices[tier - 1]!;
    }
    if (fee > request.params.maxFee) throw new UnservableRequestError(`the max fee ${formatUnits(request.params.maxFee, 18)} OPG is below the price ${formatUnits(fee, 18)} OPG`);
    if (authorized) {
      // An authorization is paid from the escrow at settlement (nothing was reserved).
      const balance = await book.escrowOf(request.requester);
      if (balance < fee) throw new UnservableRequestError(`the requester's escrow (${formatUnits(balance, 18)} OPG) does not cover the price ${formatUnits(fee, 18)} OPG`);
    }
    const input = request.input === undefined ? await this.#fetchInput(request) : this.#decodeInput(request.input);
    return { tiers, fee, input };
  }

  #decodeInput(data: Hex): bigint[] {
    try {
      return this.#o.book.decodeInput(data);
    } catch (cause) {
      throw new UnservableRequestError(`the input cannot be decoded: ${describe(cause)}`, "rejected", { cause });
    }
  }

  /**
   * An input given by URI: fetched within the node's limits, then checked against the request's input
   * commitment (as the first model commits it) before anything runs on it. A permanent failure makes the
   * request unservable; a transient one is retried like any other (a bounded number of times).
   */
  async #fetchInput(request: InferenceRequest): Promise<bigint[]> {
    const uri = request.inputUri;
    if (uri === undefined) throw new UnservableRequestError("the request carries neither an input nor an input URI");
    const where = `the input at ${printableUri(uri)}`;
    let content: RequestInputContent;
    try {
      content = await fetchRequestInput(uri, this.#o.inputs ?? DEFAULT_INPUT_FETCH);
    } catch (cause) {
      if (cause instanceof InputFetchError && cause.permanent) throw new UnservableRequestError(`${where}: ${cause.message}`, "rejected", { cause });
      throw new OpgError("INPUT_FETCH_FAILED", `${where}: ${describe(cause)}`, { cause });
    }
    const first = this.#o.models.get(request.params.pipeline[0]!)!.runner;
    let values: bigint[];
    try {
      // Real values are quantized as the requester did: at the first model's scale.
      values = "quantized" in content ? content.quantized : first.quantizeInput(content.values);
    } catch (cause) {
      throw new UnservableRequestError(`${where}: ${describe(cause)}`, "rejected", { cause });
    }
    if (values.length !== first.inputSize) throw new UnservableRequestError(`${where} holds ${values.length} values; the first model takes ${first.inputSize}`);
    let commitment: string;
    try {
      commitment = await first.commitInput(values);
    } catch (cause) {
      throw new UnservableRequestError(`${where} cannot be committed as the first model's input: ${describe(cause)}`, "rejected", { cause });
    }
    if (commitment !== request.params.inputCommitment) {
      throw new UnservableRequestError(`${where} does not match the request's input commitment (${commitment} ≠ ${request.params.inputCommitment})`);
    }
    return values;
  }

  /**
   * Plans, runs every step and produces its evidence (no transaction). Step i's input is step i-1's
   * output (rescaled to the next model's fixed-point scale), and step i consumes exactly the commitment
   * step i-1 published: a signed step hands its output over in the next model's input commitment, a
   * proven step publishes its circuit's output commitment. With one commitment scheme for every vector
   * (commitQuantized) the two are the same whenever the models share a scale.
   */
  async run(request: InferenceRequest, authorized = false): Promise<StepEvidence[]> {
    const { tiers, input } = await this.plan(request, authorized);
    const { book, models } = this.#o;
    const pipeline = request.params.pipeline;
    const executions: Execution[] = [];
    for (const [index, modelId] of pipeline.entries()) {
      const runner = models.get(modelId)!.runner;
      const previous = executions[index - 1];
      const stepInput = previous === undefined ? input : rescaleQuantized(previous.output, previous.scaleBits, runner.scaleBits);
      const t0 = performance.now();
      try {
        executions.push(await runner.execute(stepInput));
      } catch (cause) {
        if (cause instanceof ExecutionError) throw new UnservableRequestError(`step ${index} (${modelId}): ${cause.message}`, "rejected", { cause });
        throw cause;
      }
      this.metrics.execution.observe((performance.now() - t0) / 1000);
      if (index === 0 && executions[0]!.inputCommitment !== request.params.inputCommitment) {
        throw new UnservableRequestError(`the input does not match its commitment (${executions[0]!.inputCommitment} ≠ ${request.params.inputCommitment})`);
      }
    }
    // The chain of commitments first, so a pipeline that cannot be proven is refused before any proof.
    const runs: StepRun[] = [];
    let inputCommitment = request.params.inputCommitment;
    for (const [index, modelId] of pipeline.entries()) {
      const tier = tiers[index]!;
      const execution = executions[index]!;
      const next = executions[index + 1];
      if (tier === Tier.ZK && execution.inputCommitment !== inputCommitment) {
        throw new UnservableRequestError(
          `step ${index} (${modelId}) cannot be proven: its circuit commits its input as ${execution.inputCommitment}, but step ${index - 1} published ${inputCommitment} (a proof commits its input at its own model's scale: the two models' scales differ)`,
        );
      }
      const outputCommitment = tier !== Tier.ZK && next !== undefined ? next.inputCommitment : execution.outputCommitment;
      runs.push({ index, modelId, tier, inputCommitment, outputCommitment, output: execution.output, scaleBits: execution.scaleBits });
      inputCommitment = outputCommitment;
    }
    const steps: StepEvidence[] = [];
    for (const run of runs) {
      const { index, modelId, tier } = run;
      if (tier === Tier.ZK) {
        this.#log(`request ${request.id}: proving step ${index} (model ${modelId})`);
        const prover = await models.get(modelId)!.prover();
        const p0 = performance.now();
        const proven = await prover.prove(executions[index]!.input, book.zkBinding(request, run));
        this.metrics.proving.observe((performance.now() - p0) / 1000);
        this.#log(`request ${request.id}: step ${index} proven in ${Math.round(performance.now() - p0)} ms (witness ${proven.timings.witness} ms, Groth16 ${proven.timings.prove} ms)`);
        if (proven.outputCommitment !== run.outputCommitment) throw new OpgError("NONDETERMINISTIC", `model ${modelId}: the proof's output differs from the execution`);
        steps.push({ ...run, signer: ZERO_ADDRESS, signature: "0x", proof: encodeProofForEvm(proven.proof) });
      } else {
        const signer = tier === Tier.TEE ? this.#o.enclave! : this.#o.wallet;
        steps.push({ ...run, signer: signer.address, signature: await book.signStep(request, run, signer), proof: Array<bigint>(8).fill(0n) });
      }
    }
    return steps;
  }

  /** Stops polling, lets running requests finish (their state is durable either way), closes nothing else. */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.metrics.up.set(0);
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    await this.#ticking;
    await this.queue.close();
    await Promise.all([...this.#settling]);
  }
}

export function describe(error: unknown): string {
  if (error instanceof Error) return error.message.split("\n")[0] ?? String(error);
  return String(error);
}
