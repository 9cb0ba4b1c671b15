/**
 * Soundness of the circuit templates: every hint (`<--`) is pinned down by constraints. Each test takes a
 * VALID witness, alters hints the way a cheating prover would (a quotient/remainder pair that still
 * satisfies the division equation but is out of range, a wrong ReLU sign, a wrong output), keeps every
 * other signal consistent with the alteration, and shows that `wtns check` (snarkjs) refuses it.
 */
import { expect } from "chai";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { COMMITTED_VALUE_BITS, commitQuantized, SNARK_SCALAR_FIELD, toField } from "../../src/commitments/index.ts";
import {
  calculateWitness,
  checkWitness,
  circuitInput,
  compileCircuit,
  inferQuantized,
  quantizeInput,
  readSymbols,
  readWitness,
  type BuildResult,
} from "../../src/zkml/index.ts";
import { builtFixture, fixture, rng, TEMP_ROOT } from "./helpers.ts";

const P = SNARK_SCALAR_FIELD;
const S = 8; // scale bits of the harness
const B = 12; // quotient width of the harness

/** Compiles a harness circuit that uses the library templates directly. */
async function compileHarness(name: string, source: string, optimization: "O0" | "O2"): Promise<{ dir: string; symbols: Map<string, number> }> {
  const dir = join(TEMP_ROOT, name);
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, "model.circom"), source);
  await compileCircuit(dir, { optimization });
  return { dir, symbols: await readSymbols(join(dir, "model.sym")) };
}

const HARNESS = `pragma circom 2.1.0;
include "opg_fixedpoint.circom";
include "opg_relu.circom";

template Harness() {
    signal input acc[4];   // dense accumulators at scale 2^${2 * S}
    signal input x[2];
    signal output y[4];    // rescaled to 2^${S}
    signal output ry[4];   // ReLU reusing the rescale's sign bit
    signal output rx[2];   // ReLU with its own sign decomposition

    component rescale[4];
    component relu = ReluWithSign(4);
    for (var i = 0; i < 4; i++) {
        rescale[i] = Rescale(${S}, ${B});
        rescale[i].in <== acc[i];
        y[i] <== rescale[i].out;
        relu.in[i] <== rescale[i].out;
        relu.nonneg[i] <== rescale[i].nonneg;
    }
    ry <== relu.out;

    var bits[2] = [10, 10];
    component relu2 = Relu(2, bits);
    relu2.in <== x;
    rx <== relu2.out;
}
component main = Harness();
`;

/** Bits of a non-negative integer, little-endian. */
function bitsOf(value: bigint, width: number): bigint[] {
  return Array.from({ length: width }, (_, i) => (value >> BigInt(i)) & 1n);
}

