/** Shared by the hybrid-operation tests: an operation builder on a deployed system, and submitOperation's arguments. */
import type { Commitment } from "../../src/commitments/index.ts";
import { OperationBuilder, type Operation } from "../../src/pipeline/index.ts";
import type { Tier } from "../../src/receipts/tier.ts";
import type { System } from "./actors.ts";
import { OPG } from "./system.ts";

/** A builder for the requester's operation `nonce` on `s`'s hub, valid for an hour. */
export async function operationBuilder(s: System, nonce: bigint, inputCommitment: Commitment): Promise<OperationBuilder> {
  const { chainId } = await s.ethers.provider.getNetwork();
  const now = BigInt(await s.networkHelpers.time.latest());
  return new OperationBuilder({ chainId, hub: await s.hub.getAddress(), requester: s.requester.address, nonce, deadline: now + 3600n, inputCommitment });
}

/** submitOperation(steps, evidence, request) arguments for `operation` under `policy`. */
export function operationArgs(operation: Operation, policy: { minEach: Tier; minFinal: Tier }, maxFee = 10_000n * OPG) {
  return [
    operation.steps.map((r) => ({ ...r })),
    operation.evidence.map((e) => ({ signer: e.signer, signature: e.signature, proof: [...e.proof], outputs: [...e.outputs] })),
    { inputCommitment: operation.context.inputCommitment, minEachStep: policy.minEach, minFinalStep: policy.minFinal, maxFee },
  ] as const;
}
