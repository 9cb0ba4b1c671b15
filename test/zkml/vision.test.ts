/**
 * Vision and shape operators: the float IR against onnxruntime for every attribute the importer reads,
 * BatchNormalization folding, and the circuit's witness against the TypeScript integer reference bit for
 * bit on a model that uses every new layer kind.
 */
import { expect } from "chai";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import {
  calculateWitness,
  checkWitness,
  circuitInput,
  commitModelInput,
  commitModelOutput,
  compileCircuit,
  estimateConstraints,
  evaluateFloat,
  generateCircom,
  importOnnx,
  inferQuantized,
  quantize,
  quantizedModelFromJson,
  quantizedModelToJson,
  quantizeInput,
  readR1csInfo,
  readWitness,
  UnsupportedOpError,
} from "../../src/zkml/index.ts";
import { toField } from "../../src/commitments/index.ts";
import { rng, runOrt, TEMP_ROOT } from "./helpers.ts";
import { buildOnnx, type TestModel } from "./onnx-builder.ts";


const shapeSize = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);
const values = (n: number, seed: number, scale = 1): number[] => {
  const next = rng(seed);
  return Array.from({ length: n }, () => Math.fround((next() * 2 - 1) * scale));
};

interface Case {
  title: string;
  model: TestModel;
  shape: number[];
}

const conv = (name: string, dims: number[], seed: number) => ({ name, dims, values: values(shapeSize(dims), seed) });