describe("zkml: forged witnesses are refused (soundness of the templates)", () => {
  let harness: { dir: string; symbols: Map<string, number> };
  let valid: bigint[];
  // acc → (quotient, remainder): 5000 → (20, 8); -70000 → (-273, 16); 0 → (0, 128); -128 → (0, 0)
  const acc = [5000n, -70000n, 0n, -128n];

  before(async () => {
    harness = await compileHarness("harness-o0", HARNESS, "O0");
    const witness = await calculateWitness(join(harness.dir, "model_js", "model.wasm"), {
      acc: acc.map((v) => toField(v).toString()),
      x: [toField(-5n).toString(), "7"],
    });
    valid = await readWitness(witness);
  });

  const r1cs = (): string => join(harness.dir, "model.r1cs");
  const index = (name: string): number => {
    const i = harness.symbols.get(`main.${name}`);
    if (i === undefined) throw new Error(`signal main.${name} is not in the witness`);
    return i;
  };
  const get = (w: readonly bigint[], name: string): bigint => w[index(name)] ?? -1n;
  /** A copy of the valid witness with the named signals replaced. */
  const forge = (changes: Record<string, bigint>): bigint[] => {
    const w = [...valid];
    for (const [name, value] of Object.entries(changes)) w[index(name)] = toField(value);
    return w;
  };
  /** Signals that follow from rescale[i]'s quotient (its bits, outputs, and the ReLU downstream). */
  const quotientSignals = (i: number, q: bigint, nonneg: bigint): Record<string, bigint> => {
    const shifted = q + (1n << BigInt(B - 1));
    const bits = bitsOf(shifted, B);
    return {
      [`rescale[${i}].quotient`]: q,
      [`rescale[${i}].out`]: q,
      [`y[${i}]`]: q,
      [`rescale[${i}].quotientRange.in`]: q,
      [`rescale[${i}].quotientRange.bits.in`]: shifted,
      ...Object.fromEntries(bits.map((b, k) => [`rescale[${i}].quotientRange.bits.out[${k}]`, b])),
      [`rescale[${i}].quotientRange.nonneg`]: nonneg,
      [`rescale[${i}].nonneg`]: nonneg,
      [`relu.in[${i}]`]: q,
      [`relu.nonneg[${i}]`]: nonneg,
      [`relu.out[${i}]`]: q * nonneg,
      [`ry[${i}]`]: q * nonneg,
    };
  };

  it("the honest witness passes wtns check, with the expected quotients and remainders", async () => {
    expect((await checkWitness(r1cs(), valid)).ok).to.equal(true);
    expect([0, 1, 2, 3].map((i) => get(valid, `rescale[${i}].quotient`))).to.deep.equal([20n, toField(-273n), 0n, 0n]);
    expect([0, 1, 2, 3].map((i) => get(valid, `rescale[${i}].remainder`))).to.deep.equal([8n, 16n, 128n, 0n]);
    expect([0, 1, 2, 3].map((i) => get(valid, `ry[${i}]`))).to.deep.equal([20n, 0n, 0n, 0n]);
    expect(get(valid, "rx[0]")).to.equal(0n);
    expect(get(valid, "rx[1]")).to.equal(7n);
  });

  for (const [title, delta] of [
    ["quotient + 1, remainder − 2^s (negative remainder)", 1n],
    ["quotient − 1, remainder + 2^s (remainder ≥ 2^s)", -1n],
    ["quotient + 2^B, remainder − 2^(s+B) (quotient wrapped out of its range)", 1n << BigInt(B)],
  ] as const) {
    it(`refuses a quotient/remainder pair that satisfies the division equation but not the ranges: ${title}`, async () => {
      const q = -273n + delta;
      const r = 16n - delta * (1n << BigInt(S));
      // The linear equation in + 2^(s-1) = q * 2^s + r still holds in the field...
      expect(toField(acc[1]! + (1n << BigInt(S - 1)))).to.equal(toField(q * (1n << BigInt(S)) + r));
      // ...and the remainder's bits are the best a prover can do: the low s bits of the field element.
      const rBits = bitsOf(toField(r) % (1n << BigInt(S)), S);
      const shifted = q + (1n << BigInt(B - 1));
      const inRange = shifted >= 0n && shifted < 1n << BigInt(B);
      const forged = forge({
        ...(inRange ? quotientSignals(1, q, q >= 0n ? 1n : 0n) : { "rescale[1].quotient": q, "rescale[1].out": q, "y[1]": q, "relu.in[1]": q }),
        "rescale[1].remainder": r,
        "rescale[1].remainderBits.in": r,
        ...Object.fromEntries(rBits.map((b, k) => [`rescale[1].remainderBits.out[${k}]`, b])),
      });
      const result = await checkWitness(r1cs(), forged);
      expect(result.ok).to.equal(false);
      expect(result.message).to.match(/aborting checking process at constraint/);
    });
  }

  it("refuses a wrong ReLU sign after a dense layer (negative value passed through as if positive)", async () => {
    // rescale[1] is -273: claim nonneg = 1 so the ReLU outputs -273 instead of 0. The top bit of the
    // quotient decomposition is what nonneg is wired to, so flip that bit too.
    const forged = forge({
      "rescale[1].quotientRange.bits.out[11]": 1n,
      "rescale[1].quotientRange.nonneg": 1n,
      "rescale[1].nonneg": 1n,
      "relu.nonneg[1]": 1n,
      "relu.out[1]": -273n,
      "ry[1]": -273n,
    });
    expect((await checkWitness(r1cs(), forged)).ok).to.equal(false);
    // Claiming a negative sign for a positive value (zeroing a live neuron) is refused as well.
    const zeroed = forge({
      "rescale[0].quotientRange.bits.out[11]": 0n,
      "rescale[0].quotientRange.nonneg": 0n,
      "rescale[0].nonneg": 0n,
      "relu.nonneg[0]": 0n,
      "relu.out[0]": 0n,
      "ry[0]": 0n,
    });
    expect((await checkWitness(r1cs(), zeroed)).ok).to.equal(false);
  });

  it("refuses a wrong ReLU sign on a standalone ReLU (own sign decomposition)", async () => {
    // x[0] = -5: claim it is non-negative so rx[0] = -5.
    const forged = forge({
      "relu2.sign.range[0].bits.out[9]": 1n,
      "relu2.sign.range[0].nonneg": 1n,
      "relu2.sign.nonneg[0]": 1n,
      "relu2.out[0]": -5n,
      "rx[0]": -5n,
    });
    expect((await checkWitness(r1cs(), forged)).ok).to.equal(false);
  });

  it("refuses a rescaled output that is off by one even with a consistent-looking quotient", async () => {
    const forged = forge(quotientSignals(0, 21n, 1n));
    expect((await checkWitness(r1cs(), forged)).ok).to.equal(false);
  });

  it("control: the same forgeries PASS against templates without the range checks (so the checks are what stops them)", async () => {
    // Rescale + ReLU as they would be if hints were only tied by the division equation and a boolean
    // sign: both kinds of forgery above then go through.
    const unsafe = await compileHarness(
      "harness-unsafe",
      `pragma circom 2.1.0;
template UnsafeRescaleRelu(s) {
    signal input in;
    signal output out;
    signal output relu;
    signal quotient;
    signal remainder;
    signal nonneg;
    var shifted = in + 2 ** (s - 1) + 2 ** (s + 20);
    quotient <-- (shifted \\ 2 ** s) - 2 ** 20;
    remainder <-- shifted % 2 ** s;
    in + 2 ** (s - 1) === quotient * 2 ** s + remainder;
    nonneg <-- quotient >= 0 ? 1 : 0;
    nonneg * (nonneg - 1) === 0;
    out <== quotient;
    relu <== quotient * nonneg;
}
template Main() {
    signal input acc[2];
    signal output y[2];
    signal output ry[2];
    component r[2];
    for (var i = 0; i < 2; i++) {
        r[i] = UnsafeRescaleRelu(${S});
        r[i].in <== acc[i];
        y[i] <== r[i].out;
        ry[i] <== r[i].relu;
    }
}
component main = Main();
`,
      "O0",
    );
    const wasm = join(unsafe.dir, "model_js", "model.wasm");
    const honest = await readWitness(await calculateWitness(wasm, { acc: ["5000", toField(-70000n).toString()] }));
    const at = (name: string): number => unsafe.symbols.get(`main.${name}`) ?? -1;
    const r1csPath = join(unsafe.dir, "model.r1cs");
    expect(honest[at("r[0].quotient")]).to.equal(20n);
    expect(honest[at("ry[1]")]).to.equal(0n);
    expect((await checkWitness(r1csPath, honest)).ok).to.equal(true);

    // quotient + 1, remainder - 2^s: same division equation, remainder out of range.
    const shifted = [...honest];
    for (const name of ["r[0].quotient", "r[0].out", "y[0]", "r[0].relu", "ry[0]"]) shifted[at(name)] = 21n;
    shifted[at("r[0].remainder")] = toField(8n - 256n);
    expect((await checkWitness(r1csPath, shifted)).ok).to.equal(true);

    // Wrong sign: the negative neuron passes through the ReLU.
    const signed = [...honest];
    signed[at("r[1].nonneg")] = 1n;
    signed[at("r[1].relu")] = toField(-273n);
    signed[at("ry[1]")] = toField(-273n);
    expect((await checkWitness(r1csPath, signed)).ok).to.equal(true);
  });

  describe("on a compiled fixture model (optimized circuit, only bits survive in the witness)", () => {
    let build: BuildResult;
    let witness: bigint[];
    let symbols: Map<string, number>;

    before(async () => {
      build = await builtFixture("gemm-relu-3x4");
      const input = quantizeInput(build.model, fixture("gemm-relu-3x4").inputValues);
      witness = await readWitness(await calculateWitness(join(build.dir, "model_js", "model.wasm"), circuitInput(input, 7n)));
      symbols = await readSymbols(join(build.dir, "model.sym"));
    });

    it("the honest witness passes", async () => {
      expect((await checkWitness(join(build.dir, "model.r1cs"), witness)).ok).to.equal(true);
    });

    it("refuses altered public outputs, commitments or binding", async () => {
      const n = build.model.output.size;
      for (const i of [1, 2, 3, 3 + n - 1, 3 + n]) {
        const forged = [...witness];
        forged[i] = ((forged[i] ?? 0n) + 1n) % P;
        expect((await checkWitness(join(build.dir, "model.r1cs"), forged)).ok, `witness[${i}]`).to.equal(false);
      }
    });

    it("refuses flipping any surviving bit of any neuron's range check", async () => {
      const bitIndices = [...symbols.entries()].filter(([name]) => /^main\.layer0\.rescale\[\d+\]\..*bits\.out\[\d+\]$/.test(name)).map(([, i]) => i);
      expect(bitIndices.length).to.be.above(20);
      const next = rng(5);
      for (let k = 0; k < 12; k++) {
        const i = bitIndices[Math.floor(next() * bitIndices.length)]!;
        const forged = [...witness];
        forged[i] = 1n - (forged[i] ?? 0n);
        expect((await checkWitness(join(build.dir, "model.r1cs"), forged)).ok).to.equal(false);
      }
    });

    it("refuses the outputs of a different input under the original input commitment", async () => {
      const other = quantizeInput(build.model, [0.5, -0.25, 1]);
      const forgedOutputs = inferQuantized(build.model, other).output;
      const n = build.model.output.size;
      const forged = [...witness];
      forgedOutputs.forEach((v, i) => (forged[3 + i] = toField(v)));
      forged[2] = BigInt(await commitQuantized(forgedOutputs, build.model.scaleBits));
      expect(forged.slice(3, 3 + n)).to.not.deep.equal(witness.slice(3, 3 + n));
      expect((await checkWitness(join(build.dir, "model.r1cs"), forged)).ok).to.equal(false);
    });
  });
});

