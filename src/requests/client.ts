/**
 * Requester side of inference requests: estimate, request, wait for the fulfilment, cancel, sign an
 * off-chain authorization — and `infer`, which does the whole round trip. Plain ethers contracts
 * (src/settlement connect()); every revert is a ContractRevertError naming the custom error.
 */
import type { Contract, Log, Signer, TransactionReceipt } from "ethers";
import { commitQuantized, type Commitment } from "../commitments/index.ts";
import { InvalidInputError, OpgError } from "../errors.ts";
import { checkBytes32, type Hex } from "../receipts/receipt.ts";
import { Tier } from "../receipts/tier.ts";
import { mined } from "../settlement/client.ts";
import { send } from "../settlement/transactions.ts";
import type { Contracts } from "../settlement/deployment.ts";
import { onChain } from "../settlement/errors.ts";
import { dequantize, quantizeValue } from "../zkml/quantize.ts";
import {
  AUTHORIZATION_TYPES,
  authorizationValue,
  bookDomain,
  buildRequestParams,
  encodeRequestInput,
  paramsArg,
  requestIdOf,
  unpackStepTiers,
  type RequestParams,
  type RequestStatus,
} from "./types.ts";

/** The deployment has no RequestBook (deployed before requests existed). */
export class NoRequestBookError extends OpgError {
  override readonly name = "NoRequestBookError";
  constructor() {
    super("NO_REQUEST_BOOK", "this deployment has no RequestBook: redeploy with the current Ignition module");
  }
}

/** The request was not fulfilled before the timeout (it stays open; cancel it after its deadline). */
export class RequestTimeoutError extends OpgError {
  override readonly name = "RequestTimeoutError";
  constructor(requestId: string, timeoutMs: number) {
    super("REQUEST_TIMEOUT", `request ${requestId} was not fulfilled within ${Math.round(timeoutMs / 1000)} s`, { details: { requestId } });
  }
}

export function bookOf(c: Contracts): Contract {
  if (c.requests === undefined) throw new NoRequestBookError();
  return c.requests;
}

/** What a request transaction did. */
export interface Requested {
  readonly requestId: Hex;
  readonly params: RequestParams;
  readonly requester: string;
  readonly gasUsed: bigint;
  readonly transactionHash: string;
  readonly blockNumber: number;
}

/** Sends `request(params, input, uri)` from the book's signer. Give the quantized input values or a URI. */
export async function submitRequest(book: Contract, requester: Signer, params: RequestParams, input: { values: readonly bigint[] } | { uri: string }): Promise<Requested> {
  const bytes = "values" in input ? encodeRequestInput(input.values) : "0x";
  const uri = "uri" in input ? input.uri : "";
  const connected = book.connect(requester) as Contract;
  const receipt = await onChain(() => mined(send(connected, "request", paramsArg(params), bytes, uri)));
  const { chainId } = (await requester.provider!.getNetwork());
  const address = await requester.getAddress();
  const requestId = requestIdOf(chainId, book.target as string, address, params);
  return { requestId, params, requester: address, gasUsed: receipt.gasUsed, transactionHash: receipt.hash, blockNumber: receipt.blockNumber };
}

/** What the book announced when a request was fulfilled. */
export interface Fulfilment {
  readonly requestId: Hex;
  readonly operator: string;
  readonly requester: string;
  readonly stepTiers: readonly Tier[];
  readonly outputCommitment: Hex;
  readonly fee: bigint;
  /** The final model's quantized outputs, verified on-chain. */
  readonly outputs: readonly bigint[];
  readonly transactionHash: string;
  readonly blockNumber: number;
  /** True when the request's callback ran without reverting; false when it failed; undefined without a callback. */
  readonly callback: boolean | undefined;
}

function parseFulfilment(book: Contract, logs: readonly Log[], requestId: string, steps: number): Fulfilment | undefined {
  const address = (book.target as string).toLowerCase();
  let found: Fulfilment | undefined;
  let callback: boolean | undefined;
  for (const log of logs) {
    if (log.address.toLowerCase() !== address) continue;
    const parsed = book.interface.parseLog(log);
    if (parsed === null || parsed.args.getValue("requestId") !== requestId) continue;
    if (parsed.name === "CallbackDelivered") callback = true;
    if (parsed.name === "CallbackFailed") callback = false;
    if (parsed.name !== "InferenceFulfilled") continue;
    found = {
      requestId: requestId as Hex,
      operator: parsed.args.getValue("operator") as string,
      requester: parsed.args.getValue("requester") as string,
      stepTiers: unpackStepTiers(parsed.args.getValue("stepTiers") as bigint, steps),
      outputCommitment: parsed.args.getValue("outputCommitment") as Hex,
      fee: parsed.args.getValue("fee") as bigint,
      outputs: [...(parsed.args.getValue("outputs") as bigint[])],
      transactionHash: log.transactionHash,
      blockNumber: log.blockNumber,
      callback: undefined,
    };
  }
  return found === undefined ? undefined : { ...found, callback };
}

