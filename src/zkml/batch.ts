/**
 * Batch Groth16 verification off-chain: the random linear combination of the on-chain
 * `Groth16Verifier.verifyBatch`, with the same Fiat–Shamir coefficients (`batchCoefficients` mirrors the
 * contract word for word), so an operator can check a batch before paying for it, and find the bad
 * proofs of a batch the chain refused (`findInvalidProofs`). snarkjs has no batch API: this uses its
 * BN254 curve (ffjavascript) directly.
 *
 *   k proofs, n signals each: Π e(−r_i·A_i, B_i) · e(ρ·α, β) · e(ρ·IC[0] + Σ_j t_j·IC[j+1], γ) · e(Σ r_i·C_i, δ) == 1
 *   with ρ = Σ r_i and t_j = Σ_i r_i·s_ij (mod r): k + 3 pairings instead of 4k.
 */
import { AbiCoder, concat, keccak256, toBeHex, toUtf8Bytes } from "ethers";
import * as snarkjs from "snarkjs";
import { SNARK_SCALAR_FIELD } from "../commitments/index.ts";
import { ZkProofFormatError } from "./errors.ts";
import { checkVerificationKey, encodeProofForEvm, encodePublicSignals, encodeVerifyingKey, verifyingKeyWords, type Groth16Proof, type Groth16VerificationKey } from "./evm.ts";

/** A proof as the verifier's uint256[8]: [a.x, a.y, b.x1, b.x0, b.y1, b.y0, c.x, c.y]. */
export type EvmProof = readonly [bigint, bigint, bigint, bigint, bigint, bigint, bigint, bigint];

/** One proof of a batch and its public signals (decimal strings, as snarkjs writes them). */
export interface BatchProof {
  readonly proof: Groth16Proof;
  readonly publicSignals: readonly string[];
}

/** keccak256("opg-verifier Groth16 batch v1"): the contract's BATCH_DOMAIN. */
export const GROTH16_BATCH_DOMAIN = keccak256(toUtf8Bytes("opg-verifier Groth16 batch v1"));

/** The part of snarkjs's BN254 curve (ffjavascript) used here; points are opaque buffers. */
type Point = Uint8Array;
interface CurveGroup {
  readonly zero: Point;
  fromObject(coordinates: unknown): Point;
  isValid(p: Point): boolean;
  neg(p: Point): Point;
  add(a: Point, b: Point): Point;
  timesScalar(p: Point, scalar: bigint): Point;
}
interface Bn128 {
  readonly G1: CurveGroup;
  readonly G2: CurveGroup;
  pairingEq(...points: Point[]): Promise<boolean>;
}

const R = SNARK_SCALAR_FIELD;
const word = (v: bigint): string => toBeHex(v, 32);

/**
 * The coefficients `Groth16Verifier.batchCoefficients` gives: r_i = 1 + keccak256(seed, i) mod (r − 1),
 * seed = keccak256(BATCH_DOMAIN, keccak256(key), k, proof words, signal words).
 */
export function batchCoefficients(vk: Groth16VerificationKey, proofs: readonly EvmProof[], signals: readonly (readonly bigint[])[]): bigint[] {
  if (proofs.length === 0) throw new ZkProofFormatError("a batch holds at least one proof");
  if (signals.length !== proofs.length) throw new ZkProofFormatError(`${proofs.length} proofs but ${signals.length} signal rows`);
  const seed = keccak256(
    concat([GROTH16_BATCH_DOMAIN, keccak256(encodeVerifyingKey(vk)), word(BigInt(proofs.length)), ...proofs.flatMap((p) => p.map(word)), ...signals.flatMap((row) => row.map(word))]),
  );
  const coder = AbiCoder.defaultAbiCoder();
  return proofs.map((_, i) => 1n + (BigInt(keccak256(coder.encode(["bytes32", "uint256"], [seed, i]))) % (R - 1n)));
}

/** The batch in the chain's words; undefined when some proof is malformed (the chain cannot accept it). */
function evmBatch(vk: Groth16VerificationKey, entries: readonly BatchProof[]): { proofs: EvmProof[]; signals: bigint[][] } | undefined {
  const proofs: EvmProof[] = [];
  const signals: bigint[][] = [];
  for (const entry of entries) {
    if (entry.publicSignals.length !== vk.nPublic) return undefined;
    try {
      signals.push(encodePublicSignals(entry.publicSignals));
      proofs.push(encodeProofForEvm(entry.proof));
    } catch (error) {
      if (error instanceof ZkProofFormatError) return undefined;
      throw error;
    }
  }
  return { proofs, signals };
}

