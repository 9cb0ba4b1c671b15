import { expect } from "chai";
import {
  evaluateFloat,
  importOnnx,
  OnnxImportError,
  UnsupportedOpError,
  UnsupportedOpsetError,
} from "../../src/zkml/index.ts";
import { fixture, FIXTURES, runOrt } from "./helpers.ts";
import { buildOnnx, type TestModel } from "./onnx-builder.ts";


function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).to.equal(b.length);
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs((a[i] ?? 0) - (b[i] ?? 0)));
  return max;
}

describe("zkml: ONNX import", () => {
  for (const name of FIXTURES) {
    it(`${name}: the float IR reproduces onnxruntime's expected.json`, () => {
      const f = fixture(name);
      const graph = importOnnx(f.onnx);
      expect(graph.output.shape).to.deep.equal(f.expectedShape);
      expect(maxAbsDiff(evaluateFloat(graph, f.inputValues), f.expected)).to.be.below(1e-6);
    });
  }

  it("sklearn-mlp: follows the graph to the real [5,1] output shape, reading float_data and int64_data", () => {
    const graph = importOnnx(fixture("sklearn-mlp-3-3-5").onnx);
    expect(graph.opset).to.equal(16);
    expect(graph.output.shape).to.deep.equal([5, 1]);
    // MatMul + Add(bias) pairs are fused into two dense layers around the Relu.
    expect(graph.ops.map((o) => o.kind)).to.deep.equal(["linear", "relu", "linear"]);
    expect(graph.parameterCount).to.equal(32);
  });

  it("refuses opset < 7 with a clear error", () => {
    const bytes = buildOnnx({
      opset: 6,
      input: { name: "x", shape: [1, 2] },
      output: "y",
      nodes: [{ op: "Relu", inputs: ["x"], output: "y" }],
    });
    expect(() => importOnnx(bytes)).to.throw(UnsupportedOpsetError, /opset 6 is not supported/);
  });

  it("refuses an unknown operator, naming the op and the node", () => {
    const bytes = buildOnnx({
      input: { name: "x", shape: [1, 2] },
      output: "y",
      nodes: [
        { op: "Relu", inputs: ["x"], output: "h", name: "first" },
        { op: "Sigmoid", inputs: ["h"], output: "y", name: "my_sigmoid" },
      ],
    });
    try {
      importOnnx(bytes);
      expect.fail("import should fail");
    } catch (error) {
      expect(error).to.be.instanceOf(UnsupportedOpError);
      const e = error as UnsupportedOpError;
      expect(e.op).to.equal("Sigmoid");
      expect(e.node).to.equal("my_sigmoid");
      expect(e.code).to.equal("ONNX_UNSUPPORTED_OP");
      expect(e.message).to.equal('unsupported ONNX operator Sigmoid in node "my_sigmoid"');
    }
  });

  it("conv-mnist-4l: Conv layers become sparse linear layers and the float IR reproduces onnxruntime", () => {
    const f = fixture("conv-mnist-4l");
    const graph = importOnnx(f.onnx);
    expect(graph.ops.map((o) => o.kind)).to.deep.equal(["sparse", "relu", "sparse", "relu", "linear", "relu", "linear"]);
    expect(graph.output.shape).to.deep.equal(f.expectedShape);
    expect(maxAbsDiff(evaluateFloat(graph, f.inputValues), f.expected)).to.be.below(1e-6);
  });

  it("refuses bytes that are not an ONNX model", () => {
    expect(() => importOnnx(new Uint8Array([0xff, 0xff, 0xff, 0x01]))).to.throw(OnnxImportError);
  });

  it("refuses a product of two variable tensors (not linear)", () => {
    const bytes = buildOnnx({
      input: { name: "x", shape: [1, 1] },
      output: "y",
      nodes: [{ op: "MatMul", inputs: ["x", "x"], output: "y", name: "square" }],
    });
    expect(() => importOnnx(bytes)).to.throw(UnsupportedOpError, /square.*not linear/);
  });

  // Synthetic models checked against onnxruntime: every Gemm attribute, MatMul with the constant on either
  // side, bias broadcasting, raw_data vs float_data, Flatten / Reshape / Identity / Cast, Add of two variables.
  const W34 = [0.5, -1.25, 2, 0.75, -0.5, 1.5, 0.25, -2, 1, 0.125, -0.375, 0.625];
  const cases: { title: string; model: TestModel; input: number[]; shape: number[] }[] = [
    {
      title: "Gemm alpha/beta, transA, no transB, [1,4] bias (raw_data)",
      model: {
        input: { name: "x", shape: [3, 1] },
        output: "y",
        nodes: [{ op: "Gemm", inputs: ["x", "W", "b"], output: "y", attributes: { alpha: { float: 0.5 }, beta: { float: 2 }, transA: 1 } }],
        initializers: [
          { name: "W", dims: [3, 4], values: W34, raw: true },
          { name: "b", dims: [1, 4], values: [0.1, -0.2, 0.3, -0.4], raw: true },
        ],
      },
      input: [1.5, -0.5, 2.25],
      shape: [3, 1],
    },
    {
      title: "Gemm transB with a scalar bias broadcast",
      model: {
        input: { name: "x", shape: ["batch", 3] },
        output: "y",
        nodes: [{ op: "Gemm", inputs: ["x", "W", "c"], output: "y", attributes: { transB: 1 } }],
        initializers: [
          { name: "W", dims: [4, 3], values: W34 },
          { name: "c", dims: [], values: [0.75] },
        ],
      },
      input: [0.3, -1.1, 0.9],
      shape: [1, 3],
    },
    {
      title: "Gemm with the constant as A (variable B, transB)",
      model: {
        input: { name: "x", shape: [2, 3] },
        output: "y",
        nodes: [{ op: "Gemm", inputs: ["A", "x", "c"], output: "y", attributes: { transB: 1, alpha: { float: -1.5 } } }],
        initializers: [
          { name: "A", dims: [4, 3], values: W34 },
          { name: "c", dims: [4, 1], values: [1, 2, 3, 4] },
        ],
      },
      input: [0.3, -1.1, 0.9, 2, -0.25, 0.5],
      shape: [2, 3],
    },
    {
      title: "MatMul with the constant on the left, Add of two variables, Relu, Flatten, Reshape, Identity, Cast",
      model: {
        input: { name: "x", shape: [3, 1] },
        output: "y",
        nodes: [
          { op: "Cast", inputs: ["x"], output: "xc", attributes: { to: 1 } },
          { op: "MatMul", inputs: ["M", "xc"], output: "h" },
          { op: "Relu", inputs: ["h"], output: "r" },
          { op: "Add", inputs: ["r", "h"], output: "s" },
          { op: "Flatten", inputs: ["s"], output: "f", attributes: { axis: 0 } },
          { op: "Reshape", inputs: ["f", "shape"], output: "g" },
          { op: "Add", inputs: ["g", "bias"], output: "z" },
          { op: "Identity", inputs: ["z"], output: "y" },
        ],
        initializers: [
          { name: "M", dims: [4, 3], values: W34 },
          { name: "shape", dims: [2], values: [2, -1], int64: true },
          { name: "bias", dims: [2], values: [0.5, -0.5] },
        ],
      },
      input: [0.8, -0.6, 1.3],
      shape: [3, 1],
    },
  ];
  for (const c of cases) {
    it(`matches onnxruntime: ${c.title}`, async () => {
      const bytes = buildOnnx(c.model);
      const graph = importOnnx(bytes);
      const reference = await runOrt(bytes, c.model.input.name, c.input, c.shape);
      expect(graph.output.shape).to.deep.equal(reference.dims);
      expect(maxAbsDiff(evaluateFloat(graph, c.input.map(Math.fround)), reference.data)).to.be.below(1e-5);
    });
  }
});
