/**
 * Shared fixtures for the zkml tests: the ONNX fixtures, one cached local ptau, and circuits built once
 * per test run (in a temp dir) and reused by every test file.
 */
import { createHash } from "node:crypto";
import { existsSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import * as ort from "onnxruntime-web";
import { circuitLibraryDir } from "../../src/zkml/circuit.ts";
import {
  buildCircuit,
  ensureDevPtau,
  generateCircom,
  importOnnx,
  loadBuild,
  METADATA_FORMAT,
  opgCacheDir,
  quantize,
  type ZkBuild,
  flattenNested,
  QUANTIZATION_TOLERANCE,
  releaseZkResources,
  type BuildResult,
} from "../../src/zkml/index.ts";

export const FIXTURES_DIR = resolve(dirname(fileURLToPath(import.meta.url)), "../../../shared/fixtures/onnx");

/** Every fixture except the conv net (built in conv.test.ts, cached: see cachedBuild). */
export const FIXTURES = ["gemm-relu-3x4", "linreg-hummingbird-2x1", "linear-41x1", "sklearn-mlp-3-3-5", "mlp-41-82-82-1"] as const;
export type FixtureName = (typeof FIXTURES)[number];

/** Power of the shared local ptau: the largest default-scale fixture (mlp, 8,144 constraints) needs 13. */
export const TEST_PTAU_POWER = 13;

export interface Fixture {
  readonly name: string;
  readonly dir: string;
  readonly onnx: Uint8Array;
  readonly input: unknown;
  readonly inputValues: number[];
  readonly expected: number[];
  readonly expectedShape: number[];
  readonly expectedNested: unknown;
}

export function fixture(name: string): Fixture {
  const dir = join(FIXTURES_DIR, name);
  const input = JSON.parse(readFileSync(join(dir, "input.json"), "utf8")) as { input: unknown };
  const expected = JSON.parse(readFileSync(join(dir, "expected.json"), "utf8")) as { output: unknown; shape: number[] };
  return {
    name,
    dir,
    onnx: readFileSync(join(dir, "model.onnx")),
    input,
    inputValues: flattenNested(input.input).values,
    expected: flattenNested(expected.output).values,
    expectedShape: expected.shape,
    expectedNested: expected.output,
  };
}

/** Runs a model with onnxruntime (float32) and returns the flat output and its shape. */
export async function runOrt(bytes: Uint8Array, inputName: string, values: number[], shape: number[]): Promise<{ data: number[]; dims: number[] }> {
  const session = await ort.InferenceSession.create(bytes);
  const result = await session.run({ [inputName]: new ort.Tensor("float32", Float32Array.from(values), shape) });
  const out = result[session.outputNames[0] ?? ""];
  if (out === undefined) throw new Error("onnxruntime returned no output");
  return { data: Array.from(out.data as Float32Array), dims: [...out.dims] };
}

/** The documented tolerance: |quantized − float| ≤ absolute + relative · |float|. */
export function withinTolerance(actual: number, expected: number): boolean {
  return Math.abs(actual - expected) <= QUANTIZATION_TOLERANCE.absolute + QUANTIZATION_TOLERANCE.relative * Math.abs(expected);
}

/** Deterministic pseudo-random numbers in [0, 1) (xorshift32) so failures reproduce. */
export function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s / 2 ** 32;
  };
}

export const TEMP_ROOT = mkdtempSync(join(tmpdir(), "opg-zkml-test-"));

let ptau: Promise<{ path: string; power: number }> | undefined;
/** One local ptau for the whole run, cached outside the repository (see ptauCacheDir). */
export function sharedPtau(): Promise<{ path: string; power: number }> {
  ptau ??= ensureDevPtau(TEST_PTAU_POWER);
  return ptau;
}

const builds = new Map<string, Promise<BuildResult>>();
/** Builds a fixture once per run (default scale, shared ptau). */
export function builtFixture(name: FixtureName): Promise<BuildResult> {
  let build = builds.get(name);
  if (build === undefined) {
    build = sharedPtau().then(() => buildCircuit(fixture(name).onnx, { outDir: join(TEMP_ROOT, name), name }));
    builds.set(name, build);
  }
  return build;
}

/** Builds every fixture sequentially (2 cores: parallel builds only contend). */
export async function buildAllFixtures(): Promise<Map<FixtureName, BuildResult>> {
  const out = new Map<FixtureName, BuildResult>();
  for (const name of FIXTURES) out.set(name, await builtFixture(name));
  return out;
}

// Root-level hook: stop snarkjs's worker threads and remove the temp builds after the whole run.
after(async () => {
  await releaseZkResources();
  rmSync(TEMP_ROOT, { recursive: true, force: true });
});

/**
 * A build cached across runs in $OPG_CACHE_DIR/builds (default ~/.cache/opg-verifier/builds), addressed
 * by what determines it: the generated circuit, the library templates and the build options. A change
 * to any of them gets a fresh build; otherwise compile and setup (minutes for the conv net) are skipped.
 */
export async function cachedBuild(name: string, onnx: Uint8Array, options: { scaleBits?: number; inputIntBits?: number } = {}): Promise<ZkBuild> {
  const model = quantize(importOnnx(onnx), options);
  const hash = createHash("sha256").update(generateCircom(model, name)).update(JSON.stringify({ options, format: METADATA_FORMAT }));
  const lib = circuitLibraryDir();
  for (const file of readdirSync(lib).sort()) hash.update(file).update(readFileSync(join(lib, file)));
  const dir = join(opgCacheDir(), "builds", `${name}-${hash.digest("hex").slice(0, 16)}`);
  if (existsSync(join(dir, "model.json"))) {
    try {
      return await loadBuild(dir);
    } catch {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  rmSync(dir, { recursive: true, force: true }); // an incomplete build
  const tmp = `${dir}.tmp-${process.pid}`;
  await buildCircuit(onnx, { outDir: tmp, name, ...options });
  try {
    renameSync(tmp, dir);
  } catch {
    rmSync(tmp, { recursive: true, force: true }); // another run finished the same build first
  }
  return loadBuild(dir);
}
