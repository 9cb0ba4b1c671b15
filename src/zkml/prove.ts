/**
 * Proving and verifying inferences of a built model (see build.ts for the directory layout).
 *
 * proof.json (ZkProofBundle) holds the Groth16 proof, the public signals
 * [inputCommitment, outputCommitment, out_0 … out_{n-1}, binding], and for convenience the decoded
 * float outputs nested like the model's output shape. `verify` checks the proof against the build's
 * verifying key and that the convenience fields agree with the public signals.
 */
/// <reference path="../types/snarkjs.d.ts" preserve="true" />
import { readFile } from "node:fs/promises";
import { snarkjs } from "./snarkjs.ts";
import type { Groth16Proof } from "snarkjs";
import type { ProgressListener } from "./progress.ts";
import { InvalidInputError } from "../errors.ts";
import { commitQuantized, fromField, SNARK_SCALAR_FIELD, toCommitment, type Commitment } from "../commitments/index.ts";
import { checkBuildArtifacts, loadBuild, type ZkBuild } from "./build.ts";
import { ZkArtifactError, ZkProofFormatError, ZkProveError } from "./errors.ts";
import { groth16Verify } from "./groth16.ts";
import { canonicalProof, checkVerificationKey, loadZkeyVerificationKey, verifyingKeyHash, type Groth16VerificationKey } from "./evm.ts";
import { snarkjsLogger, step } from "./progress.ts";
import { dequantize, fieldString, inferQuantized, quantizeInput, type QuantizedModel } from "./quantize.ts";
import { flattenNested, nestValues, type NestedNumbers } from "./tensor.ts";
import { calculateWitness, circuitInput } from "./witness.ts";

export const PROOF_FORMAT = "opg-zkml-proof/1";

/** proof.json */
export interface ZkProofBundle {
  readonly format: typeof PROOF_FORMAT;
  readonly model: { readonly name: string; readonly weightsCommitment: string; readonly verifyingKeyHash: string };
  readonly proof: Groth16Proof;
  readonly publicSignals: string[];
  readonly inputCommitment: Commitment;
  readonly outputCommitment: Commitment;
  /** The binding public input as 32-byte hex (the receipt id reduced mod p). */
  readonly binding: Commitment;
  readonly scaleBits: number;
  /** Decoded outputs (quantized value / 2^s), nested like the model's output shape. */
  readonly output: NestedNumbers;
  readonly outputShape: readonly number[];
  /** Float64 evaluation of the source ONNX model on the same input, and the largest |difference|. */
  readonly floatOutput?: NestedNumbers;
  readonly quantizationError?: number;
  /** Milliseconds spent computing the witness and the proof. */
  readonly timings: { readonly witness: number; readonly prove: number };
}

export interface ProveOptions {
  /** Receipt id (bigint or hex string); reduced mod the BN254 scalar field. Default 0. */
  readonly binding?: bigint | string;
  readonly onProgress?: ProgressListener;
}

/** Parses a binding value: a bigint or a hex string (0x optional), reduced mod the scalar field. */
export function parseBinding(value: bigint | string | undefined): bigint {
  if (value === undefined) return 0n;
  if (typeof value === "bigint") {
    if (value < 0n) throw new InvalidInputError("binding must not be negative");
    return value % SNARK_SCALAR_FIELD;
  }
  const hex = value.startsWith("0x") || value.startsWith("0X") ? value.slice(2) : value;
  if (!/^[0-9a-fA-F]{1,64}$/.test(hex)) throw new InvalidInputError(`binding must be hex of at most 32 bytes, got "${value}"`);
  return BigInt(`0x${hex}`) % SNARK_SCALAR_FIELD;
}

/** Accepts a nested array, or an object with an `input` field (the fixtures' input.json). */
export function readInputValues(input: unknown, model: QuantizedModel): number[] {
  const nested = typeof input === "object" && input !== null && !Array.isArray(input) && "input" in input ? (input as { input: unknown }).input : input;
  const { values, shape } = flattenNested(nested);
  if (values.length !== model.input.size) {
    throw new InvalidInputError(
      `the model takes ${model.input.size} input values (shape [${model.input.shape.join(",")}]), got ${values.length}`,
    );
  }
  // The shape must be the model's, up to leading dimensions of size 1 (the batch): [[1],[2],[3]] is not [1,3].
  const core = (dims: readonly number[]): string => {
    let first = 0;
    while (first < dims.length && dims[first] === 1) first++;
    return dims.slice(first).join(",");
  };
  if (core(shape) !== core(model.input.shape)) {
    throw new InvalidInputError(`the model takes an input of shape [${model.input.shape.join(",")}], got shape [${shape.join(",")}]`);
  }
  return values;
}

