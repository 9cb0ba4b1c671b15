/**
 * The one commitment scheme every tier shares, for every vector of fixed-point values: a request's input,
 * each step's output, the next step's input. A signature step, a TEE step and a ZK circuit commit the same
 * values to the same field element, so step i's output commitment is step i+1's input commitment whatever
 * their tiers, and a requester computes an input commitment from the values and the scale alone.
 *
 *   commitQuantized(values, s)
 *     = commitPacked(values, s, COMMITTED_VALUE_BITS)   when every value fits 36 signed bits (the usual case)
 *     = the wide form                                     otherwise
 *
 * Both forms are a chained Poseidon hash (BN254 scalar field, circomlib parameters):
 *
 *   state_0   = domainTag(...)
 *   state_k+1 = Poseidon(state_k, chunk_k)        chunk_k = the next ≤ 15 elements
 *   commitment = state_last
 *
 * Packed form (kind 2): each value v with -2^(W-1) ≤ v < 2^(W-1) becomes u = v + 2^(W-1) ∈ [0, 2^W), and
 * ⌊253 / W⌋ of them share one field element (Σ u_j · 2^(W·j) < 2^253 < p), so the packing is injective.
 * The tag is length + scale·2^32 + kind·2^40 + W·2^48. W = COMMITTED_VALUE_BITS = 36 system-wide: the
 * widest width that still packs 7 values per element (7 · 36 = 252 ≤ 253), ±2^35 (±8.4 million at the
 * default scale 2^12). A circuit computes it at the cost of its range checks, which its values need
 * anyway (circuits/lib/opg_commitment.circom): an input range-checked at B ≤ W bits, or outputs whose
 * proven range fits W bits, pack injectively at W.
 *
 * Wide form (kind 0): the values themselves as field elements (negative v is p + v), 15 per Poseidon
 * call; used only when some value needs more than 36 bits. The form is a function of the values, and the
 * two kinds have different tags, so no two vectors share a commitment either way. A ZK circuit never
 * produces the wide form: its inputs and outputs are proven to fit 36 bits.
 *
 * Domain separation puts the kind, the fixed-point scale, the length (and the packing width) into the
 * initial state, so a vector cannot be confused with its prefix, nor quantized values with packed bytes
 * or another scale.
 */
/// <reference path="../types/circomlibjs.d.ts" preserve="true" />
import type { Poseidon } from "circomlibjs";
import { InvalidInputError } from "../errors.ts";

/** Order of the BN254 scalar field: every commitment and ZK public signal is below it. */
export const SNARK_SCALAR_FIELD =
  21888242871839275222246405745257275088548364400416034343698204186575808495617n;

/** Elements absorbed per Poseidon call (Poseidon(16) takes the running state plus 15 elements). */
export const COMMITMENT_RATE = 15;

export const CommitmentKind = { Quantized: 0, Bytes: 1, Packed: 2 } as const;
export type CommitmentKind = (typeof CommitmentKind)[keyof typeof CommitmentKind];

/** A commitment as a 0x-prefixed 32-byte hex string (what contracts store as bytes32). */
export type Commitment = `0x${string}`;

let poseidonPromise: Promise<Poseidon> | undefined;
function poseidon(): Promise<Poseidon> {
  // circomlibjs takes a third of a second to import: only code that hashes pays for it.
  poseidonPromise ??= import("circomlibjs").then((m) => m.buildPoseidon());
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
 * Width of every committed fixed-point value in the packed form: 7 values share one field element
 * (7 · 36 = 252 ≤ 253). System-wide, so that commitments never depend on which model made or consumes
 * the values.
 */
export const COMMITTED_VALUE_BITS = 36;

/**
 * THE commitment to fixed-point integers (value = round(x · 2^scaleBits)) that every tier uses, for inputs
 * and outputs alike (see the module comment): packed at COMMITTED_VALUE_BITS when every value fits 36
 * signed bits, else the wide form. Values outside ±(p − 1)/2 are refused: they would commit like another
 * vector ([p − 1] like [−1], [5 + p] like [5]).
 */
export async function commitQuantized(values: readonly bigint[], scaleBits: number): Promise<Commitment> {
  const tag = domainTag(CommitmentKind.Quantized, scaleBits, values.length);
  values.forEach((value, index) => {
    if (typeof value !== "bigint" || value > MAX_QUANTIZED_MAGNITUDE || value < -MAX_QUANTIZED_MAGNITUDE) {
      throw new InvalidInputError(`quantized value ${index} (${String(value)}) is outside the committable range ±(p-1)/2`);
    }
  });
  if (fitsCommittedWidth(values)) return commitPacked(values, scaleBits, COMMITTED_VALUE_BITS);
  return toCommitment(await chainedPoseidon(tag, values.map(toField)));
}

/** True when every value fits COMMITTED_VALUE_BITS signed bits (commitQuantized then uses the packed form). */
export function fitsCommittedWidth(values: readonly bigint[]): boolean {
  const limit = 1n << BigInt(COMMITTED_VALUE_BITS - 1);
  return values.every((v) => v >= -limit && v < limit);
}

/** Widest packing: 2^253 < p, so 253 bits of packed values never wrap around the field. */
export const PACKED_FIELD_BITS = 253;

/** How many B-bit values share one field element in a packed commitment. */
export function packingFactor(bits: number): number {
  checkPackingBits(bits);
  return Math.floor(PACKED_FIELD_BITS / bits);
}

function checkPackingBits(bits: number): void {
  if (!Number.isInteger(bits) || bits < 1 || bits > 126) {
    throw new InvalidInputError(`packing width must be an integer in [1, 126] bits, got ${bits}`);
  }
}

/** Initial state of a packed commitment: the quantized tag plus the packing width in bits 48 and up. */
export function packedDomainTag(scaleBits: number, bits: number, length: number): bigint {
  checkPackingBits(bits);
  return domainTag(CommitmentKind.Packed, scaleBits, length) + (BigInt(bits) << 48n);
}

/**
 * Packs signed B-bit values into field elements: value j of a group adds (v + 2^(B-1)) · 2^(B·j).
 * Refuses a value outside [-2^(B-1), 2^(B-1)) (the packing would no longer be injective).
 */
export function packValues(values: readonly bigint[], bits: number): bigint[] {
  const perElement = packingFactor(bits);
  const offset = 1n << BigInt(bits - 1);
  const width = BigInt(bits);
  const out: bigint[] = [];
  values.forEach((v, i) => {
    if (typeof v !== "bigint" || v < -offset || v >= offset) {
      throw new InvalidInputError(`value ${i} (${String(v)}) does not fit ${bits} signed bits: it cannot be packed`);
    }
    const slot = i % perElement;
    const shifted = (v + offset) << (width * BigInt(slot));
    if (slot === 0) out.push(shifted);
    else out[out.length - 1] = (out[out.length - 1] ?? 0n) + shifted;
  });
  return out;
}

/**
 * Packed commitment to fixed-point integers that fit `bits` signed bits (see the module comment). The
 * primitive under commitQuantized, which always packs at COMMITTED_VALUE_BITS: use commitQuantized to
 * commit to data. Different lengths, widths or scales never share a tag.
 */
export async function commitPacked(values: readonly bigint[], scaleBits: number, bits: number): Promise<Commitment> {
  const tag = packedDomainTag(scaleBits, bits, values.length);
  return toCommitment(await chainedPoseidon(tag, packValues(values, bits)));
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
