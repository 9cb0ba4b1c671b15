import { expect } from "chai";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ZeroHash, toBeHex, type Contract } from "ethers";
import { batchRefOf, buildBatch, closedArg, leafProofArg, leafToJson, nextLeaf, proofOf, type BatchLeaf } from "../src/batches/index.ts";
import type { Hex } from "../src/receipts/receipt.ts";
import { Tier } from "../src/receipts/tier.ts";
import { PRICES, fund, registerModel, stakeOperator } from "./helpers/actors.ts";
import { expectFailure, keyOf, runOpg } from "./helpers/cli.ts";
import { OPG, deployOn, newChain } from "./helpers/system.ts";

const chain = await newChain();
const KEYS = { operator: keyOf(2), requester: keyOf(3), stranger: keyOf(5) };
const as = (key: string) => ({ OPG_PRIVATE_KEY: key });

async function ready() {
  const s = await deployOn(chain);
  const modelId = (await registerModel(s, { tiers: [Tier.Signature] })) as Hex;
  await stakeOperator(s);
  await fund(s, s.requester, 100n * OPG);
  const dir = mkdtempSync(join(tmpdir(), "opg-batch-cli-"));
  const address = async (c: { getAddress(): Promise<string> }) => c.getAddress();
  const deployment = {
    token: await address(s.token),
    hub: await address(s.hub),
    models: await address(s.models),
    operators: await address(s.operators),
    enclaves: await address(s.enclaves),
    quorum: await address(s.quorum),
    verifier: await address(s.verifier),
    requests: await address(s.requests),
    batches: await address(s.batches),
  };
  writeFileSync(join(dir, "deployment.json"), JSON.stringify(deployment));
  return { s, dir, modelId };
}

/** `count` leaves under the authorization in `auth.json` (continuing `previous`). */
function leaves(dir: string, modelId: Hex, requester: string, count: number, previous?: BatchLeaf): BatchLeaf[] {
  const { id } = JSON.parse(readFileSync(join(dir, "auth.json"), "utf8")) as { id: Hex };
  const out: BatchLeaf[] = [];
  let prev = previous;
  for (let i = 0; i < count; i++) {
    const n = BigInt(Date.now()) * 100n + BigInt(i);
    prev = nextLeaf(prev, { modelId, inputCommitment: toBeHex(n, 32) as Hex, outputCommitment: toBeHex(n + 1n, 32) as Hex, outputDigest: ZeroHash as Hex, requester, tier: Tier.Signature, price: PRICES[0], authorization: id.toLowerCase() as Hex });
    out.push(prev);
  }
  return out;
}

