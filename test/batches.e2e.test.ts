/**
 * Batch settlement end to end, every party a separate process: `npx hardhat node` on a free port, Ignition deploys
 * the system (BatchSettlement included), `opg` commands set it up, the requester deposits and signs one spending
 * authorization with `opg batch authorize`, `opg node` serves POST /v1/batch/infer under it and posts a root once
 * three receipts are pending; anyone fetches the published leaves and verifies one with `opg batch verify-leaf`.
 * The node is then SIGKILLed with a receipt pending and restarted; the requester revokes with `opg batch revoke`
 * (the node refuses it at once): the pending receipt is still settled once, on shutdown, the revocation taking
 * effect only after the withdrawal notice.
 */
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "chai";
import { JsonRpcProvider, Wallet, parseUnits } from "ethers";
import { cachedBuild } from "../scripts/demo/zk.ts";
import { batchSettlementAt } from "../src/batches/index.ts";
import { loadDeployment } from "../src/settlement/deployment.ts";
import { releaseZkResources } from "../src/zkml/index.ts";
import { keyOf } from "./helpers/cli.ts";
import { opg, startNetwork, startOpg, stop, type LocalNetwork, type Spawned } from "./helpers/network.ts";
import { FIXTURES_DIR } from "./zkml/helpers.ts";

after(releaseZkResources);

const KEYS = { admin: keyOf(0), modelOwner: keyOf(1), operator: keyOf(2), requester: keyOf(3) };
const address = (key: string) => new Wallet(key).address;
const OPG = 10n ** 18n;

