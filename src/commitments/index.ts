/**
 * The one commitment scheme every tier shares: a chained Poseidon hash (BN254 scalar field, circomlib
 * parameters) over field elements. The ZK circuits compute exactly the same function
 * (circuits/lib/commitment.circom), so a commitment made off-chain for a signature or TEE step can be
 * the input commitment a ZK step proves against.
 *
 *   state_0   = domainTag(kind, scaleBits, length)
 *   state_k+1 = Poseidon(state_k, chunk_k)        chunk_k = the next ≤ 15 elements
 *   commitment = state_last
 *
 * Domain separation puts the kind, the fixed-point scale and the length into the initial state, so a
 * vector cannot be confused with its prefix, nor quantized values with packed bytes or another scale.
 */
import { buildPoseidon, type Poseidon } from "circomlibjs";
import { InvalidInputError } from "../errors.ts";

/** Order of the BN254 scalar field: every commitment and ZK public signal is below it. */
export const SNARK_SCALAR_FIELD =
  21888242871839275222246405745257275088548364400416034343698204186575808495617n;

/** Elements absorbed per Poseidon call (Poseidon(16) takes the running state plus 15 elements). */
export const COMMITMENT_RATE = 15;

export const CommitmentKind = { Quantized: 0, Bytes: 1 } as const;
export type CommitmentKind = (typeof CommitmentKind)[keyof typeof CommitmentKind];

/** A commitment as a 0x-prefixed 32-byte hex string (what contracts store as bytes32). */
export type Commitment = `0x${string}`;

let poseidonPromise: Promise<Poseidon> | undefined;
function poseidon(): Promise<Poseidon> {
  poseidonPromise ??= buildPoseidon();
  return poseidonPromise;
}

/** Maps a signed integer to its field representative (negative x becomes p + x). */
export function toField(value: bigint): bigint {
  const reduced = value % SNARK_SCALAR_FIELD;
  return reduced < 0n ? reduced + SNARK_SCALAR_FIELD : reduced;
}

/** Inverse of toField for values known to be small: representatives above p/2 are negative. */
export function fromField(element: bigint): bigint {
  if (element < 0n || element >= SNARK_SCALAR_FIELD) {
    throw new InvalidInputError(`value ${element} is not a field element`);
  }
  return element > SNARK_SCALAR_FIELD / 2n ? element - SNARK_SCALAR_FIELD : element;
}

export function domainTag(kind: CommitmentKind, scaleBits: number, length: number): bigint {
  if (!Number.isInteger(scaleBits) || scaleBits < 0 || scaleBits > 255) {
    throw new InvalidInputError(`scaleBits must be an integer in [0, 255], got ${scaleBits}`);
  }
  if (!Number.isInteger(length) || length < 1 || length >= 2 ** 32) {
    throw new InvalidInputError(`a commitment needs 1 to 2^32-1 elements, got ${length}`);
  }
  return BigInt(length) + (BigInt(scaleBits) << 32n) + (BigInt(kind) << 40n);
}

/** Chained Poseidon over field elements, starting from `initialState`. */
export async function chainedPoseidon(initialState: bigint, elements: readonly bigint[]): Promise<bigint> {
  const hash = await poseidon();
  let state = initialState;
  for (let offset = 0; offset < elements.length; offset += COMMITMENT_RATE) {
    const chunk = elements.slice(offset, offset + COMMITMENT_RATE);
    state = hash.F.toObject(hash([state, ...chunk]));
  }
  return state;
}

/**
 * Largest magnitude a quantized value may have: (p − 1) / 2. Signed integers in
 * [−MAX_QUANTIZED_MAGNITUDE, MAX_QUANTIZED_MAGNITUDE] map one-to-one onto the field (fromField inverts
 * toField on them); anything wider would alias another value modulo p.
 */
export const MAX_QUANTIZED_MAGNITUDE = (SNARK_SCALAR_FIELD - 1n) / 2n;

/**
 * Commitment to fixed-point integers (value = round(x · 2^scaleBits)); signed values map into the field
 * (negative x is p + x). Values outside ±(p − 1)/2 are refused: they would commit like another vector
 * ([p − 1] like [−1], [5 + p] like [5]).
 */
export async function commitQuantized(values: readonly bigint[], scaleBits: number): Promise<Commitment> {
  const tag = domainTag(CommitmentKind.Quantized, scaleBits, values.length);
  values.forEach((value, index) => {
    if (typeof value !== "bigint" || value > MAX_QUANTIZED_MAGNITUDE || value < -MAX_QUANTIZED_MAGNITUDE) {
      throw new InvalidInputError(`quantized value ${index} (${String(value)}) is outside the committable range ±(p-1)/2`);
    }
  });
  return toCommitment(await chainedPoseidon(tag, values.map(toField)));
}

/** Commitment to arbitrary bytes (a prompt, a file): packed 31 bytes per field element, big-endian. */
export async function commitBytes(data: Uint8Array): Promise<Commitment> {
  const elements: bigint[] = [];
  for (let offset = 0; offset < data.length; offset += 31) {
    const slice = data.subarray(offset, offset + 31);
    elements.push(slice.length === 0 ? 0n : BigInt("0x" + Buffer.from(slice).toString("hex")));
  }
  if (elements.length === 0) elements.push(0n);
  // The byte length (plus one, so the empty string has its own tag) goes into the tag's length slot,
  // so trailing zero bytes still change the commitment.
  const tag = domainTag(CommitmentKind.Bytes, 0, data.length + 1);
  return toCommitment(await chainedPoseidon(tag, elements));
}

export function toCommitment(element: bigint): Commitment {
  if (element < 0n || element >= SNARK_SCALAR_FIELD) {
    throw new InvalidInputError(`commitment ${element} is outside the scalar field`);
  }
  return `0x${element.toString(16).padStart(64, "0")}`;
}

export function commitmentToField(commitment: string): bigint {
  if (!/^0x[0-9a-fA-F]{64}$/.test(commitment)) {
    throw new InvalidInputError(`a commitment is 32 bytes of 0x-prefixed hex, got "${commitment}"`);
  }
  const element = BigInt(commitment);
  if (element >= SNARK_SCALAR_FIELD) {
    throw new InvalidInputError(`commitment ${commitment} is outside the scalar field`);
  }
  return element;
}
