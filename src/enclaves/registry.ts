/**
 * The enclave side of a deployment: model owners approve and revoke images, operators register (and renew) enclave
 * keys with the quorum's evidence. Functions take ethers contracts from `connect` bound to the acting signer and
 * return plain data; reverts come back as ContractRevertError naming the custom error.
 */
import type { Contract, Log, TypedDataDomain } from "ethers";
import { checkAddress, checkBytes32, type Hex } from "../receipts/receipt.ts";
import type { Contracts } from "../settlement/deployment.ts";
import { mined } from "../settlement/client.ts";
import { send } from "../settlement/transactions.ts";
import { onChain } from "../settlement/errors.ts";
import { EnclaveError } from "./errors.ts";
import { DEBUG_IMAGE_ID, type AttestationFacts } from "./facts.ts";
import { quorumDomain } from "./statement.ts";

/** A registered enclave key, as EnclaveRegistry.enclaveKeyOf returns it. */
export interface EnclaveKeyRecord {
  readonly operator: string;
  /** Unix seconds of the attestation. */
  readonly attestedAt: bigint;
  /** Unix seconds from which receipts signed by the key are refused. */
  readonly expiresAt: bigint;
  readonly imageId: Hex;
  readonly attestationDigest: Hex;
}

/** What a registration (or renewal) stored and cost. */
export interface EnclaveRegistration extends EnclaveKeyRecord {
  readonly key: string;
  readonly gasUsed: bigint;
  readonly transactionHash: string;
}

function firstEvent(contract: Contract, logs: readonly Log[], name: string) {
  const address = String(contract.target).toLowerCase();
  for (const log of logs) {
    if (log.address.toLowerCase() !== address) continue;
    const parsed = contract.interface.parseLog(log);
    if (parsed !== null && parsed.name === name) return parsed;
  }
  throw new EnclaveError("ENCLAVE_EVENT_MISSING", `${name} was not emitted`);
}

/**
 * Registers `facts.enclaveKey` for the signer of `c.enclaves` (the operator), or renews it with a newer attestation.
 * `modelId` names a model that approved the enclave's image; the key then serves every model approving that image.
 */
export async function registerEnclaveKey(c: Contracts, facts: AttestationFacts, modelId: string, evidence: string): Promise<EnclaveRegistration> {
  const model = checkBytes32(modelId, "modelId");
  const receipt = await onChain(() => mined(send(c.enclaves, "registerEnclaveKey", { ...facts }, model, evidence)));
  const event = firstEvent(c.enclaves, receipt.logs, "EnclaveKeyRegistered");
  return {
    key: event.args.getValue("key") as string,
    operator: event.args.getValue("operator") as string,
    attestedAt: event.args.getValue("attestedAt") as bigint,
    expiresAt: event.args.getValue("expiresAt") as bigint,
    imageId: event.args.getValue("imageId") as Hex,
    attestationDigest: event.args.getValue("attestationDigest") as Hex,
    gasUsed: receipt.gasUsed,
    transactionHash: receipt.hash,
  };
}

function checkImage(imageId: string): Hex {
  let image: Hex;
  try {
    image = checkBytes32(imageId, "imageId");
  } catch (cause) {
    throw new EnclaveError("ENCLAVE_IMAGE_INVALID", `image id must be 32 bytes of 0x hex (keccak256(PCR0‖PCR1‖PCR2)), got "${imageId}"`, { cause });
  }
  if (/^0x0{64}$/.test(image)) throw new EnclaveError("ENCLAVE_IMAGE_INVALID", "the zero image id names no enclave");
  return image;
}

/**
 * Approves enclave image `imageId` for `modelId` (signer: the model owner; governance may only revoke). The debug image is refused
 * here: the registry never registers keys attested by a debug enclave, so approving it could only mislead.
 */
export async function approveEnclaveImage(c: Contracts, modelId: string, imageId: string): Promise<{ gasUsed: bigint; transactionHash: string }> {
  const image = checkImage(imageId);
  if (image === DEBUG_IMAGE_ID) {
    throw new EnclaveError("ENCLAVE_IMAGE_INVALID", "refusing to approve the debug image (PCR0..2 all zero): debug enclaves prove nothing");
  }
  const receipt = await onChain(() => mined(send(c.models, "approveEnclaveImage", checkBytes32(modelId, "modelId"), image)));
  firstEvent(c.models, receipt.logs, "EnclaveImageApproved");
  return { gasUsed: receipt.gasUsed, transactionHash: receipt.hash };
}

/** Revokes `imageId` for `modelId`: every key attested with that image stops counting for this model at once. */
export async function revokeEnclaveImage(c: Contracts, modelId: string, imageId: string): Promise<{ gasUsed: bigint; transactionHash: string }> {
  const image = checkImage(imageId);
  const receipt = await onChain(() => mined(send(c.models, "revokeEnclaveImage", checkBytes32(modelId, "modelId"), image)));
  firstEvent(c.models, receipt.logs, "EnclaveImageRevoked");
  return { gasUsed: receipt.gasUsed, transactionHash: receipt.hash };
}

/** The registration of `key`, or undefined when the registry does not know it. */
export async function enclaveKeyOf(c: Contracts, key: string): Promise<EnclaveKeyRecord | undefined> {
  const [operator, attestedAt, expiresAt, imageId, attestationDigest] = (await c.enclaves.getFunction("enclaveKeyOf")(checkAddress(key, "key"))) as [
    string,
    bigint,
    bigint,
    string,
    string,
  ];
  if (/^0x0{40}$/.test(operator)) return undefined;
  return { operator, attestedAt, expiresAt, imageId: imageId as Hex, attestationDigest: attestationDigest as Hex };
}

/** The quorum's EIP-712 domain as the contract reports it (chain id and address included). */
export async function quorumDomainOf(c: Contracts): Promise<TypedDataDomain> {
  const [, name, version, chainId, verifyingContract] = (await c.quorum.getFunction("eip712Domain")()) as [string, string, string, bigint, string];
  const domain = quorumDomain(chainId, verifyingContract);
  if (name !== domain.name || version !== domain.version) {
    throw new EnclaveError("ENCLAVE_ATTESTATION_MISMATCH", `the quorum at ${verifyingContract} signs "${name}" v${version}, not "${String(domain.name)}" v${String(domain.version)}`);
  }
  return domain;
}
