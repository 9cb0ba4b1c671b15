/**
 * The node's batcher against one requester that cannot pay any more (its deposit left, or went to another
 * operator): the other requesters' receipts are still posted (the root is re-cut without it and re-signed), one
 * root never blocks later ones, the dropped receipts wait for a later batch, and what is being withdrawn is not
 * counted as covering receipts once it can leave before the next post; a node whose state lost an authorization's
 * running totals refuses it instead of restarting them.
 */
import { expect } from "chai";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Contract, Signer } from "ethers";
import { AUTHORIZATION_TYPES, authorizationId, authorizationToJson, authorizationValue, batchDomain, batchSettlementAt, buildBatch, leafFromJson, postBatch, signAuthorization, signBatch, type BatchLeaf, type SpendingAuthorization } from "../src/batches/index.ts";
import { Batcher } from "../src/node/batcher.ts";
import { HttpError } from "../src/node/http.ts";
import { TxSender } from "../src/node/sender.ts";
import type { Hex } from "../src/receipts/receipt.ts";
import { PRICES, fund } from "./helpers/actors.ts";
import { setup } from "./helpers/node.ts";
import { OPG } from "./helpers/system.ts";

const env = await setup();
/** Lets ethers' 250 ms cache of identical provider calls lapse, so the batcher reads the new chain time. */
const fresh = () => new Promise((resolve) => setTimeout(resolve, 300));

/** Funds each of `requesters` and deposits 10 OPG for it in the batch settlement contract. */
async function depositing(requesters: readonly Signer[]): Promise<void> {
  const { s } = env;
  const address = await s.batches.getAddress();
  for (const r of requesters) {
    const who = await r.getAddress();
    await fund(s, { address: who }, 10n * OPG);
    await (await (s.token.connect(r) as typeof s.token).approve(address, 10n * OPG)).wait();
    await (await (s.batches.connect(r) as typeof s.batches).deposit(who, 10n * OPG)).wait();
  }
}

/** Deposits 10 OPG for `requester` and has it sign a 10-OPG authorization for the node, valid 30 days. */
async function depositedAuthorization(requester: Signer) {
  const { s, wallet } = env;
  await depositing([requester]);
  const expiry = BigInt(await s.networkHelpers.time.latest()) + 30n * 86_400n;
  return signAuthorization(requester, batchDomain(env.chainId, await s.batches.getAddress()), { operator: wallet.address, cap: 10n * OPG, expiry });
}

/** A started batcher with a new state file, logging into `lines`. */
async function startBatcher(lines: string[]): Promise<Batcher> {
  const { s, provider, wallet, models } = env;
  const address = await s.batches.getAddress();
  const batcher = new Batcher({
    path: join(mkdtempSync(join(tmpdir(), "opg-batcher-")), "state.batches.sqlite"),
    contract: batchSettlementAt(address, wallet) as Contract,
    domain: batchDomain(env.chainId, address),
    wallet,
    provider,
    models,
    priceOf: async () => PRICES[0],
    maxSize: 1_000,
    maxAgeMs: 3_600_000,
    publicUrl: "http://127.0.0.1:1",
    log: (line) => lines.push(line),
  });
  batcher.start(new TxSender(wallet, provider));
  return batcher;
}

