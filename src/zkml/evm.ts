/**
 * Groth16 keys and proofs in the form the on-chain universal verifier consumes, and the delta ≠ gamma
 * safety check.
 *
 * G2 points: snarkjs writes an Fq2 element as [c0, c1]; the EVM pairing precompile (EIP-197) expects
 * (c1, c0), i.e. the imaginary part first. Hence the swapped order x1, x0, y1, y0 below.
 */
/// <reference path="../types/snarkjs.d.ts" preserve="true" />
import { readFile } from "node:fs/promises";
import { keccak_256 } from "@noble/hashes/sha3.js";
import type { Groth16Proof, Groth16VerificationKey } from "snarkjs";
import { snarkjs } from "./snarkjs.ts";
import { SNARK_SCALAR_FIELD } from "../commitments/index.ts";
import { ForgeableKeyError, ZkArtifactError, ZkProofFormatError } from "./errors.ts";

export type { Groth16Proof, Groth16VerificationKey } from "snarkjs";

/** Base field modulus of BN254: every coordinate is below it. */
export const BN254_BASE_FIELD = 21888242871839275222246405745257275088696311157297823662689037894645226208583n;

/** The twist's constant b' = 3 / (9 + u) of BN254's G2 curve y² = x³ + b' over Fq2, as [c0, c1]. */
const TWIST_B: Fq2 = [
  19485874751759354771024239261021720505790618469301721065564631296452457478373n,
  266929791119991161246907387137283842545076965332900288569378510910307636690n,
];

/** An Fq2 element c0 + c1·u (u² = −1). */
type Fq2 = readonly [bigint, bigint];

const mod = (a: bigint): bigint => ((a % BN254_BASE_FIELD) + BN254_BASE_FIELD) % BN254_BASE_FIELD;
const fq2Mul = (a: Fq2, b: Fq2): Fq2 => [mod(a[0] * b[0] - a[1] * b[1]), mod(a[0] * b[1] + a[1] * b[0])];
const fq2Add = (a: Fq2, b: Fq2): Fq2 => [mod(a[0] + b[0]), mod(a[1] + b[1])];

/** Whether (x, y) is on G1: y² = x³ + 3 (coordinates already below the modulus). */
export function isOnG1(x: bigint, y: bigint): boolean {
  return mod(y * y) === mod(x * x * x + 3n);
}

/** Whether (x, y) is on the twist E'(Fq2): y² = x³ + 3/(9+u). Points are [c0, c1]. */
export function isOnG2(x: Fq2, y: Fq2): boolean {
  const lhs = fq2Mul(y, y);
  const rhs = fq2Add(fq2Mul(fq2Mul(x, x), x), TWIST_B);
  return lhs[0] === rhs[0] && lhs[1] === rhs[1];
}

/**
 * A canonical coordinate: a decimal string (what snarkjs writes), a bigint or a safe integer, below the
 * base field modulus. Hex, whitespace or values ≥ q are refused: the chain reads the words as they are.
 */
function coordinate(value: unknown, what: string): bigint {
  let n: bigint;
  if (typeof value === "bigint") n = value;
  else if (typeof value === "number" && Number.isSafeInteger(value)) n = BigInt(value);
  else if (typeof value === "string" && /^[0-9]{1,80}$/.test(value)) n = BigInt(value);
  else throw new ZkProofFormatError(`${what} is not a decimal number`);
  if (n < 0n || n >= BN254_BASE_FIELD) throw new ZkProofFormatError(`${what} is not a field element (not below the base field modulus)`);
  return n;
}

/** A G1 point in affine form: [x, y] or [x, y, 1] (snarkjs's projective z must be exactly 1). */
function g1(point: unknown, what: string): [bigint, bigint] {
  if (!Array.isArray(point) || point.length < 2 || point.length > 3) throw new ZkProofFormatError(`${what} is not a G1 point`);
  if (point.length === 3 && String(point[2]) !== "1") throw new ZkProofFormatError(`${what} is not in affine form (z must be 1)`);
  const x = coordinate(point[0], `${what}.x`);
  const y = coordinate(point[1], `${what}.y`);
  if (x === 0n && y === 0n) throw new ZkProofFormatError(`${what} is the point at infinity`);
  if (!isOnG1(x, y)) throw new ZkProofFormatError(`${what} is not on the curve`);
  return [x, y];
}

