/**
 * A `hardhat node` in a child process on a free 127.0.0.1 port: the JSON-RPC chain a user's wallet,
 * the CLI and the explorer talk to (never the fixed 8545: other test runs share the machine).
 */
import { spawn, type ChildProcess } from "node:child_process";
import { rm } from "node:fs/promises";
import { createServer } from "node:net";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { network } from "hardhat";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export interface RpcNode {
  readonly url: string;
  readonly port: number;
  /**
   * Ignition journals deployments on a JSON-RPC network under ignition/deployments/<id>: deploy with
   * this id (deployOn's options), which is unique to the node and removed when it stops.
   */
  readonly deploymentId: string;
  /** A Hardhat connection to the node (ethers, ignition, the node's unlocked accounts). */
  readonly connection: Awaited<ReturnType<typeof network.create>>;
  stop(): Promise<void>;
}

/** Starts `hardhat node` and waits until it answers. */
export async function startRpcNode(): Promise<RpcNode> {
  const port = await freePort();
  const child: ChildProcess = spawn(process.execPath, [join(ROOT, "node_modules", "hardhat", "dist", "src", "cli.js"), "node", "--hostname", "127.0.0.1", "--port", String(port)], {
    cwd: ROOT,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`hardhat node did not start:\n${output}`)), 120_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes(`127.0.0.1:${port}`)) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout?.on("data", onData);
    child.stderr?.on("data", onData);
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`hardhat node exited (${code}):\n${output}`));
    });
  });
  child.stdout?.resume();
  child.stderr?.resume();
  const url = `http://127.0.0.1:${port}`;
  const connection = await network.create({ network: "localhost", override: { url } });
  const deploymentId = `test-rpc-${port}-${process.pid}`;
  return {
    url,
    port,
    deploymentId,
    connection,
    stop: async () => {
      await rm(join(ROOT, "ignition", "deployments", deploymentId), { recursive: true, force: true });
      await connection.close();
      if (child.exitCode === null) {
        const exited = new Promise((resolve) => child.once("exit", resolve));
        child.kill("SIGTERM");
        await exited;
      }
    },
  };
}
