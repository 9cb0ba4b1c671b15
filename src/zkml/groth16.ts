/**
 * Groth16 verification over BN254 with @noble/curves: a tenth of a second to load and verify (2.x;
 * 1.x computed Frobenius coefficients at import, three times slower), where snarkjs needs most of a
 * second to import itself and build its WebAssembly curve (with worker threads) before the first pairing. Same equation as snarkjs and the on-chain
 * Groth16Verifier:  e(-A, B) · e(vk_x, γ) · e(C, δ) · e(α, β) = 1,  vk_x = IC_0 + Σ s_i · IC_{i+1}.
 * Points are checked on the curve and in the prime-order subgroup; anything malformed is "not valid".
 * test/zkml/groth16.test.ts cross-checks it against snarkjs on valid and tampered proofs.
 */
import { bn254 } from "@noble/curves/bn254.js";
import type { Groth16Proof, Groth16VerificationKey } from "./evm.ts";

/** Order of the BN254 scalar field (public signals must be below it). */
const R = 21888242871839275222246405745257275088548364400416034343698204186575808495617n;

type G1 = InstanceType<typeof bn254.G1.Point>;
type G2 = InstanceType<typeof bn254.G2.Point>;

function int(value: unknown): bigint {
  if (typeof value !== "string" || !/^[0-9]{1,78}$/.test(value)) throw new Error("not a decimal field element");
  return BigInt(value);
}

/** snarkjs JSON: [x, y, z] with z = "1" (affine) or "0" (the point at infinity). */
function g1(point: unknown): G1 {
  if (!Array.isArray(point) || point.length !== 3) throw new Error("malformed G1 point");
  const z = int(point[2]);
  if (z === 0n) return bn254.G1.Point.ZERO;
  if (z !== 1n) throw new Error("G1 point not affine");
  const p = bn254.G1.Point.fromAffine({ x: int(point[0]), y: int(point[1]) });
  p.assertValidity();
  return p;
}

/** snarkjs JSON: [[x.c0, x.c1], [y.c0, y.c1], [z.c0, z.c1]]. */
function g2(point: unknown): G2 {
  if (!Array.isArray(point) || point.length !== 3) throw new Error("malformed G2 point");
  const fp2 = (c: unknown) => {
    if (!Array.isArray(c) || c.length !== 2) throw new Error("malformed Fp2 element");
    return bn254.fields.Fp2.fromBigTuple([int(c[0]), int(c[1])]);
  };
  const z = fp2(point[2]);
  if (bn254.fields.Fp2.is0(z)) return bn254.G2.Point.ZERO;
  if (!bn254.fields.Fp2.eql(z, bn254.fields.Fp2.ONE)) throw new Error("G2 point not affine");
  const p = bn254.G2.Point.fromAffine({ x: fp2(point[0]), y: fp2(point[1]) });
  p.assertValidity();
  return p;
}

/**
 * True when `proof` verifies for `publicSignals` (decimal strings) under `vk`. Does not check the key
 * for forgeability: callers do (checkVerificationKey).
 */
export function groth16Verify(vk: Groth16VerificationKey, publicSignals: readonly string[], proof: Groth16Proof): boolean {
  try {
    if (!Array.isArray(vk.IC) || vk.IC.length !== publicSignals.length + 1) return false;
    let vkX = g1(vk.IC[0]);
    for (let i = 0; i < publicSignals.length; i++) {
      const s = int(publicSignals[i]);
      if (s >= R) return false;
      // Public signals are not secret: the variable-time multiplication is the fast one.
      if (s !== 0n) vkX = vkX.add(g1(vk.IC[i + 1]).multiplyUnsafe(s));
    }
    const pairs = [
      { g1: g1(proof.pi_a).negate(), g2: g2(proof.pi_b) },
      { g1: vkX, g2: g2(vk.vk_gamma_2) },
      { g1: g1(proof.pi_c), g2: g2(vk.vk_delta_2) },
      { g1: g1(vk.vk_alpha_1), g2: g2(vk.vk_beta_2) },
    ];
    return bn254.fields.Fp12.eql(bn254.pairingBatch(pairs), bn254.fields.Fp12.ONE);
  } catch {
    return false; // malformed numbers or points: not a valid proof
  }
}
