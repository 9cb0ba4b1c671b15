/**
 * CLI start-up, as a user pays it: median wall time of `node -e 0`, `opg --help` and `opg zk verify`
 * (the compiled bin, separate processes), and the peak RSS of `opg --help` (via /usr/bin/time when present).
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { prove, releaseZkResources } from "../../src/zkml/index.ts";

const BIN = fileURLToPath(new URL("../../bin/opg.mjs", import.meta.url));

function medianMs(args: string[], runs = 7): number {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    const r = spawnSync(process.execPath, args, { stdio: "ignore" });
    if (r.status !== 0) throw new Error(`${args.join(" ")} exited ${r.status}`);
    times.push(performance.now() - start);
  }
  times.sort((a, b) => a - b);
  return Math.round(times[Math.floor(times.length / 2)]!);
}

export async function benchCli(buildDir: string, input: unknown): Promise<{ helpMs: number; zkVerifyMs: number; helpPeakMiB: number | null; nodeBareMs: number }> {
  const dir = mkdtempSync(join(tmpdir(), "opg-bench-cli-"));
  const bundle = await prove(buildDir, input);
  await releaseZkResources();
  writeFileSync(join(dir, "proof.json"), JSON.stringify(bundle));
  let helpPeakMiB: number | null = null;
  if (existsSync("/usr/bin/time")) {
    const out = spawnSync("/usr/bin/time", ["-f", "%M", process.execPath, BIN, "--help"], { encoding: "utf8", stdio: ["ignore", "ignore", "pipe"] }).stderr;
    helpPeakMiB = Math.round((Number(out.trim().split("\n").pop()) / 1024) * 10) / 10;
  }
  return {
    nodeBareMs: medianMs(["-e", "0"]),
    helpMs: medianMs([BIN, "--help"]),
    zkVerifyMs: medianMs([BIN, "zk", "verify", buildDir, join(dir, "proof.json")], 5),
    helpPeakMiB,
  };
}
