/**
 * How commands reach a chain: `--rpc <url>` (or OPG_RPC_URL, default http://127.0.0.1:8545 for
 * `npx hardhat node`), a signer key from an environment variable (OPG_PRIVATE_KEY, or the name given
 * with --key-env: keys never go on the command line), and `--deployment <file>` (Ignition's
 * deployed_addresses.json or a plain address map; default: Ignition's file for the connected chain).
 */
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { JsonRpcProvider, Wallet, type Provider, type Signer } from "ethers";
import { OpgError } from "../errors.ts";
import { connect, ignitionAddressesPath, loadDeployment, type Contracts, type Deployment } from "../settlement/deployment.ts";
import { UsageError } from "./errors.ts";
import type { CliIo } from "./types.ts";

/** Options every on-chain command accepts (merge into its parseArgs options). */
export const CHAIN_OPTIONS = {
  rpc: { type: "string" },
  deployment: { type: "string" },
  "key-env": { type: "string" },
} as const;

export const CHAIN_USAGE = [
  "  --rpc <url>          JSON-RPC endpoint (default: $OPG_RPC_URL or http://127.0.0.1:8545)",
  "  --deployment <file>  deployed addresses (default: ignition/deployments/chain-<id>/deployed_addresses.json)",
  "  --key-env <NAME>     environment variable holding the signer's private key (default: OPG_PRIVATE_KEY)",
].join("\n");

export interface ChainContext {
  readonly provider: Provider;
  readonly chainId: bigint;
  readonly deployment: Deployment;
  /** Contracts bound to the signer when a key is available, to the provider otherwise. */
  readonly contracts: Contracts;
  readonly signer: Signer | undefined;
}

export async function openChain(
  values: { rpc?: string | undefined; deployment?: string | undefined; "key-env"?: string | undefined },
  io: CliIo,
  options: { needsSigner: boolean },
): Promise<ChainContext> {
  // cacheTimeout -1: ethers otherwise answers repeated calls from a 250 ms cache, so a second transaction
  // sent right after a first one (approve, then stake) would reuse its nonce.
  const provider =
    io.provider ?? new JsonRpcProvider(values.rpc ?? io.env["OPG_RPC_URL"] ?? "http://127.0.0.1:8545", undefined, { staticNetwork: true, cacheTimeout: -1 });
  let chainId: bigint;
  try {
    chainId = (await provider.getNetwork()).chainId;
  } catch (cause) {
    throw new OpgError("RPC_UNREACHABLE", `cannot reach the JSON-RPC endpoint ${values.rpc ?? io.env["OPG_RPC_URL"] ?? "http://127.0.0.1:8545"}`, { cause });
  }
  const path = values.deployment === undefined ? ignitionAddressesPath(io.cwd, chainId) : resolve(io.cwd, values.deployment);
  if (values.deployment === undefined && !existsSync(path)) {
    throw new UsageError(`no deployment for chain ${chainId} at ${path}: pass --deployment <file>`);
  }
  const deployment = await loadDeployment(path);
  const keyName = values["key-env"] ?? "OPG_PRIVATE_KEY";
  const key = io.env[keyName];
  let signer: Signer | undefined;
  if (key !== undefined && key !== "") {
    try {
      signer = new Wallet(key, provider);
    } catch (cause) {
      throw new OpgError("BAD_PRIVATE_KEY", `$${keyName} does not hold a valid private key`, { cause });
    }
  } else if (options.needsSigner) {
    throw new UsageError(`this command signs a transaction: set $${keyName} to the signer's private key`);
  }
  return { provider, chainId, deployment, contracts: connect(deployment, signer ?? provider), signer };
}
