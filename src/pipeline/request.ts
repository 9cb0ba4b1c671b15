/**
 * ZK steps of inference requests: proves a request step with the binding the RequestBook expects
 * (the step receipt id and the paid operator) and returns its evidence and output values.
 */
import { fromField } from "../commitments/index.ts";
import { Tier } from "../receipts/tier.ts";
import { requestStepEvidence, type RequestContext } from "../requests/fulfil.ts";
import { requestIdOf, stepBinding, type RequestStepEvidence } from "../requests/types.ts";
import { encodeProofForEvm, encodePublicSignals, prove, type ZkBuild, type ZkProofBundle } from "../zkml/index.ts";
import { ProofMismatchError } from "./zk.ts";

/**
 * Proves step `index` of a request on `input` (floats or nested arrays, as `prove` takes them) and
 * returns the evidence, the step's quantized outputs (signed integers) and the proof bundle.
 */
export async function provenRequestStep(
  ctx: RequestContext,
  step: { index: number; inputCommitment: string; build: ZkBuild | string; input: unknown },
): Promise<{ evidence: RequestStepEvidence; outputs: bigint[]; bundle: ZkProofBundle }> {
  const modelId = ctx.params.pipeline[step.index];
  if (modelId === undefined) throw new ProofMismatchError(`the request has no step ${step.index}`);
  const requestId = requestIdOf(ctx.chainId, ctx.book, ctx.requester, ctx.params);
  const binding = stepBinding(ctx.chainId, ctx.book, requestId, ctx.requester, modelId, ctx.operator);
  const bundle = await prove(step.build, step.input, { binding });
  if (bundle.inputCommitment !== step.inputCommitment.toLowerCase()) {
    throw new ProofMismatchError("the proven input is not the request's input", { proven: bundle.inputCommitment, requested: step.inputCommitment });
  }
  const signals = encodePublicSignals(bundle.publicSignals);
  const outputs = signals.slice(2, -1).map(fromField);
  const evidence = requestStepEvidence({ tier: Tier.ZK, outputCommitment: bundle.outputCommitment, outputs, proof: encodeProofForEvm(bundle.proof) });
  return { evidence, outputs, bundle };
}