/** Proves one inference of the model built in `dir`. */
export async function prove(dir: string | ZkBuild, input: unknown, options: ProveOptions = {}): Promise<ZkProofBundle> {
  const build = typeof dir === "string" ? await loadBuild(dir) : dir;
  const { model, paths, metadata } = build;
  const onProgress = options.onProgress;
  // loadBuild checked verification_key.json against model.json; the witness generator and the proving
  // key must be the ones the build recorded, and the proving key must not be forgeable either.
  const zkeyVk = await loadZkeyVerificationKey(paths.zkey);
  if (verifyingKeyHash(zkeyVk) !== verifyingKeyHash(build.verificationKey)) {
    throw new ZkArtifactError(`${paths.zkey} does not belong to ${paths.verificationKey}`);
  }
  await checkBuildArtifacts(build, ["wasm", "zkey"]);

  const binding = parseBinding(options.binding);
  const quantizedInput = quantizeInput(model, readInputValues(input, model));
  const reference = inferQuantized(model, quantizedInput);
  const inputCommitment = await commitQuantized(quantizedInput, model.scaleBits);
  const outputCommitment = await commitQuantized(reference.output, model.scaleBits);

  const witnessStart = Date.now();
  const witness = await step("witness", onProgress, () => calculateWitness(paths.wasm, circuitInput(quantizedInput, binding)));
  const witnessMs = Date.now() - witnessStart;
  const proveStart = Date.now();
  let result: { proof: Groth16Proof; publicSignals: string[] };
  try {
    result = await step("prove", onProgress, async () => (await snarkjs()).groth16.prove(paths.zkey, witness, snarkjsLogger("prove", onProgress)));
  } catch (error) {
    throw new ZkProveError("Groth16 proving failed", { cause: error });
  }
  const proveMs = Date.now() - proveStart;

  const expected = [
    BigInt(inputCommitment).toString(),
    BigInt(outputCommitment).toString(),
    ...reference.output.map(fieldString),
    binding.toString(),
  ];
  if (expected.length !== result.publicSignals.length || expected.some((v, i) => v !== result.publicSignals[i])) {
    throw new ZkProveError("the circuit's public signals differ from the TypeScript reference inference");
  }

  const outputValues = reference.output.map((v) => dequantize(v, model.scaleBits));
  let floatOutput: NestedNumbers | undefined;
  let quantizationError: number | undefined;
  try {
    // onnx-proto is loaded only to prove (verification never reads the ONNX model).
    const { evaluateFloat, importOnnx } = await import("./onnx.ts");
    const graph = importOnnx(await readFile(paths.onnx));
    const floats = Array.from(evaluateFloat(graph, readInputValues(input, model)));
    floatOutput = nestValues(floats, model.output.shape);
    quantizationError = Math.max(0, ...floats.map((f, i) => Math.abs(f - (outputValues[i] ?? 0))));
  } catch {
    // The float reference is informative only; a build without model.onnx still proves.
  }

  return {
    format: "opg-zkml-proof/1",
    model: { name: metadata.name, weightsCommitment: metadata.weightsCommitment, verifyingKeyHash: metadata.verifyingKeyHash },
    proof: result.proof,
    publicSignals: result.publicSignals,
    inputCommitment,
    outputCommitment,
    binding: toCommitment(binding),
    scaleBits: model.scaleBits,
    output: nestValues(outputValues, model.output.shape),
    outputShape: [...model.output.shape],
    ...(floatOutput === undefined ? {} : { floatOutput, quantizationError: quantizationError ?? 0 }),
    timings: { witness: witnessMs, prove: proveMs },
  };
}

export interface VerifyResult {
  readonly valid: boolean;
  /** Why the proof was refused (undefined when valid). */
  readonly reason?: string;
}

/** Checks a Groth16 proof against public signals with a (non-forgeable) verifying key. */
export async function verifyGroth16(vk: Groth16VerificationKey, publicSignals: readonly string[], proof: Groth16Proof): Promise<boolean> {
  checkVerificationKey(vk);
  if (publicSignals.length !== vk.nPublic) return false;
  for (const s of publicSignals) {
    if (typeof s !== "string" || !/^[0-9]+$/.test(s) || BigInt(s) >= SNARK_SCALAR_FIELD) return false;
  }
  let canonical: Groth16Proof;
  try {
    canonical = canonicalProof(proof);
  } catch (error) {
    if (error instanceof ZkProofFormatError) return false; // not what the chain would accept
    throw error;
  }
  return groth16Verify(vk, publicSignals, canonical); // malformed points (not on the curve, wrong shape) are not valid
}

