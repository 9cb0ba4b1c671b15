/**
 * Fixed-point quantization and the quantized reference inference.
 *
 * Scale: a real x is represented by the integer round(x · 2^s), s = `scaleBits`, where round is
 * "half up" (Math.round: ties go towards +∞). Weights and activations use scale 2^s; biases use 2^(2s)
 * because they are added to products (scale 2^s · 2^s) before the rescale.
 *
 * Dense layer:  acc_j = Σ_i W_ji · x_i + b_j              (scale 2^2s, exact integers)
 *               y_j   = floor((acc_j + 2^(s-1)) / 2^s)     (scale 2^s, i.e. acc / 2^s rounded half up)
 * The circuit proves the division with a quotient and a remainder in [0, 2^s), and bounds the quotient
 * to `bits[j]` signed bits, which also yields its sign (used by a following Relu for one constraint).
 *
 * Ranges: the input is accepted in [-2^I, 2^I) (I = `inputIntBits`, i.e. |x_q| < 2^(s+I)), and every
 * tensor's interval is propagated through the graph with the actual weights, so each range check is as
 * narrow as the honest computation allows. The TypeScript inference below checks the same ranges, so it
 * accepts exactly the inputs the circuit accepts and produces the circuit's values bit for bit.
 */
import { COMMITTED_VALUE_BITS, SNARK_SCALAR_FIELD } from "../commitments/index.ts";
import { QuantizationError } from "./errors.ts";
import type { AddOp, FloatGraph } from "./onnx.ts";

/**
 * Default fixed-point scale: 2^-12 ≈ 2.4e-4 resolution. With it every non-conv fixture stays within
 * QUANTIZATION_TOLERANCE of onnxruntime (measured worst case: see test/zkml), while the 10k-parameter
 * MLP still fits a power-14 setup.
 */
export const DEFAULT_SCALE_BITS = 12;

/** Default input range: |x| < 2^6 = 64. Wider ranges only cost a few range-check bits per value. */
export const DEFAULT_INPUT_INT_BITS = 6;

/**
 * Documented accuracy of the default scale against the float model (onnxruntime):
 * |quantized − float| ≤ QUANTIZATION_TOLERANCE.absolute + QUANTIZATION_TOLERANCE.relative · |float|
 * for every output of the non-conv fixtures.
 */
export const QUANTIZATION_TOLERANCE = { absolute: 5e-3, relative: 1e-2 } as const;

/** Largest signed width of any intermediate value: keeps every integer far below p/2 (no wrap-around). */
const MAX_VALUE_BITS = 240;

export interface QuantizedDense {
  readonly kind: "dense";
  readonly node: string;
  readonly input: string;
  readonly output: string;
  readonly inSize: number;
  readonly outSize: number;
  /** Row-major [outSize][inSize], scale 2^s. */
  readonly weights: readonly bigint[];
  /** Scale 2^2s. */
  readonly bias: readonly bigint[];
  /** Signed width of each rescaled output: -2^(bits-1) ≤ y_j < 2^(bits-1). */
  readonly bits: readonly number[];
}

export interface QuantizedRelu {
  readonly kind: "relu";
  readonly node: string;
  readonly input: string;
  readonly output: string;
  readonly size: number;
  /**
   * Signed widths used to extract the sign of each input, or undefined when the input comes straight
   * from a dense layer, whose quotient range check already provides the sign.
   */
  readonly bits: readonly number[] | undefined;
}

/** An Add of two tensors carries no constants, so quantization leaves it as it is. */
export type QuantizedAdd = AddOp;

export interface QuantizedAddConst {
  readonly kind: "addConst";
  readonly node: string;
  readonly input: string;
  readonly output: string;
  readonly index: readonly number[];
  /** Scale 2^s. */
  readonly constant: readonly bigint[];
}

/** Conv, average pooling, unfolded BatchNormalization: a dense layer stored row by row (CSR). */
export interface QuantizedSparse {
  readonly kind: "sparse";
  readonly node: string;
  readonly input: string;
  readonly output: string;
  readonly inSize: number;
  readonly outSize: number;
  readonly rowStart: readonly number[];
  readonly cols: readonly number[];
  /** Scale 2^s, one per nonzero. */
  readonly weights: readonly bigint[];
  /** Scale 2^2s. */
  readonly bias: readonly bigint[];
  /** Signed width of each rescaled output. */
  readonly bits: readonly number[];
}