const CASES: Case[] = [
  {
    title: "Conv 2-D: group 2, strides [2,1], asymmetric pads, dilations [1,2], bias",
    shape: [1, 2, 7, 6],
    model: {
      input: { name: "x", shape: [1, 2, 7, 6] },
      output: "y",
      nodes: [{ op: "Conv", inputs: ["x", "W", "B"], output: "y", attributes: { group: 2, strides: [2, 1], pads: [1, 0, 2, 1], dilations: [1, 2], kernel_shape: [3, 2] } }],
      initializers: [conv("W", [4, 1, 3, 2], 1), conv("B", [4], 2)],
    },
  },
  {
    title: "Conv auto_pad SAME_UPPER with stride 2, no bias",
    shape: [1, 1, 5, 5],
    model: {
      input: { name: "x", shape: [1, 1, 5, 5] },
      output: "y",
      nodes: [{ op: "Conv", inputs: ["x", "W"], output: "y", attributes: { auto_pad: { string: "SAME_UPPER" }, strides: [2, 2] } }],
      initializers: [conv("W", [2, 1, 3, 3], 3)],
    },
  },
  {
    title: "Conv 1-D with pads and stride 2",
    shape: [1, 2, 9],
    model: {
      input: { name: "x", shape: [1, 2, 9] },
      output: "y",
      nodes: [{ op: "Conv", inputs: ["x", "W", "B"], output: "y", attributes: { strides: [2], pads: [1, 1] } }],
      initializers: [conv("W", [3, 2, 3], 4), conv("B", [3], 5)],
    },
  },
  {
    title: "AveragePool with pads, ceil_mode, count_include_pad = 0",
    shape: [1, 2, 6, 5],
    model: {
      input: { name: "x", shape: [1, 2, 6, 5] },
      output: "y",
      nodes: [{ op: "AveragePool", inputs: ["x"], output: "y", attributes: { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1], ceil_mode: 1 } }],
    },
  },
  {
    title: "AveragePool count_include_pad = 1",
    shape: [1, 1, 5, 5],
    model: {
      input: { name: "x", shape: [1, 1, 5, 5] },
      output: "y",
      nodes: [{ op: "AveragePool", inputs: ["x"], output: "y", attributes: { kernel_shape: [2, 2], strides: [2, 2], pads: [1, 1, 0, 0], count_include_pad: 1 } }],
    },
  },
  {
    title: "MaxPool with pads, dilations and ceil_mode",
    shape: [1, 2, 7, 7],
    model: {
      input: { name: "x", shape: [1, 2, 7, 7] },
      output: "y",
      nodes: [{ op: "MaxPool", inputs: ["x"], output: "y", attributes: { kernel_shape: [2, 3], strides: [2, 2], pads: [1, 1, 0, 1], dilations: [1, 2], ceil_mode: 1 } }],
    },
  },
  {
    title: "GlobalAveragePool then GlobalMaxPool of a Concat",
    shape: [1, 3, 4, 4],
    model: {
      input: { name: "x", shape: [1, 3, 4, 4] },
      output: "y",
      nodes: [
        { op: "GlobalAveragePool", inputs: ["x"], output: "a" },
        { op: "GlobalMaxPool", inputs: ["x"], output: "m" },
        { op: "Concat", inputs: ["a", "m"], output: "y", attributes: { axis: 1 } },
      ],
    },
  },
  {
    title: "Conv + BatchNormalization (folded) and BatchNormalization of the input (not foldable)",
    shape: [1, 2, 4, 4],
    model: {
      input: { name: "x", shape: [1, 2, 4, 4] },
      output: "y",
      nodes: [
        { op: "BatchNormalization", inputs: ["x", "s0", "b0", "m0", "v0"], output: "n", attributes: { epsilon: { float: 1e-3 } } },
        { op: "Conv", inputs: ["n", "W", "B"], output: "c" },
        { op: "BatchNormalization", inputs: ["c", "s1", "b1", "m1", "v1"], output: "y" },
      ],
      initializers: [
        conv("s0", [2], 6), conv("b0", [2], 7), conv("m0", [2], 8), { name: "v0", dims: [2], values: [0.5, 2] },
        conv("W", [3, 2, 2, 2], 9), conv("B", [3], 10),
        conv("s1", [3], 11), conv("b1", [3], 12), conv("m1", [3], 13), { name: "v1", dims: [3], values: [0.25, 1, 4] },
      ],
    },
  },
  {
    title: "Transpose, Slice (negative step, axes), Squeeze/Unsqueeze, Gather, Pad, Concat with a constant",
    shape: [1, 2, 3, 4],
    model: {
      input: { name: "x", shape: [1, 2, 3, 4] },
      output: "y",
      nodes: [
        { op: "Transpose", inputs: ["x"], output: "t", attributes: { perm: [0, 2, 3, 1] } },
        { op: "Slice", inputs: ["t", "starts", "ends", "axes", "steps"], output: "s" },
        { op: "Squeeze", inputs: ["s", "sqAxes"], output: "q" },
        { op: "Gather", inputs: ["q", "idx"], output: "g", attributes: { axis: 1 } },
        { op: "Unsqueeze", inputs: ["g", "sqAxes"], output: "u" },
        { op: "Pad", inputs: ["u", "pads", "padValue"], output: "p" },
        { op: "Concat", inputs: ["p", "k"], output: "y", attributes: { axis: 3 } },
      ],
      initializers: [
        { name: "starts", dims: [2], values: [3, 0], int64: true },
        { name: "ends", dims: [2], values: [0, 2], int64: true },
        { name: "axes", dims: [2], values: [2, 1], int64: true },
        { name: "steps", dims: [2], values: [-2, 1], int64: true },
        { name: "sqAxes", dims: [1], values: [0], int64: true },
        { name: "idx", dims: [2], values: [1, -2], int64: true },
        { name: "pads", dims: [8], values: [0, 1, 0, 0, 0, 0, 1, 1], int64: true },
        { name: "padValue", dims: [], values: [0.5] },
        { name: "k", dims: [1, 3, 3, 1], values: [1, 2, 3, 4, 5, 6, 7, 8, 9] },
      ],
    },
  },
];

