import { expect } from "chai";
import { cp, writeFile } from "node:fs/promises";
import { join } from "node:path";
import * as snarkjs from "snarkjs";
import { COMMITTED_VALUE_BITS, commitPacked, commitQuantized, SNARK_SCALAR_FIELD, toField } from "../../src/commitments/index.ts";
import {
  buildCircuit,
  calculateWitness,
  checkWitness,
  circuitInput,
  decodeOutputs,
  encodeProofForEvm,
  encodeVerifyingKey,
  flattenNested,
  importOnnx,
  inferQuantized,
  prove,
  quantize,
  quantizeInput,
  QuantizationError,
  readWitness,
  verify,
  verifyingKeyWords,
  type BuildResult,
  type QuantizedModel,
  type ZkProofBundle,
} from "../../src/zkml/index.ts";
import { buildAllFixtures, fixture, FIXTURES, rng, TEMP_ROOT, TEST_PTAU_POWER, withinTolerance, type FixtureName } from "./helpers.ts";
import { buildOnnx } from "./onnx-builder.ts";

/** Witness of the circuit for a quantized input: [1, inputCommitment, outputCommitment, out…, binding, …]. */
async function witnessFor(build: BuildResult, input: readonly bigint[], binding = 0n): Promise<bigint[]> {
  return readWitness(await calculateWitness(join(build.dir, "model_js", "model.wasm"), circuitInput(input, binding)));
}

/** Checks the witness against the TS reference: commitments, outputs and binding, bit for bit. */
async function expectWitnessMatchesReference(build: BuildResult, model: QuantizedModel, input: readonly bigint[], binding: bigint): Promise<void> {
  const witness = await witnessFor(build, input, binding);
  const reference = inferQuantized(model, input).output;
  const n = model.output.size;
  expect(witness[1]).to.equal(BigInt(await commitQuantized(input, model.scaleBits)), "input commitment");
  expect(witness[2]).to.equal(BigInt(await commitQuantized(reference, model.scaleBits)), "output commitment");
  expect(witness.slice(3, 3 + n)).to.deep.equal(reference.map(toField), "outputs");
  expect(witness[3 + n]).to.equal(binding, "binding");
  expect((await checkWitness(join(build.dir, "model.r1cs"), witness)).ok).to.equal(true);
}

