/**
 * Operator side of inference requests, for the Signature and TEE tiers: sign a request's step
 * receipts and submit the fulfilment (ZK steps are built in src/pipeline/request.ts, which composes the
 * prover). Used by the operator node and by tests.
 */
import type { Contract, Signer } from "ethers";
import { commitQuantized, toField } from "../commitments/index.ts";
import { InvalidInputError } from "../errors.ts";
import { outputDigestOf, signReceipt, type Hex, type Receipt, type TypedDataSigner } from "../receipts/receipt.ts";
import { Tier } from "../receipts/tier.ts";
import { mined } from "../settlement/client.ts";
import { sendWith } from "../settlement/transactions.ts";
import { onChain } from "../settlement/errors.ts";
import { fulfilmentIn, type Fulfilment } from "./client.ts";
import { ZERO_ADDRESS, bookDomain, paramsArg, requestIdOf, stepReceipt, type RequestParams, type RequestStepEvidence } from "./types.ts";

const NO_PROOF: readonly bigint[] = Array<bigint>(8).fill(0n);

/** Where a request lives and who serves it. */
export interface RequestContext {
  readonly chainId: bigint;
  readonly book: string;
  readonly requester: string;
  readonly params: RequestParams;
  /** The operator that gets paid. */
  readonly operator: string;
  /** The request's id when already known (else computed from the fields above). */
  readonly requestId?: string;
}

/** What one step of a request published: its tier, the commitments it chains and its quantized outputs. */
export interface RequestStepResult {
  readonly index: number;
  readonly tier: Exclude<Tier, 0>;
  /** The previous step's output commitment (the request's input commitment for step 0). */
  readonly inputCommitment: string;
  readonly outputCommitment: string;
  /** Quantized outputs (signed integers). */
  readonly outputs: readonly bigint[];
}

function requestIdIn(ctx: RequestContext): string {
  return ctx.requestId ?? requestIdOf(ctx.chainId, ctx.book, ctx.requester, ctx.params);
}

/** The receipt a Signature/TEE step of the request is signed as (the book rebuilds exactly this). */
export function requestStepReceipt(ctx: RequestContext, step: RequestStepResult): Receipt {
  return stepReceipt({
    requestId: requestIdIn(ctx),
    requester: ctx.requester,
    params: ctx.params,
    index: step.index,
    inputCommitment: step.inputCommitment,
    operator: ctx.operator,
    tier: step.tier,
    outputCommitment: step.outputCommitment,
    outputDigest: outputDigestOf(step.outputs),
  });
}

/** Signs a Signature/TEE step's receipt under the book's EIP-712 domain (operator key, or enclave key for TEE). */
export function signRequestStep(ctx: RequestContext, step: RequestStepResult, signer: TypedDataSigner): Promise<Hex> {
  return signReceipt(requestStepReceipt(ctx, step), bookDomain(ctx.chainId, ctx.book), signer);
}

/**
 * A step's evidence as the book checks it: for a ZK step the proof (EVM order) and its public outputs
 * as field elements; for a signed step the signer and signature (no proof, no public outputs).
 */
export function requestStepEvidence(
  step: Pick<RequestStepResult, "tier" | "outputCommitment" | "outputs"> & { signer?: string; signature?: string; proof?: readonly bigint[] },
): RequestStepEvidence {
  const zk = step.tier === Tier.ZK;
  return {
    tier: step.tier,
    outputCommitment: step.outputCommitment as Hex,
    outputDigest: outputDigestOf(step.outputs),
    signer: zk ? ZERO_ADDRESS : (step.signer ?? ZERO_ADDRESS),
    signature: zk ? "0x" : (step.signature ?? "0x"),
    proof: zk ? [...(step.proof ?? NO_PROOF)] : NO_PROOF,
    outputs: zk ? step.outputs.map(toField) : [],
  };
}

