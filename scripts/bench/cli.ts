/**
 * CLI start-up, as a user pays it: median wall time of `node -e 0`, `opg --help` and `opg zk verify`
 * (the compiled bin, separate processes, runs interleaved so that load from other processes on the
 * machine weighs on each alike), and the median peak RSS of `opg --help` (via /usr/bin/time when present).
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

function peakMiB(args: readonly string[]): number {
  const out = spawnSync("/usr/bin/time", ["-f", "%M", process.execPath, ...args], { encoding: "utf8", stdio: ["ignore", "ignore", "pipe"] }).stderr;
  return Number(out.trim().split("\n").pop()) / 1024;
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
  for (let i = 0; i < runs; i++) {
    bare.push(timedMs(["-e", "0"]));
    help.push(timedMs([BIN, "--help"]));
    zk.push(timedMs(verify));
    if (existsSync("/usr/bin/time")) peaks.push(peakMiB([BIN, "--help"]));
  }
  return {
    nodeBareMs: Math.round(median(bare)),
    helpMs: Math.round(median(help)),
    zkVerifyMs: Math.round(median(zk)),
    helpPeakMiB: peaks.length === 0 ? null : Math.round(median(peaks) * 10) / 10,
    runs,
  };
}
