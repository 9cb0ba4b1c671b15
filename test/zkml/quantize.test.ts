import { expect } from "chai";
import {
  dequantize,
  DEFAULT_SCALE_BITS,
  importOnnx,
  inferQuantized,
  quantize,
  quantizedModelFromJson,
  quantizedModelToJson,
  quantizeInput,
  QuantizationError,
  quantizeValue,
  rescale,
  signedBits,
  type QuantizedModel,
} from "../../src/zkml/index.ts";
import { fixture, FIXTURES, rng, withinTolerance } from "./helpers.ts";

describe("zkml: fixed-point quantization", () => {
  it("rescale is floor(acc / 2^s + 1/2) for every sign and tie", () => {
    for (const s of [1, 4, 12]) {
      for (let acc = -5000n; acc <= 5000n; acc += 7n) {
        expect(rescale(acc, s)).to.equal(BigInt(Math.floor(Number(acc) / 2 ** s + 0.5)), `acc=${acc} s=${s}`);
      }
    }
    expect(rescale(-2048n, 12)).to.equal(0n); // -0.5 rounds up to 0
    expect(rescale(-2049n, 12)).to.equal(-1n);
    expect(rescale(2048n, 12)).to.equal(1n); // +0.5 rounds up to 1
  });

  it("quantizeValue rounds half up at scale 2^s", () => {
    expect(quantizeValue(0.5 / 4096, 12)).to.equal(1n);
    expect(quantizeValue(-0.5 / 4096, 12)).to.equal(0n);
    expect(quantizeValue(-1.5 / 4096, 12)).to.equal(-1n);
    expect(quantizeValue(1.25, 12)).to.equal(5120n);
    expect(() => quantizeValue(Number.NaN, 12)).to.throw(QuantizationError);
  });

  it("signedBits is the narrowest two's-complement width", () => {
    expect(signedBits(0n, 0n)).to.equal(1);
    expect(signedBits(-1n, 0n)).to.equal(1);
    expect(signedBits(0n, 1n)).to.equal(2);
    expect(signedBits(-128n, 127n)).to.equal(8);
    expect(signedBits(-129n, 127n)).to.equal(9);
    expect(signedBits(0n, 128n)).to.equal(9);
  });

  for (const name of FIXTURES) {
    it(`${name}: default scale 2^${DEFAULT_SCALE_BITS} stays within the documented tolerance of expected.json`, () => {
      const f = fixture(name);
      const model = quantize(importOnnx(f.onnx));
      const out = inferQuantized(model, quantizeInput(model, f.inputValues)).output.map((v) => dequantize(v, model.scaleBits));
      out.forEach((v, i) => expect(withinTolerance(v, f.expected[i] ?? NaN), `output ${i}: ${v} vs ${f.expected[i]}`).to.equal(true));
    });
  }

  it("the quantization error shrinks with the scale (mlp: 2^8 is visibly worse than 2^16)", () => {
    const f = fixture("mlp-41-82-82-1");
    const graph = importOnnx(f.onnx);
    const error = (scaleBits: number): number => {
      const model = quantize(graph, { scaleBits });
      const out = inferQuantized(model, quantizeInput(model, f.inputValues)).output;
      return Math.abs(dequantize(out[0] ?? 0n, scaleBits) - (f.expected[0] ?? 0));
    };
    expect(error(8)).to.be.above(1e-2);
    expect(error(16)).to.be.below(1e-4);
  });

  it("range checks cover every input in range: random and extreme inputs never leave the computed widths", () => {
    for (const name of FIXTURES) {
      const model = quantize(importOnnx(fixture(name).onnx));
      const limit = 2 ** model.inputIntBits;
      const next = rng(name.length * 7919);
      const inputs: number[][] = [
        new Array<number>(model.input.size).fill(-limit),
        new Array<number>(model.input.size).fill(limit - 2 ** -model.scaleBits),
        Array.from({ length: model.input.size }, (_, i) => (i % 2 === 0 ? -limit : limit - 1)),
      ];
      for (let k = 0; k < 20; k++) inputs.push(Array.from({ length: model.input.size }, () => (next() * 2 - 1) * limit));
      // inferQuantized throws if any value exceeds the width the circuit checks.
      for (const x of inputs) inferQuantized(model, quantizeInput(model, x));
    }
  });

  it("refuses inputs outside the circuit's input range, and inputs of the wrong size", () => {
    const model = quantize(importOnnx(fixture("gemm-relu-3x4").onnx));
    const limit = 2 ** model.inputIntBits;
    expect(() => quantizeInput(model, [limit, 0, 0])).to.throw(QuantizationError, /input\[0\].*outside/);
    expect(() => quantizeInput(model, [0, -limit - 1, 0])).to.throw(QuantizationError, /input\[1\]/);
    expect(() => quantizeInput(model, [0, 0])).to.throw(QuantizationError, /takes 3 input values/);
    expect(() => inferQuantized(model, [1n << BigInt(model.inputBits), 0n, 0n])).to.throw(QuantizationError, /out of range/);
  });

  it("refuses scales outside [1, 32]", () => {
    const graph = importOnnx(fixture("gemm-relu-3x4").onnx);
    expect(() => quantize(graph, { scaleBits: 0 })).to.throw(QuantizationError);
    expect(() => quantize(graph, { scaleBits: 33 })).to.throw(QuantizationError);
  });

  it("the model.json form round-trips exactly", () => {
    const model: QuantizedModel = quantize(importOnnx(fixture("sklearn-mlp-3-3-5").onnx));
    const json = JSON.parse(JSON.stringify(quantizedModelToJson(model))) as unknown;
    expect(quantizedModelFromJson(json)).to.deep.equal(model);
  });
});
