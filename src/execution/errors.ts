import { OpgError } from "../errors.ts";

type ErrorOptions = { cause?: unknown; details?: Record<string, unknown> };

export type ExecutionErrorCode =
  /** The folder holds neither an `opg zk build` nor an ONNX model. */
  | "EXECUTION_MODEL_UNREADABLE"
  /** The input has the wrong number of values, is not finite or is outside the model's input range. */
  | "EXECUTION_INPUT_INVALID"
  /** The runtime failed (onnxruntime error, a value outside the circuit's ranges). */
  | "EXECUTION_FAILED";

/** A model cannot be loaded or run on an input. */
export class ExecutionError extends OpgError {
  override readonly name = "ExecutionError";
  declare readonly code: ExecutionErrorCode;
  constructor(code: ExecutionErrorCode, message: string, options: ErrorOptions = {}) {
    super(code, message, options);
  }
}