describe("zkml: circuits for the fixture models (build, prove, verify)", function () {
  let builds: Map<FixtureName, BuildResult>;
  const proofs = new Map<FixtureName, ZkProofBundle>();

  before(async function () {
    this.timeout(1_800_000); // five compiles and setups: minutes on a busy 2-core machine
    builds = await buildAllFixtures();
    for (const name of FIXTURES) {
      proofs.set(name, await prove(builds.get(name)!.dir, fixture(name).input, { binding: "0x" + "ab".repeat(32) }));
    }
  });

  for (const name of FIXTURES) {
    describe(name, () => {
      it(`fits the power-${TEST_PTAU_POWER} ptau and records the public signal layout and dev-only flag`, () => {
        const { metadata } = builds.get(name)!;
        const n = metadata.output.shape.reduce((a, b) => a * b, 1);
        expect(metadata.circuit.constraints + n + 3).to.be.below(2 ** TEST_PTAU_POWER);
        expect(metadata.ptau.required).to.be.at.most(TEST_PTAU_POWER);
        expect(metadata.publicSignals).to.deep.equal([
          "inputCommitment",
          "outputCommitment",
          ...Array.from({ length: n }, (_, i) => `out_${i}`),
          "binding",
        ]);
        expect(metadata.developmentOnly).to.equal(true);
        expect(metadata.ptau.origin).to.equal("local-development");
        expect(metadata.weightsCommitment).to.match(/^0x[0-9a-f]{64}$/);
      });

      it("proves and verifies the fixture input with outputs within tolerance of expected.json", async () => {
        const f = fixture(name);
        const bundle = proofs.get(name)!;
        expect(bundle.outputShape).to.deep.equal(f.expectedShape);
        const { values, shape } = flattenNested(bundle.output);
        expect(shape).to.deep.equal(f.expectedShape);
        values.forEach((v, i) => expect(withinTolerance(v, f.expected[i] ?? NaN), `output ${i}: ${v} vs ${f.expected[i]}`).to.equal(true));
        expect(bundle.quantizationError).to.be.a("number").and.below(QUANT_ERROR_REPORT_LIMIT);
        expect(await verify(builds.get(name)!.dir, bundle)).to.deep.equal({ valid: true });
        expect(await verify(builds.get(name)!.dir, JSON.stringify(bundle))).to.deep.equal({ valid: true });
      });

      it("public signals: [commitQuantized(input), commitQuantized(outputs), outputs, binding], both packed at 36 bits", async () => {
        const build = builds.get(name)!;
        const bundle = proofs.get(name)!;
        const input = quantizeInput(build.model, fixture(name).inputValues);
        const output = inferQuantized(build.model, input).output;
        expect(bundle.publicSignals).to.deep.equal([
          BigInt(await commitPacked(input, build.model.scaleBits, COMMITTED_VALUE_BITS)).toString(),
          BigInt(await commitPacked(output, build.model.scaleBits, COMMITTED_VALUE_BITS)).toString(),
          ...output.map((v) => toField(v).toString()),
          (BigInt("0x" + "ab".repeat(32)) % SNARK_SCALAR_FIELD).toString(),
        ]);
        expect(decodeOutputs(build.model, bundle.publicSignals)).to.deep.equal(bundle.output);
      });

      it("the circuit's witness equals the TypeScript quantized inference bit for bit (fixture, random and extreme inputs)", async () => {
        const build = builds.get(name)!;
        const model = build.model;
        const limit = 2 ** model.inputIntBits;
        const next = rng(name.length * 31 + 7);
        const inputs: number[][] = [
          fixture(name).inputValues,
          new Array<number>(model.input.size).fill(-limit),
          new Array<number>(model.input.size).fill(limit - 2 ** -model.scaleBits),
          Array.from({ length: model.input.size }, () => (next() * 2 - 1) * 4),
          Array.from({ length: model.input.size }, () => (next() * 2 - 1) * limit),
        ];
        for (const [k, x] of inputs.entries()) await expectWitnessMatchesReference(build, model, quantizeInput(model, x), BigInt(k));
      });
    });
  }

  it("a proof is refused when any public signal, the proof, or the decoded output is tampered with", async () => {
    const build = builds.get("gemm-relu-3x4")!;
    const bundle = proofs.get("gemm-relu-3x4")!;
    const withSignal = (i: number, value: string): ZkProofBundle => ({
      ...bundle,
      publicSignals: bundle.publicSignals.map((s, k) => (k === i ? value : s)),
    });
    const bump = (s: string): string => ((BigInt(s) + 1n) % SNARK_SCALAR_FIELD).toString();
    for (let i = 0; i < bundle.publicSignals.length; i++) {
      const result = await verify(build.dir, withSignal(i, bump(bundle.publicSignals[i]!)));
      expect(result.valid, `signal ${i}`).to.equal(false);
    }
    // The same value plus p is the same field element, but not a canonical public signal.
    const plusP = (BigInt(bundle.publicSignals[2]!) + SNARK_SCALAR_FIELD).toString();
    expect((await verify(build.dir, withSignal(2, plusP))).valid).to.equal(false);
    // Another binding (receipt) than the one proved.
    expect((await verify(build.dir, withSignal(bundle.publicSignals.length - 1, "0"))).valid).to.equal(false);
    // Proof points swapped / altered.
    const p = bundle.proof;
    expect((await verify(build.dir, { ...bundle, proof: { ...p, pi_a: p.pi_c, pi_c: p.pi_a } })).valid).to.equal(false);
    expect((await verify(build.dir, { ...bundle, proof: { ...p, pi_a: [p.pi_a[0]!, bump(p.pi_a[1]!), "1"] } })).valid).to.equal(false);
    // Convenience fields that disagree with the (valid) public signals.
    const alteredOutput = { ...bundle, output: [[9, 9, 9, 9]] };
    expect(await verify(build.dir, alteredOutput)).to.deep.equal({ valid: false, reason: '"output" does not match the public signals' });
    expect((await verify(build.dir, { ...bundle, binding: "0x" + "00".repeat(32) })).valid).to.equal(false);
    // Wrong number of public signals.
    expect((await verify(build.dir, { ...bundle, publicSignals: bundle.publicSignals.slice(1) })).valid).to.equal(false);
  });

  it("a proof for one model does not verify against another model with the same signal count", async () => {
    const a = proofs.get("linear-41x1")!;
    const b = proofs.get("linreg-hummingbird-2x1")!;
    expect(a.publicSignals.length).to.equal(b.publicSignals.length);
    expect((await verify(builds.get("linreg-hummingbird-2x1")!.dir, a)).valid).to.equal(false);
    expect((await verify(builds.get("linear-41x1")!.dir, b)).valid).to.equal(false);
  });

  it("prove refuses an input outside the circuit's range instead of producing a bad witness", async () => {
    const build = builds.get("gemm-relu-3x4")!;
    try {
      await prove(build.dir, { input: [[1000, 0, 0]] });
      expect.fail("prove should refuse");
    } catch (error) {
      expect(error).to.be.instanceOf(QuantizationError);
    }
  });

  it("EVM encodings: proof words in precompile order (matching snarkjs calldata) and a 14 + 2(n+1)-word key", async () => {
    const build = builds.get("sklearn-mlp-3-3-5")!;
    const bundle = proofs.get("sklearn-mlp-3-3-5")!;
    const words = encodeProofForEvm(bundle.proof);
    const calldata = await snarkjs.groth16.exportSolidityCallData(bundle.proof, bundle.publicSignals);
    const [a, b, c] = JSON.parse(`[${calldata}]`) as [string[], string[][], string[]];
    expect(words).to.deep.equal([...a, ...b.flat(), ...c].map((h) => BigInt(h)));
    const vk = build.verificationKey;
    const packed = encodeVerifyingKey(vk);
    expect(packed.length).to.equal(2 + 64 * (14 + 2 * (vk.nPublic + 1)));
    const keyWords = verifyingKeyWords(vk);
    expect(keyWords.slice(0, 2)).to.deep.equal(vk.vk_alpha_1.slice(0, 2).map(BigInt));
    // beta: x1, x0, y1, y0 (imaginary part first for the precompile)
    expect(keyWords.slice(2, 6)).to.deep.equal([vk.vk_beta_2[0]![1], vk.vk_beta_2[0]![0], vk.vk_beta_2[1]![1], vk.vk_beta_2[1]![0]].map((v) => BigInt(v!)));
    expect(keyWords.slice(14, 16)).to.deep.equal(vk.IC[0]!.slice(0, 2).map(BigInt));
    expect(BigInt("0x" + packed.slice(2 + 64 * 13, 2 + 64 * 14))).to.equal(keyWords[13]);
  });
});

