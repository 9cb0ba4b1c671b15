/**
 * How commands reach a chain: `--rpc <url>` (or OPG_RPC_URL, default http://127.0.0.1:8545 for
 * `npx hardhat node`), a signer key from an environment variable (OPG_PRIVATE_KEY, or the name given
 * with --key-env: keys never go on the command line), and `--deployment <file>` (Ignition's
 * deployed_addresses.json or a plain address map). Without --deployment the deployment is found by the
 * connected chain's id: first Ignition's file in the working project
 * (ignition/deployments/chain-<id>/deployed_addresses.json), then the one the package ships
 * (deployments/chain-<id>.json next to the package's package.json), so a dependent project needs no flag.
 */
import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { JsonRpcProvider, Wallet, type Provider, type Signer } from "ethers";
import { OpgError } from "../errors.ts";
import { connect, ignitionAddressesPath, loadDeployment, type Contracts, type Deployment } from "../settlement/deployment.ts";
import { UsageError } from "./errors.ts";
import type { CliIo } from "./types.ts";

export { CHAIN_OPTIONS, CHAIN_USAGE } from "./chain-options.ts";

export interface ChainContext {
  readonly provider: Provider;
  readonly chainId: bigint;
  readonly deployment: Deployment;
  /** Contracts bound to the signer when a key is available, to the provider otherwise. */
  readonly contracts: Contracts;
  readonly signer: Signer | undefined;
}

/** Where the package keeps the deployments it knows (src/cli and dist/cli are both two levels down). */
export const PACKAGE_DEPLOYMENTS = fileURLToPath(new URL("../../deployments", import.meta.url));

/** The deployment file for `chainId`: the working project's Ignition deployment, else the package's. */
export function findDeployment(cwd: string, chainId: bigint, packageDeployments: string = PACKAGE_DEPLOYMENTS): string {
  const candidates = [ignitionAddressesPath(cwd, chainId), join(packageDeployments, `chain-${chainId}.json`)];
  const found = candidates.find((path) => existsSync(path));
  if (found === undefined) {
    throw new UsageError(`no deployment for chain ${chainId} (looked in ${candidates.join(" and ")}): deploy with Ignition or pass --deployment <file>`);
  }
  return found;
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
    throw new OpgError("RPC_UNREACHABLE", `cannot reach the JSON-RPC endpoint ${values.rpc ?? io.env["OPG_RPC_URL"] ?? "http://127.0.0.1:8545"}: start a chain (npx hardhat node) or pass --rpc <url>`, { cause });
  }
  const path = values.deployment === undefined ? findDeployment(io.cwd, chainId) : resolve(io.cwd, values.deployment);
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