/** Max of each window: a chain of comparisons m ← max(m, v), each a signed range check of m − v. */
export interface QuantizedMaxPool {
  readonly kind: "maxPool";
  readonly node: string;
  readonly input: string;
  readonly output: string;
  readonly outSize: number;
  readonly windowStart: readonly number[];
  readonly index: readonly number[];
  /** Signed width of every difference m − v compared in window j. */
  readonly bits: readonly number[];
}

/** Index map over one or more tensors (Transpose, Slice, Gather, Pad, Concat): wiring only. */
export interface QuantizedGather {
  readonly kind: "gather";
  readonly node: string;
  readonly inputs: readonly string[];
  readonly output: string;
  readonly source: readonly number[];
  readonly index: readonly number[];
  /** Scale 2^s; used where source = -1. */
  readonly constant: readonly bigint[];
}

export type QuantizedLayer = QuantizedDense | QuantizedRelu | QuantizedAdd | QuantizedAddConst | QuantizedSparse | QuantizedMaxPool | QuantizedGather;

export interface QuantizedTensor {
  readonly name: string;
  readonly id: string;
  readonly shape: readonly number[];
  readonly size: number;
}

export interface QuantizedModel {
  readonly scaleBits: number;
  readonly inputIntBits: number;
  /** Signed width of each quantized input value: -2^(inputBits-1) ≤ x_q < 2^(inputBits-1). */
  readonly inputBits: number;
  /**
   * Signed width the output values are proven to fit (from interval propagation over the range-checked
   * input): the circuit packs them into the output commitment at COMMITTED_VALUE_BITS without a further
   * check when outputBits ≤ COMMITTED_VALUE_BITS, and range-checks them at that width otherwise.
   */
  readonly outputBits: number;
  readonly input: QuantizedTensor;
  readonly output: QuantizedTensor;
  readonly layers: readonly QuantizedLayer[];
  readonly parameterCount: number;
}

export interface QuantizeOptions {
  readonly scaleBits?: number;
  readonly inputIntBits?: number;
}

/** round(x · 2^bits), ties towards +∞. */
export function quantizeValue(x: number, bits: number): bigint {
  if (!Number.isFinite(x)) throw new QuantizationError(`cannot quantize ${x}: not a finite number`);
  const scaled = Math.round(x * 2 ** bits);
  if (!Number.isFinite(scaled) || Math.abs(scaled) >= 2 ** MAX_VALUE_BITS) {
    throw new QuantizationError(`${x} is too large for fixed point at scale 2^${bits} (more than ${MAX_VALUE_BITS} bits)`);
  }
  return BigInt(scaled);
}

export function dequantize(value: bigint, scaleBits: number): number {
  return Number(value) / 2 ** scaleBits;
}

/** floor(a / 2^bits) for signed a. */
export function floorShift(a: bigint, bits: number): bigint {
  return a >> BigInt(bits); // BigInt >> is an arithmetic shift: it floors for negatives too.
}

/** The rescale every dense output goes through: floor((acc + 2^(s-1)) / 2^s). */
export function rescale(acc: bigint, scaleBits: number): bigint {
  return floorShift(acc + (1n << BigInt(scaleBits - 1)), scaleBits);
}

/** Smallest B ≥ 1 with -2^(B-1) ≤ lo and hi < 2^(B-1). */
export function signedBits(lo: bigint, hi: bigint): number {
  let bits = 1;
  while (lo < -(1n << BigInt(bits - 1)) || hi >= 1n << BigInt(bits - 1)) bits++;
  return bits;
}

interface Interval {
  lo: bigint[];
  hi: bigint[];
}

function checkScale(scaleBits: number, inputIntBits: number): void {
  if (!Number.isInteger(scaleBits) || scaleBits < 1 || scaleBits > 32) {
    throw new QuantizationError(`scale bits must be an integer in [1, 32], got ${scaleBits}`);
  }
  if (!Number.isInteger(inputIntBits) || inputIntBits < 0 || inputIntBits > 64) {
    throw new QuantizationError(`input integer bits must be an integer in [0, 64], got ${inputIntBits}`);
  }
}

