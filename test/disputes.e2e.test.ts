/**
 * Fraud proofs end to end, every party a separate process: `npx hardhat node` on a free port, the system
 * deployed by Ignition, `opg` commands for the setup (model with its circuit, stake, escrow, an enclave
 * key from a development Nitro attestation), a lying operator (the test double of helpers/lying-operator:
 * it runs the model honestly, then signs an output off by one unit), and `opg watch` running on its own,
 * which refutes the wrong signature and TEE results within the window and leaves a correct one alone.
 * Then `opg challenge <id>` refutes another wrong result by hand. Each refutation slashes the operator's
 * bond and refunds the requester; the TEE one bans the enclave key that signed it.
 */
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "chai";
import { Contract, JsonRpcProvider, Wallet } from "ethers";
import { cachedBuild } from "../scripts/demo/zk.ts";
import { ResultStatus } from "../src/disputes/index.ts";
import { loadModelRunner, type ModelRunner } from "../src/execution/index.ts";
import { hubDomain } from "../src/receipts/receipt.ts";
import { Tier } from "../src/receipts/tier.ts";
import { connect, loadDeployment, type Contracts } from "../src/settlement/index.ts";
import { releaseZkResources } from "../src/zkml/index.ts";
import { keyOf } from "./helpers/cli.ts";
import { registerDevEnclave } from "./helpers/dev-enclave.ts";
import { signResult } from "./helpers/lying-operator.ts";
import { opg, startNetwork, startOpg, stop, type LocalNetwork, type Spawned } from "./helpers/network.ts";
import { FIXTURES_DIR } from "./zkml/helpers.ts";

after(releaseZkResources);

const KEYS = { admin: keyOf(0), modelOwner: keyOf(1), operator: keyOf(2), requester: keyOf(3), challenger: keyOf(4), attesters: [keyOf(6), keyOf(7)] };
const OPG = 10n ** 18n;
const PRICES = { signature: 1n * OPG, tee: 2n * OPG };

interface Challenged {
  kind: string;
  id: string;
  refuted?: boolean;
  slashed?: string;
  reward?: string;
  refund?: string;
}

