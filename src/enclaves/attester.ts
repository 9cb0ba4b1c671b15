/**
 * The attester's job: verify a Nitro document completely with the off-chain verifier, then (and only then) sign the
 * EIP-712 statement of its on-chain facts. `attest` takes the document bytes, never facts, so an attester cannot be
 * talked into signing something it did not check.
 */
import type { TypedDataDomain } from "ethers";
import { enclaveBinding } from "../nitro/binding.ts";
import { bytesEqual, fromHex } from "../nitro/bytes.ts";
import type { CertificateCache, NitroVerifyMetrics } from "../nitro/chain.ts";
import { NitroError } from "../nitro/errors.ts";
import type { TrustedRoot } from "../nitro/root.ts";
import { verifyAttestation, type AllowedImage } from "../nitro/verify.ts";
import { checkAddress, type Hex, type TypedDataSigner } from "../receipts/receipt.ts";
import { attestationFactsOf, type AttestationFacts } from "./facts.ts";
import { STATEMENT_TYPES, statementOf } from "./statement.ts";

/** What an attester checks before signing. */
export interface AttestPolicy {
  /** Trust anchor (PEM, DER or TrustedRoot). Default: the embedded AWS Nitro root. Dev documents need their root pinned. */
  readonly root?: string | Uint8Array | TrustedRoot;
  /** Verification time (ms or Date). Default: now. */
  readonly at?: number | Date;
  /** Refuse documents older than this at `at`. Default: only the leaf certificate's validity limits age. */
  readonly maxAgeMs?: number;
  /** Verified intermediates, shared across documents from the same enclave host. */
  readonly cache?: CertificateCache;
  /**
   * Sign statements for debug-mode enclaves (PCR0..2 all zero). Default false, and it should stay false: such an
   * enclave's memory is readable by its host, and the registry refuses its image anyway.
   */
  readonly allowDebug?: boolean;
  /** If given, PCR0..2 must match one of these images. */
  readonly allowedImages?: readonly AllowedImage[];
  /**
   * If given, user_data must bind exactly this chain, registry and operator (with the document's own key): the
   * attester refuses to vouch for a document meant for someone else instead of leaving that to the registry.
   */
  readonly binding?: { readonly chainId: bigint | number; readonly registry: string; readonly operator: string };
  readonly metrics?: NitroVerifyMetrics;
}

/** An attester's signature over a document's statement, as `opg enclave attest` prints it. */
export interface AttesterSignature {
  readonly attester: string;
  readonly signature: Hex;
}

/** The attester's result: its signature and the facts it signed (the operator submits the same facts). */
export interface Attestation extends AttesterSignature {
  readonly facts: AttestationFacts;
}

/** An account that can sign EIP-712 data and say who it is (an ethers Wallet or JSON-RPC signer). */
export interface StatementSigner extends TypedDataSigner {
  getAddress(): Promise<string>;
}

/**
 * Verifies `document` (chain to the pinned root, COSE signature, debug refusal, age, images, binding), derives its
 * on-chain facts (48-byte PCRs, secp256k1 key, 32-byte user_data), and signs their statement under `domain`
 * (see quorumDomain).
 *
 * @throws NitroError for any verification failure, EnclaveError when the facts cannot go on-chain. Nothing is
 *   signed in either case.
 */
export async function attest(document: Uint8Array, policy: AttestPolicy, signer: StatementSigner, domain: TypedDataDomain): Promise<Attestation> {
  const verified = verifyAttestation(document, {
    root: policy.root,
    at: policy.at,
    maxAgeMs: policy.maxAgeMs,
    cache: policy.cache,
    allowDebug: policy.allowDebug === true,
    allowedImages: policy.allowedImages,
    metrics: policy.metrics,
  });
  const facts = attestationFactsOf(document, verified);
  if (policy.binding !== undefined) {
    const expected = enclaveBinding({ ...policy.binding, enclaveKey: facts.enclaveKey });
    if (!bytesEqual(fromHex(facts.userData, "userData"), expected)) {
      throw new NitroError("NITRO_USER_DATA_MISMATCH", `user_data ${facts.userData} does not bind chain ${policy.binding.chainId}, registry ${policy.binding.registry}, operator ${policy.binding.operator} and key ${facts.enclaveKey}`, {
        details: { field: "user_data" },
      });
    }
  }
  const attester = checkAddress(await signer.getAddress(), "attester");
  const signature = (await signer.signTypedData(domain, STATEMENT_TYPES, { ...statementOf(facts) })) as Hex;
  return { attester, signature, facts };
}
