import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { buildCircuit, loadBuild, METADATA_FORMAT, opgCacheDir, type ZkBuild } from "../../src/zkml/index.ts";

const EXAMPLE = resolve(dirname(fileURLToPath(import.meta.url)), "../../examples/models/gemm-relu-3x4");

/** The demo's ZK classifier head and the input it classifies (an "embedding" of 3 values). */
export interface DemoHead {
  readonly build: ZkBuild;
  readonly input: number[];
  readonly expected: number[];
  /** True when the circuit was built in this run (compile + setup), false when reused from the cache. */
  readonly built: boolean;
}

/**
 * Builds the example ONNX model into a circuit once and caches it outside the repository, keyed by the
 * model's hash: the first demo run compiles and runs the Groth16 setup, later runs reuse it.
 */
export async function demoHead(log: (line: string) => void): Promise<DemoHead> {
  const onnx = await readFile(join(EXAMPLE, "model.onnx"));
  const input = (JSON.parse(await readFile(join(EXAMPLE, "input.json"), "utf8")) as { input: number[][] }).input.flat();
  const expected = (JSON.parse(await readFile(join(EXAMPLE, "expected.json"), "utf8")) as { output: number[][] }).output.flat();
  const { build, built } = await cachedBuild(onnx, "gemm-relu-3x4", log);
  return { build, input, expected, built };
}

/**
 * The circuit build of an ONNX model, cached outside the repository and keyed by the model's hash and the build
 * format (toolkits of different versions never read each other's builds): the first
 * call compiles and runs the Groth16 setup, later calls (and other scripts and tests) reuse it.
 */
export async function cachedBuild(onnx: Uint8Array, name: string, log: (line: string) => void = () => {}): Promise<{ build: ZkBuild; built: boolean }> {
  const dir = join(opgCacheDir(), "builds", createHash("sha256").update(METADATA_FORMAT).update(onnx).digest("hex").slice(0, 16));
  if (existsSync(join(dir, "model.json"))) {
    try {
      return { build: await loadBuild(dir), built: false };
    } catch {
      log("   cached circuit unusable: rebuilding");
    }
  }
  log(`   compiling the circuit and running the Groth16 setup (first run only; cached in ${dir})…`);
  await buildCircuit(onnx, { outDir: dir, name });
  return { build: await loadBuild(dir), built: true };
}
