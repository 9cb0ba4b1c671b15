/**
 * Separate processes for end-to-end tests: `npx hardhat node` on a free 127.0.0.1 port, the system
 * deployed to it from the compiled artifacts, and `node bin/opg.mjs …` run as a user would.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import { createServer } from "node:net";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { ContractFactory, JsonRpcProvider, NonceManager, Wallet, type InterfaceAbi } from "ethers";
import type { Deployment } from "../../src/settlement/index.ts";
import { keyOf } from "./cli.ts";

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");

/** A port nobody listens on right now (the OS picks it). */
export function freePort(): Promise<number> {
  return new Promise((ok, fail) => {
    const server = createServer();
    server.once("error", fail);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => (typeof address === "object" && address !== null ? ok(address.port) : fail(new Error("no port"))));
    });
  });
}

export interface LocalNode {
  readonly url: string;
  readonly provider: JsonRpcProvider;
  stop(): Promise<void>;
}

/** Starts `npx hardhat node` on a free port and waits until it answers. */
export async function startHardhatNode(): Promise<LocalNode> {
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    const child = spawn("npx", ["hardhat", "node", "--hostname", "127.0.0.1", "--port", String(port)], { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"], detached: true });
    let output = "";
    child.stdout!.on("data", (d: Buffer) => void (output += d.toString()));
    child.stderr!.on("data", (d: Buffer) => void (output += d.toString()));
    const url = `http://127.0.0.1:${port}`;
    const started = Date.now();
    while (Date.now() - started < 120_000 && child.exitCode === null) {
      if (output.includes(`${port}`)) {
        const provider = new JsonRpcProvider(url, undefined, { staticNetwork: true, pollingInterval: 200 });
        try {
          await provider.getBlockNumber();
          return { url, provider, stop: () => stopProcess(child) };
        } catch {
          provider.destroy();
        }
      }
      await new Promise((r) => setTimeout(r, 250));
    }
    await stopProcess(child);
    if (!output.includes("EADDRINUSE")) throw new Error(`hardhat node did not start:\n${output.slice(-2000)}`);
  }
  throw new Error("hardhat node: no free port after 3 attempts");
}

export function stopProcess(child: ChildProcess): Promise<void> {
  return new Promise((ok) => {
    if (child.exitCode !== null || child.pid === undefined) return ok();
    child.once("exit", () => ok());
    try {
      process.kill(-child.pid, "SIGTERM"); // the whole group: npx and the node it started
    } catch {
      ok();
    }
  });
}

function artifact(path: string, name: string): { abi: InterfaceAbi; bytecode: string } {
  return JSON.parse(readFileSync(join(ROOT, "artifacts", "contracts", path, `${name}.json`), "utf8")) as { abi: InterfaceAbi; bytecode: string };
}

/** Deploys the system (as Ignition's OpgSystem does) with account 0 as admin and treasury. */
export async function deployTo(provider: JsonRpcProvider, options: { minimumStake: bigint }): Promise<Deployment> {
  const admin = new NonceManager(new Wallet(keyOf(0), provider));
  const me = await admin.getAddress();
  const deploy = async (path: string, name: string, args: unknown[]) => {
    const { abi, bytecode } = artifact(path, name);
    const contract = await new ContractFactory(abi, bytecode, admin).deploy(...args);
    await contract.waitForDeployment();
    return contract;
  };
  const token = await deploy("OPGToken.sol", "OPGToken", [me, 1_000_000_000n * 10n ** 18n]);
  const verifier = await deploy("verifiers/Groth16Verifier.sol", "Groth16Verifier", []);
  const models = await deploy("ModelRegistry.sol", "ModelRegistry", [me, verifier.target]);
  const operators = await deploy("OperatorRegistry.sol", "OperatorRegistry", [me, token.target, options.minimumStake, 7n * 86_400n]);
  const quorum = await deploy("verifiers/AttesterQuorum.sol", "AttesterQuorum", [me, [me], 1]);
  const enclaves = await deploy("EnclaveRegistry.sol", "EnclaveRegistry", [me, models.target, operators.target, quorum.target, 3_600, 86_400]);
  const hub = await deploy("InferenceHub.sol", "InferenceHub", [
    { admin: me, feeToken: token.target, treasury: me, operatorBps: 7_000, modelOwnerBps: 2_000, models: models.target, operators: operators.target, enclaves: enclaves.target, verifier: verifier.target },
  ]);
  const requests = await deploy("requests/RequestBook.sol", "RequestBook", [hub.target, models.target, operators.target, enclaves.target, verifier.target]);
  await (await (hub.getFunction("setRequestBook")(requests.target) as Promise<{ wait(): Promise<unknown> }>)).wait();
  const at = (c: { target: unknown }) => c.target as string;
  return { token: at(token), hub: at(hub), models: at(models), operators: at(operators), enclaves: at(enclaves), quorum: at(quorum), verifier: at(verifier), requests: at(requests) };
}

export interface ProcessRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `node bin/opg.mjs args…` as a separate process. */
export function opgProcess(args: readonly string[], env: Record<string, string>, cwd: string): Promise<ProcessRun> {
  return new Promise((ok) => {
    const child = spawn(process.execPath, [join(ROOT, "bin", "opg.mjs"), ...args], { cwd, env: { PATH: process.env["PATH"] ?? "", HOME: process.env["HOME"] ?? "", ...env }, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => void (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => void (stderr += d.toString()));
    child.on("exit", (code) => ok({ code: code ?? -1, stdout, stderr }));
  });
}