/** The proof bundle's own float-vs-quantized report stays within the documented absolute tolerance. */
const QUANT_ERROR_REPORT_LIMIT = 5e-3;

describe("zkml: circuit templates for Add, constant Add and Relu without a preceding dense layer", () => {
  // x → Relu (own sign check) → Gemm → Add(h, x) → Add(const) → Relu (own sign check)
  const bytes = buildOnnx({
    input: { name: "x", shape: [1, 4] },
    output: "y",
    nodes: [
      { op: "Relu", inputs: ["x"], output: "r" },
      { op: "Gemm", inputs: ["r", "W", "b"], output: "h", attributes: { transB: 1 } },
      { op: "Add", inputs: ["h", "x"], output: "s" },
      { op: "Add", inputs: ["s", "c"], output: "z" },
      { op: "Relu", inputs: ["z"], output: "y" },
    ],
    initializers: [
      { name: "W", dims: [4, 4], values: [0.5, -1, 0.25, 2, -0.75, 0.5, 1, -0.125, 1.5, 0.25, -0.5, 0.75, -2, 1, 0.5, 0.25] },
      { name: "b", dims: [4], values: [0.1, -0.2, 0.3, -0.4] },
      { name: "c", dims: [1, 4], values: [-0.3, 0.6, -0.9, 0.05] },
    ],
  });
  let build: BuildResult;

  before(async () => {
    build = await buildCircuit(bytes, { outDir: join(TEMP_ROOT, "synthetic"), name: "synthetic", scaleBits: 10 });
  });

  it("uses every template kind and matches the TypeScript reference bit for bit", async () => {
    expect(build.model.layers.map((l) => l.kind)).to.deep.equal(["relu", "dense", "add", "addConst", "relu"]);
    expect(build.model.layers.filter((l) => l.kind === "relu").every((l) => l.kind === "relu" && l.bits !== undefined)).to.equal(true);
    const next = rng(99);
    for (let k = 0; k < 6; k++) {
      const x = Array.from({ length: 4 }, () => (next() * 2 - 1) * 3);
      await expectWitnessMatchesReference(build, build.model, quantizeInput(build.model, x), 5n);
    }
  });

  it("proves and verifies, with outputs close to the float model", async () => {
    const bundle = await prove(build.dir, [[0.7, -1.2, 2.5, -0.1]]);
    expect(await verify(build.dir, bundle)).to.deep.equal({ valid: true });
    expect(bundle.quantizationError).to.be.below(5e-3);
    const graph = importOnnx(bytes);
    expect(quantize(graph, { scaleBits: 10 })).to.deep.equal(build.model);
  });

  it("a copy of the build directory still verifies (everything prove/verify need is in it)", async () => {
    const copy = join(TEMP_ROOT, "synthetic-copy");
    await cp(build.dir, copy, { recursive: true });
    const bundle = await prove(copy, [[0.1, 0.2, 0.3, 0.4]], { binding: 42n });
    await writeFile(join(copy, "proof.json"), JSON.stringify(bundle));
    expect((await verify(copy, bundle)).valid).to.equal(true);
    expect((await verify(build.dir, bundle)).valid).to.equal(true);
  });
});
