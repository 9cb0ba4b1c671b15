/**
 * Packed commitments (commitPacked / CommitPacked) and forged witnesses against the vision templates
 * (SparseDense, MaxPool, Gather). Each forgery alters a VALID witness the way a cheating prover would
 * and keeps everything else consistent; `wtns check` must refuse it, while a control template without
 * the checks accepts the same forgery.
 */
import { expect } from "chai";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import {
  chainedPoseidon,
  commitBytes,
  CommitmentKind,
  COMMITTED_VALUE_BITS,
  commitPacked,
  commitQuantized,
  domainTag,
  fitsCommittedWidth,
  MAX_QUANTIZED_MAGNITUDE,
  packingFactor,
  packValues,
  toCommitment,
  toField,
} from "../../src/commitments/index.ts";
import { InvalidInputError } from "../../src/errors.ts";
import { calculateWitness, checkWitness, compileCircuit, readSymbols, readWitness } from "../../src/zkml/index.ts";
import { rng, TEMP_ROOT } from "./helpers.ts";

async function compileHarness(name: string, source: string, optimization: "O0" | "O2" = "O0") {
  const dir = join(TEMP_ROOT, name);
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, "model.circom"), source);
  await compileCircuit(dir, { optimization });
  const symbols = await readSymbols(join(dir, "model.sym"));
  const at = (signal: string): number => {
    const i = symbols.get(`main.${signal}`);
    if (i === undefined) throw new Error(`signal main.${signal} is not in the witness`);
    return i;
  };
  return {
    dir,
    at,
    has: (signal: string) => symbols.has(`main.${signal}`),
    witness: async (input: Record<string, unknown>) => readWitness(await calculateWitness(join(dir, "model_js", "model.wasm"), input)),
    check: async (w: readonly bigint[]) => (await checkWitness(join(dir, "model.r1cs"), w)).ok,
  };
}

/** Sets a Num2Bits component (`path`.in, `path`.out[k]) to `value` and its low bits: the best a forger can do. */
function setBits(w: bigint[], at: (s: string) => number, path: string, value: bigint, width: number): void {
  const v = toField(value);
  w[at(`${path}.in`)] = v;
  for (let k = 0; k < width; k++) w[at(`${path}.out[${k}]`)] = (v >> BigInt(k)) & 1n;
}

