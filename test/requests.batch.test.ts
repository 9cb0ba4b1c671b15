/**
 * Batch Groth16 verification at the request book: k single-step ZK requests of one model fulfilled in one
 * `fulfilZkBatch`, each getting exactly what `fulfil` gives it alone; one bad proof refuses the whole
 * batch, naming it; the off-chain batch check (src/zkml) agrees with the chain and finds the bad proofs.
 */
import { expect } from "chai";
import type { Contract } from "ethers";
import { provenRequestStep } from "../src/pipeline/request.ts";
import { zkRegistrationFields } from "../src/pipeline/zk.ts";
import type { Hex } from "../src/receipts/index.ts";
import { Tier } from "../src/receipts/tier.ts";
import {
  REQUEST_BOOK_ABI,
  RequestStatus,
  buildRequestParams,
  encodeRequestInput,
  fulfilZkBatch,
  paramsArg,
  requestIdOf,
  zkBatchArg,
  type BatchItem,
  type RequestContext,
  type RequestParams,
} from "../src/requests/index.ts";
import { BN254_BASE_FIELD, batchCoefficients, commitModelInput, encodePublicSignals, findInvalidProofs, quantizeInput, verifyBatch, type BatchProof, type EvmProof, type ZkBuild, type ZkProofBundle } from "../src/zkml/index.ts";
import { PRICES, depositWithPermit, fund, registerModel, stakeOperator } from "./helpers/actors.ts";
import { OPG, deployOn, newChain } from "./helpers/system.ts";
import { cachedBuild, fixture } from "./zkml/helpers.ts";

const chain = await newChain();
const MODEL = "gemm-relu-3x4";
const K = 4;
let build: ZkBuild;
/** K requests' inputs: the fixture's, shifted. */
const inputs = (): number[][][] => {
  const base = (fixture(MODEL).input as { input: number[][] }).input[0]!;
  return Array.from({ length: K }, (_, i) => [base.map((v, j) => v + 0.25 * i - 0.1 * j)]);
};

/** K open ZK requests (the last from a consumer contract with a callback), their evidence and proofs. */
async function ready() {
  const s = await deployOn(chain);
  const fields = zkRegistrationFields(build);
  const modelId = await registerModel(s, { tiers: [Tier.ZK], weights: fields.weightsCommitment, verifyingKey: fields.verifyingKey });
  const otherId = await registerModel(s, { tiers: [Tier.Signature] });
  await stakeOperator(s);
  await fund(s, s.requester, 1_000n * OPG);
  await depositWithPermit(s, s.requester, 1_000n * OPG);
  const { chainId } = await s.ethers.provider.getNetwork();
  const book = await s.requests.getAddress();
  const consumer = await (await s.ethers.getContractFactory("MockConsumer")).deploy(book);
  const consumerAddress = await consumer.getAddress();
  await (await s.token.connect(s.admin).approve(await s.hub.getAddress(), 100n * OPG)).wait();
  await (await s.hub.connect(s.admin).deposit(consumerAddress, 100n * OPG)).wait();
  const deadline = BigInt(await s.networkHelpers.time.latest()) + 3600n;

  const items: BatchItem[] = [];
  const bundles: ZkProofBundle[] = [];
  const all = inputs();
  for (let i = 0; i < K; i++) {
    const quantized = quantizeInput(build.model, all[i]!.flat());
    const inputCommitment = await commitModelInput(build.model, quantized);
    const viaConsumer = i === K - 1;
    const params = buildRequestParams({
      pipeline: [modelId],
      inputCommitment,
      minEachStep: Tier.ZK,
      maxFee: PRICES[2] + BigInt(i) * OPG,
      deadline,
      nonce: BigInt(i + 1),
      ...(viaConsumer ? { callback: consumerAddress, callbackGasLimit: 200_000 } : {}),
    });
    if (viaConsumer) await (await consumer.getFunction("ask")(paramsArg(params), encodeRequestInput(quantized))).wait();
    else await (await s.requests.connect(s.requester).request(paramsArg(params), encodeRequestInput(quantized), "")).wait();
    const requester = viaConsumer ? consumerAddress : s.requester.address;
    const ctx: RequestContext = { chainId, book, requester, params, operator: s.operator.address };
    const { evidence, outputs, bundle } = await provenRequestStep(ctx, { index: 0, inputCommitment, build, input: all[i] });
    items.push({ ctx, steps: [evidence], outputs });
    bundles.push(bundle);
  }
  return { ...s, modelId, otherId, chainId, book, consumer, items, bundles };
}
type Ready = Awaited<ReturnType<typeof ready>>;

