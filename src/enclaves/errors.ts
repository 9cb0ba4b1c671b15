import { OpgError } from "../errors.ts";

/**
 * Every way turning an attestation into an on-chain registration can fail off-chain. Verification failures of the
 * document itself stay NitroErrors (src/nitro); these codes cover what comes after: facts the chain cannot accept,
 * attester signatures that do not fit together, unusable inputs.
 */
export type EnclaveErrorCode =
  /** The facts given do not belong to the document given (its canonical digest differs). */
  | "ENCLAVE_DIGEST_MISMATCH"
  /** PCR0, PCR1 or PCR2 is missing or not 48 bytes (SHA-384), so the registry's 144-byte image cannot be formed. */
  | "ENCLAVE_PCRS_INVALID"
  /** user_data is absent or not exactly 32 bytes, so it cannot carry the registration binding. */
  | "ENCLAVE_USER_DATA_INVALID"
  /** The timestamp does not fit the registry's uint64 milliseconds. */
  | "ENCLAVE_TIMESTAMP_INVALID"
  /** An attester signature is malformed, or does not recover to the attester it claims for these facts. */
  | "ENCLAVE_ATTESTATION_MISMATCH"
  /** The same attester appears twice. */
  | "ENCLAVE_DUPLICATE_ATTESTER"
  /** The attester list (CLI input) is not a JSON array of {"attester", "signature"}. */
  | "ENCLAVE_ATTESTATIONS_MALFORMED"
  /** The signing account is not a registered attester of the quorum. */
  | "ENCLAVE_NOT_ATTESTER"
  /** The image id is zero, malformed, or the debug image (PCR0..2 all zero) that the registry refuses anyway. */
  | "ENCLAVE_IMAGE_INVALID"
  /** A transaction was mined without the event that describes its effect. */
  | "ENCLAVE_EVENT_MISSING";

/** The error type of src/enclaves (document verification itself throws NitroError). */
export class EnclaveError extends OpgError {
  override readonly name = "EnclaveError";
  declare readonly code: EnclaveErrorCode;

  constructor(code: EnclaveErrorCode, message: string, options: { cause?: unknown; details?: Record<string, unknown> } = {}) {
    super(code, message, options);
  }
}
