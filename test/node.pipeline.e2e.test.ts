/**
 * Multi-model pipelines through the operator node, every party a separate process: `npx hardhat node` on
 * a free port, `opg node` serving two chained circuit models (the gemm-relu-3x4 fixture, 3 → 4, then a
 * small 4 → 2 Gemm built here), and `opg infer --model A --model B` asking for a two-step signature
 * pipeline and for a signature step handing over to a ZK step. Each step's tier is reported and the
 * outputs are the two circuits' fixed-point semantics composed. Then `opg infer --input-uri`: only the URI
 * goes on-chain, the node fetches the input from a local HTTP server and checks it against the commitment.
 */
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createServer, type Server } from "node:http";
import { expect } from "chai";
import { Wallet } from "ethers";
import { cachedBuild } from "../scripts/demo/zk.ts";
import { loadModelRunner, rescaleQuantized } from "../src/execution/index.ts";
import { releaseZkResources } from "../src/zkml/index.ts";
import { keyOf } from "./helpers/cli.ts";
import { opg, startNetwork, startOpg, stop, type LocalNetwork, type Spawned } from "./helpers/network.ts";
import { buildOnnx } from "./zkml/onnx-builder.ts";
import { FIXTURES_DIR } from "./zkml/helpers.ts";

after(releaseZkResources);

const KEYS = { admin: keyOf(0), modelOwner: keyOf(1), operator: keyOf(2), requester: keyOf(3) };
const address = (key: string) => new Wallet(key).address;

/** A 4 → 2 Gemm that takes the gemm-relu-3x4 fixture's output. */
export const SECOND_STEP_ONNX = buildOnnx({
  input: { name: "x", shape: [1, 4] },
  output: "y",
  nodes: [{ op: "Gemm", inputs: ["x", "W", "b"], output: "y" }],
  initializers: [
    { name: "W", dims: [4, 2], values: [0.5, -1.25, 2, 0.75, -0.5, 1.5, 0.25, -2] },
    { name: "b", dims: [2], values: [0.1, -0.2] },
  ],
});

interface InferJson {
  requestId: string;
  tier: string;
  tiers: string[];
  verified: boolean;
  quantized: string[];
}

