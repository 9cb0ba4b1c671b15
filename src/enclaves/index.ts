/**
 * The TEE tier's on-chain side in TypeScript: turn a verified Nitro attestation into the registry's facts, have
 * attesters verify and sign them, assemble the quorum's evidence, approve images and register enclave keys.
 *
 * A TEE receipt is an ordinary receipt with tier TEE signed by the enclave's key: use signReceipt from src/receipts
 * with the enclave wallet; nothing else is needed here.
 */
export { EnclaveError } from "./errors.ts";
export type { EnclaveErrorCode } from "./errors.ts";
export { attestationFactsOf, unverifiedFactsOf, imageIdOf, documentImageId, DEBUG_IMAGE_ID, PCR_LENGTH } from "./facts.ts";
export type { AttestationFacts, VerifiedFactsInput } from "./facts.ts";
export { STATEMENT_TYPES, quorumDomain, statementOf, statementDigest, recoverAttester } from "./statement.ts";
export type { AttestationStatement } from "./statement.ts";
export { attest } from "./attester.ts";
export type { AttestPolicy, Attestation, AttesterSignature, StatementSigner } from "./attester.ts";
export { quorumEvidence, encodeEvidence, parseAttesterSignatures, attesterSignaturesFromText } from "./evidence.ts";
export type { AttestationSource } from "./evidence.ts";
export { registerEnclaveKey, approveEnclaveImage, revokeEnclaveImage, enclaveKeyOf, quorumDomainOf } from "./registry.ts";
export type { EnclaveKeyRecord, EnclaveRegistration } from "./registry.ts";