describe("zkml: vision and shape operators", () => {
  describe("the float IR matches onnxruntime", () => {
    for (const c of CASES) {
      it(c.title, async () => {
        const bytes = buildOnnx(c.model);
        const graph = importOnnx(bytes);
        const input = values(shapeSize(c.shape), c.title.length);
        const reference = await runOrt(bytes, "x", input, c.shape);
        expect(graph.output.shape).to.deep.equal(reference.dims);
        const ours = evaluateFloat(graph, input);
        expect(ours.length).to.equal(reference.data.length);
        reference.data.forEach((v, i) => expect(Math.abs((ours[i] ?? NaN) - v), `element ${i}`).to.be.below(1e-5));
      });
    }
  });

  it("folds BatchNormalization into the Conv before it, and keeps an unfoldable one as a per-channel layer", () => {
    const graph = importOnnx(buildOnnx(CASES.find((c) => c.title.startsWith("Conv + BatchNormalization"))!.model));
    expect(graph.ops.map((o) => (o.kind === "sparse" ? `sparse:${o.opType}` : o.kind))).to.deep.equal(["sparse:BatchNormalization", "sparse:Conv"]);
    expect(graph.ops[1]?.node).to.match(/\+/);
  });

  it("refuses what it cannot prove, naming the node: variable weights, reflect padding, MaxPool indices", () => {
    const refuse = (model: TestModel, pattern: RegExp) => expect(() => importOnnx(buildOnnx(model))).to.throw(UnsupportedOpError, pattern);
    refuse(
      { input: { name: "x", shape: [1, 1, 3, 3] }, output: "y", nodes: [{ op: "Conv", inputs: ["x", "x"], output: "y", name: "selfconv" }] },
      /selfconv.*weights must be constants/,
    );
    refuse(
      {
        input: { name: "x", shape: [1, 1, 3, 3] },
        output: "y",
        nodes: [{ op: "Pad", inputs: ["x", "pads"], output: "y", name: "mirror", attributes: { mode: { string: "reflect" } } }],
        initializers: [{ name: "pads", dims: [8], values: [0, 0, 1, 1, 0, 0, 1, 1], int64: true }],
      },
      /mirror.*constant padding/,
    );
    refuse(
      {
        input: { name: "x", shape: [1, 1, 4, 4] },
        output: "y",
        nodes: [{ op: "MaxPool", inputs: ["x"], output: "y", outputs: ["i"], name: "argmax", attributes: { kernel_shape: [2, 2] } }],
      },
      /argmax.*Indices/,
    );
  });

  describe("circuit = TypeScript integer reference, bit for bit, for every new layer kind", function () {
    // x[1,2,6,6] → BN → Conv(group 2, pads, stride) → Relu → MaxPool → Conv(dilated) → AveragePool(pads) →
    //   Transpose → Concat(const) → Pad → Gather → Flatten → Gemm
    const model: TestModel = {
      input: { name: "x", shape: [1, 2, 6, 6] },
      output: "y",
      nodes: [
        { op: "BatchNormalization", inputs: ["x", "s0", "b0", "m0", "v0"], output: "n" },
        { op: "Conv", inputs: ["n", "W1", "B1"], output: "c1", attributes: { group: 2, pads: [1, 1, 1, 1], strides: [1, 1] } },
        { op: "Relu", inputs: ["c1"], output: "r1" },
        { op: "MaxPool", inputs: ["r1"], output: "p1", attributes: { kernel_shape: [2, 2], strides: [2, 2] } },
        { op: "Conv", inputs: ["p1", "W2"], output: "c2", attributes: { dilations: [2, 2], pads: [2, 2, 2, 2] } },
        { op: "AveragePool", inputs: ["c2"], output: "a2", attributes: { kernel_shape: [2, 2], strides: [2, 2], pads: [1, 1, 0, 0] } },
        { op: "Transpose", inputs: ["a2"], output: "t", attributes: { perm: [0, 2, 3, 1] } },
        { op: "Concat", inputs: ["t", "k"], output: "cat", attributes: { axis: 3 } },
        { op: "Pad", inputs: ["cat", "pads"], output: "pad" },
        { op: "Gather", inputs: ["pad", "idx"], output: "g", attributes: { axis: 3 } },
        { op: "Flatten", inputs: ["g"], output: "f" },
        { op: "Gemm", inputs: ["f", "W3", "B3"], output: "y", attributes: { transB: 1 } },
      ],
      initializers: [
        conv("s0", [2], 21), conv("b0", [2], 22), conv("m0", [2], 23), { name: "v0", dims: [2], values: [0.5, 1.5] },
        conv("W1", [4, 1, 3, 3], 24), conv("B1", [4], 25),
        conv("W2", [2, 4, 2, 2], 26),
        { name: "k", dims: [1, 3, 3, 1], values: [0.25, -0.5, 0.75, -1, 0.125, 0.5, -0.25, 1, -0.75] },
        { name: "pads", dims: [8], values: [0, 0, 0, 1, 0, 0, 0, 0], int64: true },
        { name: "idx", dims: [3], values: [2, 0, 1], int64: true },
        conv("W3", [3, 27], 27), conv("B3", [3], 28),
      ],
    };
    let dir: string;
    const bytes = buildOnnx(model);
    const quantized = quantize(importOnnx(bytes), { scaleBits: 10, inputIntBits: 2 });

    before(async function () {
      this.timeout(600_000);
      dir = join(TEMP_ROOT, "vision-all-ops");
      await mkdir(dir, { recursive: true });
      await writeFile(join(dir, "model.circom"), generateCircom(quantized, "vision"));
      await compileCircuit(dir);
    });

    it("uses every new layer kind and round-trips through model.json", () => {
      const kinds = new Set(quantized.layers.map((l) => l.kind));
      for (const kind of ["sparse", "maxPool", "gather", "relu", "dense"]) expect(kinds.has(kind as never), kind).to.equal(true);
      expect(quantizedModelFromJson(JSON.parse(JSON.stringify(quantizedModelToJson(quantized))))).to.deep.equal(quantized);
    });

    it("the constraint estimate (limits.ts) counts the new layer kinds and stays a lower bound of circom's count", async () => {
      const { constraints } = await readR1csInfo(join(dir, "model.r1cs"));
      const estimate = estimateConstraints(quantized);
      expect(estimate).to.be.at.most(constraints);
      // sparse rescales, MaxPool comparisons and the packed input commitment are counted, not left at zero
      expect(estimate).to.be.at.least(constraints * 0.8);
    });

    it("the witness equals inferQuantized (outputs and commitments) for random and extreme inputs, and passes wtns check", async () => {
      const limit = 2 ** quantized.inputIntBits;
      const next = rng(77);
      const n = quantized.input.size;
      const inputs = [
        new Array<number>(n).fill(-limit),
        new Array<number>(n).fill(limit - 2 ** -quantized.scaleBits),
        ...Array.from({ length: 4 }, () => Array.from({ length: n }, () => (next() * 2 - 1) * limit)),
      ];
      const graph = importOnnx(bytes);
      for (const x of inputs) {
        const q = quantizeInput(quantized, x);
        const reference = inferQuantized(quantized, q).output;
        const witness = await readWitness(await calculateWitness(join(dir, "model_js", "model.wasm"), circuitInput(q, 3n)));
        expect(witness[1]).to.equal(BigInt(await commitModelInput(quantized, q)));
        expect(witness[2]).to.equal(BigInt(await commitModelOutput(quantized, reference)));
        expect(witness.slice(3, 3 + reference.length)).to.deep.equal(reference.map(toField));
        expect((await checkWitness(join(dir, "model.r1cs"), witness)).ok).to.equal(true);
        // ...and stays close to the float model.
        const float = evaluateFloat(graph, x);
        reference.forEach((v, i) => expect(Math.abs(Number(v) / 2 ** 10 - (float[i] ?? NaN))).to.be.below(0.05 + 0.02 * Math.abs(float[i] ?? 0)));
      }
    });
  });
});