/** A G2 point as EVM words: [x1, x0, y1, y0]; affine: z absent or exactly [1, 0]. */
function g2(point: unknown, what: string): [bigint, bigint, bigint, bigint] {
  if (!Array.isArray(point) || point.length < 2 || point.length > 3 || !Array.isArray(point[0]) || !Array.isArray(point[1])) {
    throw new ZkProofFormatError(`${what} is not a G2 point`);
  }
  const [x, y] = point as unknown[][];
  if (x!.length !== 2 || y!.length !== 2) throw new ZkProofFormatError(`${what} is not a G2 point`);
  if (point.length === 3) {
    const z = point[2];
    if (!Array.isArray(z) || z.length !== 2 || String(z[0]) !== "1" || String(z[1]) !== "0") {
      throw new ZkProofFormatError(`${what} is not in affine form (z must be [1, 0])`);
    }
  }
  const words: [bigint, bigint, bigint, bigint] = [
    coordinate(x![1], `${what}.x1`),
    coordinate(x![0], `${what}.x0`),
    coordinate(y![1], `${what}.y1`),
    coordinate(y![0], `${what}.y0`),
  ];
  if (words.every((w) => w === 0n)) throw new ZkProofFormatError(`${what} is the point at infinity`);
  if (!isOnG2([words[1], words[0]], [words[3], words[2]])) throw new ZkProofFormatError(`${what} is not on the curve`);
  return words;
}

/** A proof as the verifier's uint256[8]: [a.x, a.y, b.x1, b.x0, b.y1, b.y0, c.x, c.y]. */
export function encodeProofForEvm(proof: Groth16Proof): [bigint, bigint, bigint, bigint, bigint, bigint, bigint, bigint] {
  return [...g1(proof.pi_a, "proof.a"), ...g2(proof.pi_b, "proof.b"), ...g1(proof.pi_c, "proof.c")];
}

/**
 * The proof exactly as the chain reads it (encodeProofForEvm's words) in snarkjs's form: what off-chain
 * verification checks, so that it accepts no proof the chain refuses (coordinates ≥ q, projective points).
 */
export function canonicalProof(proof: Groth16Proof): Groth16Proof {
  const [ax, ay, bx1, bx0, by1, by0, cx, cy] = encodeProofForEvm(proof).map(String) as [string, string, string, string, string, string, string, string];
  return {
    pi_a: [ax, ay, "1"],
    pi_b: [[bx0, bx1], [by0, by1], ["1", "0"]],
    pi_c: [cx, cy, "1"],
    protocol: "groth16",
    curve: "bn128",
  };
}

/** The verifying key as uint256 words: alpha, beta, gamma, delta, then IC[0..nPublic]. */
export function verifyingKeyWords(vk: Groth16VerificationKey): bigint[] {
  if (!Array.isArray(vk.IC) || vk.IC.length !== vk.nPublic + 1 || vk.nPublic < 1) {
    throw new ZkProofFormatError(`verifying key has ${vk.IC?.length ?? 0} IC points for ${vk.nPublic} public signals`);
  }
  assertNotForgeable(vk);
  return [
    ...g1(vk.vk_alpha_1, "vk.alpha"),
    ...g2(vk.vk_beta_2, "vk.beta"),
    ...g2(vk.vk_gamma_2, "vk.gamma"),
    ...g2(vk.vk_delta_2, "vk.delta"),
    ...vk.IC.flatMap((p, i) => g1(p, `vk.IC[${i}]`)),
  ];
}

/**
 * abi.encodePacked of the verifying key words (14 + 2·(nPublic+1) uint256 words), as 0x-hex:
 * alpha.x, alpha.y, beta.x1, beta.x0, beta.y1, beta.y0, gamma (4), delta (4), IC[0].x, IC[0].y, …
 */
export function encodeVerifyingKey(vk: Groth16VerificationKey): `0x${string}` {
  assertNotForgeable(vk);
  return `0x${verifyingKeyWords(vk)
    .map((w) => w.toString(16).padStart(64, "0"))
    .join("")}`;
}

