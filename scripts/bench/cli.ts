/**
 * CLI start-up, as a user pays it: median wall time of `node -e 0`, `opg --help` and `opg zk verify`
 * (the compiled bin, separate processes, runs interleaved so that load from other processes on the
 * machine weighs on each alike), the median peak RSS of `opg --help` and the median CPU time of
 * `opg zk verify` (via GNU time, /usr/bin/time, when present).
 * Runnable alone: `npm run bench -- --cli` measures only this and merges it into bench/results.json.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { prove, releaseZkResources } from "../../src/zkml/index.ts";

const BIN = fileURLToPath(new URL("../../bin/opg.mjs", import.meta.url));

export interface CliBench {
  readonly helpMs: number;
  readonly zkVerifyMs: number;
  readonly helpPeakMiB: number | null;
  readonly nodeBareMs: number;
  /** CPU time (user + system) of `opg zk verify`: what it costs when the machine is not shared. */
  readonly zkVerifyCpuMs: number | null;
  readonly runs: number;
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
};

function timedMs(args: readonly string[]): number {
  const start = performance.now();
  const r = spawnSync(process.execPath, args, { stdio: "ignore" });
  if (r.status !== 0) throw new Error(`node ${args.join(" ")} exited ${r.status}`);
  return performance.now() - start;
}

/** Peak RSS (MiB) and CPU time (ms) of one run, from GNU time. */
function resources(args: readonly string[]): { peakMiB: number; cpuMs: number } {
  const out = spawnSync("/usr/bin/time", ["-f", "%M %U %S", process.execPath, ...args], { encoding: "utf8", stdio: ["ignore", "ignore", "pipe"] }).stderr;
  const [kib, user, system] = (out.trim().split("\n").pop() ?? "").split(" ").map(Number) as [number, number, number];
  return { peakMiB: kib / 1024, cpuMs: (user + system) * 1000 };
}

export async function benchCli(buildDir: string, input: unknown, runs = 9): Promise<CliBench> {
  const dir = mkdtempSync(join(tmpdir(), "opg-bench-cli-"));
  const bundle = await prove(buildDir, input);
  await releaseZkResources();
  const proofPath = join(dir, "proof.json");
  writeFileSync(proofPath, JSON.stringify(bundle));
  const verify = [BIN, "zk", "verify", buildDir, proofPath];
  timedMs(verify); // warm the file cache once
  const bare: number[] = [];
  const help: number[] = [];
  const zk: number[] = [];
  const peaks: number[] = [];
  const zkCpu: number[] = [];
  for (let i = 0; i < runs; i++) {
    bare.push(timedMs(["-e", "0"]));
    help.push(timedMs([BIN, "--help"]));
    zk.push(timedMs(verify));
    if (existsSync("/usr/bin/time")) {
      peaks.push(resources([BIN, "--help"]).peakMiB);
      zkCpu.push(resources(verify).cpuMs);
    }
  }
  return {
    nodeBareMs: Math.round(median(bare)),
    helpMs: Math.round(median(help)),
    zkVerifyMs: Math.round(median(zk)),
    helpPeakMiB: peaks.length === 0 ? null : Math.round(median(peaks) * 10) / 10,
    zkVerifyCpuMs: zkCpu.length === 0 ? null : Math.round(median(zkCpu)),
    runs,
  };
}