describe("Batch settlement: the node's batcher", function () {
  this.timeout(120_000);

  it("a requester that cannot pay is re-cut out of the root; the others are posted, and its receipts wait for a later batch", async () => {
    const { s, wallet, modelId, values } = env;
    const domain = batchDomain(env.chainId, await s.batches.getAddress());
    const [alice, bob] = [s.requester, s.attesters[2]!];
    await depositing([alice, bob]);
    const expiry = BigInt(await s.networkHelpers.time.latest()) + 30n * 86_400n;
    const auths = await Promise.all([alice, bob].map((r) => signAuthorization(r, domain, { operator: wallet.address, cap: 10n * OPG, expiry })));
    const lines: string[] = [];
    const batcher = await startBatcher(lines);
    const infer = (i: number) => batcher.infer({ authorization: authorizationToJson(auths[i]!), model: modelId, input: values });
    try {
      for (const i of [0, 1, 0, 1]) expect((await infer(i)).status).to.equal(200);

      // Alice's whole deposit leaves after its notice: the node no longer counts it as soon as it can leave
      // before the next post (the batch age), then it is gone.
      await (await s.batches.connect(alice).requestWithdrawal(10n * OPG)).wait();
      expect((await infer(0)).status).to.equal(200);
      const delay = await s.batches.withdrawalDelay();
      await s.networkHelpers.time.increase(delay - 3_000n);
      await fresh();
      const refused = await infer(0).catch((error: unknown) => error);
      expect(refused).to.be.instanceOf(HttpError);
      expect((refused as HttpError).code).to.equal("DEPOSIT_TOO_LOW");
      await s.networkHelpers.time.increase(3_600n);
      await (await s.batches.connect(alice).withdraw(alice.address)).wait();

      // The root over all five receipts cannot settle Alice: it is re-cut without her and Bob is paid.
      await batcher.flush(true);
      let roots = batcher.roots();
      expect(roots.map((r) => [r.status, r.receipts])).to.deep.equal([["posted", 2]]);
      expect(lines.join("\n")).to.match(/left pending \(refused on-chain: BatchSettlementInsufficientBalance/);
      const bobState = await s.batches.authorizationStateOf(auths[1]!.id);
      expect(bobState.settled).to.equal(2n * PRICES[0]);
      expect((await s.batches.authorizationStateOf(auths[0]!.id)).settled).to.equal(0n);

      // Alice's receipts do not block the next root either.
      expect((await infer(1)).status).to.equal(200);
      await batcher.flush(true);
      roots = batcher.roots();
      expect(roots.map((r) => [r.status, r.receipts])).to.deep.equal([["posted", 2], ["posted", 1]]);
      expect((await s.batches.authorizationStateOf(auths[1]!.id)).settled).to.equal(3n * PRICES[0]);

      // Her receipts stayed pending: once she deposits again, a later batch charges them.
      await depositing([alice]);
      await batcher.flush(true);
      expect(batcher.roots().map((r) => [r.status, r.receipts])).to.deep.equal([["posted", 2], ["posted", 1], ["posted", 3]]);
      expect((await s.batches.authorizationStateOf(auths[0]!.id)).settled).to.equal(3n * PRICES[0]);
    } finally {
      await batcher.stop();
    }
  });

  it("a running total's receipts are posted in nonce order: a later root waits for an older one, and gives its receipts back with it", async () => {
    const { s, wallet, modelId, values } = env;
    const erin = s.stranger;
    const auth = await depositedAuthorization(erin);
    const lines: string[] = [];
    const batcher = await startBatcher(lines);
    const infer = () => batcher.infer({ authorization: authorizationToJson(auth), model: modelId, input: values });
    try {
      // Erin's whole deposit starts unlocking: it still covers what the node serves before it can leave.
      await (await s.batches.connect(erin).requestWithdrawal(10n * OPG)).wait();
      for (let i = 0; i < 2; i++) expect((await infer()).status).to.equal(200);
      // The operator is not active for a while: root 1 (nonces 0, 1) cannot be posted, and is kept.
      await (await s.operators.connect(s.operator).requestUnbond(await s.operators.freeStakeOf(s.operator.address))).wait();
      await batcher.flush(true).catch(() => undefined);
      expect(batcher.roots().map((r) => [r.status, r.receipts])).to.deep.equal([["posting", 2]]);
      // Root 2 (nonce 2) continues Erin's running total: it waits for root 1 instead of charging its range.
      expect((await infer()).status).to.equal(200);
      await batcher.flush(true).catch(() => undefined);
      expect(batcher.roots().map((r) => [r.status, r.receipts])).to.deep.equal([["posting", 2], ["posting", 1]]);
      expect(lines.join("\n")).to.match(/waits: it continues a running total of an older root not posted yet/);
      // Then Erin's deposit leaves: root 1 cannot settle her, and both roots give her receipts back, in order.
      await s.networkHelpers.time.increase(await s.batches.withdrawalDelay());
      await (await s.batches.connect(erin).withdraw(erin.address)).wait();
      await (await s.operators.connect(s.operator).cancelUnbond()).wait();
      await fresh();
      await batcher.flush(false).catch(() => undefined);
      expect(batcher.roots()).to.deep.equal([]);
      expect(lines.join("\n")).to.match(/left pending \(and from 1 later root\(s\)\)/);
      // Once she deposits again, one root charges her three receipts, nonces 0 to 2.
      await depositing([erin]);
      await batcher.flush(true);
      expect(batcher.roots().map((r) => [r.status, r.receipts])).to.deep.equal([["posted", 3]]);
      expect((await s.batches.authorizationStateOf(auth.id)).settled).to.equal(3n * PRICES[0]);
      expect(await s.batches.nextNonceOf(auth.id, modelId)).to.equal(3n);
    } finally {
      await batcher.stop();
      if ((await s.operators.stakeOf(s.operator.address)).unbonding !== 0n) await (await s.operators.connect(s.operator).cancelUnbond()).wait();
    }
  });

  it("receipts a root signed earlier already settled on-chain (a reverted post replayed by anyone) are left out of the next root", async () => {
    const { s, wallet, modelId, values } = env;
    const address = await s.batches.getAddress();
    const domain = batchDomain(env.chainId, address);
    const auth = await depositedAuthorization(s.attesters[1]!);
    const lines: string[] = [];
    const batcher = await startBatcher(lines);
    const infer = () => batcher.infer({ authorization: authorizationToJson(auth), model: modelId, input: values });
    try {
      const served: BatchLeaf[] = [];
      for (let i = 0; i < 2; i++) served.push(leafFromJson(((await infer()).body as { leaf: unknown }).leaf));
      // A root over receipts 0 and 1, signed by the operator's key, is posted by someone else.
      const replayed = buildBatch(served);
      const signed = await signBatch(wallet, domain, replayed, "replayed");
      await postBatch(batchSettlementAt(address, s.stranger) as Contract, replayed, { ...signed, signer: wallet.address }, new Map([[served[0]!.authorization, auth]]));
      expect(await s.batches.nextNonceOf(auth.id, modelId)).to.equal(2n);
      // The node's next root charges receipt 2 alone: it holds exactly that range.
      served.push(leafFromJson(((await infer()).body as { leaf: unknown }).leaf));
      await batcher.flush(true);
      expect(batcher.roots().map((r) => [r.status, r.receipts])).to.deep.equal([["posted", 1]]);
      expect(lines.join("\n")).to.match(/2 receipt\(s\) already settled on-chain by an earlier root are left out/);
      expect(await s.batches.nextNonceOf(auth.id, modelId)).to.equal(3n);
      expect((await s.batches.authorizationStateOf(auth.id)).settled).to.equal(3n * PRICES[0]);
    } finally {
      await batcher.stop();
    }
  });

  it("an authorization that can never settle again is dropped from the root instead of blocking it", async () => {
    const { s, wallet, modelId, values } = env;
    const domain = batchDomain(env.chainId, await s.batches.getAddress());
    const [carol, dave] = [s.attesters[0]!, s.attesters[1]!];
    await depositing([carol, dave]);
    const now = BigInt(await s.networkHelpers.time.latest());
    // Carol's authorization expires before the post (the node served it in time: a post delayed past it).
    const auths = [await signAuthorization(carol, domain, { operator: wallet.address, cap: 10n * OPG, expiry: now + 4_000n }), await signAuthorization(dave, domain, { operator: wallet.address, cap: 10n * OPG, expiry: now + 86_400n })];
    const lines: string[] = [];
    const batcher = await startBatcher(lines);
    try {
      for (const i of [0, 1]) expect((await batcher.infer({ authorization: authorizationToJson(auths[i]!), model: modelId, input: values })).status).to.equal(200);
      await s.networkHelpers.time.increase(5_000n);
      await fresh();
      await batcher.flush(true);
      expect(batcher.roots().map((r) => [r.status, r.receipts])).to.deep.equal([["posted", 1]]);
      expect(lines.join("\n")).to.match(/dropped \(refused on-chain: BatchSettlementAuthorizationExpired/);
      expect((await s.batches.authorizationStateOf(auths[1]!.id as Hex)).settled).to.equal(PRICES[0]);
      // Nothing is left pending: the next flush cuts nothing.
      await batcher.flush(true);
      expect(batcher.roots()).to.have.length(1);
    } finally {
      await batcher.stop();
    }
  });
  it("a node without the state of an authorization settled on-chain refuses it instead of restarting its running total", async () => {
    const { s, wallet, modelId, values } = env;
    const erin = s.stranger;
    const auth = await depositedAuthorization(erin);
    const body = { authorization: authorizationToJson(auth), model: modelId, input: values };
    const first = await startBatcher([]);
    try {
      expect((await first.infer(body)).status).to.equal(200);
      await first.flush(true);
      expect((await s.batches.settledOf(auth.id as Hex, modelId)).toString()).to.equal(PRICES[0].toString());
    } finally {
      await first.stop();
    }
    // Another state file (a new or lost --state): a leaf at nonce 0 would charge nothing or be refuted.
    const second = await startBatcher([]);
    try {
      const refused = await second.infer(body).catch((error: unknown) => error);
      expect(refused).to.be.instanceOf(HttpError);
      expect((refused as HttpError).code).to.equal("AUTHORIZATION_IN_USE");
      expect(second.roots()).to.have.length(0);
    } finally {
      await second.stop();
    }
  });
  it("a contract requester's authorization is checked through ERC-1271 before it is served: a forged one is refused", async () => {
    const { s, wallet, modelId, values } = env;
    const address = await s.batches.getAddress();
    const domain = batchDomain(env.chainId, address);
    const [owner, forger] = [s.attesters[1]!, s.stranger];
    const account = await s.ethers.deployContract("ERC1271Wallet", [owner.address]);
    const requester = await account.getAddress();
    await (await s.token.connect(s.admin).approve(address, 10n * OPG)).wait();
    await (await s.batches.connect(s.admin).deposit(requester, 10n * OPG)).wait();
    const authorization: SpendingAuthorization = {
      requester,
      operator: wallet.address,
      cap: 10n * OPG,
      expiry: BigInt(await s.networkHelpers.time.latest()) + 30n * 86_400n,
      salt: ("0x" + "11".repeat(32)) as Hex,
    };
    const signedBy = async (signer: typeof owner) => ({
      authorization,
      signature: (await signer.signTypedData(domain, AUTHORIZATION_TYPES, authorizationValue(authorization))) as Hex,
      id: authorizationId(domain, authorization),
    });
    const batcher = await startBatcher([]);
    try {
      // Anyone could name a funded contract account as the requester: the account itself must accept the signature.
      const forged = await batcher.infer({ authorization: authorizationToJson(await signedBy(forger)), model: modelId, input: values }).catch((error: unknown) => error);
      expect(forged).to.be.instanceOf(HttpError);
      expect((forged as HttpError).code).to.equal("BAD_AUTHORIZATION");
      expect((await batcher.infer({ authorization: authorizationToJson(await signedBy(owner)), model: modelId, input: values })).status).to.equal(200);
      await batcher.flush(true);
      expect((await s.batches.settledOf(authorizationId(domain, authorization), modelId)).toString()).to.equal(PRICES[0].toString());
    } finally {
      await batcher.stop();
    }
  });
});