describe("commitments: packed commitments", () => {
  it("packs floor(253 / B) offset values per element, little-endian, and refuses values that do not fit", () => {
    expect(packingFactor(19)).to.equal(13);
    expect(packingFactor(14)).to.equal(18);
    expect(packValues([-4n, 3n, 0n], 3)).to.deep.equal([0n + (7n << 3n) + (4n << 6n)]);
    const many = packValues(new Array<bigint>(27).fill(0n), 19);
    expect(many).to.have.length(3);
    expect(() => packValues([4n], 3)).to.throw(InvalidInputError, /does not fit 3 signed bits/);
    expect(() => packValues([-5n], 3)).to.throw(InvalidInputError);
    expect(() => packingFactor(0)).to.throw(InvalidInputError);
  });

  it("commitPacked refuses out-of-range values like commitQuantized does (typed error, nothing hashed)", async () => {
    const refused = async (action: () => Promise<unknown>, pattern: RegExp): Promise<void> => {
      try {
        await action();
      } catch (error) {
        expect(error, String(error)).to.be.instanceOf(InvalidInputError);
        expect((error as Error).message).to.match(pattern);
        return;
      }
      expect.fail("committed");
    };
    await refused(() => commitPacked([0n, 1n << 18n], 12, 19), /^value 1 \(262144\) does not fit 19 signed bits/);
    await refused(() => commitPacked([-(1n << 18n) - 1n], 12, 19), /^value 0 \(-262145\) does not fit 19 signed bits/);
    await refused(() => commitPacked([1 as unknown as bigint], 12, 19), /^value 0 \(1\) does not fit 19 signed bits/);
    await refused(() => commitPacked([1n], 12, 127), /packing width must be an integer in \[1, 126\]/);
    // the edges of the range are accepted
    expect(await commitPacked([-(1n << 18n), (1n << 18n) - 1n], 12, 19)).to.match(/^0x[0-9a-f]{64}$/);
  });

  it("different vectors never share a commitment: lengths, trailing zeros, signs, widths, scales, the unpacked scheme", async () => {
    const all = [
      await commitPacked([1n, 2n, 3n], 12, 19),
      await commitPacked([1n, 2n, 3n, 0n], 12, 19),
      await commitPacked([1n, 2n, 3n, 0n, 0n, 0n, 0n, 0n, 0n, 0n, 0n, 0n, 0n, 0n], 12, 19),
      await commitPacked([0n, 1n, 2n, 3n], 12, 19),
      await commitPacked([-1n, 2n, 3n], 12, 19),
      await commitPacked([1n, -2n, 3n], 12, 19),
      await commitPacked([1n, 2n, 3n], 12, 20),
      await commitPacked([1n, 2n, 3n], 11, 19),
      await commitQuantized([1n, 2n, 3n], 12),
      await commitPacked([0n], 12, 19),
      await commitPacked([-1n], 12, 19),
      // The same packed element in another slot layout: [-2^18 + 1] vs 1 in the second slot is impossible, but
      // the offset of an all-zero vector of another length must differ as well.
      await commitPacked([0n, 0n], 12, 19),
    ];
    expect(new Set(all).size).to.equal(all.length);
  });

  it("commitQuantized is commitPacked at the system-wide 36-bit width, and the wide form beyond it", async () => {
    expect(COMMITTED_VALUE_BITS).to.equal(36);
    expect(packingFactor(COMMITTED_VALUE_BITS)).to.equal(7);
    const edge = 1n << 35n;
    const fits = [-edge, edge - 1n, 0n, 5n, -5n, 1n, 2n, 3n];
    expect(fitsCommittedWidth(fits)).to.equal(true);
    expect(await commitQuantized(fits, 12)).to.equal(await commitPacked(fits, 12, 36));
    // One value past the edge: every value goes into the wide (unpacked, kind 0) form.
    for (const wide of [[edge, 0n], [0n, -edge - 1n], [MAX_QUANTIZED_MAGNITUDE]]) {
      expect(fitsCommittedWidth(wide)).to.equal(false);
      const unpacked = toCommitment(await chainedPoseidon(domainTag(CommitmentKind.Quantized, 12, wide.length), wide.map(toField)));
      expect(await commitQuantized(wide, 12)).to.equal(unpacked);
    }
  });

  it("commitQuantized: different vectors never share a commitment (lengths, trailing zeros, signs, scales, packing slots, the 36-bit edge)", async () => {
    const edge = 1n << 35n;
    const vectors: [bigint[], number][] = [
      [[1n, 2n, 3n], 12],
      [[1n, 2n, 3n, 0n], 12],
      [[1n, 2n, 3n, 0n, 0n, 0n, 0n], 12], // a full element of 7
      [[1n, 2n, 3n, 0n, 0n, 0n, 0n, 0n], 12], // one past it
      [[0n, 1n, 2n, 3n], 12],
      [[-1n, 2n, 3n], 12],
      [[1n, -2n, 3n], 12],
      [[1n, 2n, 3n], 11],
      [[0n], 12],
      [[-1n], 12],
      [[0n, 0n], 12],
      [[0n, 0n, 0n, 0n, 0n, 0n, 0n, 0n], 12],
      [[-edge], 12], // packs to 0 in its slot
      [[edge - 1n], 12],
      [[edge], 12], // the wide form
      [[-edge - 1n], 12],
      // What the previous slot's carry would be if values were not range-checked: [x + 2^36, y − 1] vs [x, y].
      [[3n + (1n << 36n), -6n], 12],
      [[3n, -5n], 12],
    ];
    const all = await Promise.all(vectors.map(([v, s]) => commitQuantized(v, s)));
    expect(new Set(all).size).to.equal(all.length);
    // ...nor with bytes or a packed commitment at another width.
    expect(all).to.not.include(await commitBytes(new Uint8Array([1, 2, 3])));
    expect(all).to.not.include(await commitPacked([1n, 2n, 3n], 12, 19));
  });

  describe("CommitPacked (circuit) = commitPacked (TypeScript)", function () {
    // (n, scale, width W, range-check width B): one value, a full element, one past it, several Poseidon
    // chunks, narrow widths; then commitQuantized's width 36 with an input's 14-bit check, and with none
    // (outputs whose range the layers prove).
    const sizes: [number, number, number, number][] = [
      [1, 12, 19, 19],
      [13, 12, 19, 19],
      [14, 12, 19, 19],
      [250, 12, 19, 19],
      [40, 4, 8, 8],
      [3, 0, 126, 126],
      [106, 12, 36, 14],
      [8, 12, 36, 0],
    ];
    let circuit: Awaited<ReturnType<typeof compileHarness>>;

    before(async function () {
      this.timeout(600_000);
      const inputs = sizes.map(([n], k) => `    signal input v${k}[${n}];`).join("\n");
      const body = sizes
        .map(([n, s, w, b], k) => `    component c${k} = CommitPacked(${n}, ${s}, ${w}, ${b});\n    c${k}.in <== v${k};\n    out[${k}] <== c${k}.out;`)
        .join("\n");
      circuit = await compileHarness(
        "packed-commitment",
        `pragma circom 2.1.0;\ninclude "opg_commitment.circom";\ntemplate T() {\n${inputs}\n    signal output out[${sizes.length}];\n${body}\n}\ncomponent main = T();\n`,
        "O2",
      );
    });

    it("agrees on random, extreme and signed values", async () => {
      const next = rng(4242);
      for (let round = 0; round < 3; round++) {
        const vectors = sizes.map(([n, , w, b]) =>
          Array.from({ length: n }, (_, i) => {
            const half = 1n << BigInt((b === 0 ? w : b) - 1);
            if (round === 0) return i % 2 === 0 ? -half : half - 1n;
            return BigInt(Math.floor((next() * 2 - 1) * Math.min(Number(half), 2 ** 50)));
          }),
        );
        const input = Object.fromEntries(vectors.map((v, k) => [`v${k}`, v.map((x) => toField(x).toString())]));
        const witness = await circuit.witness(input);
        for (const [k, [n, s, w, b]] of sizes.entries()) {
          expect(witness[1 + k]).to.equal(BigInt(await commitPacked(vectors[k]!, s, w)), `n=${n} s=${s} W=${w} B=${b}`);
          if (w === COMMITTED_VALUE_BITS) expect(witness[1 + k]).to.equal(BigInt(await commitQuantized(vectors[k]!, s)));
        }
      }
    });

    it("refuses (witness generation fails) an input outside its width", async () => {
      const input = Object.fromEntries(sizes.map(([n], k) => [`v${k}`, new Array<string>(n).fill("0")]));
      (input["v0"] as string[])[0] = (1n << 18n).toString();
      try {
        await circuit.witness(input);
        expect.fail("witness generation should fail");
      } catch (error) {
        expect(String(error)).to.match(/witness generation failed/);
      }
    });
  });

  it("forged witness: two vectors with the same packing are refused by the range checks, accepted by a control without them", async function () {
    this.timeout(600_000);
    // B = 8: [3, -5] and [3 + 2^8, -6] pack to the same field element (3+128+256) + (-6+128)·2^8.
    const honestIn = [3n, -5n];
    const forgedIn = [3n + 256n, -6n];
    const pack = (v: bigint[]) => v[0]! + 128n + (v[1]! + 128n) * 256n;
    expect(pack(forgedIn)).to.equal(pack(honestIn));

    const safe = await compileHarness(
      "packed-forgery",
      `pragma circom 2.1.0;\ninclude "opg_commitment.circom";\ntemplate T() {\n    signal input in[2];\n    signal output out;\n    component c = CommitPacked(2, 4, 8, 8);\n    c.in <== in;\n    out <== c.out;\n}\ncomponent main = T();\n`,
    );
    const honest = await safe.witness({ in: honestIn.map((v) => toField(v).toString()) });
    expect(await safe.check(honest)).to.equal(true);
    expect(honest[1]).to.equal(BigInt(await commitPacked(honestIn, 4, 8)));
    const forged = [...honest];
    forgedIn.forEach((v, i) => {
      forged[safe.at(`in[${i}]`)] = toField(v);
      forged[safe.at(`c.in[${i}]`)] = toField(v);
      forged[safe.at(`c.range[${i}].in`)] = toField(v);
      setBits(forged, safe.at, `c.range[${i}].bits`, v + 128n, 8);
      forged[safe.at(`c.range[${i}].nonneg`)] = forged[safe.at(`c.range[${i}].bits.out[7]`)]!;
    });
    expect(await safe.check(forged)).to.equal(false);

    // Control: the same packing and hash without the range checks accepts the forged input.
    const unsafe = await compileHarness(
      "packed-forgery-control",
      `pragma circom 2.1.0;
include "circomlib/circuits/poseidon.circom";
template UnsafePacked() {
    signal input in[2];
    signal output out;
    signal packed;
    packed <== (in[0] + 128) + (in[1] + 128) * 256;
    component h = Poseidon(2);
    h.inputs[0] <== 2 + 4 * 2 ** 32 + 2 * 2 ** 40 + 8 * 2 ** 48;
    h.inputs[1] <== packed;
    out <== h.out;
}
component main = UnsafePacked();
`,
    );
    const control = await unsafe.witness({ in: honestIn.map((v) => toField(v).toString()) });
    expect(control[1]).to.equal(honest[1]);
    const controlForged = [...control];
    forgedIn.forEach((v, i) => (controlForged[unsafe.at(`in[${i}]`)] = toField(v)));
    expect(await unsafe.check(controlForged)).to.equal(true);
  });

  it("forged witness, output packing (B = 0): outputs proven by their Rescale cannot be swapped for a vector with the same packing; a control fed unchecked values accepts it", async function () {
    this.timeout(600_000);
    // Two outputs q = Rescale(4, 6)(acc) packed at W = 8 without a check of their own: [q0 + 2^8, q1 − 1]
    // packs like [q0, q1]. The forger keeps the commitment and makes the Rescale as consistent as it can.
    const S = 4;
    const B = 6;
    const safe = await compileHarness(
      "packed-output-forgery",
      `pragma circom 2.1.0;
include "opg_commitment.circom";
template T() {
    signal input acc[2];
    signal output out;
    component r[2];
    component c = CommitPacked(2, ${S}, 8, 0);
    for (var i = 0; i < 2; i++) {
        r[i] = Rescale(${S}, ${B});
        r[i].in <== acc[i];
        c.in[i] <== r[i].out;
    }
    out <== c.out;
}
component main = T();
`,
    );
    const acc = [56n, -72n]; // q = floor((acc + 8) / 16) = [4, -4]
    const honest = await safe.witness({ acc: acc.map((v) => toField(v).toString()) });
    expect(await safe.check(honest)).to.equal(true);
    const q = [4n, -4n];
    expect(honest[1]).to.equal(BigInt(await commitPacked(q, S, 8)));
    const forgedQ = [q[0]! + 256n, q[1]! - 1n];
    const pack = (v: bigint[]) => v[0]! + 128n + (v[1]! + 128n) * 256n;
    expect(pack(forgedQ)).to.equal(pack(q));
    const forged = [...honest];
    forgedQ.forEach((v, i) => {
      for (const name of [`r[${i}].quotient`, `r[${i}].out`, `c.in[${i}]`, `r[${i}].quotientRange.in`]) if (safe.has(name)) forged[safe.at(name)] = toField(v);
      setBits(forged, safe.at, `r[${i}].quotientRange.bits`, v + (1n << BigInt(B - 1)), B);
      const remainder = acc[i]! + 8n - v * 16n; // keeps the equation, so the remainder leaves [0, 16)
      forged[safe.at(`r[${i}].remainder`)] = toField(remainder);
      setBits(forged, safe.at, `r[${i}].remainderBits`, remainder, S);
    });
    expect(await safe.check(forged)).to.equal(false);

    // Control: the same template fed values nothing range-checks accepts the same forgery, which is why
    // the circuit range-checks outputs at 36 bits whenever their proven range is wider (B = W).
    const unsafe = await compileHarness(
      "packed-output-forgery-control",
      `pragma circom 2.1.0;
include "opg_commitment.circom";
template T() {
    signal input q[2];
    signal output out;
    component c = CommitPacked(2, ${S}, 8, 0);
    c.in <== q;
    out <== c.out;
}
component main = T();
`,
    );
    const control = await unsafe.witness({ q: q.map((v) => toField(v).toString()) });
    expect(control[1]).to.equal(honest[1]);
    const controlForged = [...control];
    forgedQ.forEach((v, i) => {
      controlForged[unsafe.at(`q[${i}]`)] = toField(v);
      if (unsafe.has(`c.in[${i}]`)) controlForged[unsafe.at(`c.in[${i}]`)] = toField(v);
    });
    expect(await unsafe.check(controlForged)).to.equal(true);
  });
});

