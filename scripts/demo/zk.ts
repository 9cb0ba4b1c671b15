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
  // Keyed by the model and the build format, so builds of another toolkit version never collide.
  const dir = join(opgCacheDir(), "builds", createHash("sha256").update(onnx).update(METADATA_FORMAT).digest("hex").slice(0, 16));
  const input = (JSON.parse(await readFile(join(EXAMPLE, "input.json"), "utf8")) as { input: number[][] }).input.flat();
  const expected = (JSON.parse(await readFile(join(EXAMPLE, "expected.json"), "utf8")) as { output: number[][] }).output.flat();
  if (existsSync(join(dir, "model.json"))) {
    try {
      return { build: await loadBuild(dir), input, expected, built: false };
    } catch {
      log("   cached circuit unusable: rebuilding");
    }
  }
  log(`   compiling the circuit and running the Groth16 setup (first run only; cached in ${dir})…`);
  await buildCircuit(onnx, { outDir: dir, name: "gemm-relu-3x4" });
  return { build: await loadBuild(dir), input, expected, built: true };
}
