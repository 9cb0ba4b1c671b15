import { OpgError } from "../errors.ts";

/**
 * Every way a Nitro attestation can fail. The code names the failed check so callers (the attester quorum, the CLI,
 * tests) can react without parsing messages; `details` says where (field name, certificate index and subject).
 */
export type NitroErrorCode =
  /** The caller passed something unusable (not bytes, bad option, bad hex, bad address). */
  | "NITRO_INPUT_INVALID"
  /** The document or one of its fields exceeds a documented size limit (checked before any copy). */
  | "NITRO_TOO_LARGE"
  /** Not well-formed strict CBOR: truncated, reserved encodings, non-shortest heads, chunked strings, bad UTF-8. */
  | "NITRO_CBOR_MALFORMED"
  /** A CBOR map repeats a key. */
  | "NITRO_CBOR_DUPLICATE_KEY"
  /** Bytes follow the COSE_Sign1 structure (or a nested item inside a bstr). */
  | "NITRO_CBOR_TRAILING_BYTES"
  /** Well-formed CBOR but not a COSE_Sign1 with the Nitro shape (wrong tag, arity, non-empty unprotected header). */
  | "NITRO_COSE_MALFORMED"
  /** The protected header is not exactly {1: -35} (ES384). */
  | "NITRO_BAD_ALGORITHM"
  /** The COSE signature does not verify under the leaf certificate's key. */
  | "NITRO_SIGNATURE_INVALID"
  /** A required payload field is absent. */
  | "NITRO_FIELD_MISSING"
  /** A payload field has the wrong type, length or value, or the payload has a field the format does not define. */
  | "NITRO_FIELD_INVALID"
  /** A certificate is not parseable DER or uses an algorithm, key or extension this verifier does not accept. */
  | "NITRO_CERT_MALFORMED"
  /** cabundle[0] is not the pinned root. */
  | "NITRO_CHAIN_UNTRUSTED_ROOT"
  /** A certificate's issuer is not the subject of the certificate before it. */
  | "NITRO_CHAIN_BROKEN"
  /** A certificate's signature does not verify under its issuer's key. */
  | "NITRO_CERT_SIGNATURE_INVALID"
  /** Basic constraints, path length or key usage do not allow the certificate's place in the chain. */
  | "NITRO_CERT_CONSTRAINTS"
  /** A certificate's notAfter is before the document time or the verification time. */
  | "NITRO_CERT_EXPIRED"
  /** A certificate's notBefore is after the document time or the verification time. */
  | "NITRO_CERT_NOT_YET_VALID"
  /** The embedded or supplied root does not match its pinned SHA-256 fingerprint. */
  | "NITRO_ROOT_PIN_MISMATCH"
  /** PCR0, PCR1 and PCR2 are all zero (enclave started with --debug-mode) and allowDebug was not set. */
  | "NITRO_DEBUG_MODE"
  /** The document is older than maxAgeMs at the verification time. */
  | "NITRO_TOO_OLD"
  /** The document's timestamp is later than the verification time (beyond the allowed clock skew). */
  | "NITRO_TIMESTAMP_IN_FUTURE"
  /** PCR0..2 match no entry of the allow-list. */
  | "NITRO_PCR_NOT_ALLOWED"
  /** user_data differs from the expected binding. */
  | "NITRO_USER_DATA_MISMATCH"
  /** nonce differs from the expected challenge. */
  | "NITRO_NONCE_MISMATCH"
  /** public_key is not a secp256k1 point (enclaveKeyAddress). */
  | "NITRO_PUBLIC_KEY_INVALID"
  /** Something unexpected threw inside the verifier; the original error is the cause. */
  | "NITRO_INTERNAL";

/** The only error type the Nitro verifier throws. */
export class NitroError extends OpgError {
  override readonly name = "NitroError";
  declare readonly code: NitroErrorCode;

  constructor(code: NitroErrorCode, message: string, options: { cause?: unknown; details?: Record<string, unknown> } = {}) {
    super(code, message, options);
  }
}

/** Runs `fn`, converting anything that is not already a NitroError into NITRO_INTERNAL so callers see one type. */
export function wrapUnexpected<T>(what: string, fn: () => T): T {
  try {
    return fn();
  } catch (error) {
    if (error instanceof NitroError) throw error;
    const reason = error instanceof Error ? error.message.split("\n")[0] : String(error);
    throw new NitroError("NITRO_INTERNAL", `${what}: unexpected failure (${reason})`, { cause: error });
  }
}
