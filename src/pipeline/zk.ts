/**
 * The ZK tier on-chain: what a model owner registers for a circuit build, and what a hub submission
 * carries for a proof. Composes src/zkml (proofs) with src/receipts (ids, bindings).
 */
import { OpgError } from "../errors.ts";
import { bindingOf, type Hex, type Receipt } from "../receipts/receipt.ts";
import { Tier } from "../receipts/tier.ts";
import { encodeProofForEvm, encodePublicSignals, encodeVerifyingKey, type ZkBuild, type ZkProofBundle } from "../zkml/index.ts";

/** A proof does not fit the receipt it is submitted with. */
export class ProofMismatchError extends OpgError {
  override readonly name = "ProofMismatchError";
  constructor(message: string, details: Record<string, unknown> = {}) {
    super("PROOF_MISMATCH", message, { details });
  }
}

/**
 * The registration fields that bind a model id to a circuit build: the weights commitment (Poseidon
 * over the quantized weights) makes the id, and the verifying key pins the circuit. loadBuild has
 * already refused a forgeable key or one that does not match the build's metadata.
 */
export function zkRegistrationFields(build: ZkBuild): { weightsCommitment: Hex; verifyingKey: Hex } {
  return { weightsCommitment: build.metadata.weightsCommitment, verifyingKey: encodeVerifyingKey(build.verificationKey) };
}

/** What `submitProven` (or an operation's ZK step) needs from a proof bundle. */
export interface ZkEvidence {
  readonly proof: readonly bigint[];
  /** The quantized outputs as field elements: public signals 2 … n+1. */
  readonly outputs: readonly bigint[];
}

/**
 * Checks that `bundle` proves exactly `receipt` (commitments, and binding to its id and operator) and returns the
 * evidence in EVM form. Catching a mismatch here gives a readable error instead of a bare revert.
 * Public signals: [inputCommitment, outputCommitment, outputs…, binding].
 */
export function zkEvidence(bundle: ZkProofBundle, receipt: Receipt, receiptId: string): ZkEvidence {
  if (receipt.tier !== Tier.ZK) throw new ProofMismatchError(`a proof backs a zk receipt, not tier ${receipt.tier}`);
  const signals = encodePublicSignals(bundle.publicSignals);
  if (signals.length < 4) throw new ProofMismatchError(`a proof carries at least 4 public signals, got ${signals.length}`);
  const expect = (index: number, value: bigint, what: string) => {
    if (signals[index] !== value) {
      throw new ProofMismatchError(`the proof's ${what} does not match the receipt`, { index, proof: signals[index]?.toString(), receipt: value.toString() });
    }
  };
  expect(0, BigInt(receipt.inputCommitment), "input commitment");
  expect(1, BigInt(receipt.outputCommitment), "output commitment");
  expect(signals.length - 1, bindingOf(receiptId, receipt.operator), "binding (receipt id and operator)");
  return { proof: encodeProofForEvm(bundle.proof), outputs: signals.slice(2, -1) };
}
