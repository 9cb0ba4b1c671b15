/**
 * The quorum's evidence: abi.encode(bytes[] signatures) with signers in strictly ascending address order, which is
 * how AttesterQuorum.verifyAttestation rules out duplicates in one pass.
 */
import { AbiCoder, isHexString, type TypedDataDomain } from "ethers";
import { checkAddress, type Hex } from "../receipts/receipt.ts";
import type { AttesterSignature } from "./attester.ts";
import { EnclaveError } from "./errors.ts";
import type { AttestationFacts } from "./facts.ts";
import { recoverAttester } from "./statement.ts";

/** abi.encode(bytes[]) of the signatures exactly in the order given (no sorting, no checks). */
export function encodeEvidence(signatures: readonly string[]): Hex {
  return AbiCoder.defaultAbiCoder().encode(["bytes[]"], [[...signatures]]) as Hex;
}

/**
 * Sorts attester signatures by attester address and encodes them as the quorum expects.
 *
 * With `check`, every signature is recovered against the statement of `check.facts` under `check.domain` and must come
 * from the attester it names (so a signature over another document, chain or quorum fails here, naming the attester,
 * rather than as an opaque revert); sorting then uses the recovered address. Without it, the declared addresses are
 * trusted for ordering only: the chain still recovers every signature.
 *
 * @throws EnclaveError ENCLAVE_ATTESTATION_MISMATCH, ENCLAVE_DUPLICATE_ATTESTER, ENCLAVE_ATTESTATIONS_MALFORMED.
 */
export function quorumEvidence(
  signatures: readonly AttesterSignature[],
  check?: { readonly facts: AttestationFacts; readonly domain: TypedDataDomain },
): Hex {
  const entries = signatures.map((entry, i) => {
    const declared = attesterAddress(entry.attester, i);
    if (typeof entry.signature !== "string" || !isHexString(entry.signature)) {
      throw new EnclaveError("ENCLAVE_ATTESTATIONS_MALFORMED", `attestation ${i}: signature must be 0x hex`);
    }
    if (check !== undefined) {
      const recovered = recoverAttester(check.facts, check.domain, entry.signature);
      if (recovered !== declared) {
        throw new EnclaveError("ENCLAVE_ATTESTATION_MISMATCH", `attestation ${i} claims attester ${declared} but is signed by ${recovered}: it is for another document, chain or quorum`, {
          details: { index: i, declared, recovered },
        });
      }
    }
    return { address: BigInt(declared), attester: declared, signature: entry.signature };
  });
  entries.sort((a, b) => (a.address < b.address ? -1 : a.address > b.address ? 1 : 0));
  for (let i = 1; i < entries.length; i++) {
    if (entries[i]!.address === entries[i - 1]!.address) {
      throw new EnclaveError("ENCLAVE_DUPLICATE_ATTESTER", `attester ${entries[i]!.attester} signed twice; the quorum counts distinct attesters`, {
        details: { attester: entries[i]!.attester },
      });
    }
  }
  return encodeEvidence(entries.map((e) => e.signature));
}

/**
 * Validates the JSON an operator collects from attesters: a non-empty array of `{"attester", "signature"}` objects
 * (see {@link attesterSignaturesFromText} for the text forms `opg enclave attest` outputs come in).
 */
export function parseAttesterSignatures(json: unknown): AttesterSignature[] {
  if (!Array.isArray(json) || json.length === 0) {
    throw new EnclaveError("ENCLAVE_ATTESTATIONS_MALFORMED", 'attestations must be a non-empty JSON array of {"attester", "signature"} objects');
  }
  return json.map((item: unknown, i) => {
    if (typeof item !== "object" || item === null || Array.isArray(item)) {
      throw new EnclaveError("ENCLAVE_ATTESTATIONS_MALFORMED", `attestation ${i} is not an object`);
    }
    const record = item as Record<string, unknown>;
    const signature = record["signature"];
    if (typeof signature !== "string" || !isHexString(signature, 65)) {
      throw new EnclaveError("ENCLAVE_ATTESTATIONS_MALFORMED", `attestation ${i}: "signature" must be a 65-byte 0x hex signature`);
    }
    return { attester: attesterAddress(record["attester"], i), signature: signature.toLowerCase() as Hex };
  });
}

/** One source of attester signatures for {@link attesterSignaturesFromText}: its text and a name for errors. */
export interface AttestationSource {
  readonly text: string;
  /** "attestations.json", "standard input": named in errors. */
  readonly source: string;
}

/**
 * Reads attester signatures from what attesters print and operators collect: in each source, a JSON array of
 * `{"attester", "signature"}` objects, one such object, or one object per line (JSON lines, i.e. several
 * `opg enclave attest` outputs concatenated). Sources are concatenated in order; duplicates are left to
 * {@link quorumEvidence}, which refuses them.
 *
 * @throws EnclaveError ENCLAVE_ATTESTATIONS_MALFORMED naming the source (and line) that is not JSON or not an attestation.
 */
export function attesterSignaturesFromText(sources: readonly AttestationSource[]): AttesterSignature[] {
  const items: unknown[] = [];
  for (const { text, source } of sources) {
    let whole: unknown;
    let parsed = false;
    try {
      whole = JSON.parse(text);
      parsed = true;
    } catch {
      // not one JSON value: JSON lines, below
    }
    if (parsed) {
      if (Array.isArray(whole)) items.push(...(whole as unknown[]));
      else items.push(whole);
      continue;
    }
    const lines = text.split("\n");
    lines.forEach((line, n) => {
      if (line.trim() === "") return;
      try {
        items.push(JSON.parse(line));
      } catch (cause) {
        const reason = cause instanceof Error ? cause.message : String(cause);
        throw new EnclaveError("ENCLAVE_ATTESTATIONS_MALFORMED", `attestations are not JSON: ${source} line ${n + 1} (${reason})`, { cause, details: { source, line: n + 1 } });
      }
    });
  }
  return parseAttesterSignatures(items);
}

function attesterAddress(value: unknown, index: number): string {
  try {
    return checkAddress(value as string, "attester");
  } catch (cause) {
    throw new EnclaveError("ENCLAVE_ATTESTATIONS_MALFORMED", `attestation ${index}: "attester" must be an address, got ${JSON.stringify(value)}`, { cause });
  }
}
