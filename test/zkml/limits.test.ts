/**
 * Size limits and clear errors for hostile or mistaken models and inputs (issue #8, items 2 and 6): tiny
 * ONNX files declaring huge tensors are refused at import before anything is allocated, circuits that no
 * ptau holds are refused before circom runs, and bad values get errors that say what is wrong.
 */
import { expect } from "chai";
import { existsSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { runCli } from "../../src/cli/main.ts";
import { InvalidInputError } from "../../src/errors.ts";
import {
  buildCircuit,
  CircuitBuildError,
  estimateConstraints,
  importOnnx,
  OnnxImportError,
  QuantizationError,
  quantize,
  quantizeInput,
  quantizeValue,
  readInputValues,
} from "../../src/zkml/index.ts";
import { builtFixture, FIXTURES, TEMP_ROOT } from "./helpers.ts";
import { buildOnnx } from "./onnx-builder.ts";

function throws<E extends Error>(action: () => unknown, type: new (...args: never[]) => E, pattern: RegExp): E {
  try {
    action();
  } catch (error) {
    expect(error, String(error)).to.be.instanceOf(type);
    expect((error as Error).message).to.match(pattern);
    return error as E;
  }
  return expect.fail(`expected ${type.name} matching ${pattern}`);
}

const relu = (shape: (number | string)[]) => buildOnnx({ input: { name: "x", shape }, output: "y", nodes: [{ op: "Relu", inputs: ["x"], output: "y" }] });

describe("zkml: size limits before allocation (item 2)", () => {
  it("an ~88-byte model whose input is declared [1, 2e9] is refused at import", () => {
    const bytes = relu([1, 2_000_000_000]);
    expect(bytes.length).to.be.below(120);
    throws(() => importOnnx(bytes), OnnxImportError, /^input "x" has shape \[1,2000000000\] \(2,000,000,000 values\), more than the 1,048,576 the ZK tier supports$/);
  });

  it("constant broadcasts that would fold to N² values are refused before folding", () => {
    const n = 20_000; // two 80 KB initializers, 4e8 values once broadcast
    const bytes = buildOnnx({
      input: { name: "x", shape: [1, 1] },
      output: "y",
      initializers: [
        { name: "A", dims: [n, 1], values: new Array<number>(n).fill(1), raw: true },
        { name: "B", dims: [1, n], values: new Array<number>(n).fill(2), raw: true },
      ],
      nodes: [
        { op: "Add", inputs: ["A", "B"], output: "C", name: "fold" },
        { op: "Add", inputs: ["x", "C"], output: "y" },
      ],
    });
    expect(bytes.length).to.be.below(200_000);
    throws(() => importOnnx(bytes), OnnxImportError, /the output of node "fold" \(Add\) has shape \[20000,20000\] \(400,000,000 values\)/);
  });

  it("a dense matrix too large to hold and a constant product too costly to fold are refused", () => {
    // A batched input [256, 128] times a 128x128 constant: the flattened dense matrix is 32,768², over 4M.
    const batched = buildOnnx({
      input: { name: "x", shape: [256, 128] },
      output: "y",
      initializers: [{ name: "W", dims: [128, 128], values: new Array<number>(128 * 128).fill(0.5), raw: true }],
      nodes: [{ op: "MatMul", inputs: ["x", "W"], output: "y", name: "batched" }],
    });
    throws(() => importOnnx(batched), OnnxImportError, /^the dense matrix of node "batched" \(MatMul\) needs 1,073,741,824 entries or operations, more than the 4,194,304/);
    // Two 512x512 constants: 134M multiply-adds to fold at import.
    const square = new Array<number>(512 * 512).fill(0.25);
    const fold = buildOnnx({
      input: { name: "x", shape: [512, 512] },
      output: "y",
      initializers: [
        { name: "A", dims: [512, 512], values: square, raw: true },
        { name: "B", dims: [512, 512], values: square, raw: true },
      ],
      nodes: [
        { op: "MatMul", inputs: ["A", "B"], output: "C", name: "fold" },
        { op: "Add", inputs: ["x", "C"], output: "y" },
      ],
    });
    throws(() => importOnnx(fold), OnnxImportError, /^folding node "fold" \(MatMul\) needs 134,217,728 entries or operations/);
  });

  it("vision ops declaring huge outputs are refused in one line before allocating (Conv pads, Pad, MaxPool taps, Concat)", () => {
    const w = { name: "W", dims: [1, 1, 3, 3], values: new Array<number>(9).fill(0.5) };
    const hugeConv = buildOnnx({
      input: { name: "x", shape: [1, 1, 4, 4] },
      output: "y",
      initializers: [w],
      nodes: [{ op: "Conv", inputs: ["x", "W"], output: "y", name: "bigconv", attributes: { pads: [1e6, 1e6, 1e6, 1e6] } }],
    });
    expect(hugeConv.length).to.be.below(200);
    throws(() => importOnnx(hugeConv), OnnxImportError, /^node "bigconv" \(Conv\) output has shape \[1,1,2000002,2000002\] \(4,000,008,000,004 values\), more than the 1,048,576 the ZK tier supports$/);
    const hugePad = buildOnnx({
      input: { name: "x", shape: [1, 1, 4, 4] },
      output: "y",
      initializers: [{ name: "pads", dims: [8], values: [0, 0, 0, 1e9, 0, 0, 0, 0], int64: true }],
      nodes: [{ op: "Pad", inputs: ["x", "pads"], output: "y", name: "bigpad" }],
    });
    throws(() => importOnnx(hugePad), OnnxImportError, /^node "bigpad" \(Pad\) output has shape \[1,1,4,1000000004\]/);
    // A 1000x1000 window over 25 outputs: only 25 values, but 25M taps to enumerate.
    const hugePool = buildOnnx({
      input: { name: "x", shape: [1, 1, 4, 4] },
      output: "y",
      nodes: [{ op: "MaxPool", inputs: ["x"], output: "y", name: "bigpool", attributes: { kernel_shape: [1000, 1000], pads: [500, 500, 500, 500] } }],
    });
    throws(() => importOnnx(hugePool), OnnxImportError, /^node "bigpool" \(MaxPool\) needs 25,000,000 entries or operations, more than the 4,194,304/);
    const hugeConcat = buildOnnx({
      input: { name: "x", shape: [1, 700_000] },
      output: "y",
      nodes: [{ op: "Concat", inputs: ["x", "x"], output: "y", name: "twice", attributes: { axis: 1 } }],
    });
    throws(() => importOnnx(hugeConcat), OnnxImportError, /^node "twice" \(Concat\) output has shape \[1,1400000\] \(1,400,000 values\)/);
  });

  it("a BatchNormalization whose folded scale is infinite is refused by name", () => {
    const c = (name: string, values: number[]) => ({ name, dims: [1], values });
    const bytes = buildOnnx({
      input: { name: "x", shape: [1, 1, 2, 2] },
      output: "y",
      initializers: [c("s", [1]), c("b", [0]), c("m", [0]), c("v", [0])],
      nodes: [{ op: "BatchNormalization", inputs: ["x", "s", "b", "m", "v"], output: "y", name: "bn", attributes: { epsilon: { float: 0 } } }],
    });
    throws(() => importOnnx(bytes), OnnxImportError, /^node "bn" \(BatchNormalization\) folded channel 0 holds a non-finite value \(Infinity\)/);
  });

  it("a circuit no ptau of the allowed power holds is refused before circom runs, in one line", async () => {
    // [1, 2e5] passes the tensor caps but needs millions of constraints (range checks + commitment).
    const bytes = relu([1, 200_000]);
    const outDir = join(TEMP_ROOT, "limits-huge-input");
    try {
      await buildCircuit(bytes, { outDir });
      expect.fail("built");
    } catch (error) {
      expect(error).to.be.instanceOf(CircuitBuildError);
      expect((error as Error).message).to.match(/^the circuit needs at least [\d,]+ constraints, more than the largest local development ptau \(power 17\) holds: pass --ptau with a ceremony file of power ≥ 2\d$/);
    }
    expect(existsSync(join(outDir, "model.circom"))).to.equal(false);

    let stderr = "";
    await writeFile(join(TEMP_ROOT, "limits-huge.onnx"), bytes);
    const code = await runCli(["zk", "build", "limits-huge.onnx", "--out", outDir], {
      stdout: () => undefined,
      stderr: (t) => void (stderr += t),
      isTTY: false,
      env: {},
      cwd: TEMP_ROOT,
    });
    expect(code).to.equal(1);
    expect(stderr.trimEnd().split("\n")).to.have.length(1);
    expect(stderr).to.match(/^opg zk build: the circuit needs at least/);
  });

  it("the constraint estimate is a lower bound of what circom produces (and close to it)", async () => {
    for (const name of FIXTURES.slice(0, 2)) {
      const build = await builtFixture(name);
      const estimate = estimateConstraints(build.model);
      expect(estimate, name).to.be.at.most(build.metadata.circuit.constraints);
      expect(estimate, name).to.be.at.least(build.metadata.circuit.constraints * 0.9);
    }
  });
});

describe("zkml: clear errors for bad values and shapes (item 6)", () => {
  it("a double initializer of 1e308 names the tensor (not 'Infinity cannot be converted to a BigInt')", () => {
    const bytes = buildOnnx({
      input: { name: "x", shape: [1, 1] },
      output: "y",
      initializers: [{ name: "W", dims: [1, 1], values: [1e308], double: true }],
      nodes: [{ op: "MatMul", inputs: ["x", "W"], output: "y" }],
    });
    throws(() => importOnnx(bytes), OnnxImportError, /^tensor "W" holds 1e\+308 at index 0, beyond the largest supported magnitude 2\^100$/);
    throws(() => quantizeValue(1e300, 12), QuantizationError, /too large for fixed point at scale 2\^12/);
  });

  it("a 107-byte initializer declaring [1e5, 1e5] is refused by its shape, not 'Array buffer allocation failed'", () => {
    const bytes = buildOnnx({
      input: { name: "x", shape: [1, 100_000] },
      output: "y",
      initializers: [{ name: "W", dims: [100_000, 100_000], values: [1], raw: true }],
      nodes: [{ op: "MatMul", inputs: ["x", "W"], output: "y" }],
    });
    expect(bytes.length).to.be.below(200);
    throws(() => importOnnx(bytes), OnnxImportError, /^tensor "W" has shape \[100000,100000\] \(10,000,000,000 values\), more than the 4,194,304 the ZK tier supports$/);
  });

  describe("inputs", () => {
    const model = quantize(importOnnx(relu([1, 3])));

    it("1e309 (Infinity once parsed) is reported as such, not as null", () => {
      throws(() => readInputValues(JSON.parse('{"input": [[1e309, 0, 0]]}'), model), InvalidInputError, /got Infinity \(beyond the float64 range/);
    });

    it("63.99999 says it rounds up to the bound 64", () => {
      throws(() => quantizeInput(model, [63.99999, 0, 0]), QuantizationError, /^input\[0\] = 63\.99999 rounds up to 64 at scale 2\^-12, the excluded upper bound of the circuit's input range \[-64, 64\)$/);
      throws(() => quantizeInput(model, [0, 64.5, 0]), QuantizationError, /input\[1\] = 64\.5 is outside the circuit's input range \[-64, 64\)/);
      expect(quantizeInput(model, [63.9998, -64, 0])).to.have.length(3);
    });

    it("[[1],[2],[3]] is refused for shape [1,3]; [[1,2,3]] and [1,2,3] are accepted", () => {
      throws(() => readInputValues({ input: [[1], [2], [3]] }, model), InvalidInputError, /^the model takes an input of shape \[1,3\], got shape \[3,1\]$/);
      expect(readInputValues({ input: [[1, 2, 3]] }, model)).to.deep.equal([1, 2, 3]);
      expect(readInputValues([1, 2, 3], model)).to.deep.equal([1, 2, 3]);
    });
  });
});
