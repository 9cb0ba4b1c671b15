import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { Contract, type ContractRunner } from "ethers";
import { InvalidInputError, OpgError } from "../errors.ts";
import { checkAddress } from "../receipts/receipt.ts";
import { DISPUTES_ABI } from "../disputes/abi.ts";
import { REQUEST_BOOK_ABI } from "../requests/abi.ts";
import { ATTESTER_QUORUM_ABI, ENCLAVE_REGISTRY_ABI, HUB_ABI, MODEL_REGISTRY_ABI, OPERATOR_REGISTRY_ABI, TOKEN_ABI } from "./abi.ts";

/** Addresses of one deployment of the system. */
export interface Deployment {
  readonly token: string;
  readonly hub: string;
  readonly models: string;
  readonly operators: string;
  readonly enclaves: string;
  readonly quorum: string;
  readonly verifier: string;
  /** The RequestBook (inference requests); absent in deployments made before it existed. */
  readonly requests?: string;
  /** The Disputes contract (fraud proofs); absent in deployments made before it existed. */
  readonly disputes?: string;
  /** The BatchSettlement contract; absent in deployments made before it existed. */
  readonly batches?: string;
}

/** ethers contracts for a deployment, bound to a runner (a provider to read, a signer to write). */
export interface Contracts {
  readonly token: Contract;
  readonly hub: Contract;
  readonly models: Contract;
  readonly operators: Contract;
  readonly enclaves: Contract;
  readonly quorum: Contract;
  /** The RequestBook, when the deployment has one. */
  readonly requests: Contract | undefined;
  /** The Disputes contract, when the deployment has one. */
  readonly disputes: Contract | undefined;
}

export function connect(deployment: Deployment, runner: ContractRunner): Contracts {
  return {
    token: new Contract(deployment.token, TOKEN_ABI, runner),
    hub: new Contract(deployment.hub, HUB_ABI, runner),
    models: new Contract(deployment.models, MODEL_REGISTRY_ABI, runner),
    operators: new Contract(deployment.operators, OPERATOR_REGISTRY_ABI, runner),
    enclaves: new Contract(deployment.enclaves, ENCLAVE_REGISTRY_ABI, runner),
    quorum: new Contract(deployment.quorum, ATTESTER_QUORUM_ABI, runner),
    requests: deployment.requests === undefined ? undefined : new Contract(deployment.requests, REQUEST_BOOK_ABI, runner),
    disputes: deployment.disputes === undefined ? undefined : new Contract(deployment.disputes, DISPUTES_ABI, runner),
  };
}

const OPTIONAL_KEYS: Partial<Record<keyof Deployment, string>> = { requests: "OpgSystem#RequestBook", disputes: "OpgSystem#Disputes", batches: "OpgSystem#BatchSettlement" };

const IGNITION_KEYS: Record<Exclude<keyof Deployment, "requests" | "disputes" | "batches">, string> = {
  token: "OpgSystem#OPGToken",
  hub: "OpgSystem#InferenceHub",
  models: "OpgSystem#ModelRegistry",
  operators: "OpgSystem#OperatorRegistry",
  enclaves: "OpgSystem#EnclaveRegistry",
  quorum: "OpgSystem#AttesterQuorum",
  verifier: "OpgSystem#Groth16Verifier",
};

/** Reads the addresses Ignition recorded (ignition/deployments/chain-<id>/deployed_addresses.json). */
export function deploymentFromIgnition(addresses: Record<string, unknown>): Deployment {
  const entries = Object.entries(IGNITION_KEYS).map(([field, key]) => {
    const value = addresses[key];
    if (typeof value !== "string") throw new InvalidInputError(`the deployment has no ${key}`);
    return [field, checkAddress(value, key)];
  });
  for (const [field, key] of Object.entries(OPTIONAL_KEYS)) {
    const value = addresses[key];
    if (typeof value === "string") entries.push([field, checkAddress(value, key)]);
  }
  return Object.fromEntries(entries) as unknown as Deployment;
}

/**
 * Loads a deployment from a file: either Ignition's deployed_addresses.json or a plain
 * `{"hub": "0x…", "token": "0x…", …}` object.
 */
export async function loadDeployment(path: string): Promise<Deployment> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(path, "utf8"));
  } catch (cause) {
    throw new OpgError("DEPLOYMENT_UNREADABLE", `cannot read deployment file ${path}`, { cause });
  }
  if (typeof parsed !== "object" || parsed === null) throw new InvalidInputError(`${path} is not a JSON object`);
  const record = parsed as Record<string, unknown>;
  if (IGNITION_KEYS.hub in record) return deploymentFromIgnition(record);
  const entries = (Object.keys(IGNITION_KEYS) as (keyof Deployment)[]).map((field) => {
    const value = record[field];
    if (typeof value !== "string") throw new InvalidInputError(`${path} has no "${field}" address`);
    return [field, checkAddress(value, field)];
  });
  for (const field of Object.keys(OPTIONAL_KEYS)) {
    const value = record[field];
    if (typeof value === "string") entries.push([field, checkAddress(value, field)]);
  }
  return Object.fromEntries(entries) as unknown as Deployment;
}

/** Where `hardhat ignition deploy` writes the addresses for `chainId`. */
export function ignitionAddressesPath(root: string, chainId: bigint | number): string {
  return join(root, "ignition", "deployments", `chain-${chainId}`, "deployed_addresses.json");
}
