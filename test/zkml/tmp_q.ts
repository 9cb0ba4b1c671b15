import { readFileSync } from "node:fs";
import { importOnnx, evaluateFloat } from "../../src/zkml/onnx.ts";
import { quantize, quantizeInput, inferQuantized, dequantize } from "../../src/zkml/quantize.ts";
import { flattenNested } from "../../src/zkml/tensor.ts";
for (const d of ["gemm-relu-3x4","sklearn-mlp-3-3-5","linreg-hummingbird-2x1","linear-41x1","mlp-41-82-82-1"]) {
  const dir = `../shared/fixtures/onnx/${d}`;
  const g = importOnnx(readFileSync(`${dir}/model.onnx`));
  const inp = flattenNested(JSON.parse(readFileSync(`${dir}/input.json`, "utf8")).input).values;
  const exp = flattenNested(JSON.parse(readFileSync(`${dir}/expected.json`, "utf8")).output).values;
  const row: string[] = [];
  for (const s of [8, 10, 12, 14, 16]) {
    for (const I of [6]) {
    const m = quantize(g, { scaleBits: s, inputIntBits: I });
    const y = inferQuantized(m, quantizeInput(m, inp)).output.map(v => dequantize(v, s));
    const err = Math.max(...exp.map((e, i) => Math.abs(e - (y[i] ?? NaN))));
    let est = m.inputBits * m.input.size;
    for (const l of m.layers) { if (l.kind === "dense") est += l.bits.reduce((a,b)=>a+b+s,0); if (l.kind==="relu") est += l.bits ? l.bits.reduce((a,b)=>a+b+1,0) : l.size; }
    row.push(`s=${s} I=${I} err=${err.toExponential(2)} est=${est}`);
    }
  }
  console.log(d, row.join(" | "));
}