/** Quantizes the float IR and computes every range check width by interval propagation. */
export function quantize(graph: FloatGraph, options: QuantizeOptions = {}): QuantizedModel {
  const scaleBits = options.scaleBits ?? DEFAULT_SCALE_BITS;
  const inputIntBits = options.inputIntBits ?? DEFAULT_INPUT_INT_BITS;
  checkScale(scaleBits, inputIntBits);
  const inputBits = scaleBits + inputIntBits + 1;
  if (inputBits > COMMITTED_VALUE_BITS) {
    throw new QuantizationError(
      `inputs of ${inputBits} bits (scale 2^${scaleBits}, range ±2^${inputIntBits}) do not fit the ${COMMITTED_VALUE_BITS}-bit committed value width: lower the scale or the input range (scaleBits + inputIntBits ≤ ${COMMITTED_VALUE_BITS - 1})`,
    );
  }
  const inputSize = graph.sizes[graph.input.id] ?? 0;
  const limit = 1n << BigInt(inputBits - 1);
  const bounds = new Map<string, Interval>([
    [graph.input.id, { lo: new Array<bigint>(inputSize).fill(-limit), hi: new Array<bigint>(inputSize).fill(limit - 1n) }],
  ]);
  const producedByDense = new Set<string>();
  const read = (id: string): Interval => {
    const b = bounds.get(id);
    if (b === undefined) throw new QuantizationError(`tensor ${id} used before it is computed`);
    return b;
  };
  const checkWidth = (node: string, lo: bigint, hi: bigint): void => {
    if (signedBits(lo, hi) > MAX_VALUE_BITS) {
      throw new QuantizationError(`values in node "${node}" could exceed ${MAX_VALUE_BITS} bits: lower the scale or input range`);
    }
  };

  const layers: QuantizedLayer[] = graph.ops.map((op): QuantizedLayer => {
    switch (op.kind) {
      case "linear": {
        const x = read(op.input);
        const weights = Array.from(op.weights, (w) => quantizeValue(w, scaleBits));
        const bias = Array.from(op.bias, (b) => quantizeValue(b, 2 * scaleBits));
        const lo: bigint[] = [];
        const hi: bigint[] = [];
        const bits: number[] = [];
        for (let j = 0; j < op.outSize; j++) {
          let accLo = bias[j] ?? 0n;
          let accHi = accLo;
          for (let i = 0; i < op.inSize; i++) {
            const w = weights[j * op.inSize + i] ?? 0n;
            if (w === 0n) continue;
            const a = w * (x.lo[i] ?? 0n);
            const b = w * (x.hi[i] ?? 0n);
            accLo += a < b ? a : b;
            accHi += a < b ? b : a;
          }
          checkWidth(op.node, accLo, accHi);
          const yLo = rescale(accLo, scaleBits);
          const yHi = rescale(accHi, scaleBits);
          lo.push(yLo);
          hi.push(yHi);
          bits.push(signedBits(yLo, yHi));
        }
        bounds.set(op.output, { lo, hi });
        producedByDense.add(op.output);
        return { kind: "dense", node: op.node, input: op.input, output: op.output, inSize: op.inSize, outSize: op.outSize, weights, bias, bits };
      }
      case "relu": {
        const x = read(op.input);
        const zero = (v: bigint): bigint => (v > 0n ? v : 0n);
        bounds.set(op.output, { lo: x.lo.map(zero), hi: x.hi.map(zero) });
        const bits = producedByDense.has(op.input) ? undefined : x.lo.map((lo, i) => signedBits(lo, x.hi[i] ?? 0n));
        return { kind: "relu", node: op.node, input: op.input, output: op.output, size: op.size, bits };
      }
      case "add": {
        const a = read(op.a);
        const b = read(op.b);
        const lo = op.indexA.map((i, k) => (a.lo[i] ?? 0n) + (b.lo[op.indexB[k] ?? 0] ?? 0n));
        const hi = op.indexA.map((i, k) => (a.hi[i] ?? 0n) + (b.hi[op.indexB[k] ?? 0] ?? 0n));
        lo.forEach((l, k) => checkWidth(op.node, l, hi[k] ?? 0n));
        bounds.set(op.output, { lo, hi });
        return { kind: "add", node: op.node, a: op.a, b: op.b, output: op.output, indexA: [...op.indexA], indexB: [...op.indexB] };
      }
      case "sparse": {
        const x = read(op.input);
        const weights = Array.from(op.weights, (w) => quantizeValue(w, scaleBits));
        const bias = Array.from(op.bias, (b) => quantizeValue(b, 2 * scaleBits));
        const lo: bigint[] = [];
        const hi: bigint[] = [];
        const bits: number[] = [];
        for (let j = 0; j < op.outSize; j++) {
          let accLo = bias[j] ?? 0n;
          let accHi = accLo;
          for (let p = op.rowStart[j] ?? 0; p < (op.rowStart[j + 1] ?? 0); p++) {
            const w = weights[p] ?? 0n;
            const i = op.cols[p] ?? 0;
            const a = w * (x.lo[i] ?? 0n);
            const b = w * (x.hi[i] ?? 0n);
            accLo += a < b ? a : b;
            accHi += a < b ? b : a;
          }
          checkWidth(op.node, accLo, accHi);
          const yLo = rescale(accLo, scaleBits);
          const yHi = rescale(accHi, scaleBits);
          lo.push(yLo);
          hi.push(yHi);
          bits.push(signedBits(yLo, yHi));
        }
        bounds.set(op.output, { lo, hi });
        producedByDense.add(op.output);
        return {
          kind: "sparse", node: op.node, input: op.input, output: op.output, inSize: op.inSize, outSize: op.outSize,
          rowStart: [...op.rowStart], cols: [...op.cols], weights, bias, bits,
        };
      }
      case "maxPool": {
        const x = read(op.input);
        const lo: bigint[] = [];
        const hi: bigint[] = [];
        const bits: number[] = [];
        for (let j = 0; j < op.outSize; j++) {
          const first = op.index[op.windowStart[j] ?? 0] ?? 0;
          let mLo = x.lo[first] ?? 0n;
          let mHi = x.hi[first] ?? 0n;
          let width = 1;
          for (let p = (op.windowStart[j] ?? 0) + 1; p < (op.windowStart[j + 1] ?? 0); p++) {
            const i = op.index[p] ?? 0;
            const vLo = x.lo[i] ?? 0n;
            const vHi = x.hi[i] ?? 0n;
            checkWidth(op.node, mLo - vHi, mHi - vLo);
            width = Math.max(width, signedBits(mLo - vHi, mHi - vLo));
            if (vLo > mLo) mLo = vLo;
            if (vHi > mHi) mHi = vHi;
          }
          lo.push(mLo);
          hi.push(mHi);
          bits.push(width);
        }
        bounds.set(op.output, { lo, hi });
        return { kind: "maxPool", node: op.node, input: op.input, output: op.output, outSize: op.outSize, windowStart: [...op.windowStart], index: [...op.index], bits };
      }
      case "gather": {
        const inputs = op.inputs.map(read);
        const constant = Array.from(op.constant, (c) => quantizeValue(c, scaleBits));
        const pick = (side: "lo" | "hi") => op.source.map((src, k) => (src < 0 ? (constant[k] ?? 0n) : (inputs[src]?.[side][op.index[k] ?? 0] ?? 0n)));
        bounds.set(op.output, { lo: pick("lo"), hi: pick("hi") });
        return { kind: "gather", node: op.node, inputs: [...op.inputs], output: op.output, source: [...op.source], index: [...op.index], constant };
      }
      case "addConst": {
        const x = read(op.input);
        const constant = Array.from(op.constant, (c) => quantizeValue(c, scaleBits));
        const lo = op.index.map((i, k) => (x.lo[i] ?? 0n) + (constant[k] ?? 0n));
        const hi = op.index.map((i, k) => (x.hi[i] ?? 0n) + (constant[k] ?? 0n));
        lo.forEach((l, k) => checkWidth(op.node, l, hi[k] ?? 0n));
        bounds.set(op.output, { lo, hi });
        return { kind: "addConst", node: op.node, input: op.input, output: op.output, index: [...op.index], constant };
      }
    }
  });

  const outputBounds = read(graph.output.id);
  const outputBits = outputBounds.lo.reduce((bits, lo, i) => Math.max(bits, signedBits(lo, outputBounds.hi[i] ?? 0n)), 1);
  const tensor = (info: FloatGraph["input"]): QuantizedTensor => ({
    name: info.name,
    id: info.id,
    shape: [...info.shape],
    size: graph.sizes[info.id] ?? 0,
  });
  return {
    scaleBits,
    inputIntBits,
    inputBits,
    outputBits,
    input: tensor(graph.input),
    output: tensor(graph.output),
    layers,
    parameterCount: graph.parameterCount,
  };
}

