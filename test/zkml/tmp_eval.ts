import { readFileSync } from "node:fs";
import { importOnnx, evaluateFloat } from "../../src/zkml/onnx.ts";
import { flattenNested } from "../../src/zkml/tensor.ts";
for (const d of ["gemm-relu-3x4","sklearn-mlp-3-3-5","linreg-hummingbird-2x1","linear-41x1","mlp-41-82-82-1","conv-mnist-4l"]) {
  const dir = `../shared/fixtures/onnx/${d}`;
  try {
    const g = importOnnx(readFileSync(`${dir}/model.onnx`));
    const inp = flattenNested(JSON.parse(readFileSync(`${dir}/input.json`, "utf8")).input).values;
    const exp = flattenNested(JSON.parse(readFileSync(`${dir}/expected.json`, "utf8")).output).values;
    const y = evaluateFloat(g, inp);
    console.log(d, g.ops.map(o => o.kind + ":" + o.node), g.output.shape, Math.max(...exp.map((e, i) => Math.abs(e - (y[i] ?? NaN)))));
  } catch (e) { console.log(d, String(e)); }
}
