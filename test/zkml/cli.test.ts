import { expect } from "chai";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { runCli } from "../../src/cli/main.ts";
import { firstLine, snarkjsLogger } from "../../src/zkml/progress.ts";
import type { CliIo } from "../../src/cli/types.ts";
import { FIXTURES_DIR, fixture, sharedPtau, TEMP_ROOT, withinTolerance } from "./helpers.ts";
import { buildOnnx } from "./onnx-builder.ts";

function captureIo(): CliIo & { out: string[]; err: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, stdout: (t) => void out.push(t), stderr: (t) => void err.push(t), isTTY: false, env: {}, cwd: TEMP_ROOT };
}

async function opg(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const io = captureIo();
  const code = await runCli(args, io);
  return { code, stdout: io.out.join(""), stderr: io.err.join("") };
}

describe("zkml: snarkjs progress and failures", () => {
  it("the snarkjs logger implements log (powersoftau new calls it from power 16 on) and reports progress", () => {
    const events: { step: string; fraction?: number }[] = [];
    const logger = snarkjsLogger("ptau 17: new", (e) => events.push(e)) as ReturnType<typeof snarkjsLogger> & { log(m: string): void };
    logger.log("tauG1: 100000/262143");
    expect(events).to.deep.equal([{ step: "ptau 17: new", fraction: 100000 / 262143 }]);
  });

  it("a failing step's error carries its cause's first line", () => {
    expect(firstLine(new TypeError("logger.log is not a function\n    at newAccumulator"))).to.equal("TypeError: logger.log is not a function");
    expect(firstLine(new Error("disk full"))).to.equal("disk full");
  });
});