/** Quantizes an input vector, refusing values outside the range the circuit accepts. */
export function quantizeInput(model: QuantizedModel, values: readonly number[]): bigint[] {
  if (values.length !== model.input.size) {
    throw new QuantizationError(`the model takes ${model.input.size} input values, got ${values.length}`);
  }
  const limit = 1n << BigInt(model.inputBits - 1);
  return values.map((x, i) => {
    if (!Number.isFinite(x)) throw new QuantizationError(`input[${i}] = ${x} is not a finite number`);
    const bound = 2 ** model.inputIntBits;
    const range = `the circuit's input range [-${bound}, ${bound})`;
    if (x < bound && x >= -bound && Math.round(x * 2 ** model.scaleBits) >= Number(limit)) {
      // Inside the range as a real number, but its fixed-point value is the excluded upper bound.
      throw new QuantizationError(
        `input[${i}] = ${x} rounds up to ${bound} at scale 2^-${model.scaleBits}, the excluded upper bound of ${range}`,
      );
    }
    const q = quantizeValue(x, model.scaleBits);
    if (q < -limit || q >= limit) {
      throw new QuantizationError(
        `input[${i}] = ${x} is outside the circuit's input range [-${2 ** model.inputIntBits}, ${2 ** model.inputIntBits})`,
      );
    }
    return q;
  });
}

