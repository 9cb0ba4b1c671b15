/**
 * Deterministic model execution: one function from (model folder, input) to fixed-point outputs and their
 * commitments, shared by the operator node (which signs or proves what it computes) and by anyone who
 * re-checks a result later (a fraud-proof watcher).
 *
 * Two kinds of folders:
 *   - an `opg zk build` folder (model.json + circuit): the outputs are the integers the circuit computes
 *     (zkml's inferQuantized on the build's quantized model is the witness), so a signature- or TEE-tier
 *     result is exactly what a proof of the same inference would carry, bit for bit;
 *   - a folder with only an ONNX model: run in float32 by onnxruntime-node on the dequantized input, its
 *     outputs then quantized at the same scale (round half up). Deterministic on one runtime build, but no
 *     circuit can re-check it: such results are not challengeable by proof.
 *
 * Inputs are fixed-point integers (value = round(x · 2^s)) in both cases, and both commitments are the
 * one every tier uses, commitQuantized at the model's scale: the very ones a ZK proof of the same inference
 * carries, and what the previous or next step of a pipeline commits to, whatever its tier.
 */
import { existsSync } from "node:fs";
import { readdir, readFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { commitQuantized, type Commitment } from "../commitments/index.ts";
import { OpgError } from "../errors.ts";
import {
  DEFAULT_INPUT_INT_BITS,
  DEFAULT_SCALE_BITS,
  dequantize,
  inferQuantized,
  loadBuild,
  quantizeValue,
  BUILD_FILES,
  flattenNested,
  type ZkBuild,
} from "../zkml/index.ts";
import { ExecutionError } from "./errors.ts";

/** What one run of a model produced. Every field is a pure function of the model and `input`. */
export interface Execution {
  /** The quantized input (scale 2^scaleBits). */
  readonly input: readonly bigint[];
  readonly inputCommitment: Commitment;
  /** The quantized outputs (scale 2^scaleBits), row-major in the output shape. */
  readonly output: readonly bigint[];
  /** output / 2^scaleBits. */
  readonly outputValues: readonly number[];
  readonly outputCommitment: Commitment;
  readonly scaleBits: number;
}

export interface ModelRunner {
  /** "circuit": the build's fixed-point semantics (provable); "float": onnxruntime, outputs quantized. */
  readonly kind: "circuit" | "float";
  readonly dir: string;
  readonly name: string;
  readonly scaleBits: number;
  /** Inputs are accepted in [-2^inputIntBits, 2^inputIntBits). */
  readonly inputIntBits: number;
  readonly inputShape: readonly number[];
  readonly outputShape: readonly number[];
  readonly inputSize: number;
  /** The circuit build (undefined for a float model). */
  readonly build: ZkBuild | undefined;
  /** Quantizes real input values (checks count, finiteness and range). */
  quantizeInput(values: readonly number[]): bigint[];
  /** The input commitment: commitQuantized(input, scaleBits), as for every model and tier. */
  commitInput(input: readonly bigint[]): Promise<Commitment>;
  /** Runs the model on a quantized input. */
  execute(input: readonly bigint[]): Promise<Execution>;
  /** Releases the runtime session (float models). */
  close(): Promise<void>;
}

function size(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

function checkQuantizedInput(runner: Pick<ModelRunner, "inputSize" | "scaleBits" | "inputIntBits" | "name">, input: readonly bigint[]): void {
  if (input.length !== runner.inputSize) {
    throw new ExecutionError("EXECUTION_INPUT_INVALID", `model ${runner.name} takes ${runner.inputSize} input values, got ${input.length}`);
  }
  const limit = 1n << BigInt(runner.scaleBits + runner.inputIntBits);
  const bad = input.findIndex((v) => typeof v !== "bigint" || v < -limit || v >= limit);
  if (bad >= 0) {
    throw new ExecutionError(
      "EXECUTION_INPUT_INVALID",
      `input[${bad}] is outside the model's input range [-${2 ** runner.inputIntBits}, ${2 ** runner.inputIntBits})`,
    );
  }
}

function quantizer(runner: Pick<ModelRunner, "inputSize" | "scaleBits" | "inputIntBits" | "name">) {
  return (values: readonly number[]): bigint[] => {
    if (values.length !== runner.inputSize) {
      throw new ExecutionError("EXECUTION_INPUT_INVALID", `model ${runner.name} takes ${runner.inputSize} input values, got ${values.length}`);
    }
    const out = values.map((x, i) => {
      if (typeof x !== "number" || !Number.isFinite(x)) throw new ExecutionError("EXECUTION_INPUT_INVALID", `input[${i}] is not a finite number`);
      return quantizeValue(x, runner.scaleBits);
    });
    checkQuantizedInput(runner, out);
    return out;
  };
}

async function finish(input: readonly bigint[], output: readonly bigint[], scaleBits: number): Promise<Execution> {
  const [inputCommitment, outputCommitment] = await Promise.all([commitQuantized(input, scaleBits), commitQuantized(output, scaleBits)]);
  return { input: [...input], inputCommitment, output: [...output], outputValues: output.map((v) => dequantize(v, scaleBits)), outputCommitment, scaleBits };
}

/** A runner over an `opg zk build` folder: the circuit's fixed-point semantics. */
export function circuitRunner(build: ZkBuild): ModelRunner {
  const { model } = build;
  const base = { name: build.metadata.name, inputSize: model.input.size, scaleBits: model.scaleBits, inputIntBits: model.inputIntBits };
  return {
    kind: "circuit",
    dir: build.dir,
    ...base,
    inputShape: model.input.shape,
    outputShape: model.output.shape,
    build,
    quantizeInput: quantizer(base),
    commitInput: (q) => commitQuantized(q, model.scaleBits),
    async execute(input) {
      checkQuantizedInput(base, input);
      let output: bigint[];
      try {
        output = inferQuantized(model, input).output;
      } catch (cause) {
        throw new ExecutionError("EXECUTION_FAILED", `model ${base.name}: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
      }
      return finish(input, output, model.scaleBits);
    },
    async close() {},
  };
}

/** The subset of onnxruntime-node's API used here (loaded lazily: a circuit-only node never loads the native library). */
interface OrtSession {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  readonly inputMetadata?: readonly { readonly name: string; readonly isTensor: boolean; readonly type?: string; readonly shape?: readonly (number | string)[] }[];
  readonly outputMetadata?: readonly { readonly name: string; readonly isTensor: boolean; readonly shape?: readonly (number | string)[] }[];
  run(feeds: Record<string, unknown>): Promise<Record<string, { readonly data: ArrayLike<number | bigint>; readonly dims: readonly number[] }>>;
  release(): Promise<void>;
}

/** Concrete dims: symbolic or unknown dimensions (a batch) become 1. */
function concreteShape(shape: readonly (number | string)[] | undefined): number[] {
  return (shape ?? []).map((d) => (typeof d === "number" && d > 0 ? d : 1));
}

export interface FloatRunnerOptions {
  readonly scaleBits?: number;
  readonly inputIntBits?: number;
  readonly name?: string;
}

/** A runner over a plain ONNX file: float32 onnxruntime inference, outputs quantized at `scaleBits`. */
export async function floatRunner(onnxPath: string, options: FloatRunnerOptions = {}): Promise<ModelRunner> {
  let ort: typeof import("onnxruntime-node");
  try {
    ort = await import("onnxruntime-node");
  } catch (cause) {
    throw new ExecutionError("EXECUTION_MODEL_UNREADABLE", "onnxruntime-node cannot be loaded (install it with ONNXRUNTIME_NODE_INSTALL=skip)", { cause });
  }
  let session: OrtSession;
  try {
    session = (await ort.InferenceSession.create(onnxPath)) as unknown as OrtSession;
  } catch (cause) {
    throw new ExecutionError("EXECUTION_MODEL_UNREADABLE", `onnxruntime cannot load ${onnxPath}`, { cause });
  }
  const inputName = session.inputNames[0];
  const outputName = session.outputNames[0];
  const inputMeta = session.inputMetadata?.find((m) => m.name === inputName);
  if (session.inputNames.length !== 1 || inputName === undefined || outputName === undefined || inputMeta === undefined || !inputMeta.isTensor) {
    await session.release();
    throw new ExecutionError("EXECUTION_MODEL_UNREADABLE", `${onnxPath}: a served model takes exactly one tensor input`);
  }
  if (inputMeta.type !== undefined && inputMeta.type !== "float32") {
    await session.release();
    throw new ExecutionError("EXECUTION_MODEL_UNREADABLE", `${onnxPath}: the input is ${inputMeta.type}, only float32 models are served`);
  }
  const inputShape = concreteShape(inputMeta.shape);
  const outputShape = concreteShape(session.outputMetadata?.find((m) => m.name === outputName)?.shape);
  const base = {
    name: options.name ?? onnxPath,
    inputSize: size(inputShape),
    scaleBits: options.scaleBits ?? DEFAULT_SCALE_BITS,
    inputIntBits: options.inputIntBits ?? DEFAULT_INPUT_INT_BITS,
  };
  return {
    kind: "float",
    dir: resolve(onnxPath, ".."),
    ...base,
    inputShape,
    outputShape,
    build: undefined,
    quantizeInput: quantizer(base),
    commitInput: (q) => commitQuantized(q, base.scaleBits),
    async execute(input) {
      checkQuantizedInput(base, input);
      const data = Float32Array.from(input, (v) => dequantize(v, base.scaleBits));
      let result: Awaited<ReturnType<OrtSession["run"]>>;
      try {
        result = await session.run({ [inputName]: new ort.Tensor("float32", data, inputShape) });
      } catch (cause) {
        throw new ExecutionError("EXECUTION_FAILED", `onnxruntime failed on model ${base.name}`, { cause });
      }
      const out = result[outputName];
      if (out === undefined) throw new ExecutionError("EXECUTION_FAILED", `model ${base.name} produced no "${outputName}" output`);
      const output = Array.from(out.data, (v, i) => {
        const x = Number(v);
        if (!Number.isFinite(x)) throw new ExecutionError("EXECUTION_FAILED", `model ${base.name}: output[${i}] is ${x}`);
        return quantizeValue(x, base.scaleBits);
      });
      return finish(input, output, base.scaleBits);
    },
    async close() {
      await session.release();
    },
  };
}

/**
 * Loads a model folder: an `opg zk build` folder (model.json) runs with the circuit's semantics; otherwise
 * the folder's ONNX model (model.onnx, or its only *.onnx file) runs in float. A path to an .onnx file is
 * served in float too.
 */
export async function loadModelRunner(path: string, options: FloatRunnerOptions = {}): Promise<ModelRunner> {
  const root = resolve(path);
  if (root.toLowerCase().endsWith(".onnx")) {
    if (!existsSync(root)) throw new ExecutionError("EXECUTION_MODEL_UNREADABLE", `no model at ${root}`);
    return floatRunner(root, options);
  }
  if (existsSync(join(root, BUILD_FILES.metadata))) {
    try {
      return circuitRunner(await loadBuild(root));
    } catch (cause) {
      if (cause instanceof OpgError) throw new ExecutionError("EXECUTION_MODEL_UNREADABLE", `${root}: ${cause.message}`, { cause });
      throw cause;
    }
  }
  let entries: string[];
  try {
    entries = await readdir(root);
  } catch (cause) {
    throw new ExecutionError("EXECUTION_MODEL_UNREADABLE", `cannot read model folder ${root}`, { cause });
  }
  const onnx = entries.includes(BUILD_FILES.onnx) ? [BUILD_FILES.onnx] : entries.filter((e) => e.toLowerCase().endsWith(".onnx"));
  if (onnx.length !== 1) {
    throw new ExecutionError(
      "EXECUTION_MODEL_UNREADABLE",
      onnx.length === 0 ? `${root} holds neither an \`opg zk build\` (model.json) nor an ONNX model` : `${root} holds several ONNX models: name one file`,
    );
  }
  return floatRunner(join(root, onnx[0]!), { name: root.split("/").pop() ?? root, ...options });
}

/**
 * A pipeline hand-off: the previous step's quantized outputs (at `fromScaleBits`) as the next model's
 * quantized input (at `toScaleBits`). Equal scales pass the integers through unchanged; a finer scale
 * shifts them exactly; a coarser one rounds half up (as quantizeValue does).
 */
export function rescaleQuantized(values: readonly bigint[], fromScaleBits: number, toScaleBits: number): bigint[] {
  if (toScaleBits >= fromScaleBits) return values.map((v) => v << BigInt(toScaleBits - fromScaleBits));
  const shift = BigInt(fromScaleBits - toScaleBits);
  return values.map((v) => (v + (1n << (shift - 1n))) >> shift);
}

/**
 * The flat input values of a JSON input: `{"input": nested array}` (the fixtures' input.json) or a bare
 * nested array of numbers, row-major.
 */
export function inputValues(json: unknown): number[] {
  const nested = typeof json === "object" && json !== null && !Array.isArray(json) && "input" in json ? (json as { input: unknown }).input : json;
  try {
    return flattenNested(nested).values;
  } catch (cause) {
    throw new ExecutionError("EXECUTION_INPUT_INVALID", cause instanceof Error ? cause.message : String(cause), { cause });
  }
}

/** Reads a JSON input file (see inputValues). */
export async function readInputFile(path: string): Promise<number[]> {
  let json: unknown;
  try {
    json = JSON.parse(await readFile(path, "utf8"));
  } catch (cause) {
    throw new ExecutionError("EXECUTION_INPUT_INVALID", `cannot read input ${path} as JSON`, { cause });
  }
  return inputValues(json);
}