describe("zkml: opg zk build / prove / verify", () => {
  const dir = join(TEMP_ROOT, "cli-linreg");
  const model = join(FIXTURES_DIR, "linreg-hummingbird-2x1", "model.onnx");
  const input = join(FIXTURES_DIR, "linreg-hummingbird-2x1", "input.json");
  const proofPath = join(TEMP_ROOT, "cli-proof.json");

  before(async () => {
    await sharedPtau(); // so the CLI finds the shared cached ptau instead of making a smaller one
    const build = await opg("zk", "build", model, "--out", dir, "--scale-bits", "14");
    expect(build.code, build.stderr).to.equal(0);
    expect(build.stdout).to.match(/built linreg-hummingbird-2x1/);
    expect(build.stdout).to.match(/DEVELOPMENT ONLY/);
    // progress lines on a non-TTY: one per finished step
    expect(build.stderr).to.match(/✔ compile circuit/);
    expect(build.stderr).to.match(/✔ setup: phase-2 contribution/);
  });

  it("is listed in opg --help", async () => {
    const help = await opg("--help");
    expect(help.stdout).to.match(/opg zk build/).and.match(/opg zk prove/).and.match(/opg zk verify/);
  });

  it("build writes the circuit, zkey, verification_key.json and model.json", async () => {
    const metadata = JSON.parse(await readFile(join(dir, "model.json"), "utf8")) as Record<string, unknown>;
    expect(metadata["scaleBits"]).to.equal(14);
    expect(metadata["developmentOnly"]).to.equal(true);
    const vk = JSON.parse(await readFile(join(dir, "verification_key.json"), "utf8")) as Record<string, unknown>;
    expect(vk["protocol"]).to.equal("groth16");
    expect(vk["nPublic"]).to.equal(4);
    await readFile(join(dir, "model.zkey"));
    await readFile(join(dir, "model.circom"), "utf8");
    await readFile(join(dir, "model.r1cs"));
    await readFile(join(dir, "model_js", "model.wasm"));
  });

  it("prove writes proof.json with decoded outputs; verify exits 0", async () => {
    const proved = await opg("zk", "prove", dir, "--input", input, "--out", proofPath, "--binding", "0xdeadbeef");
    expect(proved.code, proved.stderr).to.equal(0);
    const bundle = JSON.parse(await readFile(proofPath, "utf8")) as { output: number[][]; publicSignals: string[]; binding: string };
    expect(bundle.publicSignals).to.have.length(4);
    expect(bundle.publicSignals[3]).to.equal(String(0xdeadbeef));
    expect(bundle.binding).to.equal("0x" + "deadbeef".padStart(64, "0"));
    expect(withinTolerance(bundle.output[0]![0]!, fixture("linreg-hummingbird-2x1").expected[0]!)).to.equal(true);
    const verified = await opg("zk", "verify", dir, proofPath);
    expect(verified).to.deep.include({ code: 0, stdout: "valid\n" });
  });

  it("verify exits 1 for a tampered proof, with one readable line", async () => {
    const bundle = JSON.parse(await readFile(proofPath, "utf8")) as { publicSignals: string[] };
    bundle.publicSignals[2] = (BigInt(bundle.publicSignals[2]!) + 1n).toString();
    const tampered = join(TEMP_ROOT, "cli-tampered.json");
    await writeFile(tampered, JSON.stringify(bundle));
    const result = await opg("zk", "verify", dir, tampered);
    expect(result.code).to.equal(1);
    expect(result.stdout).to.equal("invalid: the Groth16 proof does not verify for these public signals\n");
  });

  it("usage errors exit 2; failures are one line and exit 1", async () => {
    expect((await opg("zk", "build", model)).code).to.equal(2);
    expect((await opg("zk", "prove", dir, "--out", proofPath)).code).to.equal(2);
    expect((await opg("zk", "build", model, "--out", dir, "--scale-bits", "x")).code).to.equal(2);
    const missing = await opg("zk", "verify", dir, join(TEMP_ROOT, "nope.json"));
    expect(missing.code).to.equal(1);
    expect(missing.stderr.trim().split("\n")).to.have.length(1);
    expect(missing.stderr).to.match(/^opg zk verify: cannot read proof .*nope\.json \(ENOENT\)/);

    const old = join(TEMP_ROOT, "opset6.onnx");
    await writeFile(old, buildOnnx({ opset: 6, input: { name: "x", shape: [1, 2] }, output: "y", nodes: [{ op: "Relu", inputs: ["x"], output: "y" }] }));
    const refused = await opg("zk", "build", old, "--out", join(TEMP_ROOT, "cli-old"));
    expect(refused.code).to.equal(1);
    expect(refused.stderr).to.equal("opg zk build: ONNX opset 6 is not supported: re-export the model with opset 7 or newer\n");

    const unsupported = join(TEMP_ROOT, "sigmoid.onnx");
    await writeFile(unsupported, buildOnnx({ input: { name: "x", shape: [1, 2] }, output: "y", nodes: [{ op: "Sigmoid", inputs: ["x"], output: "y", name: "/act/Sigmoid" }] }));
    const sigmoid = await opg("zk", "build", unsupported, "--out", join(TEMP_ROOT, "cli-sigmoid"));
    expect(sigmoid.code).to.equal(1);
    expect(sigmoid.stderr).to.equal('opg zk build: unsupported ONNX operator Sigmoid in node "/act/Sigmoid"\n');
    expect((await opg("zk", "build", model, "--out", dir, "--input-int-bits", "-1")).code).to.equal(2);

    // One line without --verbose; with it, the stack and every cause (here the file system's error).
    const absent = join(TEMP_ROOT, "absent.onnx");
    const quiet = await opg("zk", "build", absent, "--out", join(TEMP_ROOT, "cli-absent"));
    expect(quiet.stderr).to.equal(`opg zk build: cannot read model ${absent}\n`);
    const verbose = await opg("zk", "build", absent, "--out", join(TEMP_ROOT, "cli-absent"), "--verbose");
    expect(verbose.code).to.equal(1);
    expect(verbose.stderr).to.match(/caused by: Error: ENOENT/);

    const badInput = join(TEMP_ROOT, "bad-input.json");
    await writeFile(badInput, JSON.stringify({ input: [[1, 2, 3]] }));
    const wrongSize = await opg("zk", "prove", dir, "--input", badInput, "--out", proofPath);
    expect(wrongSize.code).to.equal(1);
    expect(wrongSize.stderr).to.match(/^opg zk prove: the model takes 2 input values \(shape \[1,2\]\), got 3\n$/);
  });
});