export interface QuantizedInference {
  /** Quantized outputs (scale 2^s), row-major in the output shape. */
  readonly output: bigint[];
  /** Every intermediate tensor by id, for comparison with the witness. */
  readonly tensors: ReadonlyMap<string, readonly bigint[]>;
}

/**
 * Integer reference inference: exactly the arithmetic of the circuit. Throws if the input or an
 * intermediate value leaves the ranges the circuit checks (impossible for inputs within the input range,
 * since the ranges come from interval propagation; the check guards against bugs).
 */
export function inferQuantized(model: QuantizedModel, input: readonly bigint[]): QuantizedInference {
  if (input.length !== model.input.size) {
    throw new QuantizationError(`the model takes ${model.input.size} input values, got ${input.length}`);
  }
  const inputLimit = 1n << BigInt(model.inputBits - 1);
  input.forEach((v, i) => {
    if (v < -inputLimit || v >= inputLimit) throw new QuantizationError(`quantized input[${i}] = ${v} is out of range`);
  });
  const s = model.scaleBits;
  const tensors = new Map<string, readonly bigint[]>([[model.input.id, [...input]]]);
  const read = (id: string): readonly bigint[] => {
    const t = tensors.get(id);
    if (t === undefined) throw new QuantizationError(`tensor ${id} used before it is computed`);
    return t;
  };
  const inRange = (node: string, v: bigint, bits: number): void => {
    const limit = 1n << BigInt(bits - 1);
    if (v < -limit || v >= limit) throw new QuantizationError(`value ${v} in node "${node}" exceeds its ${bits}-bit range`);
  };
  for (const layer of model.layers) {
    switch (layer.kind) {
      case "dense": {
        const x = read(layer.input);
        const y: bigint[] = [];
        for (let j = 0; j < layer.outSize; j++) {
          let acc = layer.bias[j] ?? 0n;
          for (let i = 0; i < layer.inSize; i++) acc += (layer.weights[j * layer.inSize + i] ?? 0n) * (x[i] ?? 0n);
          const out = rescale(acc, s);
          inRange(layer.node, out, layer.bits[j] ?? 0);
          y.push(out);
        }
        tensors.set(layer.output, y);
        break;
      }
      case "relu": {
        const x = read(layer.input);
        if (layer.bits !== undefined) x.forEach((v, i) => inRange(layer.node, v, layer.bits?.[i] ?? 0));
        tensors.set(layer.output, x.map((v) => (v > 0n ? v : 0n)));
        break;
      }
      case "add": {
        const a = read(layer.a);
        const b = read(layer.b);
        tensors.set(layer.output, layer.indexA.map((i, k) => (a[i] ?? 0n) + (b[layer.indexB[k] ?? 0] ?? 0n)));
        break;
      }
      case "addConst": {
        const x = read(layer.input);
        tensors.set(layer.output, layer.index.map((i, k) => (x[i] ?? 0n) + (layer.constant[k] ?? 0n)));
        break;
      }
      case "sparse": {
        const x = read(layer.input);
        const y: bigint[] = [];
        for (let j = 0; j < layer.outSize; j++) {
          let acc = layer.bias[j] ?? 0n;
          for (let p = layer.rowStart[j] ?? 0; p < (layer.rowStart[j + 1] ?? 0); p++) acc += (layer.weights[p] ?? 0n) * (x[layer.cols[p] ?? 0] ?? 0n);
          const out = rescale(acc, s);
          inRange(layer.node, out, layer.bits[j] ?? 0);
          y.push(out);
        }
        tensors.set(layer.output, y);
        break;
      }
      case "maxPool": {
        const x = read(layer.input);
        const y: bigint[] = [];
        for (let j = 0; j < layer.outSize; j++) {
          let m = x[layer.index[layer.windowStart[j] ?? 0] ?? 0] ?? 0n;
          for (let p = (layer.windowStart[j] ?? 0) + 1; p < (layer.windowStart[j + 1] ?? 0); p++) {
            const v = x[layer.index[p] ?? 0] ?? 0n;
            inRange(layer.node, m - v, layer.bits[j] ?? 0);
            if (v > m) m = v;
          }
          y.push(m);
        }
        tensors.set(layer.output, y);
        break;
      }
      case "gather": {
        const inputs = layer.inputs.map(read);
        tensors.set(layer.output, layer.source.map((src, k) => (src < 0 ? (layer.constant[k] ?? 0n) : (inputs[src]?.[layer.index[k] ?? 0] ?? 0n))));
        break;
      }
    }
  }
  return { output: [...read(model.output.id)], tensors };
}

