import { expect } from "chai";
import { Interface, ZeroAddress, ZeroHash, toBeHex, type Contract, type Signer } from "ethers";
import { readFileSync } from "node:fs";
import {
  AUTHORIZATION_TYPES,
  BATCH_SETTLEMENT_ABI,
  BATCH_TYPES,
  closingLeaves,
  closingsHash,
  leafHashOf,
  BatchError,
  LeafStatus,
  authorizationId,
  batchDomain,
  batchIdOf,
  batchRefOf,
  buildBatch,
  claimRefund,
  closedArg,
  closedBatchOf,
  leafHash,
  leafProofArg,
  refArg,
  dumpBatch,
  loadBatch,
  nextLeaf,
  postBatch,
  proofOf,
  settlementsOf,
  signAuthorization,
  signBatch,
  verifyLeafOffChain,
  verifyLeafOnChain,
  type BatchLeaf,
  type SignedAuthorization,
} from "../src/batches/index.ts";
import { ContractRevertError } from "../src/settlement/errors.ts";
import { Tier } from "../src/receipts/tier.ts";
import type { Hex } from "../src/receipts/receipt.ts";
import { PRICES, fund, registerModel, stakeOperator, type System } from "./helpers/actors.ts";
import { OPG, deployOn, newChain } from "./helpers/system.ts";
import { runBatchDemo } from "../scripts/demo/batches.ts";

const chain = await newChain();
const PRICE = PRICES[0];
const WINDOW = 3_600n;
const DEPOSIT = 100n * OPG;

type Account = Signer & { address: string };
type Ready = System & { modelId: Hex; otherModelId: Hex; domain: ReturnType<typeof batchDomain>; contract: Contract; requesters: [Account, Account] };

async function ready(): Promise<Ready> {
  const s = await deployOn(chain);
  const modelId = (await registerModel(s, { tiers: [Tier.Signature] })) as Hex;
  const otherModelId = (await registerModel(s, { tiers: [Tier.Signature] })) as Hex;
  await stakeOperator(s);
  const requesters: [Account, Account] = [s.requester, s.attesters[2]!];
  for (const r of requesters) {
    await fund(s, r, DEPOSIT);
    await (await s.token.connect(r).approve(await s.batches.getAddress(), DEPOSIT)).wait();
    await (await s.batches.connect(r).deposit(r.address, DEPOSIT)).wait();
  }
  const { chainId } = await s.ethers.provider.getNetwork();
  const domain = batchDomain(chainId, await s.batches.getAddress());
  const contract = s.batches.connect(s.operator) as unknown as Contract;
  return { ...s, modelId, otherModelId, domain, contract, requesters };
}

async function authorize(r: Ready, requester: Account, options: { cap?: bigint; operator?: string; expiresIn?: bigint } = {}) {
  const now = BigInt(await r.networkHelpers.time.latest());
  return signAuthorization(requester, r.domain, {
    operator: options.operator ?? r.operator.address,
    cap: options.cap ?? 50n * OPG,
    expiry: now + (options.expiresIn ?? 86_400n),
  });
}

let salt = 1n;
/** `count` receipts served under `auth`, continuing `previous` (the last leaf of an earlier batch). */
function serve(r: Ready, auth: { id: Hex; authorization: { requester: string } }, count: number, previous?: BatchLeaf, modelId: Hex = r.modelId): BatchLeaf[] {
  const leaves: BatchLeaf[] = [];
  let prev: BatchLeaf | undefined = previous;
  for (let i = 0; i < count; i++) {
    const n = salt++;
    prev = nextLeaf(prev, {
      modelId,
      inputCommitment: toBeHex(n, 32) as Hex,
      outputCommitment: toBeHex(n + 1_000_000n, 32) as Hex,
      outputDigest: ZeroHash as Hex,
      requester: auth.authorization.requester,
      tier: Tier.Signature,
      price: PRICE,
      authorization: auth.id,
    });
    leaves.push(prev);
  }
  return leaves;
}

function authMap(...auths: (SignedAuthorization & { id: Hex })[]): Map<string, SignedAuthorization> {
  return new Map(auths.map((a) => [a.id, a]));
}

/**
 * The raw postBatch transaction (so chai can match custom errors), signed by `signer` over `signedClosings` (by
 * default the batch's closing leaves, in posting order).
 */