describe("end to end: opg node settles HTTP inferences in batches", function () {
  this.timeout(900_000);

  let net: LocalNetwork;
  let dir: string;
  let buildDir: string;
  let modelId: string;
  let input: number[][];
  let node: Spawned | undefined;

  const as = (key: string, args: string[]) => opg([...args, "--rpc", net.rpc, "--deployment", net.deployment], { OPG_PRIVATE_KEY: key }, dir);
  const ok = async (key: string, args: string[]) => {
    const run = await as(key, args);
    expect(run.code, `opg ${args.join(" ")}\n${run.stderr}`).to.equal(0);
    return run.stdout;
  };
  const startNode = () =>
    startOpg(
      ["node", "--model", `${modelId}=${buildDir}`, "--port", "0", "--state", join(dir, "state.sqlite"), "--poll", "200", "--batch-size", "3", "--batch-age", "600000", "--rpc", net.rpc, "--deployment", net.deployment],
      { OPG_PRIVATE_KEY: KEYS.operator },
      dir,
    );
  const infer = async (port: number) => {
    const authorization = JSON.parse(readFileSync(join(dir, "auth.json"), "utf8")) as unknown;
    const response = await fetch(`http://127.0.0.1:${port}/v1/batch/infer`, { method: "POST", body: JSON.stringify({ authorization, model: modelId, input }) });
    return { status: response.status, body: (await response.json()) as { leaf: { nonce: string; cumulative: string }; output: number[]; error?: { code: string } } };
  };
  async function chainState(): Promise<{ settled: bigint; deposit: bigint }> {
    const provider = new JsonRpcProvider(net.rpc, undefined, { staticNetwork: true });
    try {
      const contract = batchSettlementAt((await loadDeployment(net.deployment)).batches!, provider);
      const auth = JSON.parse(readFileSync(join(dir, "auth.json"), "utf8")) as { id: string };
      const { settled } = (await contract.getFunction("authorizationStateOf")(auth.id)) as { settled: bigint };
      const [deposit] = (await contract.getFunction("depositOf")(address(KEYS.requester))) as [bigint];
      return { settled, deposit };
    } finally {
      provider.destroy();
    }
  }

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "opg-batches-e2e-"));
    const fixture = join(FIXTURES_DIR, "mlp-41-82-82-1");
    buildDir = (await cachedBuild(readFileSync(join(fixture, "model.onnx")), "mlp-41-82-82-1")).build.dir;
    input = (JSON.parse(readFileSync(join(fixture, "input.json"), "utf8")) as { input: number[][] }).input;
    net = await startNetwork(KEYS.admin);
    for (const [who, amount] of [[KEYS.modelOwner, "100"], [KEYS.operator, "2000"], [KEYS.requester, "200"]] as const) {
      await ok(KEYS.admin, ["token", "transfer", address(who), amount]);
    }
    const registered = await ok(KEYS.modelOwner, ["model", "register", "--zk", buildDir, "--prices", "1,2,5", "--tiers", "signature,zk"]);
    modelId = /registered model (0x[0-9a-f]{64})/.exec(registered)![1]!;
    await ok(KEYS.operator, ["operator", "stake", "1000"]);
    await ok(KEYS.requester, ["batch", "deposit", "10"]);
    await ok(KEYS.requester, ["batch", "authorize", "--operator", address(KEYS.operator), "--cap", "5", "--out", "auth.json"]);
  });

  after(async () => {
    if (node !== undefined) await stop(node);
    if (net !== undefined) await net.close();
  });

  it("serves under one authorization, posts one root for three receipts, and a leaf verifies", async () => {
    node = startNode();
    const port = Number((await node.waitFor(/http:\/\/127\.0\.0\.1:(\d+)/))[1]);
    const answers = [];
    for (let i = 0; i < 3; i++) answers.push(await infer(port));
    expect(answers.map((a) => a.status)).to.deep.equal([200, 200, 200]);
    expect(answers.map((a) => a.body.leaf.nonce)).to.deep.equal(["0", "1", "2"]);
    expect(answers.map((a) => a.body.leaf.cumulative)).to.deep.equal(["1", "2", "3"].map((n) => (BigInt(n) * OPG).toString()));
    const posted = await node.waitFor(/posted batch (0x[0-9a-f]{64}): 3 receipts/);
    const root = posted[1]!;
    expect(await chainState()).to.deep.equal({ settled: 3n * OPG, deposit: 7n * OPG });

    // Anyone rebuilds the tree from the published leaves and verifies a leaf against the posted root.
    const published = await fetch(`http://127.0.0.1:${port}/v1/batches/${root}`);
    expect(published.status).to.equal(200);
    writeFileSync(join(dir, "batch.json"), await published.text());
    const verified = JSON.parse(await ok(KEYS.requester, ["batch", "verify-leaf", "--batch", "batch.json", "--index", "1", "--json"])) as { root: string; verified: boolean; status: string; tier: number };
    expect(verified).to.include({ root, verified: true, status: "pending", tier: 1 });

    // A receipt pending when the node is killed is neither lost nor charged twice.
    expect((await infer(port)).status).to.equal(200);
    node.child.kill("SIGKILL");
    await node.exited;
    node = startNode();
    const port2 = Number((await node.waitFor(/http:\/\/127\.0\.0\.1:(\d+)/))[1]);
    const fifth = await infer(port2);
    expect(fifth.body.leaf.nonce).to.equal("4");
    // Over the cap (5 OPG): refused before running anything.
    const sixth = await infer(port2);
    expect(sixth.status).to.equal(402);
    expect(sixth.body.error?.code).to.equal("CAP_REACHED");
    // The requester revokes: the node serves nothing more under it, but the revocation takes effect only after
    // the withdrawal notice, so the receipt it already served is still paid when the node posts it.
    await ok(KEYS.requester, ["batch", "revoke", "--authorization", "auth.json"]);
    const seventh = await infer(port2);
    expect(seventh.status).to.equal(403);
    expect(seventh.body.error?.code).to.equal("AUTHORIZATION_REVOKED");
    node.child.kill("SIGTERM");
    expect((await node.exited).code).to.equal(0);
    expect(node.output()).to.match(/posted batch 0x[0-9a-f]{64}: 2 receipts/);
    node = undefined;
    expect(await chainState()).to.deep.equal({ settled: parseUnits("5", 18), deposit: 5n * OPG });
  });
});
