/**
 * Deterministic execution (src/execution) and the warm prover (zkml loadProver): a circuit folder's outputs
 * are exactly the proof's public signals, a float folder runs onnxruntime and quantizes, bad inputs are typed.
 */
import { mkdtempSync, readFileSync, writeFileSync, copyFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "chai";
import { cachedBuild } from "../scripts/demo/zk.ts";
import { commitQuantized } from "../src/commitments/index.ts";
import { ExecutionError, loadModelRunner, inputValues } from "../src/execution/index.ts";
import { fieldString } from "../src/zkml/quantize.ts";
import { loadProver, prove, releaseZkResources, verifyGroth16 } from "../src/zkml/index.ts";
import { fixture, withinTolerance } from "./zkml/helpers.ts";

after(releaseZkResources);

const EXAMPLE = new URL("../examples/models/gemm-relu-3x4/", import.meta.url);

async function expectExecutionError(work: () => Promise<unknown>, code: string, text: string): Promise<void> {
  try {
    await work();
  } catch (error) {
    expect(error).to.be.instanceOf(ExecutionError);
    expect((error as ExecutionError).code).to.equal(code);
    expect((error as Error).message).to.contain(text);
    return;
  }
  expect.fail(`expected ${code}`);
}

describe("execution: deterministic model runs", function () {
  this.timeout(300_000);

  it("a circuit folder computes exactly the proof's outputs and commitments (signature result = ZK result)", async () => {
    const { build } = await cachedBuild(readFileSync(new URL("model.onnx", EXAMPLE)), "gemm-relu-3x4");
    const runner = await loadModelRunner(build.dir);
    expect(runner.kind).to.equal("circuit");
    const values = inputValues(JSON.parse(readFileSync(new URL("input.json", EXAMPLE), "utf8")));
    const run = await runner.execute(runner.quantizeInput(values));
    const bundle = await prove(build, values, { binding: 7n });
    expect(run.inputCommitment).to.equal(bundle.inputCommitment);
    expect(run.outputCommitment).to.equal(bundle.outputCommitment);
    expect(run.output.map(fieldString)).to.deep.equal(bundle.publicSignals.slice(2, -1));
    expect(run.outputValues).to.deep.equal((bundle.output as number[][]).flat());
    // Same input, same bits, every time.
    expect(await runner.execute(runner.quantizeInput(values))).to.deep.equal(run);

    // The warm prover proves the same inference, twice, from memory.
    const prover = await loadProver(build);
    for (const binding of [1n, 2n]) {
      const proven = await prover.prove(run.input, binding);
      expect(proven.output).to.deep.equal(run.output);
      expect(proven.outputCommitment).to.equal(run.outputCommitment);
      expect(proven.publicSignals.at(-1)).to.equal(binding.toString());
      expect(await verifyGroth16(build.verificationKey, proven.publicSignals, proven.proof)).to.equal(true);
    }
  });

  it("a folder with only an ONNX model runs in float through onnxruntime, outputs quantized", async () => {
    const f = fixture("mlp-41-82-82-1");
    const dir = mkdtempSync(join(tmpdir(), "opg-exec-"));
    copyFileSync(join(f.dir, "model.onnx"), join(dir, "model.onnx"));
    const runner = await loadModelRunner(dir);
    try {
      expect(runner.kind).to.equal("float");
      expect(runner.inputSize).to.equal(41);
      expect(runner.build).to.equal(undefined);
      const run = await runner.execute(runner.quantizeInput(f.inputValues));
      expect(run.output).to.have.length(1);
      expect(withinTolerance(run.outputValues[0]!, f.expected[0]!), `${run.outputValues[0]} vs ${f.expected[0]}`).to.equal(true);
      expect(run.outputCommitment).to.equal(await commitQuantized(run.output, 12));
      expect(run.inputCommitment).to.equal(await commitQuantized(run.input, 12));
      expect(await runner.execute(run.input)).to.deep.equal(run);
    } finally {
      await runner.close();
    }
  });

  it("bad inputs and folders are typed errors", async () => {
    const { build } = await cachedBuild(readFileSync(new URL("model.onnx", EXAMPLE)), "gemm-relu-3x4");
    const runner = await loadModelRunner(build.dir);
    await expectExecutionError(async () => runner.quantizeInput([1, 2]), "EXECUTION_INPUT_INVALID", "takes 3 input values, got 2");
    await expectExecutionError(async () => runner.quantizeInput([1, Number.NaN, 2]), "EXECUTION_INPUT_INVALID", "input[1] is not a finite number");
    await expectExecutionError(async () => runner.quantizeInput([1, 64, 2]), "EXECUTION_INPUT_INVALID", "input[1] is outside the model's input range [-64, 64)");
    await expectExecutionError(() => runner.execute([0n, 1n << 40n, 0n]), "EXECUTION_INPUT_INVALID", "input[1] is outside");
    expect(() => inputValues({ input: [[1, 2], [3]] })).to.throw(ExecutionError, "rectangular");

    const empty = mkdtempSync(join(tmpdir(), "opg-exec-empty-"));
    await expectExecutionError(() => loadModelRunner(empty), "EXECUTION_MODEL_UNREADABLE", "neither an `opg zk build`");
    const broken = mkdtempSync(join(tmpdir(), "opg-exec-broken-"));
    writeFileSync(join(broken, "model.onnx"), "not an onnx model");
    await expectExecutionError(() => loadModelRunner(broken), "EXECUTION_MODEL_UNREADABLE", "onnxruntime cannot load");
  });
});
