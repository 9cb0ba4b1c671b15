/**
 * The commitments a model's circuit publishes, computed off-circuit (same values as the witness). Both are
 * the one commitment every tier uses, commitQuantized at the model's scale (packed at the system-wide
 * COMMITTED_VALUE_BITS): nothing about the circuit (its input width, its build) is needed to compute them,
 * and a ZK step's output commitment is the next step's input commitment.
 */
import { commitQuantized, type Commitment } from "../commitments/index.ts";
import type { QuantizedModel } from "./quantize.ts";

/** The circuit's public input commitment: commitQuantized(quantized input, model.scaleBits). */
export function commitModelInput(model: Pick<QuantizedModel, "scaleBits">, quantizedInput: readonly bigint[]): Promise<Commitment> {
  return commitQuantized(quantizedInput, model.scaleBits);
}

/** The circuit's public output commitment: commitQuantized(quantized output, model.scaleBits). */
export function commitModelOutput(model: Pick<QuantizedModel, "scaleBits">, quantizedOutput: readonly bigint[]): Promise<Commitment> {
  return commitQuantized(quantizedOutput, model.scaleBits);
}
