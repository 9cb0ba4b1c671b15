/**
 * From a Nitro attestation document to the `AttestationFacts` struct the EnclaveRegistry and its attestation verifier
 * take (contracts/interfaces/IAttestationVerifier.sol): the document digest, PCR0‖PCR1‖PCR2, the enclave key's
 * address, the 32-byte user_data binding and the timestamp in milliseconds.
 */
import { keccak256 } from "ethers";
import { enclaveKeyAddress } from "../nitro/binding.ts";
import { toHex } from "../nitro/bytes.ts";
import { attestationDigestOf, parseAttestationDocument } from "../nitro/document.ts";
import type { NitroAttestationFacts } from "../nitro/verify.ts";
import type { Hex } from "../receipts/receipt.ts";
import { EnclaveError } from "./errors.ts";

/** The on-chain AttestationFacts, field for field; pass it to ethers as the tuple argument. */
export interface AttestationFacts {
  /** SHA-256 of the document's canonical form (untagged COSE_Sign1, low-S): one digest per signed payload. */
  readonly attestationDigest: Hex;
  /** PCR0‖PCR1‖PCR2, 144 bytes: keccak256 of it is the image id. */
  readonly pcrs: Hex;
  /** Checksummed address of the secp256k1 key in public_key: the key that will sign TEE receipts. */
  readonly enclaveKey: string;
  /** user_data: must equal EnclaveRegistry.bindingOf(operator, enclaveKey) at registration. */
  readonly userData: Hex;
  /** The document's timestamp, milliseconds since the epoch (uint64). */
  readonly timestamp: bigint;
}

/** What {@link attestationFactsOf} reads from verified facts (a subset of NitroAttestationFacts). */
export type VerifiedFactsInput = Pick<NitroAttestationFacts, "attestationDigest" | "pcrs" | "publicKey" | "userData" | "timestamp">;

/** Nitro PCRs are SHA-384 values; the registry refuses anything but three of them (144 bytes). */
export const PCR_LENGTH = 48;

/** keccak256 of 144 zero bytes: the image of an enclave started with --debug-mode, which proves nothing. */
export const DEBUG_IMAGE_ID = keccak256(new Uint8Array(3 * PCR_LENGTH)) as Hex;

/**
 * The on-chain facts of a document that `verifyAttestation` accepted. `document` must be the bytes those facts came
 * from: its canonical digest is compared with the facts' digest, so facts of one document cannot travel with another
 * (they do travel with another spelling of the same signed payload: tag 18, or s replaced by n − s).
 *
 * @throws EnclaveError ENCLAVE_DIGEST_MISMATCH, ENCLAVE_PCRS_INVALID, ENCLAVE_USER_DATA_INVALID,
 *   ENCLAVE_TIMESTAMP_INVALID; NitroError NITRO_PUBLIC_KEY_INVALID when public_key is not a secp256k1 key.
 */
export function attestationFactsOf(document: Uint8Array, verified: VerifiedFactsInput): AttestationFacts {
  if (!(document instanceof Uint8Array)) throw new EnclaveError("ENCLAVE_DIGEST_MISMATCH", "document must be a Uint8Array");
  const digest = attestationDigestOf(parseAttestationDocument(document)) as Hex;
  if (typeof verified.attestationDigest !== "string" || verified.attestationDigest.toLowerCase() !== digest) {
    throw new EnclaveError("ENCLAVE_DIGEST_MISMATCH", `the facts are of document ${String(verified.attestationDigest)}, not of the one given (${digest})`, {
      details: { expected: digest, actual: verified.attestationDigest },
    });
  }
  return onChainFacts(digest, (i) => verified.pcrs[i], verified.publicKey, verified.userData, verified.timestamp);
}

/**
 * The on-chain facts of a document, read without verifying it. For the operator's side only: the operator submits
 * what the document says and relies on the attesters' signatures (which cover exactly these facts) and the
 * registry's own checks. Never sign or trust these facts without {@link attest}-style verification.
 */
export function unverifiedFactsOf(document: Uint8Array): AttestationFacts {
  const parsed = parseAttestationDocument(document);
  return onChainFacts(attestationDigestOf(parsed) as Hex, (i) => parsed.pcrs.get(i), parsed.publicKey, parsed.userData, parsed.timestamp);
}

/** The image id the registry derives from the facts: keccak256(PCR0‖PCR1‖PCR2). */
export function imageIdOf(facts: Pick<AttestationFacts, "pcrs">): Hex {
  return keccak256(facts.pcrs) as Hex;
}

/**
 * The image id of a document, read without verifying it (a model owner deciding what to approve reads the PCRs it
 * built; trusting the document is the attesters' and the registry's business).
 */
export function documentImageId(document: Uint8Array): Hex {
  const parsed = parseAttestationDocument(document);
  return imageIdOf({ pcrs: toHex(Buffer.concat([0, 1, 2].map((i) => checkPcr(i, parsed.pcrs.get(i))))) as Hex });
}

function checkPcr(index: number, value: Uint8Array | undefined): Uint8Array {
  if (!(value instanceof Uint8Array) || value.length !== PCR_LENGTH) {
    throw new EnclaveError("ENCLAVE_PCRS_INVALID", `PCR${index} is ${value instanceof Uint8Array ? `${value.length} bytes` : "missing"}, the registry needs ${PCR_LENGTH}-byte (SHA-384) PCRs`, {
      details: { field: `pcrs[${index}]`, length: value instanceof Uint8Array ? value.length : null },
    });
  }
  return value;
}

function onChainFacts(
  digest: Hex,
  pcr: (index: number) => Uint8Array | undefined,
  publicKey: Uint8Array | null,
  userData: Uint8Array | null,
  timestamp: number,
): AttestationFacts {
  const pcrs = [0, 1, 2].map((i) => checkPcr(i, pcr(i)));
  if (userData === null || userData.length !== 32) {
    throw new EnclaveError(
      "ENCLAVE_USER_DATA_INVALID",
      `user_data is ${userData === null ? "absent" : `${userData.length} bytes`}; it must be the 32-byte registration binding keccak256(abi.encode(chainId, registry, operator, enclaveKey))`,
      { details: { field: "user_data", length: userData === null ? null : userData.length } },
    );
  }
  if (!Number.isSafeInteger(timestamp) || timestamp < 0) {
    throw new EnclaveError("ENCLAVE_TIMESTAMP_INVALID", `timestamp ${timestamp} is not a non-negative integer of milliseconds`, { details: { field: "timestamp" } });
  }
  return {
    attestationDigest: digest,
    pcrs: toHex(Buffer.concat(pcrs)) as Hex,
    enclaveKey: enclaveKeyAddress(publicKey),
    userData: toHex(userData) as Hex,
    timestamp: BigInt(timestamp),
  };
}