describe("opg batch (CLI)", function () {
  it("deposit, authorize, post, verify-leaf, revoke, claim — and one readable line for each refusal", async () => {
    const { s, dir, modelId } = await chain.networkHelpers.loadFixture(ready);
    const opg = (env: Record<string, string>, args: string[]) => runOpg(chain, dir, env, args);

    expect((await opg(as(KEYS.requester), ["batch", "deposit", "10"])).code).to.equal(0);
    const authorized = await opg(as(KEYS.requester), ["batch", "authorize", "--operator", s.operator.address, "--cap", "3", "--out", "auth.json"]);
    expect(authorized.code, authorized.stderr).to.equal(0);
    expect(authorized.stdout).to.contain("may charge up to 3.0 OPG");

    const first = leaves(dir, modelId, s.requester.address, 2);
    writeFileSync(join(dir, "leaves.json"), JSON.stringify(first.map(leafToJson)));
    const posted = await opg(as(KEYS.operator), ["batch", "post", "--leaves", "leaves.json", "--authorization", "auth.json", "--publish", "batch.json", "--json"]);
    expect(posted.code, posted.stderr).to.equal(0);
    const report = JSON.parse(posted.stdout) as { root: string; receipts: number; gasPerReceipt: number };
    expect(report.receipts).to.equal(2);
    expect((await s.batches.depositOf(s.requester.address)).balance).to.equal(10n * OPG - 2n * PRICES[0]);

    const verified = await runOpg(chain, dir, {}, ["batch", "verify-leaf", "--batch", "batch.json", "--index", "1", "--json"]);
    expect(verified.code, verified.stderr).to.equal(0);
    expect(JSON.parse(verified.stdout)).to.include({ root: report.root, operator: s.operator.address, verified: true, status: "pending", tier: Tier.Signature });
    expect(report).to.include({ operator: s.operator.address });
    // Batches are keyed by operator and root: the same root under another operator is not posted.
    const explicit = await runOpg(chain, dir, {}, ["batch", "verify-leaf", "--batch", "batch.json", "--index", "0", "--operator", s.operator.address]);
    expect(explicit.code, explicit.stderr).to.equal(0);
    expectFailure(await runOpg(chain, dir, {}, ["batch", "verify-leaf", "--batch", "batch.json", "--index", "0", "--operator", s.stranger.address]), "BatchSettlementUnknownBatch");

    // Refusals: one line naming the custom error, amounts in OPG, exit 1; usage mistakes exit 2.
    expectFailure(await opg(as(KEYS.operator), ["batch", "post", "--leaves", "leaves.json", "--authorization", "auth.json"]), "BatchSettlementRootExists");
    writeFileSync(join(dir, "over.json"), JSON.stringify(leaves(dir, modelId, s.requester.address, 2, first[1]).map(leafToJson)));
    expectFailure(await opg(as(KEYS.operator), ["batch", "post", "--leaves", "over.json", "--authorization", "auth.json"]), "BatchSettlementCapExceeded(");
    expectFailure(await opg(as(KEYS.operator), ["batch", "post", "--leaves", "over.json", "--authorization", "auth.json"]), "cap 3.0 OPG");
    expectFailure(await opg(as(KEYS.stranger), ["batch", "post", "--leaves", "over.json", "--authorization", "auth.json"]), "BatchSettlementNotOperator");
    expectFailure(await opg(as(KEYS.operator), ["batch", "post", "--authorization", "auth.json"]), "--leaves <file> is required", 2);
    writeFileSync(join(dir, "bad.json"), JSON.stringify([{ modelId: "0x12" }]));
    expectFailure(await opg(as(KEYS.operator), ["batch", "post", "--leaves", "bad.json", "--authorization", "auth.json"]), "leaf modelId must be a 32-byte hex string");

    // Only its requester revokes an authorization; it takes effect after the withdrawal notice.
    expectFailure(await opg(as(KEYS.stranger), ["batch", "revoke", "--authorization", "auth.json"]), "BatchSettlementNotRequester");
    const revoked = await opg(as(KEYS.requester), ["batch", "revoke", "--authorization", "auth.json"]);
    expect(revoked.code, revoked.stderr).to.equal(0);
    expect(revoked.stdout).to.match(/revoked authorization 0x[0-9a-f]{64}: batches posted from \d+ on cannot settle it/);
    expectFailure(await opg(as(KEYS.requester), ["batch", "revoke", "--authorization", "auth.json"]), "BatchSettlementAuthorizationRevoked");

    const claimed = await opg(as(KEYS.operator), ["batch", "claim"]);
    expect(claimed.code, claimed.stderr).to.equal(0);
    expect(claimed.stdout).to.contain("claimed 1.4 OPG");
  });

  it("refund: anyone credits a requester its share of a refuted batch, once — and one readable line for each refusal", async () => {
    const { s, dir, modelId } = await chain.networkHelpers.loadFixture(ready);
    const opg = (env: Record<string, string>, args: string[]) => runOpg(chain, dir, env, args);
    expect((await opg(as(KEYS.requester), ["batch", "deposit", "10"])).code).to.equal(0);
    expect((await opg(as(KEYS.requester), ["batch", "authorize", "--operator", s.operator.address, "--cap", "3", "--out", "auth.json"])).code).to.equal(0);
    // The operator charges its first receipt three prices (a running total that does not chain).
    const [leaf] = leaves(dir, modelId, s.requester.address, 1);
    const inflated = { ...leaf!, cumulative: 3n * PRICES[0] };
    writeFileSync(join(dir, "inflated.json"), JSON.stringify([leafToJson(inflated)]));
    const posted = await opg(as(KEYS.operator), ["batch", "post", "--leaves", "inflated.json", "--authorization", "auth.json", "--json"]);
    expect(posted.code, posted.stderr).to.equal(0);
    const { root } = JSON.parse(posted.stdout) as { root: `0x${string}` };

    expectFailure(await opg(as(KEYS.stranger), ["batch", "refund", root, "--for", s.requester.address]), "BatchSettlementNotRefuted");
    expectFailure(await opg(as(KEYS.stranger), ["batch", "refund", "0x12"]), "<root> must be a 32-byte hex string", 2);
    const ref = await batchRefOf(s.batches as unknown as Contract, s.operator.address, root);
    const batch = buildBatch([inflated]);
    const lp = leafProofArg({ root, leaf: inflated, proof: proofOf(batch, inflated) }) as never;
    await (await s.batches.connect(s.stranger).refuteCharge(closedArg(ref) as never, lp, lp)).wait();

    const before = (await s.batches.depositOf(s.requester.address)).balance;
    const refunded = await opg(as(KEYS.stranger), ["batch", "refund", root, "--for", s.requester.address, "--json"]);
    expect(refunded.code, refunded.stderr).to.equal(0);
    const report = JSON.parse(refunded.stdout) as { requester: string; refund: string };
    expect(report.requester).to.equal(s.requester.address);
    // Its charge (3 OPG) back plus compensation: 30 % of a 10× bond.
    expect(BigInt(report.refund)).to.equal(3n * PRICES[0] + (3n * PRICES[0] * 10n * 3_000n) / 10_000n);
    expect((await s.batches.depositOf(s.requester.address)).balance).to.equal(before + BigInt(report.refund));
    expectFailure(await opg(as(KEYS.requester), ["batch", "refund", root]), "BatchSettlementNoRefund");
  });
});
