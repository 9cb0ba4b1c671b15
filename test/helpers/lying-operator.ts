/**
 * TEST DOUBLE: an operator that signs a wrong output. It runs the model honestly (the node's
 * deterministic execution), then changes one output value by one unit before committing to it and
 * signing — the smallest lie, which only a recomputation catches. Test code only: nothing in the product
 * can be told to lie.
 */
import type { Signer, TypedDataDomain } from "ethers";
import { commitQuantized } from "../../src/commitments/index.ts";
import type { Execution, ModelRunner } from "../../src/execution/index.ts";
import { buildReceipt, outputDigestOf, signReceipt, type Receipt, type TypedDataSigner } from "../../src/receipts/index.ts";
import { Tier } from "../../src/receipts/tier.ts";

export interface SignedResult {
  readonly receipt: Receipt;
  readonly signature: string;
  readonly honest: Execution;
  /** The outputs the receipt commits to (equal to honest.output unless lying). */
  readonly claimed: readonly bigint[];
}

/** Runs `runner` on `input` and signs a receipt; with `lie`, for outputs off by one in their first value. */
export async function signResult(options: {
  runner: ModelRunner;
  input: readonly bigint[];
  modelId: string;
  requester: string;
  operator: Signer;
  domain: TypedDataDomain;
  nonce: bigint;
  deadline: bigint;
  lie: boolean;
  tier?: Exclude<Tier, 0>;
  /** The key that signs, when not the operator's own (its registered enclave key, for TEE). */
  signer?: TypedDataSigner;
}): Promise<SignedResult> {
  const honest = await options.runner.execute(options.input);
  const claimed = options.lie ? honest.output.map((v, i) => (i === 0 ? v + 1n : v)) : honest.output;
  const receipt = buildReceipt({
    modelId: options.modelId,
    inputCommitment: honest.inputCommitment,
    outputCommitment: options.lie ? await commitQuantized(claimed, honest.scaleBits) : honest.outputCommitment,
    outputDigest: outputDigestOf(claimed),
    requester: options.requester,
    operator: await options.operator.getAddress(),
    nonce: options.nonce,
    deadline: options.deadline,
    tier: options.tier ?? Tier.Signature,
  });
  return { receipt, signature: await signReceipt(receipt, options.domain, options.signer ?? options.operator), honest, claimed };
}
