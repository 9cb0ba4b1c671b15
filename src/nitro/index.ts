/**
 * Off-chain verification of AWS Nitro Enclave attestation documents (the TEE tier), plus the helpers that tie a
 * verified document to the on-chain EnclaveRegistry: image ids and the user_data binding.
 *
 * Hex convention: every hex string this module produces is lowercase with a 0x prefix (facts, JSON, image ids);
 * hex it accepts may omit the prefix. The development generator lives in ./dev.ts and is deliberately not
 * re-exported here, so production imports never load test-CA code.
 */
export { verifyAttestation, factsToJson } from "./verify.ts";
export type { NitroVerifyOptions, NitroAttestationFacts, NitroFactsJson, AllowedImage } from "./verify.ts";
export { CertificateCache } from "./chain.ts";
export type { NitroVerifyMetrics } from "./chain.ts";
export { NitroError } from "./errors.ts";
export type { NitroErrorCode } from "./errors.ts";
export { parseAttestationDocument, attestationDigestOf, NITRO_LIMITS, ES384_PROTECTED_HEADER } from "./document.ts";
export type { ParsedAttestationDocument } from "./document.ts";
export { AWS_NITRO_ROOT_PEM, AWS_NITRO_ROOT_SHA256, awsNitroRoot, trustedRoot, pemToDer } from "./root.ts";
export type { TrustedRoot } from "./root.ts";
export { enclaveBinding, enclaveKeyAddress, imageId } from "./binding.ts";
export type { EnclaveBindingInput } from "./binding.ts";
export { toHex } from "./bytes.ts";
