/**
 * Operator side of batch fulfilment: several single-step ZK requests of one model fulfilled in one
 * `fulfilZkBatch` transaction, their proofs verified together on-chain (k + 3 pairings instead of 4k).
 * Build each request's evidence as for `fulfil` (src/pipeline provenRequestStep), check the batch
 * off-chain first (src/zkml verifyBatch / findInvalidProofs: the chain refuses a whole batch for one bad
 * proof), then submit.
 */
import type { Contract, Signer } from "ethers";
import { InvalidInputError } from "../errors.ts";
import type { Hex } from "../receipts/receipt.ts";
import { Tier } from "../receipts/tier.ts";
import { mined } from "../settlement/client.ts";
import { onChain } from "../settlement/errors.ts";
import { fulfilmentIn, type Fulfilment } from "./client.ts";
import { evidenceArg, type RequestContext } from "./fulfil.ts";
import { paramsArg, requestIdOf, type RequestStepEvidence } from "./types.ts";

/** One request of a batch: its context, its one ZK step and the delivered outputs. */
export interface BatchItem {
  readonly ctx: RequestContext;
  readonly steps: readonly RequestStepEvidence[];
  readonly outputs: readonly bigint[];
}

/** Checks what the contract checks before any gas is spent; returns the batch's model and operator. */
export function checkZkBatch(items: readonly BatchItem[]): { modelId: string; operator: string } {
  const first = items[0];
  if (first === undefined) throw new InvalidInputError("a batch holds at least one request");
  const modelId = first.ctx.params.pipeline[0];
  const operator = first.ctx.operator;
  if (modelId === undefined) throw new InvalidInputError("request 0 has an empty pipeline");
  const ids = new Map<string, number>();
  items.forEach((item, i) => {
    const { params } = item.ctx;
    if (params.pipeline.length !== 1 || item.steps.length !== 1 || item.steps[0]!.tier !== Tier.ZK) {
      throw new InvalidInputError(`request ${i} of the batch is not one step proven at the ZK tier`);
    }
    if (params.pipeline[0]!.toLowerCase() !== modelId.toLowerCase()) throw new InvalidInputError(`request ${i} is for another model than request 0: one batch, one model`);
    if (item.ctx.operator.toLowerCase() !== operator.toLowerCase()) throw new InvalidInputError(`request ${i} pays another operator than request 0: one batch, one operator`);
    const id = requestIdOf(item.ctx.chainId, item.ctx.book, item.ctx.requester, params);
    const seen = ids.get(id);
    if (seen !== undefined) throw new InvalidInputError(`requests ${seen} and ${i} of the batch are the same request`);
    ids.set(id, i);
  });
  return { modelId, operator };
}

/** The `batch` argument of fulfilZkBatch. */
export function zkBatchArg(items: readonly BatchItem[]) {
  return items.map((item) => ({ requester: item.ctx.requester, params: paramsArg(item.ctx.params), steps: evidenceArg(item.steps), outputs: [...item.outputs] }));
}

/** What one fulfilZkBatch transaction did. */
export interface ZkBatchResult {
  /** The requests it fulfilled, in batch order. */
  readonly fulfilments: Fulfilment[];
  /** The requests it skipped because another transaction had fulfilled them first. */
  readonly skipped: Hex[];
  readonly gasUsed: bigint;
}

/**
 * Submits `fulfilZkBatch` (anyone may send it; the items' operator is paid) and returns each fulfilled
 * request's fulfilment, the skipped ones (already fulfilled by another transaction) and the gas.
 */
export async function fulfilZkBatch(book: Contract, sender: Signer, items: readonly BatchItem[], overrides: { gasLimit?: bigint } = {}): Promise<ZkBatchResult> {
  const { modelId, operator } = checkZkBatch(items);
  const connected = book.connect(sender) as Contract;
  const receipt = await onChain(() => mined(connected.getFunction("fulfilZkBatch")(modelId, operator, zkBatchArg(items), { ...overrides })));
  const address = (book.target as string).toLowerCase();
  const skipped = receipt.logs
    .filter((log) => log.address.toLowerCase() === address)
    .map((log) => book.interface.parseLog(log))
    .filter((parsed) => parsed?.name === "ZkBatchRequestSkipped")
    .map((parsed) => parsed!.args.getValue("requestId") as Hex);
  const fulfilments: Fulfilment[] = [];
  for (const item of items) {
    const requestId = requestIdOf(item.ctx.chainId, item.ctx.book, item.ctx.requester, item.ctx.params);
    if (skipped.includes(requestId)) continue;
    const found = fulfilmentIn(book, receipt, requestId, 1);
    if (found === undefined) throw new InvalidInputError(`the batch transaction emitted no InferenceFulfilled for request ${requestId}`);
    fulfilments.push(found);
  }
  return { fulfilments, skipped, gasUsed: receipt.gasUsed };
}