export interface VerifyOptions {
  /**
   * The key hash the proof must be checked against, from a source other than the build directory: the
   * key registered on-chain for the model (keccak256 of its words), or a model card. A build whose key
   * differs is refused (invalid), whatever its files say.
   */
  readonly verifyingKeyHash?: string;
}

/**
 * Verifies a proof.json (parsed object or JSON text) against the build in `dir`. The build's key must
 * match model.json (loadBuild), the key hash the bundle names (`model.verifyingKeyHash`) and, when
 * given, `options.verifyingKeyHash`.
 */
export async function verify(dir: string | ZkBuild, proofJson: unknown, options: VerifyOptions = {}): Promise<VerifyResult> {
  const build = typeof dir === "string" ? await loadBuild(dir) : dir;
  const vk = build.verificationKey;
  const keyHash = verifyingKeyHash(vk);
  if (options.verifyingKeyHash !== undefined && options.verifyingKeyHash.toLowerCase() !== keyHash) {
    return { valid: false, reason: `the build's verifying key (hash ${keyHash}) is not the expected key ${options.verifyingKeyHash}` };
  }
  let bundle: unknown = proofJson;
  if (typeof proofJson === "string") {
    try {
      bundle = JSON.parse(proofJson);
    } catch (error) {
      throw new ZkProofFormatError("proof file is not JSON", { cause: error });
    }
  }
  if (typeof bundle !== "object" || bundle === null) throw new ZkProofFormatError("proof file is not a JSON object");
  const b = bundle as Partial<Record<keyof ZkProofBundle, unknown>>;
  if (typeof b.proof !== "object" || b.proof === null) throw new ZkProofFormatError("proof file has no proof");
  if (!Array.isArray(b.publicSignals) || !b.publicSignals.every((s) => typeof s === "string")) {
    throw new ZkProofFormatError("proof file has no publicSignals array");
  }
  const publicSignals = b.publicSignals as string[];
  const { model } = build;
  if (b.model !== undefined) {
    const named = typeof b.model === "object" && b.model !== null ? (b.model as { verifyingKeyHash?: unknown }).verifyingKeyHash : undefined;
    if (typeof named !== "string") throw new ZkProofFormatError("proof file's model has no verifyingKeyHash");
    if (named.toLowerCase() !== keyHash) {
      return { valid: false, reason: `the proof names verifying key ${named}, the build's key is ${keyHash}` };
    }
  }
  if (publicSignals.length !== build.metadata.publicSignals.length || vk.nPublic !== publicSignals.length) {
    return { valid: false, reason: `expected ${build.metadata.publicSignals.length} public signals, got ${publicSignals.length}` };
  }
  try {
    canonicalProof(b.proof as Groth16Proof);
  } catch (error) {
    if (!(error instanceof ZkProofFormatError)) throw error;
    return { valid: false, reason: `the proof is not in the canonical form the chain accepts: ${error.message}` };
  }
  if (!(await verifyGroth16(vk, publicSignals, b.proof as Groth16Proof))) {
    return { valid: false, reason: "the Groth16 proof does not verify for these public signals" };
  }
  // The convenience fields must say what the public signals say.
  const signal = (i: number): bigint => BigInt(publicSignals[i] ?? "0");
  const n = model.output.size;
  const checks: [string, boolean][] = [
    ["inputCommitment", b.inputCommitment === undefined || b.inputCommitment === toCommitment(signal(0))],
    ["outputCommitment", b.outputCommitment === undefined || b.outputCommitment === toCommitment(signal(1))],
    ["binding", b.binding === undefined || b.binding === toCommitment(signal(n + 2))],
  ];
  if (b.output !== undefined) {
    let decoded: number[] | undefined;
    try {
      decoded = flattenNested(b.output).values;
    } catch {
      decoded = undefined;
    }
    const expected = Array.from({ length: n }, (_, i) => dequantize(fromField(signal(i + 2)), model.scaleBits));
    checks.push(["output", decoded !== undefined && decoded.length === n && decoded.every((v, i) => v === expected[i])]);
  }
  const failed = checks.find(([, ok]) => !ok);
  if (failed !== undefined) return { valid: false, reason: `"${failed[0]}" does not match the public signals` };
  return { valid: true };
}

/** Decodes the outputs carried in public signals (signed, scaled) into floats nested like the output. */
export function decodeOutputs(model: QuantizedModel, publicSignals: readonly string[]): NestedNumbers {
  const values = Array.from({ length: model.output.size }, (_, i) =>
    dequantize(fromField(BigInt(publicSignals[i + 2] ?? "0")), model.scaleBits),
  );
  return nestValues(values, model.output.shape);
}

export { releaseZkResources } from "./snarkjs.ts";