/** keccak256 of encodeVerifyingKey: what a registry binds a model id to. */
export function verifyingKeyHash(vk: Groth16VerificationKey): `0x${string}` {
  // @noble/hashes, not ethers: `opg zk verify` loads this module and ethers alone costs it a tenth of a second.
  return `0x${Buffer.from(keccak_256(Buffer.from(encodeVerifyingKey(vk).slice(2), "hex"))).toString("hex")}`;
}

/**
 * Throws ForgeableKeyError when delta equals gamma. Without a phase-2 contribution, snarkjs leaves
 * delta = gamma = the G2 generator, and then anyone can build a proof for any public signals.
 */
export function assertNotForgeable(vk: Groth16VerificationKey, where = "verifying key"): void {
  if (typeof vk !== "object" || vk === null) throw new ZkProofFormatError(`${where} is not a verifying key object`);
  const gamma = rawG2(vk.vk_gamma_2, `${where}.gamma`);
  const delta = rawG2(vk.vk_delta_2, `${where}.delta`);
  const zero = (p: readonly bigint[]): boolean => p.every((v) => v === 0n);
  if (zero(gamma)) throw new ForgeableKeyError(where, "gamma at infinity");
  if (zero(delta)) throw new ForgeableKeyError(where, "delta at infinity");
  if (gamma.every((v, i) => v === delta[i])) throw new ForgeableKeyError(where);
  // −(x, y) = (x, −y): the same x words, y words negated mod q.
  const negated = [gamma[0], gamma[1], mod(-gamma[2]!), mod(-gamma[3]!)];
  if (negated.every((v, i) => v === delta[i])) throw new ForgeableKeyError(where, "delta = −gamma");
}

/** A G2 point's EVM words without the curve check (the forgeability check runs first and says why). */
function rawG2(point: unknown, what: string): bigint[] {
  if (!Array.isArray(point) || point.length < 2 || !Array.isArray(point[0]) || !Array.isArray(point[1])) {
    throw new ZkProofFormatError(`${what} is not a G2 point`);
  }
  const [x, y] = point as unknown[][];
  return [coordinate(x?.[1], `${what}.x1`), coordinate(x?.[0], `${what}.x0`), coordinate(y?.[1], `${what}.y1`), coordinate(y?.[0], `${what}.y0`)];
}

/** Reads a snarkjs verification_key.json, checking its shape and that it is not forgeable. */
export async function loadVerificationKey(path: string): Promise<Groth16VerificationKey> {
  let vk: unknown;
  try {
    vk = JSON.parse(await readFile(path, "utf8"));
  } catch (error) {
    throw new ZkArtifactError(`cannot read verifying key ${path}`, { cause: error });
  }
  return checkVerificationKey(vk, path);
}

/** Validates a parsed verifying key (Groth16 over BN254, consistent IC count, delta ≠ gamma). */
export function checkVerificationKey(vk: unknown, where = "verifying key"): Groth16VerificationKey {
  if (typeof vk !== "object" || vk === null) throw new ZkArtifactError(`${where} is not a JSON object`);
  const key = vk as Groth16VerificationKey;
  if (key.protocol !== "groth16" || key.curve !== "bn128") {
    throw new ZkArtifactError(`${where} is not a Groth16 BN254 verifying key`);
  }
  verifyingKeyWords(key);
  assertNotForgeable(key, where);
  return key;
}

/** Reads the verifying key out of a zkey file and refuses it if it is forgeable. */
export async function loadZkeyVerificationKey(zkeyPath: string): Promise<Groth16VerificationKey> {
  let vk: Groth16VerificationKey;
  try {
    vk = await (await snarkjs()).zKey.exportVerificationKey(zkeyPath);
  } catch (error) {
    throw new ZkArtifactError(`cannot read zkey ${zkeyPath}`, { cause: error });
  }
  return checkVerificationKey(vk, zkeyPath);
}

/** Public signals as uint256 for the chain; refuses values ≥ the scalar field modulus. */
export function encodePublicSignals(publicSignals: readonly string[]): bigint[] {
  return publicSignals.map((s, i) => {
    if (!/^[0-9]+$/.test(s)) throw new ZkProofFormatError(`public signal ${i} is not a decimal number`);
    const v = BigInt(s);
    if (v >= SNARK_SCALAR_FIELD) throw new ZkProofFormatError(`public signal ${i} is not below the field modulus`);
    return v;
  });
}