const idOf = (item: BatchItem) => requestIdOf(item.ctx.chainId, item.ctx.book, item.ctx.requester, item.ctx.params);
const bookOf = (s: Ready): Contract => s.requests as unknown as Contract;

/** Everything a fulfilment changes: results, balances, reservations, callbacks. */
async function state(s: Ready) {
  const accounts = [s.requester.address, s.operator.address, s.modelOwner.address, await s.consumer.getAddress()];
  return {
    results: await Promise.all(s.items.map(async (item) => [...(await s.requests.resultOf(idOf(item)))])),
    balances: await Promise.all(accounts.map((a) => s.hub.balanceOf(a))),
    treasury: await s.hub.treasuryAccrued(),
    reserved: await s.hub.reserved(),
    delivered: await s.consumer.getFunction("delivered")(),
    pending: await Promise.all(s.items.map((item) => s.requests.pendingCallback(idOf(item)))),
  };
}

/** The InferenceFulfilled and callback events of a transaction, by request. */
async function events(s: Ready, hash: string) {
  const receipt = await s.ethers.provider.getTransactionReceipt(hash);
  return receipt!.logs
    .filter((l) => l.address.toLowerCase() === s.book.toLowerCase())
    .map((l) => s.requests.interface.parseLog(l))
    .filter((l) => l !== null && l.name !== "ZkBatchFulfilled")
    .map((l) => [l!.name, ...l!.args.toArray().map(String)]);
}

/** A proof still on the curve but invalid: A negated. */
function tampered(item: BatchItem): BatchItem {
  const e = item.steps[0]!;
  const proof = [...e.proof];
  proof[1] = (BN254_BASE_FIELD - proof[1]!) % BN254_BASE_FIELD;
  return { ...item, steps: [{ ...e, proof }] };
}

/** Awaits `promise` and checks it rejected with a message containing `text`. */
async function rejects(promise: Promise<unknown>, text: string): Promise<void> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error, `rejects with "${text}"`).to.be.instanceOf(Error);
  expect((error as Error).message).to.contain(text);
}

function entries(s: Ready): BatchProof[] {
  return s.bundles.map((b) => ({ proof: b.proof, publicSignals: b.publicSignals }));
}

