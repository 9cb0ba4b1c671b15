/**
 * The EIP-712 statement attesters sign, mirroring contracts/verifiers/AttesterQuorum.sol:
 * AttestationStatement(bytes32 attestationDigest,bytes32 pcrsHash,address enclaveKey,bytes32 userData,uint64 timestamp)
 * under the domain {name: "OPG AttesterQuorum", version: "1", chainId, verifyingContract: quorum}.
 * The PCRs enter as their keccak256 (as the contract hashes them), everything else as is.
 */
import { TypedDataEncoder, keccak256, recoverAddress, type TypedDataDomain, type TypedDataField } from "ethers";
import { checkAddress, type Hex } from "../receipts/receipt.ts";
import { EnclaveError } from "./errors.ts";
import type { AttestationFacts } from "./facts.ts";

export const STATEMENT_TYPES: Record<string, TypedDataField[]> = {
  AttestationStatement: [
    { name: "attestationDigest", type: "bytes32" },
    { name: "pcrsHash", type: "bytes32" },
    { name: "enclaveKey", type: "address" },
    { name: "userData", type: "bytes32" },
    { name: "timestamp", type: "uint64" },
  ],
};

/** The statement's struct value for given facts. */
export interface AttestationStatement {
  readonly attestationDigest: Hex;
  readonly pcrsHash: Hex;
  readonly enclaveKey: string;
  readonly userData: Hex;
  readonly timestamp: bigint;
}

/** The quorum's EIP-712 domain: a statement counts only on this chain, for this quorum contract. */
export function quorumDomain(chainId: bigint | number, quorum: string): TypedDataDomain {
  return { name: "OPG AttesterQuorum", version: "1", chainId: BigInt(chainId), verifyingContract: checkAddress(quorum, "quorum") };
}

export function statementOf(facts: AttestationFacts): AttestationStatement {
  return {
    attestationDigest: facts.attestationDigest,
    pcrsHash: keccak256(facts.pcrs) as Hex,
    enclaveKey: facts.enclaveKey,
    userData: facts.userData,
    timestamp: facts.timestamp,
  };
}

/** The digest attesters sign; equals AttesterQuorum.statementDigest(facts) on the domain's chain and quorum. */
export function statementDigest(facts: AttestationFacts, domain: TypedDataDomain): Hex {
  return TypedDataEncoder.hash(domain, STATEMENT_TYPES, statementOf(facts)) as Hex;
}

/** Who signed the statement of `facts`; a malformed signature is an EnclaveError, never an ethers error. */
export function recoverAttester(facts: AttestationFacts, domain: TypedDataDomain, signature: string): string {
  try {
    return recoverAddress(statementDigest(facts, domain), signature);
  } catch (cause) {
    throw new EnclaveError("ENCLAVE_ATTESTATION_MISMATCH", `malformed attester signature ${String(signature).slice(0, 20)}…`, { cause });
  }
}