/** Every constant of the model in a fixed order (for the weights commitment). */
export function modelConstants(model: QuantizedModel): bigint[] {
  const out: bigint[] = [];
  for (const layer of model.layers) {
    if (layer.kind === "dense" || layer.kind === "sparse") out.push(...layer.weights, ...layer.bias);
    else if (layer.kind === "addConst" || layer.kind === "gather") out.push(...layer.constant);
  }
  return out;
}

/** Number of neurons (dense outputs), for per-neuron statistics. */
export function neuronCount(model: QuantizedModel): number {
  return model.layers.reduce((n, l) => n + (l.kind === "dense" || l.kind === "sparse" ? l.outSize : 0), 0);
}

/** Representative of a signed integer in the BN254 scalar field, as a decimal string. */
export function fieldString(value: bigint): string {
  const r = value % SNARK_SCALAR_FIELD;
  return (r < 0n ? r + SNARK_SCALAR_FIELD : r).toString();
}

// ---------------------------------------------------------------------------------------------
// JSON form (model.json): bigints as decimal strings.

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

export function quantizedModelToJson(model: QuantizedModel): Json {
  const str = (values: readonly bigint[]): string[] => values.map((v) => v.toString());
  return {
    scaleBits: model.scaleBits,
    inputIntBits: model.inputIntBits,
    inputBits: model.inputBits,
    outputBits: model.outputBits,
    input: { ...model.input, shape: [...model.input.shape] },
    output: { ...model.output, shape: [...model.output.shape] },
    parameterCount: model.parameterCount,
    layers: model.layers.map((l): Json => {
      switch (l.kind) {
        case "dense":
          return { ...l, weights: str(l.weights), bias: str(l.bias), bits: [...l.bits] };
        case "relu":
          return { ...l, bits: l.bits === undefined ? null : [...l.bits] };
        case "add":
          return { ...l, indexA: [...l.indexA], indexB: [...l.indexB] };
        case "addConst":
          return { ...l, index: [...l.index], constant: str(l.constant) };
        case "sparse":
          return { ...l, rowStart: [...l.rowStart], cols: [...l.cols], weights: str(l.weights), bias: str(l.bias), bits: [...l.bits] };
        case "maxPool":
          return { ...l, windowStart: [...l.windowStart], index: [...l.index], bits: [...l.bits] };
        case "gather":
          return { ...l, inputs: [...l.inputs], source: [...l.source], index: [...l.index], constant: str(l.constant) };
      }
    }),
  };
}

