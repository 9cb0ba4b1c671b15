/**
 * Size limits of the ZK tier, checked before anything is allocated: an ONNX file of a few bytes can
 * declare a tensor of billions of values, and constant folding can square a small model's size.
 *
 * - At import (onnx.ts): every declared or inferred tensor size, every folded constant and every dense
 *   matrix is checked against the caps below, so a refusal costs nothing.
 * - Before generating circom (build.ts): a lower bound of the constraint count is compared with what the
 *   powers of tau can hold (2^power > constraints + public signals), so a circuit that cannot be set up is
 *   refused in one line instead of after minutes of compilation.
 */
import { CircuitBuildError, OnnxImportError } from "./errors.ts";
import { COMMITTED_VALUE_BITS, packingFactor } from "../commitments/index.ts";
import type { QuantizedModel } from "./quantize.ts";

/** Values in one variable tensor (the input, an activation): a circuit wire each. */
export const MAX_ACTIVATION_ELEMENTS = 1 << 20;

/** Values in one constant tensor (initializer, Constant, folded constant). */
export const MAX_CONSTANT_ELEMENTS = 1 << 22;

/** Entries of one dense matrix (outputs × inputs). Weights are circuit constants, so they cost memory, not constraints. */
export const MAX_LINEAR_WEIGHTS = 1 << 22;

/** Multiply-adds spent folding one constant product at import. */
export const MAX_FOLD_OPERATIONS = 1 << 26;

/** Largest magnitude of a model constant: beyond it no fixed-point scale keeps values in the field. */
export const MAX_CONSTANT_MAGNITUDE = 2 ** 100;

/** Largest powers of tau any ceremony provides (the Hermez/Perpetual Powers of Tau go to 2^28). */
export const MAX_PTAU_POWER = 28;

/** Commitment rate: elements absorbed per Poseidon call (commitments/index.ts). */
const RATE = 15;

/** circomlib's partial round counts, by t − 2 (t = inputs + 1). */
const POSEIDON_PARTIAL_ROUNDS = [56, 57, 56, 60, 60, 63, 64, 63, 60, 66, 60, 65, 70, 60, 64, 68];

/** Constraints of circomlib's Poseidon(inputs): an x^5 S-box (3 constraints) per state element in the 8 full rounds, one per partial round. */
function poseidonConstraints(inputs: number): number {
  const t = inputs + 1;
  return 3 * (8 * t + (POSEIDON_PARTIAL_ROUNDS[t - 2] ?? 0));
}

/**
 * Constraints of CommitQuantized(n): one Poseidon(1 + chunk) per chunk of up to 15 values, less the
 * first-round S-boxes the compiler folds (the zero capacity element, and the constant domain tag in the
 * first chunk).
 */
function commitmentConstraints(n: number): number {
  const full = Math.floor(n / RATE);
  const rest = n % RATE;
  const chunks = full + (rest > 0 ? 1 : 0);
  return full * poseidonConstraints(RATE + 1) + (rest > 0 ? poseidonConstraints(rest + 1) : 0) - 3 * chunks - 3;
}

function formatCount(n: number): string {
  return Number.isFinite(n) && n < 1e15 ? n.toLocaleString("en-US") : n.toExponential(2);
}

/**
 * The number of values of `shape`, refusing negative, fractional or unsafe dimensions and sizes above
 * `limit`, without allocating. `what` names the tensor in the error ("input \"x\"", "tensor \"W\"").
 */
export function checkedSize(shape: readonly number[], what: string, limit: number): number {
  let size = 1;
  for (const d of shape) {
    if (!Number.isSafeInteger(d) || d < 0) {
      throw new OnnxImportError(`${what} has an invalid dimension ${d} in shape [${shape.join(",")}]`);
    }
    size *= d;
  }
  if (size > limit) {
    throw new OnnxImportError(
      `${what} has shape [${shape.join(",")}] (${formatCount(size)} values), more than the ${formatCount(limit)} the ZK tier supports`,
    );
  }
  return size;
}

