/**
 * Commands as a user runs them: `node bin/opg.mjs …` in a child process (with a timeout: a command that prints its
 * result and never exits is a failure), against `hardhat node` started on a free 127.0.0.1 port.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { createServer } from "node:net";
import { join } from "node:path";

export const ROOT = join(import.meta.dirname, "..", "..");

export interface ProcessRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  /** True when the process was still running at the timeout and had to be killed. */
  readonly timedOut: boolean;
  readonly ms: number;
}

/** A port nobody listens on right now (the OS picks it). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => (typeof address === "object" && address !== null ? resolve(address.port) : reject(new Error("no port"))));
    });
  });
}

/** Runs `node bin/opg.mjs args…` in `cwd`; kills it after `timeoutMs`. */
export function runOpgProcess(args: readonly string[], options: { cwd: string; env: Record<string, string>; timeoutMs: number }): Promise<ProcessRun> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(ROOT, "bin", "opg.mjs"), ...args], {
      cwd: options.cwd,
      env: { PATH: process.env["PATH"] ?? "", HOME: process.env["HOME"] ?? "", ...options.env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    let timedOut = false;
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString("utf8")));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString("utf8")));
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill("SIGKILL");
    }, options.timeoutMs);
    child.once("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, timedOut, ms: Date.now() - started });
    });
  });
}

export interface HardhatNode {
  readonly url: string;
  stop(): Promise<void>;
}

/** Starts `hardhat node` on a free 127.0.0.1 port and waits until it answers JSON-RPC. */
export async function startHardhatNode(timeoutMs = 120_000): Promise<HardhatNode> {
  const port = await freePort();
  const child: ChildProcess = spawn(process.execPath, [join(ROOT, "node_modules", "hardhat", "dist", "src", "cli.js"), "node", "--hostname", "127.0.0.1", "--port", String(port)], {
    cwd: ROOT,
    env: { ...process.env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  const stop = () =>
    new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      child.once("close", () => resolve());
      child.kill("SIGTERM");
    });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      void stop();
      reject(new Error(`hardhat node did not start within ${timeoutMs} ms:\n${output}`));
    }, timeoutMs);
    const onData = (chunk: Buffer) => {
      output += chunk.toString("utf8");
      if (output.includes(`127.0.0.1:${port}`)) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout!.on("data", onData);
    child.stderr!.on("data", onData);
    child.once("close", (code) => {
      clearTimeout(timer);
      reject(new Error(`hardhat node exited (${code}) before listening:\n${output}`));
    });
  });
  return { url: `http://127.0.0.1:${port}`, stop };
}

export const OPG_BIN = join(ROOT, "bin", "opg.mjs");

/** `runOpgProcess` with arguments in the order the role tests read best (cwd, env, args), 5-minute timeout. */
export async function opgProcess(cwd: string, env: Record<string, string>, args: readonly string[]): Promise<ProcessRun> {
  return runOpgProcess(args, { cwd, env, timeoutMs: 300_000 });
}
