/**
 * The MNIST-size MLP of the ZKML benchmarks (784 → 56 → ReLU → 10), written deterministically: Glorot-
 * uniform weights and pixel-like inputs in [0, 1) from a fixed xorshift seed, the float reference from
 * onnxruntime-node. Same bytes and same reference on every run, so bench numbers compare across commits.
 */
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import onnxProto from "onnx-proto";
import * as ort from "onnxruntime-node";

const { onnx } = onnxProto;

export const MNIST_MLP = "mnist-mlp-784-56-10";

function xorshift(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s / 2 ** 32;
  };
}

/** The model's ONNX bytes (opset 13, float32 raw_data initializers). */
export function mnistMlpOnnx(): Uint8Array {
  const next = xorshift(0x6d6e6973);
  const glorot = (fanIn: number, fanOut: number, n: number): Float32Array => {
    const limit = Math.sqrt(6 / (fanIn + fanOut));
    return Float32Array.from({ length: n }, () => (next() * 2 - 1) * limit);
  };
  const tensor = (name: string, dims: number[], data: Float32Array) => ({ name, dims, dataType: 1, rawData: new Uint8Array(data.buffer) });
  const model = {
    irVersion: 7,
    producerName: "opg-verifier bench",
    opsetImport: [{ domain: "", version: 13 }],
    graph: {
      name: MNIST_MLP,
      node: [
        { opType: "Gemm", input: ["input", "fc1.weight", "fc1.bias"], output: ["h"], name: "/fc1/Gemm", attribute: [{ name: "transB", i: 1, type: 2 }] },
        { opType: "Relu", input: ["h"], output: ["r"], name: "/relu/Relu" },
        { opType: "Gemm", input: ["r", "fc2.weight", "fc2.bias"], output: ["output"], name: "/fc2/Gemm", attribute: [{ name: "transB", i: 1, type: 2 }] },
      ],
      initializer: [
        tensor("fc1.weight", [56, 784], glorot(784, 56, 56 * 784)),
        tensor("fc1.bias", [56], Float32Array.from({ length: 56 }, () => (next() * 2 - 1) * 0.05)),
        tensor("fc2.weight", [10, 56], glorot(56, 10, 10 * 56)),
        tensor("fc2.bias", [10], Float32Array.from({ length: 10 }, () => (next() * 2 - 1) * 0.05)),
      ],
      input: [{ name: "input", type: { tensorType: { elemType: 1, shape: { dim: [{ dimParam: "batch" }, { dimValue: 784 }] } } } }],
      output: [{ name: "output", type: { tensorType: { elemType: 1, shape: { dim: [{ dimParam: "batch" }, { dimValue: 10 }] } } } }],
    },
  };
  return onnx.ModelProto.encode(onnx.ModelProto.create(model)).finish();
}

/** Writes model.onnx, input.json and expected.json (onnxruntime's float32 output) into `dir`. */
export async function writeMnistMlpFixture(dir: string): Promise<void> {
  const bytes = mnistMlpOnnx();
  const next = xorshift(0x70697865);
  const pixels = Array.from({ length: 784 }, () => Math.fround(next()));
  const session = await ort.InferenceSession.create(bytes);
  const result = await session.run({ input: new ort.Tensor("float32", Float32Array.from(pixels), [1, 784]) });
  const output = Array.from((result["output"]?.data ?? []) as Float32Array);
  await session.release();
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, "model.onnx"), bytes);
  await writeFile(join(dir, "input.json"), JSON.stringify({ input: [pixels], shape: [1, 784], dtype: "float32" }));
  await writeFile(join(dir, "expected.json"), JSON.stringify({ output: [output], shape: [1, 10], dtype: "float32", computedWith: "onnxruntime-node" }));
}