describe("zkml: circuit commitment = TypeScript commitQuantized", () => {
  // Lengths around the 7-value packing and 15-element chunk boundaries (105 values per Poseidon call), two
  // scales, signed values up to the 36-bit edges.
  const sizes: [number, number][] = [
    [1, 12],
    [7, 12],
    [8, 7],
    [105, 12],
    [106, 3],
  ];
  let circuit: { dir: string; symbols: Map<string, number> };

  before(async () => {
    const body = sizes
      .map(([n, s], k) => `    component c${k} = CommitPacked(${n}, ${s}, ${COMMITTED_VALUE_BITS}, 0);\n    c${k}.in <== v${k};\n    out[${k}] <== c${k}.out;`)
      .join("\n");
    const inputs = sizes.map(([n], k) => `    signal input v${k}[${n}];`).join("\n");
    circuit = await compileHarness(
      "commitment",
      `pragma circom 2.1.0;\ninclude "opg_commitment.circom";\ntemplate T() {\n${inputs}\n    signal output out[${sizes.length}];\n${body}\n}\ncomponent main = T();\n`,
      "O2",
    );
  });

  it("agrees for chunk-boundary lengths, several scales, negative values and the 36-bit edges", async () => {
    const next = rng(2024);
    const edge = 1n << BigInt(COMMITTED_VALUE_BITS - 1);
    for (let round = 0; round < 3; round++) {
      const vectors = sizes.map(([n]) =>
        Array.from({ length: n }, (_, i) => (i === 0 && round === 1 ? -edge : i === 0 && round === 2 ? edge - 1n : BigInt(Math.round((next() * 2 - 1) * 2 ** 35)))),
      );
      const input = Object.fromEntries(vectors.map((v, k) => [`v${k}`, v.map((x) => toField(x).toString())]));
      const witness = await readWitness(await calculateWitness(join(circuit.dir, "model_js", "model.wasm"), input));
      for (const [k, [, s]] of sizes.entries()) {
        expect(witness[1 + k]).to.equal(BigInt(await commitQuantized(vectors[k]!, s)), `size ${sizes[k]![0]} scale ${s}`);
      }
    }
  });
});