/** Throws like the chain (Groth16BatchRepeatedProof) when two proofs are the same eight words. */
function assertDistinct(proofs: readonly EvmProof[]): void {
  const seen = new Map<string, number>();
  proofs.forEach((p, i) => {
    const key = p.join(",");
    const first = seen.get(key);
    if (first !== undefined) throw new ZkProofFormatError(`proofs ${first} and ${i} of the batch are the same proof`, { details: { first, second: i } });
    seen.set(key, i);
  });
}

/** The random linear combination check itself (no repeat check). */
async function combinedCheck(vk: Groth16VerificationKey, proofs: readonly EvmProof[], signals: readonly (readonly bigint[])[]): Promise<boolean> {
  const r = batchCoefficients(vk, proofs, signals);
  const curve = (await snarkjs.curves.getCurveFromName("bn128")) as Bn128;
  const { G1, G2 } = curve;
  const g1 = (x: bigint, y: bigint) => G1.fromObject([x, y, 1n]);
  const g2 = (x1: bigint, x0: bigint, y1: bigint, y0: bigint) => G2.fromObject([[x0, x1], [y0, y1], [1n, 0n]]);
  const w = verifyingKeyWords(vk);
  const pairs: Point[] = [];
  let cSum = G1.zero;
  let rho = 0n;
  const t = Array<bigint>(vk.nPublic).fill(0n);
  for (let i = 0; i < proofs.length; i++) {
    const [ax, ay, bx1, bx0, by1, by0, cx, cy] = proofs[i]!;
    const ri = r[i]!;
    const a = g1(ax, ay);
    const b = g2(bx1, bx0, by1, by0);
    const c = g1(cx, cy);
    if (!G1.isValid(a) || !G2.isValid(b) || !G1.isValid(c)) return false;
    pairs.push(G1.neg(G1.timesScalar(a, ri)), b);
    cSum = G1.add(cSum, G1.timesScalar(c, ri));
    rho = (rho + ri) % R;
    signals[i]!.forEach((s, j) => (t[j] = (t[j]! + ri * s) % R));
  }
  let vkx = G1.timesScalar(g1(w[14]!, w[15]!), rho);
  t.forEach((tj, j) => (vkx = G1.add(vkx, G1.timesScalar(g1(w[16 + 2 * j]!, w[17 + 2 * j]!), tj))));
  pairs.push(G1.timesScalar(g1(w[0]!, w[1]!), rho), g2(w[2]!, w[3]!, w[4]!, w[5]!));
  pairs.push(vkx, g2(w[6]!, w[7]!, w[8]!, w[9]!));
  pairs.push(cSum, g2(w[10]!, w[11]!, w[12]!, w[13]!));
  return curve.pairingEq(...pairs);
}

/**
 * Whether every proof of the batch is valid under `vk`, checked together (as the chain does): false if any
 * one is invalid or malformed. Throws ZkProofFormatError for an empty batch or a repeated proof, which the
 * chain refuses outright.
 */
export async function verifyBatch(vk: Groth16VerificationKey, entries: readonly BatchProof[]): Promise<boolean> {
  checkVerificationKey(vk);
  if (entries.length === 0) throw new ZkProofFormatError("a batch holds at least one proof");
  const batch = evmBatch(vk, entries);
  if (batch === undefined) return false;
  assertDistinct(batch.proofs);
  return combinedCheck(vk, batch.proofs, batch.signals);
}

/**
 * The indexes of the proofs that do not verify on their own (malformed ones included), in order: what to
 * drop from a batch the chain refused. Bisects with the batch check, so a batch with few bad proofs costs
 * O(bad · log k) combined checks rather than k single ones.
 */
export async function findInvalidProofs(vk: Groth16VerificationKey, entries: readonly BatchProof[]): Promise<number[]> {
  checkVerificationKey(vk);
  const bad: number[] = [];
  const search = async (indexes: number[]): Promise<void> => {
    if (indexes.length === 0) return;
    const batch = evmBatch(vk, indexes.map((i) => entries[i]!));
    if (batch !== undefined && (await combinedCheck(vk, batch.proofs, batch.signals))) return;
    if (indexes.length === 1) {
      bad.push(indexes[0]!);
      return;
    }
    const half = Math.ceil(indexes.length / 2);
    await search(indexes.slice(0, half));
    await search(indexes.slice(half));
  };
  await search(entries.map((_, i) => i));
  return bad;
}
