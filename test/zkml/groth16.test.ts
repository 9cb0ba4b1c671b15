/**
 * The @noble/curves Groth16 verifier (src/zkml/groth16.ts) against snarkjs's: the same verdict on a real
 * proof and on every kind of tampering (a public signal, each proof point, points off the curve or
 * outside the field, wrong signal counts).
 */
import { expect } from "chai";
import * as snarkjs from "snarkjs";
import type { Groth16Proof } from "snarkjs";
import { groth16Verify } from "../../src/zkml/groth16.ts";
import { prove, releaseZkResources, type ZkProofBundle } from "../../src/zkml/index.ts";
import { builtFixture, fixture } from "./helpers.ts";

const P = 21888242871839275222246405745257275088696311157297823662689037894645226208583n;
const R = 21888242871839275222246405745257275088548364400416034343698204186575808495617n;

describe("zkml: Groth16 verification with @noble/curves agrees with snarkjs", function () {
  let vk: Awaited<ReturnType<typeof builtFixture>>["verificationKey"];
  let bundle: ZkProofBundle;

  before(async function () {
    const build = await builtFixture("gemm-relu-3x4");
    vk = build.verificationKey;
    bundle = await prove(build.dir, fixture("gemm-relu-3x4").input, { binding: 7n });
  });
  after(releaseZkResources);

  const clone = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;
  async function both(signals: readonly string[], proof: Groth16Proof): Promise<boolean> {
    const ours = groth16Verify(vk, signals, proof);
    let theirs: boolean;
    try {
      theirs = await snarkjs.groth16.verify(vk, [...signals], proof);
    } catch {
      theirs = false;
    }
    expect(ours, "noble and snarkjs disagree").to.equal(theirs);
    return ours;
  }

  it("accepts the real proof", async function () {
    expect(await both(bundle.publicSignals, bundle.proof)).to.equal(true);
  });

  it("refuses a changed public signal, a signal at the field modulus, and wrong signal counts", async function () {
    for (let i = 0; i < bundle.publicSignals.length; i++) {
      const signals = [...bundle.publicSignals];
      signals[i] = String((BigInt(signals[i]!) + 1n) % R);
      expect(await both(signals, bundle.proof), `signal ${i}`).to.equal(false);
    }
    const atModulus = [...bundle.publicSignals];
    atModulus[0] = (BigInt(atModulus[0]!) + R).toString();
    expect(groth16Verify(vk, atModulus, bundle.proof)).to.equal(false);
    expect(groth16Verify(vk, bundle.publicSignals.slice(1), bundle.proof)).to.equal(false);
    expect(groth16Verify(vk, [...bundle.publicSignals, "0"], bundle.proof)).to.equal(false);
  });

  it("refuses swapped, negated, off-curve and out-of-field proof points", async function () {
    const swapped = clone(bundle.proof);
    [swapped.pi_a, swapped.pi_c] = [swapped.pi_c, swapped.pi_a];
    expect(await both(bundle.publicSignals, swapped)).to.equal(false);

    const negated = clone(bundle.proof);
    negated.pi_a[1] = (P - BigInt(negated.pi_a[1]!)).toString();
    expect(await both(bundle.publicSignals, negated)).to.equal(false);

    const offCurve = clone(bundle.proof);
    offCurve.pi_c[0] = (BigInt(offCurve.pi_c[0]!) + 1n).toString();
    expect(groth16Verify(vk, bundle.publicSignals, offCurve)).to.equal(false);

    const offCurveG2 = clone(bundle.proof);
    offCurveG2.pi_b[0]![1] = (BigInt(offCurveG2.pi_b[0]![1]!) + 1n).toString();
    expect(groth16Verify(vk, bundle.publicSignals, offCurveG2)).to.equal(false);

    const outOfField = clone(bundle.proof);
    outOfField.pi_a[0] = (BigInt(outOfField.pi_a[0]!) + P).toString();
    expect(groth16Verify(vk, bundle.publicSignals, outOfField)).to.equal(false);

    const garbage = clone(bundle.proof) as unknown as { pi_a: unknown };
    garbage.pi_a = ["x", "1", "1"];
    expect(groth16Verify(vk, bundle.publicSignals, garbage as unknown as Groth16Proof)).to.equal(false);
  });
});