function fail(what: string): never {
  throw new QuantizationError(`malformed quantized model: ${what}`);
}
function obj(v: unknown, what: string): Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : fail(what);
}
function num(v: unknown, what: string): number {
  return typeof v === "number" && Number.isInteger(v) ? v : fail(what);
}
function str(v: unknown, what: string): string {
  return typeof v === "string" ? v : fail(what);
}
function nums(v: unknown, what: string): number[] {
  return Array.isArray(v) ? v.map((x) => num(x, what)) : fail(what);
}
function bigs(v: unknown, what: string): bigint[] {
  return Array.isArray(v) ? v.map((x) => BigInt(str(x, what))) : fail(what);
}

export function quantizedModelFromJson(json: unknown): QuantizedModel {
  const m = obj(json, "model");
  const tensor = (v: unknown, what: string): QuantizedTensor => {
    const t = obj(v, what);
    return { name: str(t["name"], `${what}.name`), id: str(t["id"], `${what}.id`), shape: nums(t["shape"], `${what}.shape`), size: num(t["size"], `${what}.size`) };
  };
  const layers = (Array.isArray(m["layers"]) ? m["layers"] : fail("layers")).map((raw, index): QuantizedLayer => {
    const l = obj(raw, `layer ${index}`);
    const node = str(l["node"], "node");
    switch (l["kind"]) {
      case "dense":
        return {
          kind: "dense",
          node,
          input: str(l["input"], "input"),
          output: str(l["output"], "output"),
          inSize: num(l["inSize"], "inSize"),
          outSize: num(l["outSize"], "outSize"),
          weights: bigs(l["weights"], "weights"),
          bias: bigs(l["bias"], "bias"),
          bits: nums(l["bits"], "bits"),
        };
      case "relu":
        return {
          kind: "relu",
          node,
          input: str(l["input"], "input"),
          output: str(l["output"], "output"),
          size: num(l["size"], "size"),
          bits: l["bits"] === null || l["bits"] === undefined ? undefined : nums(l["bits"], "bits"),
        };
      case "add":
        return {
          kind: "add",
          node,
          a: str(l["a"], "a"),
          b: str(l["b"], "b"),
          output: str(l["output"], "output"),
          indexA: nums(l["indexA"], "indexA"),
          indexB: nums(l["indexB"], "indexB"),
        };
      case "addConst":
        return {
          kind: "addConst",
          node,
          input: str(l["input"], "input"),
          output: str(l["output"], "output"),
          index: nums(l["index"], "index"),
          constant: bigs(l["constant"], "constant"),
        };
      case "sparse":
        return {
          kind: "sparse",
          node,
          input: str(l["input"], "input"),
          output: str(l["output"], "output"),
          inSize: num(l["inSize"], "inSize"),
          outSize: num(l["outSize"], "outSize"),
          rowStart: nums(l["rowStart"], "rowStart"),
          cols: nums(l["cols"], "cols"),
          weights: bigs(l["weights"], "weights"),
          bias: bigs(l["bias"], "bias"),
          bits: nums(l["bits"], "bits"),
        };
      case "maxPool":
        return {
          kind: "maxPool",
          node,
          input: str(l["input"], "input"),
          output: str(l["output"], "output"),
          outSize: num(l["outSize"], "outSize"),
          windowStart: nums(l["windowStart"], "windowStart"),
          index: nums(l["index"], "index"),
          bits: nums(l["bits"], "bits"),
        };
      case "gather":
        return {
          kind: "gather",
          node,
          inputs: (Array.isArray(l["inputs"]) ? l["inputs"] : fail("inputs")).map((v) => str(v, "inputs")),
          output: str(l["output"], "output"),
          source: nums(l["source"], "source"),
          index: nums(l["index"], "index"),
          constant: bigs(l["constant"], "constant"),
        };
      default:
        return fail(`layer ${index} has unknown kind ${String(l["kind"])}`);
    }
  });
  const scaleBits = num(m["scaleBits"], "scaleBits");
  const inputIntBits = num(m["inputIntBits"], "inputIntBits");
  checkScale(scaleBits, inputIntBits);
  return {
    scaleBits,
    inputIntBits,
    inputBits: num(m["inputBits"], "inputBits"),
    outputBits: num(m["outputBits"], "outputBits"),
    input: tensor(m["input"], "input"),
    output: tensor(m["output"], "output"),
    layers,
    parameterCount: num(m["parameterCount"], "parameterCount"),
  };
}