describe("end to end: opg watch and opg challenge refute a lying operator on a hardhat node", function () {
  this.timeout(900_000);

  let net: LocalNetwork;
  let provider: JsonRpcProvider;
  let dir: string;
  let buildDir: string;
  let modelId: string;
  let runner: ModelRunner;
  let input: bigint[];
  let contracts: Contracts;
  let watcher: Spawned | undefined;
  const enclave = Wallet.createRandom();
  let nonce = 1n;
  /** When each submitted result would have become final. */
  const finalAts = new Map<string, bigint>();
  /** Chain time of the block that refuted `id` (its ResultRefuted event). */
  const refutedAt = async (id: string): Promise<bigint> => {
    const logs = await contracts.hub.queryFilter(contracts.hub.filters["ResultRefuted"]!(id));
    expect(logs, `ResultRefuted(${id})`).to.have.length(1);
    return BigInt((await provider.getBlock(logs[0]!.blockNumber))!.timestamp);
  };

  const ok = async (key: string, args: string[]) => {
    const run = await opg([...args, "--rpc", net.rpc, "--deployment", net.deployment], { OPG_PRIVATE_KEY: key }, dir);
    expect(run.code, `opg ${args.join(" ")}\n${run.stderr}`).to.equal(0);
    return run.stdout;
  };

  /** The lying (or honest) operator's result, submitted by the requester; returns its id. */
  async function submitResult(options: { lie: boolean; tier: typeof Tier.Signature | typeof Tier.TEE }): Promise<string> {
    const operator = new Wallet(KEYS.operator, provider);
    const requester = new Wallet(KEYS.requester, provider);
    const { chainId } = await provider.getNetwork();
    const hub = contracts.hub.connect(requester) as Contract;
    const signed = await signResult({
      runner,
      input,
      modelId,
      requester: requester.address,
      operator,
      domain: hubDomain(chainId, hub.target as string),
      nonce: nonce++,
      deadline: BigInt((await provider.getBlock("latest"))!.timestamp) + 600n,
      lie: options.lie,
      tier: options.tier,
      ...(options.tier === Tier.TEE ? { signer: enclave } : {}),
    });
    const signer = options.tier === Tier.TEE ? enclave.address : operator.address;
    const price = options.tier === Tier.TEE ? PRICES.tee : PRICES.signature;
    await (await hub.getFunction("submitSigned")(signed.receipt, signer, signed.signature, price)).wait();
    const id = (await hub.getFunction("receiptIdOf")(requester.address, modelId, signed.receipt.nonce)) as string;
    const [status, finalAt] = (await hub.getFunction("statusOf")(id)) as [bigint, bigint];
    expect(Number(status)).to.equal(ResultStatus.Pending);
    finalAts.set(id.toLowerCase(), finalAt);
    return id.toLowerCase();
  }

  const escrow = async () => (await contracts.hub.getFunction("balanceOf")(new Wallet(KEYS.requester).address)) as bigint;
  const bonded = async () => ((await contracts.operators.getFunction("stakeOf")(new Wallet(KEYS.operator).address)) as { bonded: bigint }).bonded;
  const statusOf = async (id: string) => Number(((await contracts.hub.getFunction("statusOf")(id)) as [bigint])[0]);

  /** After a refutation: refuted, the bond slashed once, the requester refunded its fee and more. */
  async function expectRefuted(id: string, report: Challenged, before: { escrow: bigint; bonded: bigint }, price: bigint): Promise<void> {
    expect(report).to.include({ id, refuted: true });
    const slashed = BigInt(report.slashed!);
    const refund = BigInt(report.refund!);
    const { bondMultiple } = (await contracts.hub.getFunction("disputeConfig")()) as { bondMultiple: bigint };
    expect(slashed).to.equal(price * BigInt(bondMultiple));
    expect(refund > price, "the requester gets its fee back plus compensation").to.equal(true);
    expect(await statusOf(id)).to.equal(ResultStatus.Refuted);
    expect(await contracts.operators.getFunction("isBondSlashed")(id)).to.equal(true);
    expect(await bonded()).to.equal(before.bonded - slashed);
    expect(await escrow()).to.equal(before.escrow - price + refund);
  }

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "opg-disputes-e2e-"));
    const fixture = join(FIXTURES_DIR, "gemm-relu-3x4");
    buildDir = (await cachedBuild(readFileSync(join(fixture, "model.onnx")), "gemm-relu-3x4")).build.dir;
    writeFileSync(join(dir, "input.json"), readFileSync(join(fixture, "input.json")));
    runner = await loadModelRunner(buildDir);
    input = runner.quantizeInput((JSON.parse(readFileSync(join(fixture, "input.json"), "utf8")) as { input: number[][] }).input.flat());

    net = await startNetwork(KEYS.admin);
    provider = new JsonRpcProvider(net.rpc, undefined, { staticNetwork: true, pollingInterval: 100 });
    contracts = connect(await loadDeployment(net.deployment), provider);
    for (const [who, amount] of [[KEYS.modelOwner, "100"], [KEYS.operator, "2000"], [KEYS.requester, "200"]] as const) {
      await ok(KEYS.admin, ["token", "transfer", new Wallet(who).address, amount]);
    }
    const registered = await ok(KEYS.modelOwner, ["model", "register", "--zk", buildDir, "--prices", "1,2,5", "--tiers", "signature,tee,zk"]);
    modelId = /registered model (0x[0-9a-f]{64})/.exec(registered)![1]!;
    // Above the minimum (1000 OPG) by more than the bonds slashed here: the operator stays active throughout.
    await ok(KEYS.operator, ["operator", "stake", "1500"]);
    await ok(KEYS.requester, ["escrow", "deposit", "100"]);
    await registerDevEnclave({ rpc: net.rpc, deployment: net.deployment, dir, modelId, enclave, keys: KEYS, ok });
  });

  after(async () => {
    if (watcher !== undefined) await stop(watcher);
    provider?.destroy();
    if (net !== undefined) await net.close();
  });

  it("opg watch, as its own process, refutes a wrong signature result and a wrong TEE result within the window; the enclave key is banned", async () => {
    const from = await provider.getBlockNumber();
    watcher = startOpg(
      ["watch", "--model", `${modelId}=${buildDir}`, "--inputs", ".", "--from-block", String(from + 1), "--poll", "200", "--json", "--rpc", net.rpc, "--deployment", net.deployment],
      { OPG_PRIVATE_KEY: KEYS.challenger },
      dir,
    );
    const event = async (id: string) => JSON.parse((await watcher!.waitFor(new RegExp(`^\\{[^\\n]*"id":"${id}"[^\\n]*\\}$`, "m"), 120_000))[0]) as Challenged;

    // An honest result: re-checked and left alone.
    const honest = await submitResult({ lie: false, tier: Tier.Signature });
    expect((await event(honest)).kind).to.equal("correct");
    expect(await statusOf(honest)).to.equal(ResultStatus.Pending);

    // A wrong signature result: refuted while pending.
    let before = { escrow: await escrow(), bonded: await bonded() };
    const wrong = await submitResult({ lie: true, tier: Tier.Signature });
    const refuted = await event(wrong);
    expect(refuted.kind).to.equal("challenged");
    await expectRefuted(wrong, refuted, before, PRICES.signature);
    expect(await refutedAt(wrong)).to.be.lessThan(finalAts.get(wrong)!);

    // A wrong TEE result, signed by the operator's registered enclave key: refuted, and the key banned.
    const keyBefore = (await contracts.enclaves.getFunction("enclaveKeyOf")(enclave.address)) as { expiresAt: bigint };
    expect(keyBefore.expiresAt > 0n).to.equal(true);
    before = { escrow: await escrow(), bonded: await bonded() };
    const wrongTee = await submitResult({ lie: true, tier: Tier.TEE });
    const refutedTee = await event(wrongTee);
    expect(refutedTee.kind).to.equal("challenged");
    await expectRefuted(wrongTee, refutedTee, before, PRICES.tee);
    expect(await refutedAt(wrongTee)).to.be.lessThan(finalAts.get(wrongTee)!);
    const banned = (await contracts.enclaves.getFunction("enclaveKeyOf")(enclave.address)) as { expiresAt: bigint; attestedAt: bigint };
    expect(banned.expiresAt).to.equal(0n);
    expect(banned.attestedAt).to.equal(2n ** 40n - 1n); // no attestation can renew it
    // The banned key signs nothing the hub accepts any more.
    let refused: unknown;
    try {
      await submitResult({ lie: false, tier: Tier.TEE });
    } catch (error) {
      refused = error;
    }
    expect(String(refused)).to.match(/InvalidEnclaveKey|execution reverted/);

    // SIGTERM: the watcher exits cleanly.
    watcher.child.kill("SIGTERM");
    expect((await watcher.exited).code).to.equal(0);
    watcher = undefined;
  });

  it("opg challenge <result-id>, run by hand as a process, refutes another wrong result; a second challenge is refused", async () => {
    const before = { escrow: await escrow(), bonded: await bonded() };
    const wrong = await submitResult({ lie: true, tier: Tier.Signature });
    const out = JSON.parse(await ok(KEYS.challenger, ["challenge", wrong, "--model", `${modelId}=${buildDir}`, "--input", "input.json", "--json"])) as Challenged;
    await expectRefuted(wrong, out, before, PRICES.signature);
    const again = await opg(["challenge", wrong, "--model", `${modelId}=${buildDir}`, "--input", "input.json", "--rpc", net.rpc, "--deployment", net.deployment], { OPG_PRIVATE_KEY: KEYS.challenger }, dir);
    expect(again.code).to.not.equal(0);
    expect(again.stderr).to.match(/refuted/);
    expect(again.stderr.trim().split("\n")).to.have.length(1);
    // The challenger was paid: its reward went to its wallet.
    expect((await contracts.token.getFunction("balanceOf")(new Wallet(KEYS.challenger).address)) as bigint > 0n).to.equal(true);
  });
});
