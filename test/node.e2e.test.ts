/**
 * End to end, every party a separate process as on a real network: `npx hardhat node` on a free port,
 * Ignition deploys the system, `opg` commands set it up (tokens, model with its circuit, stake, escrow,
 * enclave key from a development Nitro attestation), `opg node` serves, and `opg infer` asks at signature,
 * TEE and ZK tier. Then the node is SIGKILLed while it serves a request (once while proving, once right
 * after its fulfilment is sent) and restarted: every request is fulfilled exactly once.
 */
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "chai";
import { JsonRpcProvider, Wallet, id as eventTopic } from "ethers";
import { cachedBuild } from "../scripts/demo/zk.ts";
import { loadModelRunner } from "../src/execution/index.ts";
import { releaseZkResources } from "../src/zkml/index.ts";
import { keyOf } from "./helpers/cli.ts";
import { registerDevEnclave } from "./helpers/dev-enclave.ts";
import { opg, startNetwork, startOpg, stop, type LocalNetwork, type Spawned } from "./helpers/network.ts";
import { FIXTURES_DIR } from "./zkml/helpers.ts";

after(releaseZkResources);

const KEYS = { admin: keyOf(0), modelOwner: keyOf(1), operator: keyOf(2), requester: keyOf(3), attesters: [keyOf(6), keyOf(7)] };
const address = (key: string) => new Wallet(key).address;
const FULFILLED_TOPIC = eventTopic("InferenceFulfilled(bytes32,address,address,uint64,bytes32,uint256,int256[])");