/** Refuses a dense matrix or a constant fold larger than the caps (sizes as plain numbers, unallocated). */
export function checkWork(amount: number, what: string, limit: number): void {
  if (!(amount <= limit)) {
    throw new OnnxImportError(`${what} needs ${formatCount(amount)} entries or operations, more than the ${formatCount(limit)} the ZK tier supports`);
  }
}

/** Refuses a non-finite or absurdly large constant value (named by tensor and index). */
export function checkConstantValues(data: ArrayLike<number>, what: string): void {
  for (let i = 0; i < data.length; i++) {
    const v = data[i]!;
    if (!Number.isFinite(v)) throw new OnnxImportError(`${what} holds a non-finite value (${v}) at index ${i}`);
    if (Math.abs(v) > MAX_CONSTANT_MAGNITUDE) {
      throw new OnnxImportError(`${what} holds ${v} at index ${i}, beyond the largest supported magnitude 2^100`);
    }
  }
}

/**
 * A lower bound of the circuit's constraint count (the compiler may add more, never fewer): the input's
 * range checks and its commitment (commitQuantized: ⌊253 / 36⌋ = 7 values per hashed element), the output
 * commitment (the same, plus 36-bit range checks when the outputs' proven range is wider), each dense or sparse (Conv, AveragePool, BatchNormalization) output's rescale (remainder and
 * quotient range checks), each ReLU and each MaxPool comparison (a range check of the difference). Gather
 * and additions are wiring or linear; layer kinds it does not know count zero, so the bound stays a bound.
 */
export function estimateConstraints(model: QuantizedModel): number {
  const perElement = packingFactor(COMMITTED_VALUE_BITS);
  const outputChecks = model.outputBits > COMMITTED_VALUE_BITS ? model.output.size * COMMITTED_VALUE_BITS : 0;
  let total =
    model.input.size * model.inputBits +
    commitmentConstraints(Math.ceil(model.input.size / perElement)) +
    outputChecks +
    commitmentConstraints(Math.ceil(model.output.size / perElement)) +
    1;
  for (const layer of model.layers) {
    const l = layer as { kind: string; size?: number; bits?: readonly number[]; windowStart?: readonly number[] };
    if ((l.kind === "dense" || l.kind === "sparse") && l.bits !== undefined) total += l.bits.reduce((sum, b) => sum + b + model.scaleBits, 0);
    else if (l.kind === "relu") total += l.bits === undefined ? (l.size ?? 0) : l.bits.reduce((sum, b) => sum + b + 1, 0);
    else if (l.kind === "maxPool" && l.bits !== undefined && l.windowStart !== undefined) {
      // Window j compares (length − 1) times, each a B[j]-bit range check and one multiplication.
      const starts = l.windowStart;
      l.bits.forEach((b, j) => {
        total += Math.max(0, (starts[j + 1] ?? 0) - (starts[j] ?? 0) - 1) * (b + 1);
      });
    }
  }
  return total;
}

/**
 * Refuses, before any circom is generated, a model whose circuit cannot fit a ptau of `power`
 * (`source` says which: a given file, or the largest local development ptau).
 */
export function checkCircuitFits(model: QuantizedModel, power: number, source: string): number {
  const estimate = estimateConstraints(model);
  const publicSignals = model.output.size + 3;
  if (estimate + publicSignals >= 2 ** power) {
    const needed = Math.floor(Math.log2(estimate + publicSignals)) + 1;
    const hint = needed > MAX_PTAU_POWER ? "no ceremony is that large: make the model smaller" : `pass --ptau with a ceremony file of power ≥ ${needed}`;
    throw new CircuitBuildError(
      `the circuit needs at least ${formatCount(estimate)} constraints, more than ${source} (power ${power}) holds: ${hint}`,
      { details: { estimate, power, needed } },
    );
  }
  return estimate;
}
