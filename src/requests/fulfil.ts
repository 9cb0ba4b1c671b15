/**
 * Operator side of inference requests, for the Signature and TEE tiers: sign a request's step
 * receipts and submit the fulfilment (ZK steps are built in src/pipeline/request.ts, which composes the
 * prover). Used by the operator node and by tests.
 */
import type { Contract, Signer } from "ethers";
import { commitQuantized } from "../commitments/index.ts";
import { InvalidInputError } from "../errors.ts";
import { outputDigestOf, signReceipt, type Hex, type TypedDataSigner } from "../receipts/receipt.ts";
import { Tier } from "../receipts/tier.ts";
import { mined } from "../settlement/client.ts";
import { send, sendWith } from "../settlement/transactions.ts";
import { onChain } from "../settlement/errors.ts";
import { fulfilmentIn, type Fulfilment } from "./client.ts";
import { bookDomain, paramsArg, requestIdOf, stepReceipt, type RequestParams, type RequestStepEvidence } from "./types.ts";

const NO_PROOF: readonly bigint[] = Array<bigint>(8).fill(0n);

/** Where a request lives and who serves it. */
export interface RequestContext {
  readonly chainId: bigint;
  readonly book: string;
  readonly requester: string;
  readonly params: RequestParams;
  /** The operator that gets paid. */
  readonly operator: string;
}

/**
 * Signature/TEE evidence for step `index`: commits to `outputs` at `scaleBits` and signs the step
 * receipt with `signer` (the operator's key, or its enclave key for TEE).
 */
export async function signedRequestStep(
  ctx: RequestContext,
  step: { index: number; inputCommitment: string; tier: typeof Tier.Signature | typeof Tier.TEE; outputs: readonly bigint[]; scaleBits: number; signer: TypedDataSigner & { getAddress(): Promise<string> } },
): Promise<RequestStepEvidence> {
  if (step.outputs.length === 0) throw new InvalidInputError("a step has at least one output value");
  const requestId = requestIdOf(ctx.chainId, ctx.book, ctx.requester, ctx.params);
  const outputCommitment = await commitQuantized(step.outputs, step.scaleBits);
  const outputDigest = outputDigestOf(step.outputs);
  const receipt = stepReceipt({ requestId, requester: ctx.requester, params: ctx.params, index: step.index, inputCommitment: step.inputCommitment, operator: ctx.operator, tier: step.tier, outputCommitment, outputDigest });
  const signature = await signReceipt(receipt, bookDomain(ctx.chainId, ctx.book), step.signer);
  return { tier: step.tier, outputCommitment: outputCommitment as Hex, outputDigest, signer: await step.signer.getAddress(), signature, proof: NO_PROOF, outputs: [] };
}

/** The evidence as the contract's tuple. */
export function evidenceArg(steps: readonly RequestStepEvidence[]) {
  return steps.map((e) => ({ ...e, proof: [...e.proof], outputs: [...e.outputs] }));
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
    mined(sendWith(connected, "fulfil", [ctx.requester, paramsArg(ctx.params), ctx.operator, evidenceArg(steps), [...outputs]], overrides)),
  );
  const requestId = requestIdOf(ctx.chainId, ctx.book, ctx.requester, ctx.params);
  const found = fulfilmentIn(book, receipt, requestId, ctx.params.pipeline.length);
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
  if (ctx.params.operator.toLowerCase() !== ctx.operator.toLowerCase()) throw new InvalidInputError("an authorization pays the operator it names");
  const connected = book.connect(sender) as Contract;
  const receipt = await onChain(() =>
    mined(send(connected, "fulfilAuthorized", ctx.requester, paramsArg(ctx.params), requesterSignature, evidenceArg(steps), [...outputs])),
  );
  const requestId = requestIdOf(ctx.chainId, ctx.book, ctx.requester, ctx.params);
  const found = fulfilmentIn(book, receipt, requestId, ctx.params.pipeline.length);
  if (found === undefined) throw new InvalidInputError("the fulfilment transaction emitted no InferenceFulfilled");
  return { ...found, gasUsed: receipt.gasUsed };
}