/** The fulfilment announced in a mined transaction (e.g. the operator's fulfil). */
export function fulfilmentIn(book: Contract, receipt: TransactionReceipt, requestId: string, steps: number): Fulfilment | undefined {
  return parseFulfilment(book, receipt.logs, requestId, steps);
}

/** Polls the book's events until `requestId` is fulfilled (or the timeout passes). */
export async function waitForFulfilment(
  book: Contract,
  requestId: string,
  options: { fromBlock: number; steps: number; timeoutMs?: number; pollMs?: number; signal?: AbortSignal },
): Promise<Fulfilment> {
  checkBytes32(requestId, "request id");
  const timeoutMs = options.timeoutMs ?? 120_000;
  const started = Date.now();
  const filter = book.filters["InferenceFulfilled"]!(requestId);
  for (;;) {
    const logs = await book.queryFilter(filter, options.fromBlock);
    const first = logs[0];
    if (first !== undefined) {
      const receipt = await book.runner!.provider!.getTransactionReceipt(first.transactionHash);
      const found = parseFulfilment(book, receipt?.logs ?? [first], requestId, options.steps);
      if (found !== undefined) return found;
    }
    if (options.signal?.aborted === true) throw new OpgError("ABORTED", "waiting for the fulfilment was aborted");
    if (Date.now() - started > timeoutMs) throw new RequestTimeoutError(requestId, timeoutMs);
    await new Promise((resolve) => setTimeout(resolve, options.pollMs ?? 500));
  }
}

/** The book's record of a request. */
export async function readRequest(book: Contract, requestId: string): Promise<{ status: RequestStatus; tier: Tier; outputCommitment: Hex }> {
  const [status, tier, outputCommitment] = (await book.getFunction("resultOf")(checkBytes32(requestId, "request id"))) as [bigint, bigint, string];
  return { status: Number(status) as RequestStatus, tier: Number(tier) as Tier, outputCommitment: outputCommitment as Hex };
}

/** Cancels an expired request of `requester` and returns the gas used. */
export async function cancelRequest(book: Contract, requester: Signer, params: RequestParams): Promise<bigint> {
  const connected = book.connect(requester) as Contract;
  const address = await requester.getAddress();
  const receipt = await onChain(() => mined(send(connected, "cancel", address, paramsArg(params))));
  return receipt.gasUsed;
}

/** The cheapest fee meeting the policy, per the book (reverts like a request for bad pipelines). */
export async function estimateFee(book: Contract, pipeline: readonly string[], minEachStep: Tier, minFinalStep: Tier): Promise<bigint> {
  return onChain(() => book.getFunction("estimateFee")([...pipeline], minEachStep, minFinalStep) as Promise<bigint>);
}

/** Signs an off-chain authorization letting `params.operator` settle exactly this inference. */
export async function signAuthorization(signer: Signer, chainId: bigint, book: string, params: RequestParams): Promise<Hex> {
  const requester = await signer.getAddress();
  return (await signer.signTypedData(bookDomain(chainId, book), AUTHORIZATION_TYPES, authorizationValue(requester, params))) as Hex;
}

/**
 * A request's input commitment: commitQuantized(quantized, scaleBits), the commitment every tier uses, so it
 * is the input commitment of the first step whatever its model and tier (a circuit's proofs carry it too).
 * Nothing but the values and the first model's scale is needed: no circuit build.
 */
export function requestInputCommitment(quantized: readonly bigint[], scaleBits: number): Promise<Commitment> {
  return commitQuantized(quantized, scaleBits);
}

/** Quantizes float values at `scaleBits` (round(x · 2^scaleBits), as the circuits do). */
export function quantizeValues(values: readonly number[], scaleBits: number): bigint[] {
  if (!Number.isInteger(scaleBits) || scaleBits < 0 || scaleBits > 64) throw new InvalidInputError(`scaleBits must be an integer in [0, 64], got ${scaleBits}`);
  return values.map((x, i) => {
    if (!Number.isFinite(x)) throw new InvalidInputError(`input[${i}] is not a finite number`);
    return quantizeValue(x, scaleBits);
  });
}