describe("zkml: forged witnesses against the vision templates", function () {
  this.timeout(600_000);
  const S = 4;
  const B = 10;
  // SparseDense: 2 outputs over 3 inputs; MaxPool: windows {0,1,2} and {1,2}; Gather: [in[2], 7, in[0]].
  const HARNESS = `pragma circom 2.1.0;
include "opg_vision.circom";
include "opg_relu.circom";
template Harness() {
    signal input x[3];
    signal output y[2];
    signal output ry[2];
    signal output m[2];
    signal output g[3];
    var rows[3] = [0, 2, 3];
    var cols[3] = [0, 2, 1];
    var W[3] = [3, -5, 16];
    var bias[2] = [8, -100];
    var bits[2] = [${B}, ${B}];
    component dense = SparseDense(2, 3, 3, ${S}, rows, cols, W, bias, bits);
    dense.in <== x;
    y <== dense.out;
    component relu = ReluWithSign(2);
    relu.in <== dense.out;
    relu.nonneg <== dense.nonneg;
    ry <== relu.out;
    var start[3] = [0, 3, 5];
    var idx[5] = [0, 1, 2, 1, 2];
    var mbits[2] = [8, 8];
    component pool = MaxPool(2, 3, 5, 3, start, idx, mbits);
    pool.in <== x;
    m <== pool.out;
    var isConst[3] = [0, 1, 0];
    var gidx[3] = [2, 0, 0];
    var c[3] = [0, 7, 0];
    component gather = Gather(3, 3, isConst, gidx, c);
    gather.in <== x;
    g <== gather.out;
}
component main = Harness();
`;
  let h: Awaited<ReturnType<typeof compileHarness>>;
  let valid: bigint[];
  const x = [20n, -7n, 12n];

  before(async () => {
    h = await compileHarness("vision-forgery", HARNESS);
    valid = await h.witness({ x: x.map((v) => toField(v).toString()) });
  });

  it("the honest witness passes, with the expected values", async () => {
    expect(await h.check(valid)).to.equal(true);
    // y0 = rescale(8 + 3·20 − 5·12) = rescale(8) = floor((8 + 8) / 16) = 1; y1 = rescale(−100 + 16·(−7)) = floor(−204/16) = −13
    expect([valid[h.at("y[0]")], valid[h.at("y[1]")]]).to.deep.equal([1n, toField(-13n)]);
    expect([valid[h.at("ry[0]")], valid[h.at("ry[1]")]]).to.deep.equal([1n, 0n]);
    expect([valid[h.at("m[0]")], valid[h.at("m[1]")]]).to.deep.equal([20n, 12n]);
    expect([0, 1, 2].map((k) => valid[h.at(`g[${k}]`)])).to.deep.equal([12n, 7n, 20n]);
  });

  it("SparseDense: refuses a quotient/remainder pair shifted by one (remainder out of range)", async () => {
    const forged = [...valid];
    const q = -12n; // honest −13, remainder 12 → (−12, 12 − 16)
    for (const name of ["dense.rescale[1].quotient", "dense.rescale[1].out", "dense.out[1]", "y[1]", "relu.in[1]", "dense.rescale[1].quotientRange.in"]) {
      if (h.has(name)) forged[h.at(name)] = toField(q);
    }
    setBits(forged, h.at, "dense.rescale[1].quotientRange.bits", q + (1n << BigInt(B - 1)), B);
    forged[h.at("dense.rescale[1].remainder")] = toField(12n - 16n);
    setBits(forged, h.at, "dense.rescale[1].remainderBits", 12n - 16n, S);
    expect(await h.check(forged)).to.equal(false);
  });

  it("SparseDense: refuses a wrong sign bit handed to the ReLU", async () => {
    const forged = [...valid];
    for (const name of ["dense.rescale[1].quotientRange.bits.out[9]", "dense.rescale[1].quotientRange.nonneg", "dense.rescale[1].nonneg", "dense.nonneg[1]", "relu.nonneg[1]"]) {
      forged[h.at(name)] = 1n;
    }
    forged[h.at("relu.out[1]")] = toField(-13n);
    forged[h.at("ry[1]")] = toField(-13n);
    expect(await h.check(forged)).to.equal(false);
  });

  it("MaxPool: refuses a claimed maximum that is not the maximum (flipped comparison sign)", async () => {
    // Window 0: m = max(20, −7) = 20, then max(20, 12) = 20. Claim 20 < 12 so the output becomes 12.
    const forged = [...valid];
    forged[h.at("pool.cmp[1].nonneg")] = 0n;
    forged[h.at("pool.cmp[1].bits.out[7]")] = 0n;
    for (const name of ["pool.m[2]", "pool.out[0]", "m[0]"]) forged[h.at(name)] = 12n;
    expect(await h.check(forged)).to.equal(false);
  });

  it("Gather: refuses an altered wired output", async () => {
    const forged = [...valid];
    forged[h.at("g[1]")] = 8n;
    if (h.has("gather.out[1]")) forged[h.at("gather.out[1]")] = 8n;
    expect(await h.check(forged)).to.equal(false);
  });

  it("control: a MaxPool whose comparison sign is a free boolean hint accepts the same forgery", async () => {
    const unsafe = await compileHarness(
      "vision-forgery-control",
      `pragma circom 2.1.0;
template UnsafeMax() {
    signal input a;
    signal input b;
    signal output out;
    signal nonneg;
    nonneg <-- a >= b ? 1 : 0;
    nonneg * (nonneg - 1) === 0;
    out <== b + nonneg * (a - b);
}
component main = UnsafeMax();
`,
    );
    const honest = await unsafe.witness({ a: "20", b: "12" });
    expect(honest[unsafe.at("out")]).to.equal(20n);
    const forged = [...honest];
    forged[unsafe.at("nonneg")] = 0n;
    forged[unsafe.at("out")] = 12n;
    expect(await unsafe.check(forged)).to.equal(true);
  });
});
