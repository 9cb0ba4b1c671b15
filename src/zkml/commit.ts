/**
 * The commitments a model's circuit publishes, computed off-circuit (same values as the witness):
 *   input   commitPacked(quantized input, s, inputBits)  packed at the width the circuit range-checks
 *   output  commitQuantized(quantized output, s)
 */
import { commitPacked, commitQuantized, type Commitment } from "../commitments/index.ts";
import type { QuantizedModel } from "./quantize.ts";

/** The circuit's public input commitment for a quantized input (values must be in the model's input range). */
export function commitModelInput(model: Pick<QuantizedModel, "scaleBits" | "inputBits">, quantizedInput: readonly bigint[]): Promise<Commitment> {
  return commitPacked(quantizedInput, model.scaleBits, model.inputBits);
}

/** The circuit's public output commitment. */
export function commitModelOutput(model: Pick<QuantizedModel, "scaleBits">, quantizedOutput: readonly bigint[]): Promise<Commitment> {
  return commitQuantized(quantizedOutput, model.scaleBits);
}
