/**
 * ZK tier cost per fixture model: circuit size (constraints in total, per parameter and per neuron),
 * compile / setup / witness / proving time, the quantized TypeScript inference time and the ratio
 * prove / inference, and the public signal count with the on-chain precompile floor for it
 * (45,000 + 34,000·4 pairings + 6,150·n). The on-chain gas itself is measured by the main bench script,
 * which calls benchZk() and owns bench/results.json.
 */
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { ProgressListener } from "../../src/cli/progress.ts";
import { MNIST_MLP, writeMnistMlpFixture } from "./mnist-mlp.ts";
import {
  buildCircuit,
  dequantize,
  ensureDevPtau,
  findCachedPtau,
  flattenNested,
  MAX_LOCAL_PTAU_POWER,
  inferQuantized,
  loadBuild,
  loadProver,
  prove,
  quantizeInput,
  releaseZkResources,
  verify,
  type BuildResult,
  type ZkProofBundle,
} from "../../src/zkml/index.ts";

/** The fixtures (../shared/fixtures/onnx) and the generated MNIST MLP (mnist-mlp.ts). */
export const ZK_BENCH_FIXTURES = ["gemm-relu-3x4", "linreg-hummingbird-2x1", "linear-41x1", "sklearn-mlp-3-3-5", "mlp-41-82-82-1", MNIST_MLP, "conv-mnist-4l"] as const;

/** Image models take pixels in [0, 1): an input range of [-2, 2). The MNIST MLP is built at scale 2^10 (12 range bits per pixel, under a power-14 domain; README, Measured); the conv model at 2^12 (14 bits). */
export const ZK_BENCH_BUILD_OPTIONS: Readonly<Record<string, { readonly inputIntBits?: number; readonly scaleBits?: number }>> = {
  [MNIST_MLP]: { inputIntBits: 1, scaleBits: 10 },
  "conv-mnist-4l": { inputIntBits: 1 },
};

export interface ZkBenchOptions {
  /** Folder holding <fixture>/model.onnx and input.json (default: ../shared/fixtures/onnx next to the repo). */
  readonly fixturesDir?: string;
  readonly fixtures?: readonly string[];
  readonly scaleBits?: number;
  /** A prepared ptau; default: the cached local development ptau. */
  readonly ptauPath?: string;
  /** Minimum time spent timing the TypeScript inference, per model (ms). */
  readonly inferenceBudgetMs?: number;
  readonly onProgress?: ProgressListener;
  /** Called with each fixture's build and proof while they exist (e.g. to measure on-chain gas). */
  readonly onBuilt?: (name: string, build: BuildResult, bundle: ZkProofBundle) => Promise<void>;
}

export interface ZkBenchEntry {
  readonly constraints: number;
  readonly parameters: number;
  readonly neurons: number;
  readonly constraintsPerParameter: number;
  readonly constraintsPerNeuron: number;
  readonly scaleBits: number;
  /** Power of the ptau the circuit needs (2^power > constraints + public signals). */
  readonly ptauPower: number;
  readonly compileMs: number;
  /** Groth16 setup: new zkey from the ptau + phase-2 contribution + key export. */
  readonly setupMs: number;
  readonly witnessMs: number;
  /**
   * Groth16 proving time with a warm prover (loadProver: proving key in memory, witness generator
   * instantiated, curve workers started), the median of WARM_PROOFS proofs; what an operator node pays.
   */
  readonly proveMs: number;
  /** The witness's share of a warm proof (median). */
  readonly warmWitnessMs: number;
  /** prove() from the build folder, the first proof of the process (reads the files, starts the curve). */
  readonly coldProveMs: number;
  /** 1-minute load average when the warm proofs were timed (the machine is shared; read figures with it). */
  readonly loadAverage: number;
  /** Peak resident memory of the process while building and proving this model (MiB). */
  readonly peakRssMb: number;
  readonly verifyMs: number;
  /** One quantized TypeScript inference (mean over repeated runs). */
  readonly inferenceMs: number;
  readonly proveToInference: number;
  readonly publicSignals: number;
  /** 45,000 + 34,000·4 + 6,150·publicSignals: the precompile cost of a Groth16 check. */
  readonly verifyGasFloor: number;
  /** Largest |decoded output − onnxruntime expected.json|. */
  readonly maxAbsErrorVsExpected: number;
}

/** Warm proofs timed per model (the median is reported). */
export const WARM_PROOFS = 5;

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? NaN;
}