describe("RequestBook — batch ZK fulfilment (fulfilZkBatch)", function () {
  this.timeout(600_000);

  before(async () => {
    build = await cachedBuild(MODEL, fixture(MODEL).onnx);
  });

  it("fulfils k requests of one model in one call, each exactly as fulfil would alone", async () => {
    let s = await chain.networkHelpers.loadFixture(ready);
    const alone: unknown[][] = [];
    let aloneGas = 0n;
    for (const item of s.items) {
      const tx = await s.requests.connect(s.stranger).fulfil(item.ctx.requester, paramsArg(item.ctx.params), s.operator.address, zkBatchArg([item])[0]!.steps, [...item.outputs]);
      alone.push(...(await events(s, tx.hash)));
      aloneGas += (await tx.wait())!.gasUsed;
    }
    const after = await state(s);

    s = await chain.networkHelpers.loadFixture(ready);
    const before = await state(s);
    expect(before.results.every(([status]) => status === BigInt(RequestStatus.Open))).to.equal(true);
    const { fulfilments, gasUsed } = await fulfilZkBatch(bookOf(s), s.stranger, s.items);
    expect(fulfilments.map((f) => f.requestId)).to.deep.equal(s.items.map(idOf));
    expect(fulfilments.map((f) => f.outputs)).to.deep.equal(s.items.map((i) => [...i.outputs]));
    expect(fulfilments[K - 1]!.callback).to.equal(true);
    expect(await state(s)).to.deep.equal(after);
    expect(after.results.every(([status, tier]) => status === BigInt(RequestStatus.Fulfilled) && tier === BigInt(Tier.ZK))).to.equal(true);
    expect(after.delivered).to.equal(1n);
    expect(await events(s, fulfilments[0]!.transactionHash)).to.deep.equal(alone);
    // Each proof is verified once, in the batch: fulfil finds it verified instead of pairing again.
    expect(gasUsed).to.be.lessThan(aloneGas);
    const logs = (await s.ethers.provider.getTransactionReceipt(fulfilments[0]!.transactionHash))!.logs.map((l) => s.requests.interface.parseLog(l));
    const batch = logs.find((l) => l?.name === "ZkBatchFulfilled");
    expect(batch?.args.toArray().map(String)).to.deep.equal([s.modelId, s.operator.address, String(K)]);
  });

  it("refuses the whole batch for one, two or all bad proofs, naming the first; nothing is fulfilled", async () => {
    const s = await chain.networkHelpers.loadFixture(ready);
    const before = await state(s);
    const cases: number[][] = [[2], [1, 3], [0, 1, 2, 3]];
    for (const bad of cases) {
      const items = s.items.map((item, i) => (bad.includes(i) ? tampered(item) : item));
      await expect(s.requests.fulfilZkBatch(s.modelId, s.operator.address, zkBatchArg(items)))
        .to.be.revertedWithCustomError(s.requests, "RequestBookBatchInvalidProof")
        .withArgs(bad[0], idOf(s.items[bad[0]!]!));
    }
    // A proof made for another request (valid, but not for this one's binding) is just as bad.
    const swapped = [...s.items];
    swapped[1] = { ...s.items[1]!, steps: s.items[2]!.steps, outputs: s.items[2]!.outputs };
    await expect(s.requests.fulfilZkBatch(s.modelId, s.operator.address, zkBatchArg(swapped.slice(0, 2)))).to.be.revertedWithCustomError(s.requests, "RequestBookBatchInvalidProof").withArgs(1, idOf(s.items[1]!));
    // With request 2 in the batch too, that proof is there twice: the verifier refuses the repeat.
    await expect(s.requests.fulfilZkBatch(s.modelId, s.operator.address, zkBatchArg(swapped))).to.be.revertedWithCustomError(s.verifier, "Groth16BatchRepeatedProof").withArgs(1, 2);
    expect(await state(s)).to.deep.equal(before);
  });

  it("refuses an empty batch, a repeated request, a mixed batch and multi-step or signed requests", async () => {
    const s = await chain.networkHelpers.loadFixture(ready);
    const args = (items: BatchItem[]) => zkBatchArg(items);
    await expect(s.requests.fulfilZkBatch(s.modelId, s.operator.address, [])).to.be.revertedWithCustomError(s.requests, "RequestBookBatchEmpty");
    await expect(s.requests.fulfilZkBatch(s.modelId, s.operator.address, args([s.items[0]!, s.items[1]!, s.items[0]!])))
      .to.be.revertedWithCustomError(s.requests, "RequestBookBatchRepeatedRequest")
      .withArgs(0, 2);
    const other: BatchItem = { ...s.items[1]!, ctx: { ...s.items[1]!.ctx, params: { ...s.items[1]!.ctx.params, pipeline: [s.otherId as Hex] } } };
    await expect(s.requests.fulfilZkBatch(s.modelId, s.operator.address, args([s.items[0]!, other])))
      .to.be.revertedWithCustomError(s.requests, "RequestBookBatchMixedModels")
      .withArgs(1, s.otherId);
    const twoSteps: BatchItem = { ...s.items[1]!, ctx: { ...s.items[1]!.ctx, params: { ...s.items[1]!.ctx.params, pipeline: [s.modelId as Hex, s.otherId as Hex] } } };
    await expect(s.requests.fulfilZkBatch(s.modelId, s.operator.address, args([s.items[0]!, twoSteps])))
      .to.be.revertedWithCustomError(s.requests, "RequestBookBatchNotSingleZkStep")
      .withArgs(1);
    const signed: BatchItem = { ...s.items[0]!, steps: [{ ...s.items[0]!.steps[0]!, tier: Tier.Signature }] };
    await expect(s.requests.fulfilZkBatch(s.modelId, s.operator.address, args([signed]))).to.be.revertedWithCustomError(s.requests, "RequestBookBatchNotSingleZkStep").withArgs(0);
    await expect(s.requests.fulfilZkBatch(s.otherId, s.operator.address, args([s.items[0]!]))).to.be.revertedWithCustomError(s.requests, "InferenceHubNoVerifyingKey");
    // The client refuses the same before sending anything.
    await rejects(fulfilZkBatch(bookOf(s), s.stranger, []), "at least one request");
    await rejects(fulfilZkBatch(bookOf(s), s.stranger, [s.items[0]!, other]), "another model");
    await rejects(fulfilZkBatch(bookOf(s), s.stranger, [s.items[0]!, s.items[0]!]), "same request");
  });

  it("applies every check fulfil applies (expired, another operator), and skips a request fulfilled meanwhile", async () => {
    const s = await chain.networkHelpers.loadFixture(ready);
    const before = await state(s);
    // Proofs bound to the operator cannot pay a stranger (the batch binds every proof to `operator`).
    await expect(s.requests.fulfilZkBatch(s.modelId, s.stranger.address, zkBatchArg(s.items))).to.be.revertedWithCustomError(s.requests, "RequestBookBatchInvalidProof").withArgs(0, idOf(s.items[0]!));
    // Past the deadline the batch refuses with fulfil's own error, and moves nothing.
    const named = s.items[0]!.ctx.params;
    const snapshot = await s.networkHelpers.takeSnapshot();
    await s.networkHelpers.time.increase(3601);
    await expect(s.requests.fulfilZkBatch(s.modelId, s.operator.address, zkBatchArg(s.items))).to.be.revertedWithCustomError(s.requests, "RequestBookExpired").withArgs(idOf(s.items[0]!), named.deadline);
    await snapshot.restore();
    expect(await state(s)).to.deep.equal(before);

    // Someone fulfils request 1 on its own first (front-running the batch): the batch skips it and goes on.
    const first = s.items[1]!;
    await (await s.requests.connect(s.stranger).fulfil(first.ctx.requester, paramsArg(first.ctx.params), s.operator.address, zkBatchArg([first])[0]!.steps, [...first.outputs])).wait();
    const operatorBefore = await s.hub.balanceOf(s.operator.address);
    const { fulfilments, skipped } = await fulfilZkBatch(bookOf(s), s.stranger, s.items);
    expect(skipped).to.deep.equal([idOf(first)]);
    expect(fulfilments.map((f) => f.requestId)).to.deep.equal(s.items.filter((_, i) => i !== 1).map(idOf));
    const paid = fulfilments.reduce((sum, f) => sum + f.fee, 0n);
    expect(await s.hub.balanceOf(s.operator.address)).to.equal(operatorBefore + (paid * 7_000n) / 10_000n);
    const after = await state(s);
    expect(after.results.every(([status]) => status === BigInt(RequestStatus.Fulfilled))).to.equal(true);
    const logs = (await s.ethers.provider.getTransactionReceipt(fulfilments[0]!.transactionHash))!.logs.map((l) => s.requests.interface.parseLog(l));
    expect(logs.find((l) => l?.name === "ZkBatchFulfilled")?.args.toArray().map(String)).to.deep.equal([s.modelId, s.operator.address, String(K - 1)]);
  });

  it("checks the batch off-chain as the chain does: same coefficients, same verdict, the bad proofs found", async () => {
    const s = await chain.networkHelpers.loadFixture(ready);
    const vk = build.verificationKey;
    const proofs = s.items.map((i) => [...i.steps[0]!.proof] as unknown as EvmProof);
    const signals = s.bundles.map((b) => encodePublicSignals(b.publicSignals));
    const key = zkRegistrationFields(build).verifyingKey;
    const onChain = await s.verifier.batchCoefficients(key, proofs.map((p) => [...p]), signals.flat());
    expect(batchCoefficients(vk, proofs, signals)).to.deep.equal([...onChain]);
    expect(await s.verifier.verifyBatch(key, proofs.map((p) => [...p]), signals.flat())).to.equal(true);
    expect(await verifyBatch(vk, entries(s))).to.equal(true);
    expect(await findInvalidProofs(vk, entries(s))).to.deep.equal([]);

    const bad = entries(s);
    for (const i of [1, 3]) {
      const b = bad[i]!;
      bad[i] = { ...b, publicSignals: b.publicSignals.map((v, j) => (j === 2 ? String(BigInt(v) + 1n) : v)) };
    }
    expect(await verifyBatch(vk, bad)).to.equal(false);
    expect(await findInvalidProofs(vk, bad)).to.deep.equal([1, 3]);
    const flat = bad.flatMap((b) => encodePublicSignals(b.publicSignals));
    expect(await s.verifier.verifyBatch(key, proofs.map((p) => [...p]), flat)).to.equal(false);
    // A malformed proof (A off the curve) is invalid too, and found.
    const offCurve = entries(s);
    const a = offCurve[2]!.proof.pi_a;
    offCurve[2] = { ...offCurve[2]!, proof: { ...offCurve[2]!.proof, pi_a: [a[0]!, String(BigInt(a[1]!) + 1n), "1"] } };
    expect(await verifyBatch(vk, offCurve)).to.equal(false);
    expect(await findInvalidProofs(vk, offCurve)).to.deep.equal([2]);
    await rejects(verifyBatch(vk, []), "at least one proof");
    await rejects(verifyBatch(vk, [entries(s)[0]!, entries(s)[0]!]), "same proof");
  });

  it("publishes the batch entry points in the hand-written ABI", () => {
    expect(REQUEST_BOOK_ABI.some((f) => f.startsWith("function fulfilZkBatch("))).to.equal(true);
  });
});

export type { RequestParams };