describe("end to end: opg node serves multi-model pipelines and inputs given by URI", function () {
  this.timeout(900_000);

  let net: LocalNetwork;
  let dir: string;
  const builds: string[] = [];
  const modelIds: string[] = [];
  let node: Spawned | undefined;
  let expected: string[];
  let inputs: Server | undefined;

  const as = (key: string, args: string[]) => opg([...args, "--rpc", net.rpc, "--deployment", net.deployment], { OPG_PRIVATE_KEY: key }, dir);
  const ok = async (key: string, args: string[]) => {
    const run = await as(key, args);
    expect(run.code, `opg ${args.join(" ")}\n${run.stderr}`).to.equal(0);
    return run.stdout;
  };
  const pipelineArgs = () => modelIds.flatMap((m) => ["--model", m]);

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "opg-pipeline-e2e-"));
    const fixture = join(FIXTURES_DIR, "gemm-relu-3x4");
    builds.push((await cachedBuild(readFileSync(join(fixture, "model.onnx")), "gemm-relu-3x4")).build.dir);
    builds.push((await cachedBuild(SECOND_STEP_ONNX, "gemm-4x2")).build.dir);
    writeFileSync(join(dir, "input.json"), readFileSync(join(fixture, "input.json")));

    // What the pipeline computes: step 0's fixed-point outputs are step 1's input.
    const [first, second] = await Promise.all(builds.map((b) => loadModelRunner(b)));
    const values = (JSON.parse(readFileSync(join(fixture, "input.json"), "utf8")) as { input: number[][] }).input.flat();
    const mid = await first!.execute(first!.quantizeInput(values));
    const out = await second!.execute(rescaleQuantized(mid.output, mid.scaleBits, second!.scaleBits));
    expected = out.output.map(String);

    net = await startNetwork(KEYS.admin);
    for (const [who, amount] of [[KEYS.modelOwner, "100"], [KEYS.operator, "2000"], [KEYS.requester, "200"]] as const) {
      await ok(KEYS.admin, ["token", "transfer", address(who), amount]);
    }
    for (const build of builds) {
      const registered = await ok(KEYS.modelOwner, ["model", "register", "--zk", build, "--prices", "1,2,5", "--tiers", "signature,tee,zk"]);
      modelIds.push(/registered model (0x[0-9a-f]{64})/.exec(registered)![1]!);
    }
    await ok(KEYS.operator, ["operator", "stake", "1000"]);
    await ok(KEYS.requester, ["escrow", "deposit", "100"]);
    node = startOpg(
      ["node", ...modelIds.flatMap((m, i) => ["--model", `${m}=${builds[i]}`]), "--port", "0", "--state", join(dir, "state.sqlite"), "--poll", "100", "--allow-private-inputs", "--rpc", net.rpc, "--deployment", net.deployment],
      { OPG_PRIVATE_KEY: KEYS.operator },
      dir,
    );
    await node.waitFor(/node ready/);
  });

  after(async () => {
    if (inputs !== undefined) {
      inputs.closeAllConnections();
      inputs.close();
    }
    if (node !== undefined) await stop(node);
    if (net !== undefined) await net.close();
  });

  const infer = async (tierArgs: string[]) =>
    JSON.parse(await ok(KEYS.requester, ["infer", ...pipelineArgs(), "--input", "input.json", ...tierArgs, "--build", builds[0]!, "--json"])) as InferJson;

  it("a two-step signature pipeline: both steps signed, the outputs are the two circuits composed", async () => {
    const out = await infer(["--tier", "signature"]);
    expect(out.verified).to.equal(true);
    expect(out.tiers).to.deep.equal(["signature", "signature"]);
    expect(out.tier).to.equal("signature");
    expect(out.quantized).to.deep.equal(expected);
    await node!.waitFor(new RegExp(`request ${out.requestId} fulfilled at signature tier`));
  });

  it("a signature step hands its output to a ZK step: the proof consumes the commitment the signed step published", async () => {
    const out = await infer(["--tier", "signature", "--final-tier", "zk"]);
    expect(out.verified).to.equal(true);
    expect(out.tiers).to.deep.equal(["signature", "zk"]);
    expect(out.tier).to.equal("zk");
    expect(out.quantized).to.deep.equal(expected);
    await node!.waitFor(new RegExp(`request ${out.requestId}: proving step 1`));
    await node!.waitFor(new RegExp(`request ${out.requestId} fulfilled at zk tier`));
  });

  it("a ZK step feeds another ZK step: one commitment scheme, so the second proof consumes the first one's output commitment", async () => {
    const out = await infer(["--tier", "zk"]);
    expect(out.verified).to.equal(true);
    expect(out.tiers).to.deep.equal(["zk", "zk"]);
    expect(out.tier).to.equal("zk");
    expect(out.quantized).to.deep.equal(expected);
    await node!.waitFor(new RegExp(`request ${out.requestId}: proving step 0`));
    await node!.waitFor(new RegExp(`request ${out.requestId}: proving step 1`));
    await node!.waitFor(new RegExp(`request ${out.requestId} fulfilled at zk tier`));
  });

  it("an input given by URI: only the URI goes on-chain; the node fetches it, checks its commitment and serves it", async () => {
    const document = readFileSync(join(dir, "input.json"));
    let fetched = 0;
    inputs = createServer((req, res) => {
      fetched++;
      if (req.url === "/input.json") res.writeHead(200, { "content-type": "application/json" }).end(document);
      else res.writeHead(404).end();
    });
    await new Promise<void>((ok) => inputs!.listen(0, "127.0.0.1", ok));
    const { port } = inputs.address() as { port: number };
    const out = JSON.parse(
      await ok(KEYS.requester, ["infer", "--model", modelIds[0]!, "--input", "input.json", "--input-uri", `http://127.0.0.1:${port}/input.json`, "--build", builds[0]!, "--json"]),
    ) as InferJson;
    expect(out.verified).to.equal(true);
    expect(out.tiers).to.deep.equal(["signature"]);
    expect(fetched).to.equal(1);
    await node!.waitFor(new RegExp(`request ${out.requestId} fulfilled at signature tier`));

    // The same URI for a request whose commitment is another input's: refused once, never run.
    const other = join(dir, "other.json");
    writeFileSync(other, JSON.stringify({ input: [[0.25, 0.5, 0.75]] }));
    const asking = as(KEYS.requester, ["infer", "--model", modelIds[0]!, "--input", "other.json", "--input-uri", `http://127.0.0.1:${port}/input.json`, "--build", builds[0]!, "--timeout", "5"]);
    const refused = await node!.waitFor(/request (0x[0-9a-f]{64}) not served: the input at "http:\/\/127\.0\.0\.1:\d+\/input\.json" does not match the request's input commitment/);
    expect((await asking).code).to.not.equal(0);
    expect(node!.output().split(`request ${refused[1]} not served`).length - 1).to.equal(1);
  });
});