describe("end to end: opg node serving opg infer on a hardhat node", function () {
  this.timeout(900_000);

  let net: LocalNetwork;
  let dir: string;
  let buildDir: string;
  let modelId: string;
  let node: Spawned | undefined;
  let expectedOutput: number[];
  const enclave = Wallet.createRandom();

  const as = (key: string, args: string[]) => opg([...args, "--rpc", net.rpc, "--deployment", net.deployment], { OPG_PRIVATE_KEY: key }, dir);
  const ok = async (key: string, args: string[]) => {
    const run = await as(key, args);
    expect(run.code, `opg ${args.join(" ")}\n${run.stderr}`).to.equal(0);
    return run.stdout;
  };
  const startNode = (statePath: string) =>
    startOpg(
      ["node", "--model", `${modelId}=${buildDir}`, "--port", "0", "--state", statePath, "--poll", "100", "--enclave-key-env", "OPG_ENCLAVE_KEY", "--rpc", net.rpc, "--deployment", net.deployment],
      { OPG_PRIVATE_KEY: KEYS.operator, OPG_ENCLAVE_KEY: enclave.privateKey },
      dir,
    );
  /** `opg infer` as a separate process, as a requester runs it. */
  const infer = async (tier: "signature" | "tee" | "zk") => {
    const stdout = await ok(KEYS.requester, ["infer", "--model", modelId, "--input", "input.json", "--tier", tier, "--build", buildDir, "--json"]);
    return JSON.parse(stdout) as { requestId: string; tier: string; verified: boolean; output: number[][] };
  };

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "opg-node-e2e-"));
    const fixture = join(FIXTURES_DIR, "mlp-41-82-82-1");
    buildDir = (await cachedBuild(readFileSync(join(fixture, "model.onnx")), "mlp-41-82-82-1")).build.dir;
    writeFileSync(join(dir, "input.json"), readFileSync(join(fixture, "input.json")));
    const runner = await loadModelRunner(buildDir);
    const values = (JSON.parse(readFileSync(join(fixture, "input.json"), "utf8")) as { input: number[][] }).input.flat();
    expectedOutput = [...(await runner.execute(runner.quantizeInput(values))).outputValues];

    net = await startNetwork(KEYS.admin);
    for (const [who, amount] of [[KEYS.modelOwner, "100"], [KEYS.operator, "2000"], [KEYS.requester, "200"]] as const) {
      await ok(KEYS.admin, ["token", "transfer", address(who), amount]);
    }
    const registered = await ok(KEYS.modelOwner, ["model", "register", "--zk", buildDir, "--prices", "1,2,5", "--tiers", "signature,tee,zk"]);
    modelId = /registered model (0x[0-9a-f]{64})/.exec(registered)![1]!;
    await ok(KEYS.operator, ["operator", "stake", "1000"]);
    await ok(KEYS.requester, ["escrow", "deposit", "100"]);

    // The enclave: a key attested by a development Nitro chain, bound to this chain, registry and operator.
    await registerDevEnclave({ rpc: net.rpc, deployment: net.deployment, dir, modelId, enclave, keys: KEYS, ok });
  });

  after(async () => {
    if (node !== undefined) await stop(node);
    if (net !== undefined) await net.close();
  });

  async function fulfilments(requestId: string): Promise<number> {
    const provider = new JsonRpcProvider(net.rpc, undefined, { staticNetwork: true });
    try {
      const logs = await provider.getLogs({ fromBlock: 0, toBlock: "latest", topics: [FULFILLED_TOPIC, requestId] });
      return logs.length;
    } finally {
      provider.destroy();
    }
  }

  it("serves opg infer at signature, TEE and ZK tier with the circuit's fixed-point outputs", async () => {
    node = startNode(join(dir, "state.sqlite"));
    const ready = await node.waitFor(/http:\/\/127\.0\.0\.1:(\d+)/);
    const port = Number(ready[1]);

    for (const tier of ["signature", "tee", "zk"] as const) {
      const out = await infer(tier);
      expect(out.tier).to.equal(tier);
      expect(out.verified).to.equal(true);
      // Every tier delivers exactly the circuit's fixed-point outputs.
      expect([out.output].flat(2)).to.deep.equal(expectedOutput);
      expect(await fulfilments(out.requestId)).to.equal(1);
      await node.waitFor(new RegExp(`request ${out.requestId} fulfilled at ${tier} tier`));
    }

    const health = (await (await fetch(`http://127.0.0.1:${port}/health`)).json()) as { ok: boolean; requests: Record<string, number>; tee: boolean };
    expect(health.ok).to.equal(true);
    expect(health.tee).to.equal(true);
    expect(health.requests.fulfilled).to.equal(3);
    const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    for (const tier of ["signature", "tee", "zk"]) expect(metrics).to.contain(`opg_node_requests_total{tier="${tier}",outcome="fulfilled"} 1`);
    expect(metrics).to.match(/opg_node_proving_seconds_count 1/);

    // SIGTERM: a clean exit.
    node.child.kill("SIGTERM");
    expect((await node.exited).code).to.equal(0);
    expect(node.output()).to.contain("stopped");
    node = undefined;
  });

  it("SIGKILLed while proving, or right after sending, a restarted node fulfils each request exactly once", async () => {
    const state = join(dir, "state.sqlite");
    const provider = new JsonRpcProvider(net.rpc, undefined, { staticNetwork: true });
    const operatorTxsBefore = await provider.getTransactionCount(address(KEYS.operator));

    for (const killAfter of [/request (0x[0-9a-f]{64}): proving/, /request (0x[0-9a-f]{64}): fulfilment sent/]) {
      node = startNode(state);
      await node.waitFor(/node ready/);
      const asking = infer("zk");
      asking.catch(() => undefined); // awaited below; a rejection before then must not go unhandled
      const match = await node.waitFor(killAfter);
      node.child.kill("SIGKILL");
      await node.exited;
      node = startNode(state);
      const out = await asking;
      expect(out.requestId).to.equal(match[1]);
      expect(out.verified).to.equal(true);
      await node.waitFor(new RegExp(`request ${out.requestId} fulfilled`));
      expect(await fulfilments(out.requestId)).to.equal(1);
      await stop(node);
      node = undefined;
    }
    // One fulfilment transaction per request: nothing was sent twice.
    expect(await provider.getTransactionCount(address(KEYS.operator))).to.equal(operatorTxsBefore + 2);
    provider.destroy();
  });
});