async function rawPost(r: Ready, leaves: BatchLeaf[], auths: Map<string, SignedAuthorization>, options: { signer?: Account; signedClosings?: BatchLeaf[]; leafCount?: number } = {}) {
  const batch = buildBatch(leaves);
  const signer = options.signer ?? r.operator;
  const closings = (options.signedClosings ?? closingLeaves(batch)).map((leaf) => leafHashOf(batch, leaf));
  const header = { root: batch.root, leafCount: options.leafCount ?? leaves.length, uri: "https://node.example/v1/batches/" + batch.root };
  const signature = await signer.signTypedData(r.domain, BATCH_TYPES, { ...header, closings: closingsHash(closings) });
  return r.batches.connect(r.operator).postBatch(header, signer.address, signature, settlementsOf(batch, auths) as never);
}

/** `tx` reverts with the custom error `error` and changes nothing. */
async function refused(r: Ready, tx: () => Promise<unknown>, error: string, on: Contract | Ready["batches"] | Ready["operators"] = r.batches) {
  const before = await snapshot(r);
  await expect(tx()).to.be.revertedWithCustomError(on, error);
  expect(await snapshot(r)).to.equal(before);
}

/** Everything a refused batch must leave alone. */
async function snapshot(r: Ready): Promise<string> {
  const parts: unknown[] = [];
  for (const a of [...r.requesters, r.operator, r.modelOwner, r.treasury]) {
    parts.push(await r.batches.depositOf(a.address), await r.batches.earningsOf(a.address));
  }
  parts.push(await r.operators.lockedOf(r.operator.address), await r.token.balanceOf(await r.batches.getAddress()));
  return JSON.stringify(parts, (_k, v: unknown) => (typeof v === "bigint" ? v.toString() : v));
}

