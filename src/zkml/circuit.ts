/**
 * Circuit generation and compilation.
 *
 * The generated main template wires one library template per layer kind (circuits/lib/opg_*.circom)
 * with the quantized weights as constant template parameters, so a dense layer costs only its rescale
 * range checks. Public signals, in the order snarkjs lays them out (main outputs first, then public
 * inputs):
 *
 *   [inputCommitment, outputCommitment, out_0 … out_{n-1}, binding]
 *
 * - inputCommitment  = commitQuantized(quantized input, s), computed in-circuit from the private input:
 *                      packed at COMMITTED_VALUE_BITS, injective thanks to the input's range checks
 * - outputCommitment = commitQuantized(quantized outputs, s): the same function, so it is the input
 *                      commitment of whatever step consumes these outputs
 * - out_i            = quantized outputs as field elements (negative x is p − |x|)
 * - binding          = keccak256(abi.encode(receiptId, operator)) mod p, computed by the caller; the
 *                      only public input, constrained (squared) so that a proof is tied to one receipt
 *                      and one paid operator and the optimizer cannot drop it.
 */
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { copyFile, mkdir, readdir, readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { ProgressListener } from "./progress.ts";
import { COMMITTED_VALUE_BITS } from "../commitments/index.ts";
import { CircuitBuildError } from "./errors.ts";
import { visionLayerCircom } from "./circuit-vision.ts";
import type { QuantizedLayer, QuantizedModel } from "./quantize.ts";

/** Name of the generated circuit files: model.circom, model.r1cs, model_js/model.wasm, model.sym. */
export const CIRCUIT_NAME = "model";

/** Names of the public signals in order. */
export function publicSignalNames(outputSize: number): string[] {
  return ["inputCommitment", "outputCommitment", ...Array.from({ length: outputSize }, (_, i) => `out_${i}`), "binding"];
}

/** Directory of the circom library templates shipped with the toolkit. */
export function circuitLibraryDir(): string {
  return fileURLToPath(new URL("../../circuits/lib", import.meta.url));
}

/** circomlib files the library templates include (transitively). */
const CIRCOMLIB_FILES = [
  "bitify.circom",
  "comparators.circom",
  "binsum.circom",
  "aliascheck.circom",
  "compconstant.circom",
  "poseidon.circom",
  "poseidon_constants.circom",
];

/**
 * Copies the templates the generated circuit includes into `<dir>/circuits/` (our library and the
 * circomlib files it uses), so a build directory is self-contained and auditable.
 */
export async function copyCircuitSources(dir: string): Promise<void> {
  const require = createRequire(import.meta.url);
  const circomlib = join(dirname(require.resolve("circomlib/package.json")), "circuits");
  const ours = circuitLibraryDir();
  await mkdir(join(dir, "circuits", "circomlib", "circuits"), { recursive: true });
  for (const name of await readdir(ours)) {
    if (name.endsWith(".circom")) await copyFile(join(ours, name), join(dir, "circuits", name));
  }
  for (const name of CIRCOMLIB_FILES) {
    await copyFile(join(circomlib, name), join(dir, "circuits", "circomlib", "circuits", name));
  }
}

function list(values: readonly (bigint | number)[]): string {
  return `[${values.join(", ")}]`;
}

function matrix(values: readonly bigint[], rows: number, cols: number): string {
  const lines: string[] = [];
  for (let r = 0; r < rows; r++) lines.push(`        ${list(values.slice(r * cols, (r + 1) * cols))}`);
  return `[\n${lines.join(",\n")}\n    ]`;
}

/** A C-comment-safe rendering of an ONNX node name. */
function label(text: string): string {
  return text.replace(/[^\x20-\x7e]/g, "?").replace(/\*\//g, "*?");
}

/** Generates the main circom file for a quantized model. */
export function generateCircom(model: QuantizedModel, title = "model"): string {
  const s = model.scaleBits;
  const nIn = model.input.size;
  const nOut = model.output.size;
  const W = COMMITTED_VALUE_BITS;
  if (model.inputBits > W) throw new CircuitBuildError(`the input width (${model.inputBits} bits) exceeds the ${W}-bit committed value width`);
  // Outputs proven (by the layers' range checks) to fit W bits pack as they are; wider ones are checked at W.
  const outputRangeBits = model.outputBits <= W ? 0 : W;
  const outputCheck =
    outputRangeBits === 0
      ? `Their range (${model.outputBits} bits) is proven by the layers: no check here.`
      : `Their proven range (${model.outputBits} bits) exceeds ${W} bits: checked at ${W}.`;
  // circom expression for every tensor id, and the layer that produced it (for Relu's sign reuse).
  const refs = new Map<string, string>([[model.input.id, "in"]]);
  const producers = new Map<string, { layer: QuantizedLayer; component: string }>();
  const ref = (id: string): string => {
    const r = refs.get(id);
    if (r === undefined) throw new CircuitBuildError(`tensor ${id} is used before it is computed`);
    return r;
  };
  const body: string[] = [];
  model.layers.forEach((layer, index) => {
    const c = `layer${index}`;
    body.push(`    // layer ${index}: ${layer.kind} (ONNX ${label(layer.node)})`);
    switch (layer.kind) {
      case "dense":
        body.push(
          `    var W${index}[${layer.outSize}][${layer.inSize}] = ${matrix(layer.weights, layer.outSize, layer.inSize)};`,
          `    var bias${index}[${layer.outSize}] = ${list(layer.bias)};`,
          `    var bits${index}[${layer.outSize}] = ${list(layer.bits)};`,
          `    component ${c} = Dense(${layer.outSize}, ${layer.inSize}, ${s}, W${index}, bias${index}, bits${index});`,
          `    ${c}.in <== ${ref(layer.input)};`,
        );
        break;
      case "relu": {
        const producer = producers.get(layer.input);
        if (layer.bits === undefined) {
          if (producer?.layer.kind !== "dense" && producer?.layer.kind !== "sparse") throw new CircuitBuildError(`relu "${layer.node}" expects a dense input`);
          body.push(
            `    component ${c} = ReluWithSign(${layer.size});`,
            `    ${c}.in <== ${producer.component}.out;`,
            `    ${c}.nonneg <== ${producer.component}.nonneg;`,
          );
        } else {
          body.push(
            `    var bits${index}[${layer.size}] = ${list(layer.bits)};`,
            `    component ${c} = Relu(${layer.size}, bits${index});`,
            `    ${c}.in <== ${ref(layer.input)};`,
          );
        }
        break;
      }
      case "add":
        body.push(
          `    var ia${index}[${layer.indexA.length}] = ${list(layer.indexA)};`,
          `    var ib${index}[${layer.indexB.length}] = ${list(layer.indexB)};`,
          `    component ${c} = Add(${layer.indexA.length}, ${sizeOf(model, layer.a)}, ${sizeOf(model, layer.b)}, ia${index}, ib${index});`,
          `    ${c}.a <== ${ref(layer.a)};`,
          `    ${c}.b <== ${ref(layer.b)};`,
        );
        break;
      case "addConst":
        body.push(
          `    var idx${index}[${layer.index.length}] = ${list(layer.index)};`,
          `    var c${index}[${layer.constant.length}] = ${list(layer.constant)};`,
          `    component ${c} = AddConst(${layer.index.length}, ${sizeOf(model, layer.input)}, idx${index}, c${index});`,
          `    ${c}.in <== ${ref(layer.input)};`,
        );
        break;
      default:
        body.push(...visionLayerCircom(layer, index, c, ref, (id) => sizeOf(model, id), s));
    }
    refs.set(layer.output, `${c}.out`);
    producers.set(layer.output, { layer, component: c });
    body.push("");
  });

  return `pragma circom 2.1.0;

// Generated by opg-verifier from ${label(title)}: do not edit.
// Fixed point: value = round(x * 2^${s}); input range [-2^${model.inputIntBits}, 2^${model.inputIntBits}).
// Public signals: [inputCommitment, outputCommitment, out[0..${nOut - 1}], binding].

include "opg_fixedpoint.circom";
include "opg_dense.circom";
include "opg_relu.circom";
include "opg_add.circom";
include "opg_commitment.circom";
include "opg_vision.circom";

template OpgModel() {
    ${`signal input in[${nIn}];`.padEnd(32)}// quantized input (private)
    ${"signal input binding;".padEnd(32)}// receipt binding (public)
    signal output inputCommitment;
    signal output outputCommitment;
    signal output out[${nOut}];

    // The input must be in range, so that the field arithmetic below equals integer arithmetic; the
    // commitment (commitQuantized) range-checks it (${model.inputBits} signed bits) and packs it at the
    // ${W}-bit committed value width, ${Math.floor(253 / W)} values per hashed element.
    component inputCommit = CommitPacked(${nIn}, ${s}, ${W}, ${model.inputBits});
    inputCommit.in <== in;
    inputCommitment <== inputCommit.out;

${body.join("\n")}
    out <== ${ref(model.output.id)};

    // Same commitment for the outputs. ${outputCheck}
    component outputCommit = CommitPacked(${nOut}, ${s}, ${W}, ${outputRangeBits});
    outputCommit.in <== out;
    outputCommitment <== outputCommit.out;

    // Bind the proof to one receipt: a constraint that uses the public input.
    signal bindingSquare;
    bindingSquare <== binding * binding;
}

component main {public [binding]} = OpgModel();
`;
}

function sizeOf(model: QuantizedModel, id: string): number {
  if (id === model.input.id) return model.input.size;
  for (const layer of model.layers) {
    if (layer.output !== id) continue;
    switch (layer.kind) {
      case "dense":
        return layer.outSize;
      case "relu":
        return layer.size;
      case "add":
        return layer.indexA.length;
      case "addConst":
        return layer.index.length;
      case "sparse":
      case "maxPool":
        return layer.outSize;
      case "gather":
        return layer.source.length;
    }
  }
  throw new CircuitBuildError(`unknown tensor ${id}`);
}

export interface CompileResult {
  readonly r1csPath: string;
  readonly wasmPath: string;
  readonly symPath: string;
  readonly log: string;
}

/**
 * Compiles `<dir>/model.circom` with circom 2 (the WASM build from the circom2 package), writing
 * model.r1cs, model.sym and model_js/model.wasm next to it. Runs in a child process so the compiler's
 * output is captured and the event loop stays free for progress reporting.
 */
export async function compileCircuit(
  dir: string,
  options: { onProgress?: ProgressListener; optimization?: "O0" | "O1" | "O2" } = {},
): Promise<CompileResult> {
  const require = createRequire(import.meta.url);
  const cli = require.resolve("circom2/cli.js");
  await copyCircuitSources(dir);
  // Relative paths only: the WASM compiler sees the file system through WASI preopens of the cwd.
  const args = [cli, `${CIRCUIT_NAME}.circom`, "--r1cs", "--wasm", "--sym", `--${options.optimization ?? "O2"}`, "-l", "circuits", "-o", "."];
  const stepName = "compile circuit";
  options.onProgress?.({ step: stepName });
  const ticker = setInterval(() => options.onProgress?.({ step: stepName }), 500);
  let output = "";
  const code = await new Promise<number>((resolve, reject) => {
    const child = spawn(process.execPath, args, { cwd: dir, stdio: ["ignore", "pipe", "pipe"] });
    child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.on("error", reject);
    child.on("close", (exitCode) => resolve(exitCode ?? 1));
  }).finally(() => clearInterval(ticker));
  // eslint-disable-next-line no-control-regex
  const log = output.replace(/\x1b\[[0-9;]*m/g, "");
  const r1csPath = join(dir, `${CIRCUIT_NAME}.r1cs`);
  const wasmPath = join(dir, `${CIRCUIT_NAME}_js`, `${CIRCUIT_NAME}.wasm`);
  const symPath = join(dir, `${CIRCUIT_NAME}.sym`);
  if (code !== 0 || !existsSync(r1csPath) || !existsSync(wasmPath)) {
    const firstError = log.split("\n").find((l) => /error/i.test(l)) ?? log.split("\n").find((l) => l.trim() !== "") ?? "";
    throw new CircuitBuildError(`circom failed (exit ${code}): ${firstError.trim()}`, { details: { log } });
  }
  options.onProgress?.({ step: stepName, fraction: 1, done: true });
  return { r1csPath, wasmPath, symPath, log };
}

/** Maps signal names (e.g. "main.layer0.rescale[3].quotient") to witness indices, from the .sym file. */
export async function readSymbols(symPath: string): Promise<Map<string, number>> {
  const text = await readFile(symPath, "utf8");
  const map = new Map<string, number>();
  for (const line of text.split("\n")) {
    const parts = line.split(",");
    if (parts.length < 4) continue;
    const witnessIndex = Number(parts[1]);
    const name = parts.slice(3).join(",");
    if (witnessIndex >= 0) map.set(name, witnessIndex);
  }
  return map;
}
