/**
 * Off-chain verification accepts exactly what the chain accepts (issue #8, item 3), and keys with
 * degenerate gamma/delta are refused off-chain (item 4).
 */
import { expect } from "chai";
import {
  assertNotForgeable,
  BN254_BASE_FIELD,
  checkVerificationKey,
  encodeProofForEvm,
  encodeVerifyingKey,
  ForgeableKeyError,
  prove,
  verify,
  verifyGroth16,
  ZkProofFormatError,
  type BuildResult,
  type Groth16Proof,
  type Groth16VerificationKey,
  type ZkProofBundle,
} from "../../src/zkml/index.ts";
import { builtFixture, fixture } from "./helpers.ts";

const Q = BN254_BASE_FIELD;
const mod = (a: bigint): bigint => ((a % Q) + Q) % Q;

describe("zkml: off-chain verification applies the chain's canonical checks", () => {
  let build: BuildResult;
  let bundle: ZkProofBundle;

  before(async () => {
    build = await builtFixture("gemm-relu-3x4");
    bundle = await prove(build.dir, fixture("gemm-relu-3x4").input);
  });

  const withProof = (proof: Groth16Proof): ZkProofBundle => ({ ...bundle, proof });

  it("control: the honest proof verifies", async () => {
    expect(await verify(build.dir, bundle)).to.deep.equal({ valid: true });
  });

  it("refuses a coordinate plus the base field modulus (the chain refuses it)", async () => {
    const proof = structuredClone(bundle.proof);
    proof.pi_a[0] = (BigInt(proof.pi_a[0]!) + Q).toString();
    const result = await verify(build.dir, withProof(proof));
    expect(result.valid).to.equal(false);
    expect(result.reason).to.match(/canonical form/);
    expect(() => encodeProofForEvm(proof)).to.throw(ZkProofFormatError, /base field/);
    expect(await verifyGroth16(build.verificationKey, bundle.publicSignals, proof)).to.equal(false);
  });

  it("refuses a G2 coordinate plus the modulus", async () => {
    const proof = structuredClone(bundle.proof);
    proof.pi_b[1]![0] = (BigInt(proof.pi_b[1]![0]!) + Q).toString();
    expect((await verify(build.dir, withProof(proof))).valid).to.equal(false);
  });

  it("refuses a projective pi_a (z ≠ 1) and a pi_b with z ≠ [1, 0], although they denote the same points", async () => {
    // Jacobian (x·z², y·z³, z) with z = 2 is the same point as (x, y, 1).
    const [x, y] = [BigInt(bundle.proof.pi_a[0]!), BigInt(bundle.proof.pi_a[1]!)];
    const projective = structuredClone(bundle.proof);
    projective.pi_a = [mod(x * 4n).toString(), mod(y * 8n).toString(), "2"];
    const result = await verify(build.dir, withProof(projective));
    expect(result.valid).to.equal(false);
    expect(result.reason).to.match(/affine/);
    const c = structuredClone(bundle.proof);
    c.pi_c = [c.pi_c[0]!, c.pi_c[1]!, "0"];
    expect((await verify(build.dir, withProof(c))).valid).to.equal(false);
    const b = structuredClone(bundle.proof);
    b.pi_b = [b.pi_b[0]!, b.pi_b[1]!, ["1", "1"]];
    expect((await verify(build.dir, withProof(b))).valid).to.equal(false);
  });

  it("refuses hex and padded coordinates (the chain reads words, not strings)", async () => {
    const proof = structuredClone(bundle.proof);
    proof.pi_c[0] = `0x${BigInt(proof.pi_c[0]!).toString(16)}`;
    expect((await verify(build.dir, withProof(proof))).valid).to.equal(false);
  });

  describe("keys with degenerate gamma or delta (item 4)", () => {
    const key = (): Groth16VerificationKey => structuredClone(build.verificationKey);
    const refused = (vk: Groth16VerificationKey, reason: RegExp): void => {
      expect(() => assertNotForgeable(vk)).to.throw(ForgeableKeyError, reason);
      expect(() => checkVerificationKey(vk)).to.throw(ForgeableKeyError, reason);
      expect(() => encodeVerifyingKey(vk)).to.throw(ForgeableKeyError, reason);
    };

    it("refuses gamma at infinity", () => {
      const vk = key();
      vk.vk_gamma_2 = [["0", "0"], ["0", "0"], ["1", "0"]];
      refused(vk, /gamma at infinity/);
    });

    it("refuses delta at infinity", () => {
      const vk = key();
      vk.vk_delta_2 = [["0", "0"], ["0", "0"], ["1", "0"]];
      refused(vk, /delta at infinity/);
    });

    it("refuses delta = −gamma", () => {
      const vk = key();
      const [gx, gy] = vk.vk_gamma_2 as [string[], string[]];
      vk.vk_delta_2 = [[gx[0]!, gx[1]!], [mod(-BigInt(gy[0]!)).toString(), mod(-BigInt(gy[1]!)).toString()], ["1", "0"]];
      refused(vk, /delta = −gamma/);
    });

    it("refuses alpha or an IC point at infinity or off the curve", () => {
      const alpha = key();
      alpha.vk_alpha_1 = ["0", "0", "1"];
      expect(() => checkVerificationKey(alpha)).to.throw(ZkProofFormatError, /alpha is the point at infinity/);
      const ic = key();
      ic.IC[1] = [ic.IC[1]![0]!, (BigInt(ic.IC[1]![1]!) + 1n).toString(), "1"];
      expect(() => checkVerificationKey(ic)).to.throw(ZkProofFormatError, /IC\[1\] is not on the curve/);
      const beta = key();
      beta.vk_beta_2 = [[beta.vk_beta_2[0]![1]!, beta.vk_beta_2[0]![0]!], beta.vk_beta_2[1]!, ["1", "0"]];
      expect(() => checkVerificationKey(beta)).to.throw(ZkProofFormatError, /beta is not on the curve/);
    });

    it("control: the built key passes", () => {
      expect(checkVerificationKey(key())).to.be.an("object");
    });
  });
});
