/**
 * A real local network for end-to-end tests, every part a separate process as a user runs it:
 * `npx hardhat node` on a free 127.0.0.1 port, `npx hardhat ignition deploy` against it, and `opg …`
 * commands (bin/opg.mjs) with keys in the environment.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { freePort, ROOT } from "./processes.ts";

const HARDHAT = join(ROOT, "node_modules", "hardhat", "dist", "src", "cli.js");
const OPG = join(ROOT, "bin", "opg.mjs");

export interface Spawned {
  readonly child: ChildProcess;
  /** Everything written so far (stdout + stderr). */
  output(): string;
  /** Resolves when `pattern` appears in the output (rejects after `timeoutMs` or if the process exits). */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export function spawnLogged(command: string, args: readonly string[], env: Record<string, string>, cwd = ROOT): Spawned {
  const child = spawn(command, [...args], { cwd, env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
  let text = "";
  const waiters: (() => void)[] = [];
  const append = (chunk: Buffer) => {
    text += chunk.toString("utf8");
    for (const w of [...waiters]) w();
  };
  child.stdout!.on("data", append);
  child.stderr!.on("data", append);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolveExit) =>
    child.once("exit", (code, signal) => {
      for (const w of [...waiters]) w();
      resolveExit({ code, signal });
    }),
  );
  return {
    child,
    output: () => text,
    exited,
    waitFor(pattern, timeoutMs = 60_000) {
      return new Promise((resolveMatch, reject) => {
        const check = () => {
          const match = pattern.exec(text);
          if (match !== null) {
            cleanup();
            resolveMatch(match);
          } else if (child.exitCode !== null || child.signalCode !== null) {
            cleanup();
            reject(new Error(`process exited before printing ${pattern}:\n${text}`));
          }
        };
        const timer = setTimeout(() => {
          cleanup();
          reject(new Error(`timed out waiting for ${pattern}:\n${text.slice(-4000)}`));
        }, timeoutMs);
        const cleanup = () => {
          clearTimeout(timer);
          const i = waiters.indexOf(check);
          if (i >= 0) waiters.splice(i, 1);
        };
        waiters.push(check);
        check();
      });
    },
  };
}

/** Stops a spawned process (SIGTERM, then SIGKILL after `graceMs`). */
export async function stop(p: Spawned, graceMs = 10_000): Promise<void> {
  if (p.child.exitCode !== null || p.child.signalCode !== null) return;
  p.child.kill("SIGTERM");
  const timer = setTimeout(() => p.child.kill("SIGKILL"), graceMs);
  await p.exited;
  clearTimeout(timer);
}

export interface LocalNetwork {
  readonly rpc: string;
  readonly node: Spawned;
  /** deployed_addresses.json of this network's deployment. */
  readonly deployment: string;
  close(): Promise<void>;
}

/** Starts `npx hardhat node` on a free port and deploys the system with Ignition (as the admin account). */
export async function startNetwork(adminKey: string): Promise<LocalNetwork> {
  const port = await freePort();
  const node = spawnLogged(process.execPath, [HARDHAT, "node", "--hostname", "127.0.0.1", "--port", String(port)], {});
  await node.waitFor(/Started HTTP and WebSocket JSON-RPC server at/, 120_000);
  const rpc = `http://127.0.0.1:${port}`;
  const id = `e2e-${port}-${process.pid}`;
  const deployDir = join(ROOT, "ignition", "deployments", id);
  const deploy = spawnLogged(
    process.execPath,
    [HARDHAT, "ignition", "deploy", "ignition/modules/OpgSystem.ts", "--network", "rpc", "--parameters", "ignition/parameters/localhost.json", "--deployment-id", id],
    { OPG_RPC_URL: rpc, OPG_PRIVATE_KEY: adminKey, HARDHAT_DISABLE_TELEMETRY_PROMPT: "true" },
  );
  const { code } = await deploy.exited;
  const file = join(deployDir, "deployed_addresses.json");
  if (code !== 0 || !existsSync(file)) {
    await stop(node);
    throw new Error(`ignition deploy failed:\n${deploy.output()}`);
  }
  const deployment = join(deployDir, "..", `${id}.json`);
  // Keep the addresses, drop Ignition's journal from the repository tree.
  const addresses = readFileSync(file, "utf8");
  rmSync(deployDir, { recursive: true, force: true });
  writeFileSync(deployment, addresses);
  return {
    rpc,
    node,
    deployment,
    async close() {
      rmSync(deployment, { force: true });
      await stop(node);
    },
  };
}

export interface OpgRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `opg args…` as a separate process. */
export function opg(args: readonly string[], env: Record<string, string>, cwd = ROOT): Promise<OpgRun> {
  return new Promise((resolveRun) => {
    const child = spawn(process.execPath, [OPG, ...args], { cwd, env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c: Buffer) => (stdout += c.toString("utf8")));
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString("utf8")));
    child.once("exit", (code) => resolveRun({ code, stdout, stderr }));
  });
}

/** Starts `opg args…` as a long-running process (the operator node). */
export function startOpg(args: readonly string[], env: Record<string, string>, cwd = ROOT): Spawned {
  return spawnLogged(process.execPath, [OPG, ...args], env, cwd);
}