export interface InferOptions {
  /** Contracts bound to the requester's signer. */
  readonly contracts: Contracts;
  readonly requester: Signer;
  /** One model, or a pipeline of models (ids). */
  readonly model?: string;
  readonly pipeline?: readonly string[];
  /** Input values (floats) and the first model's fixed-point scale; or already quantized values. */
  readonly input:
    | { readonly values: readonly number[]; readonly scaleBits: number }
    | { readonly quantized: readonly bigint[]; readonly scaleBits: number };
  /** Every step at this tier (default signature), or an explicit policy. */
  readonly tier?: Exclude<Tier, 0>;
  readonly policy?: { readonly minEachStep: Exclude<Tier, 0>; readonly minFinalStep: Exclude<Tier, 0> };
  /** The most to pay (OPG wei); default: the book's estimate. */
  readonly maxFee?: bigint;
  /** Only this operator may serve it (default: any active operator). */
  readonly operator?: string;
  /** Seconds until the request expires (default 600). */
  readonly ttlSeconds?: number;
  readonly timeoutMs?: number;
  readonly nonce?: bigint;
  /** Scale of the final model's outputs, to decode them (default: the input's). */
  readonly outputScaleBits?: number;
  readonly onRequested?: (requested: Requested) => void;
  /**
   * Where the input is served (http(s)), as requestInputDocument of the quantized input: the request then
   * carries only this URI and the input commitment, which the operator checks the fetched input against.
   */
  readonly inputUri?: string;
}

export interface InferResult {
  readonly requestId: Hex;
  readonly tiers: readonly Tier[];
  /** Quantized outputs as verified on-chain. */
  readonly output: readonly bigint[];
  /** The same, decoded at the output scale. */
  readonly values: readonly number[];
  readonly fee: bigint;
  readonly operator: string;
  readonly gasUsed: { readonly request: bigint; readonly fulfil: bigint };
  readonly transactionHash: { readonly request: string; readonly fulfil: string };
}

/**
 * The whole round trip: commit to the input, estimate the fee, request (reserving the max fee), wait
 * for an operator to fulfil, and return the verified outputs. The requester needs escrow in the hub.
 */
export async function infer(options: InferOptions): Promise<InferResult> {
  const book = bookOf(options.contracts).connect(options.requester) as Contract;
  const pipeline = options.pipeline ?? (options.model === undefined ? [] : [options.model]);
  if (options.model !== undefined && options.pipeline !== undefined) throw new InvalidInputError("give a model or a pipeline, not both");
  const policy = options.policy ?? { minEachStep: options.tier ?? Tier.Signature, minFinalStep: options.tier ?? Tier.Signature };
  const { scaleBits } = options.input;
  const quantized = "quantized" in options.input ? [...options.input.quantized] : quantizeValues(options.input.values, scaleBits);
  if (quantized.length === 0) throw new InvalidInputError("the input has no values");
  const inputCommitment = await requestInputCommitment(quantized, scaleBits);
  const estimate = await estimateFee(book, pipeline, policy.minEachStep, policy.minFinalStep);
  const provider = options.requester.provider;
  if (provider === null) throw new InvalidInputError("the requester signer has no provider");
  const latest = await provider.getBlock("latest");
  const now = BigInt(latest?.timestamp ?? Math.floor(Date.now() / 1000));
  const params = buildRequestParams({
    pipeline,
    inputCommitment,
    minEachStep: policy.minEachStep,
    minFinalStep: policy.minFinalStep,
    ...(options.operator === undefined ? {} : { operator: options.operator }),
    maxFee: options.maxFee ?? estimate,
    deadline: now + BigInt(options.ttlSeconds ?? 600),
    nonce: options.nonce ?? BigInt(Date.now()) * 1_000_000n + BigInt(Math.floor(Math.random() * 1_000_000)),
  });
  const requested = await submitRequest(book, options.requester, params, options.inputUri === undefined ? { values: quantized } : { uri: options.inputUri });
  options.onRequested?.(requested);
  const fulfilment = await waitForFulfilment(book, requested.requestId, {
    fromBlock: requested.blockNumber,
    steps: pipeline.length,
    ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
  });
  const receipt = await provider.getTransactionReceipt(fulfilment.transactionHash);
  const outScale = options.outputScaleBits ?? scaleBits;
  return {
    requestId: requested.requestId,
    tiers: fulfilment.stepTiers,
    output: fulfilment.outputs,
    values: fulfilment.outputs.map((v) => dequantize(v, outScale)),
    fee: fulfilment.fee,
    operator: fulfilment.operator,
    gasUsed: { request: requested.gasUsed, fulfil: receipt?.gasUsed ?? 0n },
    transactionHash: { request: requested.transactionHash, fulfil: fulfilment.transactionHash },
  };
}