describe("Batch settlement", function () {
  it("the ABI matches the compiled contract", async () => {
    const artifact = JSON.parse(readFileSync(new URL("../artifacts/contracts/batches/BatchSettlement.sol/BatchSettlement.json", import.meta.url), "utf8")) as { abi: unknown[] };
    const compiled = new Interface(artifact.abi as never);
    new Interface([...BATCH_SETTLEMENT_ABI]).forEachFunction((f) => expect(compiled.getFunction(f.format("sighash")), f.format()).to.not.equal(null));
    new Interface([...BATCH_SETTLEMENT_ABI]).forEachEvent((e) => expect(compiled.getEvent(e.format("sighash")), e.format()).to.not.equal(null));
    new Interface([...BATCH_SETTLEMENT_ABI]).forEachError((e) => {
      if (e.name.startsWith("BatchSettlement")) expect(compiled.getError(e.format("sighash")), e.format()).to.not.equal(null);
    });
  });

  it("settles many receipts per authorization and model, splits fees per model and locks the bond", async () => {
    const r = await chain.networkHelpers.loadFixture(ready);
    const [alice, bob] = r.requesters;
    const a = await authorize(r, alice);
    const b = await authorize(r, bob);
    expect(a.id).to.equal(await r.batches.authorizationId(a.authorization));
    // Alice uses both models: one running total per (authorization, model), each closed in the batch.
    const leaves = [...serve(r, a, 3), ...serve(r, b, 2, undefined, r.otherModelId), ...serve(r, a, 1, undefined, r.otherModelId)];
    const batch = buildBatch(leaves);
    expect(batch.closing.get(a.id)).to.have.length(2);
    const signed = await signBatch(r.operator, r.domain, batch, "https://node.example/v1/batches/" + batch.root);
    expect(signed.header.root).to.equal(batch.root);
    const posted = await postBatch(r.contract, batch, { ...signed, signer: r.operator.address }, authMap(a, b));
    expect(posted.receipts).to.equal(6);
    expect(posted.operator).to.equal(r.operator.address);
    expect(posted.batchId).to.equal(batchIdOf(r.operator.address, batch.root));
    expect(posted.batchId).to.equal(await r.batches.batchIdOf(r.operator.address, batch.root));

    expect((await r.batches.depositOf(alice.address)).balance).to.equal(DEPOSIT - 4n * PRICE);
    expect((await r.batches.depositOf(bob.address)).balance).to.equal(DEPOSIT - 2n * PRICE);
    expect(await r.batches.settledOf(a.id, r.modelId)).to.equal(3n * PRICE);
    expect(await r.batches.settledOf(a.id, r.otherModelId)).to.equal(PRICE);
    const total = 6n * PRICE;
    expect(await r.batches.earningsOf(r.operator.address)).to.equal((total * 7_000n) / 10_000n);
    expect(await r.batches.earningsOf(r.modelOwner.address)).to.equal((total * 2_000n) / 10_000n);
    expect(await r.batches.earningsOf(r.treasury.address)).to.equal(total / 10n);
    expect(await r.operators.lockedOf(r.operator.address)).to.equal(total * 10n);
    expect((await r.batches.authorizationStateOf(a.id)).settled).to.equal(4n * PRICE);

    // Every leaf is usable on its own: the view and the off-chain check agree.
    for (const leaf of leaves) {
      const proof = proofOf(batch, leaf);
      expect(verifyLeafOffChain(batch.root, leaf, proof)).to.equal(true);
      const v = await verifyLeafOnChain(r.contract, r.operator.address, batch.root, leaf, proof);
      expect(v.tier).to.equal(Tier.Signature);
      expect(v.outputCommitment).to.equal(leaf.outputCommitment);
      expect(v.status).to.equal(LeafStatus.Pending);
      expect(v.finalAt).to.equal(posted.finalAt);
    }
    await r.networkHelpers.time.increaseTo(posted.finalAt);
    const final = await verifyLeafOnChain(r.contract, r.operator.address, batch.root, leaves[0]!, proofOf(batch, leaves[0]!));
    expect(final.status).to.equal(LeafStatus.Final);

    // The published leaves rebuild the root; a tampered file does not.
    expect(loadBatch(dumpBatch(batch), batch.root).root).to.equal(batch.root);
    expect(() => loadBatch(dumpBatch(buildBatch(leaves.slice(0, 3))), batch.root)).to.throw(BatchError);

    // A second batch under the same authorization charges only what was added (no signature needed again).
    const more = serve(r, a, 2, leaves[2]);
    const second = buildBatch(more);
    const signed2 = await signBatch(r.operator, r.domain, second, "uri");
    await postBatch(r.contract, second, { ...signed2, signer: r.operator.address }, new Map([[a.id, { authorization: a.authorization, signature: "0x" as Hex }]]));
    expect((await r.batches.depositOf(alice.address)).balance).to.equal(DEPOSIT - 6n * PRICE);
    expect((await r.batches.authorizationStateOf(a.id)).settled).to.equal(6n * PRICE);
  });

  it("the demo's batch section: 64 receipts of 4 requesters under one root, a leaf verified", async () => {
    const lines: string[] = [];
    const [run, ...more] = await runBatchDemo(await newChain(), (line) => lines.push(line));
    expect(more).to.have.length(0);
    expect(run!.root).to.match(/^0x[0-9a-f]{64}$/);
    expect(run).to.include({ receipts: 64, requesters: 4, leafVerified: true });
    expect(run!.gasPerReceipt).to.equal(Math.round(run!.gasUsed / 64));
    expect(lines.some((l) => l.includes(run!.root))).to.equal(true);
  });

  it("a running total that does not chain is refuted by anyone, for no reward; the requester claims its refund", async () => {
    const r = await chain.networkHelpers.loadFixture(ready);
    const [alice] = r.requesters;
    const a = await authorize(r, alice);
    const [honest] = serve(r, a, 1);
    const inflated = { ...honest!, cumulative: 3n * PRICE }; // the first receipt charged three prices
    const batch = buildBatch([inflated]);
    await (await rawPost(r, [inflated], authMap(a))).wait();
    const ref = await batchRefOf(r.contract, r.operator.address, batch.root);
    expect(ref.charges).to.deep.equal([{ requester: alice.address, amount: 3n * PRICE }]);
    expect(ref.closings).to.equal(closingsHash([leafHash(inflated)]));
    const before = await r.token.balanceOf(r.stranger.address);
    const depositBefore = (await r.batches.depositOf(alice.address)).balance;
    const lp = leafProofArg({ root: batch.root, leaf: inflated, proof: proofOf(batch, inflated) }) as never;
    await (await r.batches.connect(r.stranger).refuteCharge(closedArg(ref) as never, lp, lp)).wait();
    expect(await r.token.balanceOf(r.stranger.address)).to.equal(before);
    expect((await verifyLeafOnChain(r.contract, r.operator.address, batch.root, inflated, proofOf(batch, inflated))).status).to.equal(LeafStatus.Refuted);
    // Anyone may claim it for the requester; it is credited to the requester's deposit, once.
    const claimed = await claimRefund(r.batches.connect(r.stranger) as unknown as Contract, ref, alice.address);
    expect(claimed.amount).to.be.greaterThan(3n * PRICE);
    expect((await r.batches.depositOf(alice.address)).balance).to.equal(depositBefore + claimed.amount);
    await refused(r, () => r.batches.claimRefund(refArg(ref) as never, alice.address), "BatchSettlementNoRefund");
  });

  it("a receipt outside the range its batch charged refutes the batch, read from chain as a challenger would", async () => {
    const r = await chain.networkHelpers.loadFixture(ready);
    const [alice] = r.requesters;
    const a = await authorize(r, alice);
    const [l0, l1] = serve(r, a, 2);
    // The root holds receipts 0 and 1, but the batch charges receipt 0 alone (a bond of one price).
    const batch = buildBatch([l0!, l1!]);
    const header = { root: batch.root, leafCount: 2, uri: "https://node.example/v1/batches/" + batch.root };
    const signature = await r.operator.signTypedData(r.domain, BATCH_TYPES, { ...header, closings: closingsHash([leafHash(l0!)]) });
    const settlements = [{ authorization: a.authorization, signature: a.signature, closings: [{ leaf: l0!, proof: proofOf(batch, l0!) }] }];
    await (await r.batches.connect(r.operator).postBatch(header, r.operator.address, signature, settlements as never)).wait();

    const closed = await closedBatchOf(r.contract, r.operator.address, batch.root);
    expect(closed.closings).to.deep.equal([l0]);
    expect(closed.starts).to.deep.equal([0n]);
    const arg = closedArg(closed) as never;
    await refused(r, () => r.batches.refutePlacement(arg, l0!, proofOf(batch, l0!)), "BatchSettlementLeafInPlace");
    await (await r.batches.connect(r.stranger).refutePlacement(arg, l1!, proofOf(batch, l1!))).wait();
    expect((await verifyLeafOnChain(r.contract, r.operator.address, batch.root, l0!, proofOf(batch, l0!))).status).to.equal(LeafStatus.Refuted);
    const { amount } = await claimRefund(r.contract, closed.batch, alice.address);
    expect(amount).to.equal(PRICE + (PRICE * 10n * 3_000n) / 10_000n); // its charge + compensation (bond ×10, 30 %)
  });

  it("closedBatchOf rebuilds each running total's range from the earlier posts that settled it", async () => {
    const r = await chain.networkHelpers.loadFixture(ready);
    const [alice, bob] = r.requesters;
    const a = await authorize(r, alice);
    const b = await authorize(r, bob);
    const first = serve(r, a, 3);
    await (await rawPost(r, first, authMap(a))).wait();
    const other = serve(r, b, 2, undefined, r.otherModelId);
    const second = [...serve(r, a, 2, first[2]), ...other, ...serve(r, a, 1, undefined, r.otherModelId)];
    const batch = buildBatch(second);
    await (await rawPost(r, second, authMap(a, b))).wait();
    const closed = await closedBatchOf(r.contract, r.operator.address, batch.root);
    // Alice's first model continues at nonce 3; Bob's and Alice's other model start at 0.
    expect(closed.closings.map((c) => c.nonce)).to.deep.equal([4n, 0n, 1n]);
    expect(closed.starts).to.deep.equal([3n, 0n, 0n]);
    expect(await r.batches.nextNonceOf(a.id, r.modelId)).to.equal(5n);
  });

  it("a deposit being withdrawn still pays settlements until its notice has passed", async () => {
    const r = await chain.networkHelpers.loadFixture(ready);
    const [alice] = r.requesters;
    await (await r.batches.connect(alice).requestWithdrawal(DEPOSIT)).wait();
    await expect(r.batches.connect(alice).withdraw(alice.address)).to.be.revertedWithCustomError(r.batches, "BatchSettlementNotUnlocked");
    const a = await authorize(r, alice);
    await (await rawPost(r, serve(r, a, 2), authMap(a))).wait();
    expect((await r.batches.depositOf(alice.address)).unlocking).to.equal(DEPOSIT - 2n * PRICE);
    await r.networkHelpers.time.increase(86_400);
    await (await r.batches.connect(alice).withdraw(alice.address)).wait();
    expect(await r.token.balanceOf(alice.address)).to.equal(DEPOSIT - 2n * PRICE);
  });

  describe("bad input: a custom error and nothing lost", () => {
    it("a leaf not in the root", async () => {
      const r = await chain.networkHelpers.loadFixture(ready);
      const a = await authorize(r, r.requesters[0]);
      const leaves = serve(r, a, 2);
      const batch = buildBatch(leaves);
      await (await rawPost(r, leaves, authMap(a))).wait();
      const forged = { ...leaves[0]!, outputCommitment: toBeHex(42n, 32) as Hex };
      const proof = proofOf(batch, leaves[0]!);
      expect(verifyLeafOffChain(batch.root, forged, proof)).to.equal(false);
      await expect(r.batches.verifyLeaf(r.operator.address, batch.root, forged, proof)).to.be.revertedWithCustomError(r.batches, "BatchSettlementLeafNotInRoot");
      await expect(r.batches.verifyLeaf(r.operator.address, ZeroHash, leaves[0]!, proof)).to.be.revertedWithCustomError(r.batches, "BatchSettlementUnknownBatch");
      // Batches are keyed by operator and root: the root under another operator is unknown.
      await expect(r.batches.verifyLeaf(r.stranger.address, batch.root, leaves[0]!, proof)).to.be.revertedWithCustomError(r.batches, "BatchSettlementUnknownBatch");
      // Through the library: a typed error naming the custom error.
      const failure = await verifyLeafOnChain(r.contract, r.operator.address, batch.root, forged, proof).catch((e: unknown) => e);
      expect(failure).to.be.instanceOf(ContractRevertError);
      expect((failure as ContractRevertError).errorName).to.equal("BatchSettlementLeafNotInRoot");
      // A closing leaf that is not in the posted root.
      const other = serve(r, a, 1, leaves[1]);
      const batch2 = buildBatch(other);
      const settlements = settlementsOf(batch2, authMap(a)) as { closings: { proof: string[] }[] }[];
      settlements[0]!.closings[0]!.proof = [ZeroHash];
      const { header, signature } = await signBatch(r.operator, r.domain, batch2, "uri");
      await refused(r, () => r.batches.connect(r.operator).postBatch(header, r.operator.address, signature, settlements as never), "BatchSettlementLeafNotInRoot");
    });

    it("a root signed by a non-operator, an unstaked operator, or an operator whose free stake cannot bond it", async () => {
      const r = await chain.networkHelpers.loadFixture(ready);
      const a = await authorize(r, r.requesters[0]);
      await refused(r, () => rawPost(r, serve(r, a, 2), authMap(a), { signer: r.stranger }), "BatchSettlementNotOperator");
      // Free stake too small for the bond (10 × fees): a model priced at the whole stake.
      const pricey = (await registerModel(r, { tiers: [Tier.Signature], prices: [200n * OPG, 0n, 0n] })) as Hex;
      await fund(r, r.requesters[0], 500n * OPG);
      await (await r.token.connect(r.requesters[0]).approve(await r.batches.getAddress(), 500n * OPG)).wait();
      await (await r.batches.connect(r.requesters[0]).deposit(r.requesters[0].address, 500n * OPG)).wait();
      const big = await authorize(r, r.requesters[0], { cap: 1_000n * OPG });
      const leaf = nextLeaf(undefined, { ...serve(r, big, 1, undefined, pricey)[0]!, price: 200n * OPG });
      await refused(r, () => rawPost(r, [leaf], authMap(big)), "OperatorRegistryInsufficientFreeStake", r.operators);
      // Unbonded: the operator unbonds everything; its signer no longer counts.
      await (await r.operators.connect(r.operator).requestUnbond((await r.operators.stakeOf(r.operator.address)).bonded)).wait();
      await refused(r, () => rawPost(r, serve(r, a, 1), authMap(a)), "BatchSettlementNotOperator");
    });

    it("a settlement above the cap, after the expiry, for another operator, with a forged or revoked authorization", async () => {
      const r = await chain.networkHelpers.loadFixture(ready);
      const [alice] = r.requesters;
      const capped = await authorize(r, alice, { cap: 2n * PRICE });
      await refused(r, () => rawPost(r, serve(r, capped, 3), authMap(capped)), "BatchSettlementCapExceeded");
      const short = await authorize(r, alice, { expiresIn: 60n });
      const leaves = serve(r, short, 1);
      await r.networkHelpers.time.increase(120);
      await refused(r, () => rawPost(r, leaves, authMap(short)), "BatchSettlementAuthorizationExpired");
      const elsewhere = await authorize(r, alice, { operator: r.stranger.address });
      await refused(r, () => rawPost(r, serve(r, elsewhere, 1), authMap(elsewhere)), "BatchSettlementWrongOperator");
      const a = await authorize(r, alice, { expiresIn: 10n * 86_400n });
      const forged = { ...a, signature: (await r.stranger.signTypedData(r.domain, AUTHORIZATION_TYPES, { ...a.authorization })) as Hex };
      await refused(r, () => rawPost(r, serve(r, a, 1), authMap(forged)), "BatchSettlementInvalidAuthorization");
      await expect(r.batches.connect(r.stranger).revokeAuthorization(a.authorization)).to.be.revertedWithCustomError(r.batches, "BatchSettlementNotRequester");
      // A revocation takes effect after the withdrawal notice: what was served before is still paid until then.
      const served = serve(r, a, 1);
      await (await r.batches.connect(alice).revokeAuthorization(a.authorization)).wait();
      const { revokedAt } = await r.batches.authorizationStateOf(a.id);
      expect(revokedAt).to.equal(BigInt(await r.networkHelpers.time.latest()) + (await r.batches.withdrawalDelay()));
      await (await rawPost(r, served, authMap(a))).wait();
      expect((await r.batches.authorizationStateOf(a.id)).settled).to.equal(PRICE);
      await r.networkHelpers.time.increaseTo(revokedAt);
      await refused(r, () => rawPost(r, serve(r, a, 1, served[0]), authMap(a)), "BatchSettlementAuthorizationRevoked");
    });

    it("a replayed root or authorization, an empty batch, closing leaves other than the signed ones, a settlement above the deposit", async () => {
      const r = await chain.networkHelpers.loadFixture(ready);
      const [alice, bob] = r.requesters;
      const a = await authorize(r, alice);
      const leaves = serve(r, a, 2);
      await (await rawPost(r, leaves, authMap(a))).wait();
      await refused(r, () => rawPost(r, leaves, authMap(a)), "BatchSettlementRootExists");
      // The same closing leaf again in another root: nothing new to settle.
      const b = await authorize(r, bob);
      await refused(r, () => rawPost(r, [...leaves, ...serve(r, b, 1)], authMap(a, b)), "BatchSettlementAlreadySettled");
      // The same authorization id signed for another contract or chain is another id.
      expect(authorizationId({ ...r.domain, chainId: 1n }, a.authorization)).to.not.equal(a.id);
      expect(() => buildBatch([])).to.throw(BatchError);
      await refused(r, () => rawPost(r, serve(r, b, 1), authMap(b), { leafCount: 0 }), "BatchSettlementEmptyBatch");
      const bLeaves = serve(r, b, 2);
      // The signature covers the closing leaves: posting the root with another choice (an earlier leaf) fails.
      await refused(r, () => rawPost(r, bLeaves, authMap(b), { signedClosings: [bLeaves[0]!] }), "BatchSettlementInvalidSignature");
      // More than the deposit.
      const huge = await authorize(r, bob, { cap: 1_000n * OPG });
      const costly = (await registerModel(r, { tiers: [Tier.Signature], prices: [60n * OPG, 0n, 0n] })) as Hex;
      const l1 = nextLeaf(undefined, { ...serve(r, huge, 1, undefined, costly)[0]!, price: 60n * OPG });
      const l2 = nextLeaf(l1, { ...l1, price: 60n * OPG, inputCommitment: toBeHex(7n, 32) as Hex });
      await refused(r, () => rawPost(r, [l1, l2], authMap(huge)), "BatchSettlementInsufficientBalance");
    });

    it("challenges: a model without a circuit, a closed window", async () => {
      const r = await chain.networkHelpers.loadFixture(ready);
      const a = await authorize(r, r.requesters[0]);
      const leaves = serve(r, a, 2);
      const batch = buildBatch(leaves);
      await (await rawPost(r, leaves, authMap(a))).wait();
      const proof = proofOf(batch, leaves[0]!);
      const zk = Array(8).fill(0n) as never;
      const ref = closedArg(await batchRefOf(r.contract, r.operator.address, batch.root)) as never;
      const leaf = leafProofArg({ root: batch.root, leaf: leaves[0]!, proof }) as never;
      await refused(r, () => r.batches.connect(r.stranger).challenge(ref, leaf, toBeHex(5n, 32), [1n], zk), "BatchSettlementNoCircuit");
      await refused(r, () => r.batches.connect(r.stranger).challenge(ref, leaf, leaves[0]!.outputCommitment, [1n], zk), "BatchSettlementSameOutput");
      await r.networkHelpers.time.increase(WINDOW);
      await refused(r, () => r.batches.connect(r.stranger).challenge(ref, leaf, toBeHex(5n, 32), [1n], zk), "BatchSettlementWindowClosed");
    });
  });
});