/**
 * Signature/TEE evidence for step `index`: commits to `outputs` at `scaleBits` (unless the step
 * publishes `outputCommitment`, e.g. the next circuit's packed input commitment) and signs the step
 * receipt with `signer` (the operator's key, or its enclave key for TEE).
 */
export async function signedRequestStep(
  ctx: RequestContext,
  step: {
    index: number;
    inputCommitment: string;
    tier: typeof Tier.Signature | typeof Tier.TEE;
    outputs: readonly bigint[];
    scaleBits: number;
    outputCommitment?: string;
    signer: TypedDataSigner & { getAddress(): Promise<string> };
  },
): Promise<RequestStepEvidence> {
  if (step.outputs.length === 0) throw new InvalidInputError("a step has at least one output value");
  const outputCommitment = step.outputCommitment ?? (await commitQuantized(step.outputs, step.scaleBits));
  const result: RequestStepResult = { index: step.index, tier: step.tier, inputCommitment: step.inputCommitment, outputCommitment, outputs: step.outputs };
  const signature = await signRequestStep(ctx, result, step.signer);
  return requestStepEvidence({ ...result, signer: await step.signer.getAddress(), signature });
}

/** The evidence as the contract's tuple. */
export function evidenceArg(steps: readonly RequestStepEvidence[]) {
  return steps.map((e) => ({ ...e, proof: [...e.proof], outputs: [...e.outputs] }));
}

/** `fulfil`'s arguments: the request, the paid operator, every step's evidence and the final step's outputs. */
export function fulfilArgs(ctx: RequestContext, steps: readonly RequestStepEvidence[], outputs: readonly bigint[]) {
  return [ctx.requester, paramsArg(ctx.params), ctx.operator, evidenceArg(steps), [...outputs]] as const;
}

/** `fulfilAuthorized`'s arguments (the operator is the one the authorization names). */
export function fulfilAuthorizedArgs(ctx: RequestContext, requesterSignature: string, steps: readonly RequestStepEvidence[], outputs: readonly bigint[]) {
  if (ctx.params.operator.toLowerCase() !== ctx.operator.toLowerCase()) throw new InvalidInputError("an authorization pays the operator it names");
  return [ctx.requester, paramsArg(ctx.params), requesterSignature, evidenceArg(steps), [...outputs]] as const;
}

/** Submits `fulfil` (anyone may send it; `ctx.operator` is paid). */
export async function fulfilRequest(
  book: Contract,
  sender: Signer,
  ctx: RequestContext,
  steps: readonly RequestStepEvidence[],
  outputs: readonly bigint[],
  overrides: { gasLimit?: bigint } = {},
): Promise<Fulfilment & { gasUsed: bigint }> {
  const connected = book.connect(sender) as Contract;
  const receipt = await onChain(() =>
    mined(sendWith(connected, "fulfil", fulfilArgs(ctx, steps, outputs), overrides)),
  );
  const found = fulfilmentIn(book, receipt, requestIdIn(ctx), ctx.params.pipeline.length);
  if (found === undefined) throw new InvalidInputError("the fulfilment transaction emitted no InferenceFulfilled");
  return { ...found, gasUsed: receipt.gasUsed };
}

/** Submits `fulfilAuthorized` for an off-chain authorization signed by the requester. */
export async function fulfilAuthorizedRequest(
  book: Contract,
  sender: Signer,
  ctx: RequestContext,
  requesterSignature: string,
  steps: readonly RequestStepEvidence[],
  outputs: readonly bigint[],
): Promise<Fulfilment & { gasUsed: bigint }> {
  const args = fulfilAuthorizedArgs(ctx, requesterSignature, steps, outputs);
  const connected = book.connect(sender) as Contract;
  const receipt = await onChain(() => mined(sendWith(connected, "fulfilAuthorized", args, {})));
  const found = fulfilmentIn(book, receipt, requestIdIn(ctx), ctx.params.pipeline.length);
  if (found === undefined) throw new InvalidInputError("the fulfilment transaction emitted no InferenceFulfilled");
  return { ...found, gasUsed: receipt.gasUsed };
}