function round(value: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

export function defaultFixturesDir(): string {
  return fileURLToPath(new URL("../../../shared/fixtures/onnx", import.meta.url));
}

/** Builds, proves and verifies each fixture in a temp dir and reports its costs. */
export async function benchZk(options: ZkBenchOptions = {}): Promise<Record<string, ZkBenchEntry>> {
  const fixturesDir = options.fixturesDir ?? defaultFixturesDir();
  const names = options.fixtures ?? ZK_BENCH_FIXTURES;
  const budget = options.inferenceBudgetMs ?? 300;
  const root = await mkdtemp(join(tmpdir(), "opg-bench-zk-"));
  const results: Record<string, ZkBenchEntry> = {};
  let sampler: ReturnType<typeof setInterval> | undefined;
  try {
    for (const name of names) {
      const dir = name === MNIST_MLP ? join(root, `${name}-fixture`) : join(fixturesDir, name);
      if (name === MNIST_MLP) await writeMnistMlpFixture(dir);
      let peakRss = process.memoryUsage().rss;
      clearInterval(sampler);
      sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 25);
      const input = JSON.parse(await readFile(join(dir, "input.json"), "utf8")) as { input: unknown };
      const expected = flattenNested((JSON.parse(await readFile(join(dir, "expected.json"), "utf8")) as { output: unknown }).output).values;
      const build = await buildCircuit(join(dir, "model.onnx"), {
        outDir: join(root, name),
        name,
        ...ZK_BENCH_BUILD_OPTIONS[name],
        ...(options.scaleBits === undefined ? {} : { scaleBits: options.scaleBits }),
        ...(options.ptauPath === undefined ? {} : { ptauPath: options.ptauPath }),
        ...(options.onProgress === undefined ? {} : { onProgress: options.onProgress }),
      });
      const cold = await prove(build.dir, input, { binding: 1n });
      const bundle = await prove(build.dir, input, { binding: 1n });
      const prover = await loadProver(await loadBuild(build.dir));
      const warmInput = quantizeInput(build.model, flattenNested(input.input).values);
      const warm: { witness: number; prove: number }[] = [];
      const loadAverage = loadavg()[0] ?? 0;
      for (let i = 0; i < WARM_PROOFS; i++) warm.push((await prover.prove(warmInput, BigInt(i + 2))).timings);
      clearInterval(sampler);
      peakRss = Math.max(peakRss, process.memoryUsage().rss);
      const verifyStart = performance.now();
      const verdict = await verify(build.dir, bundle);
      const verifyMs = performance.now() - verifyStart;
      if (!verdict.valid) throw new Error(`bench: ${name} proof does not verify (${verdict.reason ?? ""})`);
      await options.onBuilt?.(name, build, bundle);

      const model = build.model;
      const quantized = quantizeInput(model, flattenNested(input.input).values);
      let runs = 0;
      const start = performance.now();
      let output: bigint[] = [];
      do {
        output = inferQuantized(model, quantized).output;
        runs++;
      } while (performance.now() - start < budget || runs < 10);
      const inferenceMs = (performance.now() - start) / runs;

      const m = build.metadata;
      const proveMs = median(warm.map((t) => t.prove));
      const maxAbsError = Math.max(...output.map((v, i) => Math.abs(dequantize(v, model.scaleBits) - (expected[i] ?? NaN))));
      results[name] = {
        constraints: m.circuit.constraints,
        parameters: m.parameterCount,
        neurons: m.neuronCount,
        constraintsPerParameter: round(m.circuit.constraints / Math.max(1, m.parameterCount), 3),
        constraintsPerNeuron: round(m.circuit.constraints / Math.max(1, m.neuronCount), 1),
        scaleBits: m.scaleBits,
        ptauPower: m.ptau.required,
        compileMs: build.timings.compile,
        setupMs: build.timings.setup,
        witnessMs: bundle.timings.witness,
        proveMs,
        warmWitnessMs: median(warm.map((t) => t.witness)),
        coldProveMs: cold.timings.prove,
        loadAverage: round(loadAverage, 2),
        peakRssMb: Math.round(peakRss / 2 ** 20),
        verifyMs: round(verifyMs, 1),
        inferenceMs: round(inferenceMs, 4),
        proveToInference: round(proveMs / inferenceMs, 0),
        publicSignals: m.publicSignals.length,
        verifyGasFloor: 45_000 + 34_000 * 4 + 6_150 * m.publicSignals.length,
        maxAbsErrorVsExpected: round(maxAbsError, 6),
      };
    }
  } finally {
    clearInterval(sampler);
    await rm(root, { recursive: true, force: true });
    await releaseZkResources();
  }
  return results;
}

export interface PtauBenchEntry {
  readonly power: number;
  /** True when the ptau was already in the cache (its generation was measured by an earlier run). */
  readonly cached: boolean;
  /** Time to find or generate it (new accumulator, one contribution, prepare phase 2). */
  readonly ms: number;
}

/**
 * Local ptau generation at the largest supported power (MAX_LOCAL_PTAU_POWER = 17): checks that it works
 * and measures it. The result is cached (like every local ptau), so only the first run pays for it.
 */
export async function benchPtau(power = MAX_LOCAL_PTAU_POWER, onProgress?: ProgressListener): Promise<PtauBenchEntry> {
  const cached = (await findCachedPtau(power)) !== undefined;
  const start = performance.now();
  const ptau = await ensureDevPtau(power, onProgress === undefined ? {} : { onProgress });
  return { power: ptau.power, cached, ms: Math.round(performance.now() - start) };
}

// `npx tsx scripts/bench/zk.ts` prints the table on its own.
if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  const results = await benchZk({ onProgress: (e) => (e.done ? process.stderr.write(`✔ ${e.step}\n`) : undefined) });
  console.log(JSON.stringify(results, null, 2));
}
