/**
 * Errors of the ZK tier. Each is an OpgError with a stable code, so the CLI prints one readable line
 * and callers can branch on `code`.
 */
import { OpgError } from "../errors.ts";

type ErrorOptions = { cause?: unknown; details?: Record<string, unknown> };

/** The ONNX file cannot be decoded or its graph is malformed (missing tensors, bad shapes). */
export class OnnxImportError extends OpgError {
  override readonly name = "OnnxImportError";
  constructor(message: string, options: ErrorOptions = {}) {
    super("ONNX_IMPORT", message, options);
  }
}

/** The model declares an opset older than 7 (legacy broadcast semantics, no runtime supports it). */
export class UnsupportedOpsetError extends OpgError {
  override readonly name = "UnsupportedOpsetError";
  readonly opset: number;
  constructor(opset: number) {
    super("ONNX_OPSET", `ONNX opset ${opset} is not supported: re-export the model with opset 7 or newer`, {
      details: { opset },
    });
    this.opset = opset;
  }
}

/** A node uses an operator (or an attribute value) the circuit compiler does not implement. */
export class UnsupportedOpError extends OpgError {
  override readonly name = "UnsupportedOpError";
  readonly op: string;
  readonly node: string;
  constructor(op: string, node: string, reason?: string) {
    super(
      "ONNX_UNSUPPORTED_OP",
      `unsupported ONNX operator ${op} in node "${node}"${reason === undefined ? "" : `: ${reason}`}`,
      { details: { op, node } },
    );
    this.op = op;
    this.node = node;
  }
}

/** Quantized values would not fit the circuit's ranges (input out of the declared bound, scale too large). */
export class QuantizationError extends OpgError {
  override readonly name = "QuantizationError";
  constructor(message: string, options: ErrorOptions = {}) {
    super("ZK_QUANTIZATION", message, options);
  }
}

/** Compiling the circuit or running the trusted setup failed. */
export class CircuitBuildError extends OpgError {
  override readonly name = "CircuitBuildError";
  constructor(message: string, options: ErrorOptions = {}) {
    super("ZK_BUILD", message, options);
  }
}

/** A build directory is missing files or holds inconsistent ones. */
export class ZkArtifactError extends OpgError {
  override readonly name = "ZkArtifactError";
  constructor(message: string, options: ErrorOptions = {}) {
    super("ZK_ARTIFACT", message, options);
  }
}

/**
 * A verifying key (or zkey) anyone can forge proofs for: delta = gamma (no phase-2 contribution),
 * delta = −gamma, or gamma or delta at infinity.
 */
export class ForgeableKeyError extends OpgError {
  override readonly name = "ForgeableKeyError";
  constructor(where: string, reason = "delta = gamma (no phase-2 contribution)") {
    super("ZK_FORGEABLE_KEY", `${where}: verifying key has ${reason}, proofs for it can be forged`, { details: { reason } });
  }
}

/** Witness generation or proving failed (e.g. the input violates a circuit range). */
export class ZkProveError extends OpgError {
  override readonly name = "ZkProveError";
  constructor(message: string, options: ErrorOptions = {}) {
    super("ZK_PROVE", message, options);
  }
}

/** A proof file is malformed (verification failure is a `false` result, not this error). */
export class ZkProofFormatError extends OpgError {
  override readonly name = "ZkProofFormatError";
  constructor(message: string, options: ErrorOptions = {}) {
    super("ZK_PROOF_FORMAT", message, options);
  }
}
