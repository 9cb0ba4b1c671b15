import { expect } from "chai";
import type { Signer } from "ethers";
import { commitQuantized, fromField } from "../src/commitments/index.ts";
import { outputDigestOf, signReceipt, type Hex } from "../src/receipts/index.ts";
import { Tier } from "../src/receipts/tier.ts";
import {
  AUTHORIZATION_TYPES,
  RequestStatus,
  authorizationValue,
  bookDomain,
  buildRequestParams,
  encodeRequestInput,
  evidenceArg,
  signedRequestStep,
  type RequestContext,
  paramsArg,
  requestIdOf,
  requestInputCommitment,
  stepBinding,
  stepReceipt,
  type RequestParams,
  type RequestStepEvidence,
} from "../src/requests/index.ts";
import { zkRegistrationFields } from "../src/pipeline/zk.ts";
import { encodeProofForEvm, encodePublicSignals, loadBuild, prove, quantizeInput, readInputValues, type ZkBuild } from "../src/zkml/index.ts";
import { MIN_STAKE, PRICES, depositWithPermit, fund, registerModel, stakeOperator, type System } from "./helpers/actors.ts";
import { OPG, deployOn, newChain } from "./helpers/system.ts";
import { builtFixture, fixture } from "./zkml/helpers.ts";
import { deployTeeSystem, registeredEnclave } from "./helpers/enclave.ts";

const chain = await newChain();
const NO_PROOF = Array<bigint>(8).fill(0n);
const OUTPUTS = [3n, -7n, 250n];
const INPUT = [1n, -2n, 3n, 4n];

async function ready() {
  const s = await deployOn(chain);
  const modelId = await registerModel(s, { tiers: [Tier.Signature, Tier.TEE] });
  const secondId = await registerModel(s, { tiers: [Tier.Signature] });
  await stakeOperator(s);
  await fund(s, s.requester, 1_000n * OPG);
  await depositWithPermit(s, s.requester, 1_000n * OPG);
  const { chainId } = await s.ethers.provider.getNetwork();
  const book = await s.requests.getAddress();
  return { ...s, modelId: modelId as Hex, secondId: secondId as Hex, chainId, book };
}
type Ready = Awaited<ReturnType<typeof ready>>;

let nonce = 1n;
async function params(s: Ready, overrides: Partial<Parameters<typeof buildRequestParams>[0]> = {}): Promise<RequestParams> {
  const now = BigInt(await s.networkHelpers.time.latest());
  return buildRequestParams({
    pipeline: [s.modelId],
    inputCommitment: await commitQuantized(INPUT, 8),
    maxFee: 2n * PRICES[0],
    deadline: now + 600n,
    nonce: nonce++,
    ...overrides,
  });
}

async function request(s: Ready, p: RequestParams, from: Signer = s.requester): Promise<Hex> {
  await (await s.requests.connect(from).request(paramsArg(p), encodeRequestInput(INPUT), "")).wait();
  return requestIdOf(s.chainId, s.book, await from.getAddress(), p);
}

/** Signature-tier evidence for every step, signed by `signer` for `operator`; the final step covers `outputs`. */
async function signedSteps(s: Ready, requester: string, p: RequestParams, opts: { operator?: string; signer?: Signer; outputs?: bigint[]; tier?: 1 | 2 } = {}) {
  const operator = opts.operator ?? s.operator.address;
  const signer = opts.signer ?? s.operator;
  const requestId = requestIdOf(s.chainId, s.book, requester, p);
  const steps: RequestStepEvidence[] = [];
  let input: string = p.inputCommitment;
  for (let i = 0; i < p.pipeline.length; i++) {
    const last = i === p.pipeline.length - 1;
    const values = last ? (opts.outputs ?? OUTPUTS) : [BigInt(i + 10)];
    const outputCommitment = await commitQuantized(values, 8);
    const outputDigest = outputDigestOf(values);
    const tier = opts.tier ?? Tier.Signature;
    const receipt = stepReceipt({ requestId, requester, params: p, index: i, inputCommitment: input, operator, tier, outputCommitment, outputDigest });
    const signature = await signReceipt(receipt, bookDomain(s.chainId, s.book), signer as never);
    steps.push({ tier, outputCommitment, outputDigest, signer: await signer.getAddress(), signature, proof: NO_PROOF, outputs: [] });
    input = outputCommitment;
  }
  return steps;
}

function stepsArg(steps: readonly RequestStepEvidence[]) {
  return steps.map((e) => ({ ...e, proof: [...e.proof], outputs: [...e.outputs] }));
}

/** Σ of every escrow balance, the treasury accrual and the open reservations: what the hub owes. */
async function owed(s: Ready, extra: string[] = []): Promise<bigint> {
  const accounts = new Set([s.requester.address, s.operator.address, s.modelOwner.address, s.stranger.address, s.book, s.admin.address, ...extra]);
  let total = (await s.hub.treasuryAccrued()) + (await s.hub.reserved());
  for (const a of accounts) total += await s.hub.balanceOf(a);
  return total;
}

async function conserved(s: Ready, action: () => Promise<unknown>, extra: string[] = []) {
  const held = await s.token.balanceOf(await s.hub.getAddress());
  await action();
  expect(await s.token.balanceOf(await s.hub.getAddress())).to.equal(held, "tokens held by the hub");
  expect(await owed(s, extra)).to.equal(held, "Σ balances + treasury = tokens held");
}

describe("RequestBook — on-chain requests", function () {
  this.timeout(600_000);

  it("reserves the max fee, verifies a signature-tier fulfilment, charges the price and releases the rest", async () => {
    const s = await chain.networkHelpers.loadFixture(ready);
    const p = await params(s);
    expect(await s.requests.estimateFee([s.modelId], Tier.Signature, Tier.Signature)).to.equal(PRICES[0]);
    const id = await request(s, p);
    expect(await s.hub.balanceOf(s.requester.address)).to.equal(1_000n * OPG - p.maxFee);
    expect(await s.hub.reserved()).to.equal(p.maxFee);
    expect((await s.requests.resultOf(id))[0]).to.equal(RequestStatus.Open);
    const steps = await signedSteps(s, s.requester.address, p);
    await conserved(s, async () => {
      const tx = s.requests.connect(s.stranger).fulfil(s.requester.address, paramsArg(p), s.operator.address, stepsArg(steps), OUTPUTS);
      await expect(tx).to.emit(s.requests, "InferenceFulfilled").withArgs(id, s.operator.address, s.requester.address, Tier.Signature, steps[0]!.outputCommitment, PRICES[0], OUTPUTS);
    });
    expect(await s.hub.balanceOf(s.requester.address)).to.equal(1_000n * OPG - PRICES[0]);
    expect(await s.hub.reserved()).to.equal(0n);
    expect(await s.hub.balanceOf(s.operator.address)).to.equal((PRICES[0] * 7_000n) / 10_000n);
    const [status, tier, output] = await s.requests.resultOf(id);
    expect([status, tier, output]).to.deep.equal([BigInt(RequestStatus.Fulfilled), BigInt(Tier.Signature), steps[0]!.outputCommitment]);
  });

  it("keeps the reservation out of reach: the requester cannot withdraw it while the request is open (regression)", async () => {
    // Regression (issue #9): after the operator served and signed, the requester withdrew its escrow
    // and the settlement reverted.
    const s = await chain.networkHelpers.loadFixture(ready);
    const p = await params(s);
    await request(s, p);
    const free = await s.hub.balanceOf(s.requester.address);
    await expect(s.hub.connect(s.requester).withdraw(s.requester.address, free + 1n)).to.be.revertedWithCustomError(s.hub, "FeeEscrowInsufficientBalance");
    await (await s.hub.connect(s.requester).withdraw(s.requester.address, free)).wait();
    const steps = await signedSteps(s, s.requester.address, p);
    await expect(s.requests.fulfil(s.requester.address, paramsArg(p), s.operator.address, stepsArg(steps), OUTPUTS)).to.emit(s.requests, "InferenceFulfilled");
    expect(await s.hub.balanceOf(s.requester.address)).to.equal(p.maxFee - PRICES[0]);
  });

  it("fulfils a two-step pipeline and refuses it truncated to its first step (regression)", async () => {
    // Regression (issue #9): a signed two-step pipeline truncated to its first step was recorded as the
    // result. Here the steps are rebuilt from the request: a truncated fulfilment cannot match it.
    const s = await chain.networkHelpers.loadFixture(ready);
    const p = await params(s, { pipeline: [s.modelId, s.secondId] });
    expect(await s.requests.estimateFee([...p.pipeline], Tier.Signature, Tier.Signature)).to.equal(2n * PRICES[0]);
    const id = await request(s, p);
    const steps = await signedSteps(s, s.requester.address, p);
    const firstOnly = [{ ...steps[0]!, outputDigest: outputDigestOf(OUTPUTS) }];
    await expect(s.requests.fulfil(s.requester.address, paramsArg(p), s.operator.address, stepsArg(firstOnly), OUTPUTS))
      .to.be.revertedWithCustomError(s.requests, "RequestBookStepCount").withArgs(2, 1);
    await expect(s.requests.fulfil(s.requester.address, paramsArg(p), s.operator.address, stepsArg(steps), OUTPUTS))
      .to.emit(s.requests, "InferenceFulfilled").withArgs(id, s.operator.address, s.requester.address, Tier.Signature | (Tier.Signature << 4), steps[1]!.outputCommitment, 2n * PRICES[0], OUTPUTS);
  });

  it("lets a consumer contract request, receive verified outputs in its callback and check what it asked", async () => {
    const s = await chain.networkHelpers.loadFixture(ready);
    const factory = await s.ethers.getContractFactory("RequestingConsumer");
    const consumer = await factory.deploy(s.book, [s.modelId], Tier.Signature, Tier.Signature);
    const address = await consumer.getAddress();
    await (await s.token.connect(s.admin).approve(await s.hub.getAddress(), 10n * OPG)).wait();
    await (await s.hub.connect(s.admin).deposit(address, 10n * OPG)).wait();
    const now = BigInt(await s.networkHelpers.time.latest());
    const inputCommitment = await commitQuantized(INPUT, 8);
    const tx = await consumer.classify(inputCommitment, encodeRequestInput(INPUT), PRICES[0], now + 600n, 200_000);
    const logs = (await tx.wait())!.logs.map((l) => s.requests.interface.parseLog(l)).filter((l) => l?.name === "InferenceRequested");
    const id = logs[0]!.args.getValue("requestId") as Hex;
    const p = buildRequestParams({ pipeline: [s.modelId], inputCommitment, maxFee: PRICES[0], deadline: now + 600n, callback: address, callbackGasLimit: 200_000, nonce: 1n });
    expect(requestIdOf(s.chainId, s.book, address, p)).to.equal(id);
    const steps = await signedSteps(s, address, p);
    await conserved(s, async () => {
      const fulfil = s.requests.fulfil(address, paramsArg(p), s.operator.address, stepsArg(steps), OUTPUTS);
      await expect(fulfil).to.emit(s.requests, "CallbackDelivered").withArgs(id, address);
      await expect(fulfil).to.emit(consumer, "Classified").withArgs(id, 2, OUTPUTS, Tier.Signature);
    }, [address]);
    expect(await consumer.outputsOf(id)).to.deep.equal(OUTPUTS);
    expect(await consumer.pending(id)).to.equal(s.ethers.ZeroHash);
  });

  it("settles an off-chain EIP-712 authorization for exactly its operator, once", async () => {
    const s = await chain.networkHelpers.loadFixture(ready);
    const p = await params(s, { operator: s.operator.address });
    const signature = await s.requester.signTypedData(bookDomain(s.chainId, s.book), AUTHORIZATION_TYPES, authorizationValue(s.requester.address, p));
    expect(await s.requests.authorizationDigest(s.requester.address, paramsArg(p))).to.equal(s.ethers.TypedDataEncoder.hash(bookDomain(s.chainId, s.book), AUTHORIZATION_TYPES, authorizationValue(s.requester.address, p)));
    const steps = await signedSteps(s, s.requester.address, p);
    // Another pipeline, input or fee than the signed one: the signature does not cover it.
    const other = { ...p, maxFee: p.maxFee + 1n };
    await expect(s.requests.fulfilAuthorized(s.requester.address, paramsArg(other), signature, stepsArg(steps), OUTPUTS))
      .to.be.revertedWithCustomError(s.requests, "RequestBookInvalidRequesterSignature");
    await conserved(s, () => s.requests.fulfilAuthorized(s.requester.address, paramsArg(p), signature, stepsArg(steps), OUTPUTS).then((t) => t.wait()));
    expect(await s.hub.balanceOf(s.requester.address)).to.equal(1_000n * OPG - PRICES[0]);
    await expect(s.requests.fulfilAuthorized(s.requester.address, paramsArg(p), signature, stepsArg(steps), OUTPUTS))
      .to.be.revertedWithCustomError(s.requests, "RequestBookNotOpen");
    const anyOperator = await params(s);
    await expect(s.requests.fulfilAuthorized(s.requester.address, paramsArg(anyOperator), signature, stepsArg(steps), OUTPUTS))
      .to.be.revertedWithCustomError(s.requests, "RequestBookInvalidAuthorization");
  });

  describe("refuses bad requests with a custom error, reserving nothing", () => {
    async function refused(s: Ready, p: RequestParams, error: string, input = encodeRequestInput(INPUT), uri = "", on: { interface: unknown } = s.requests) {
      const before = await s.hub.balanceOf(s.requester.address);
      await expect(s.requests.connect(s.requester).request(paramsArg(p), input, uri)).to.be.revertedWithCustomError(on as typeof s.requests, error);
      expect(await s.hub.balanceOf(s.requester.address)).to.equal(before);
    }

    it("an unknown or deprecated model", async () => {
      const s = await chain.networkHelpers.loadFixture(ready);
      await refused(s, await params(s, { pipeline: ["0x" + "ab".repeat(32)] }), "ModelRegistryUnknownModel", undefined, "", s.models);
      await (await s.models.connect(s.modelOwner).deprecate(s.modelId)).wait();
      await refused(s, await params(s), "RequestBookModelDeprecated");
    });

    it("a tier the model does not accept", async () => {
      const s = await chain.networkHelpers.loadFixture(ready);
      await refused(s, await params(s, { minEachStep: Tier.ZK }), "RequestBookTierNotAccepted");
      await refused(s, await params(s, { pipeline: [s.secondId], minFinalStep: Tier.TEE }), "RequestBookTierNotAccepted");
    });

    it("an empty, over-long or repeating pipeline, or no policy", async () => {
      const s = await chain.networkHelpers.loadFixture(ready);
      const p = await params(s);
      await refused(s, { ...p, pipeline: [] }, "RequestBookInvalidPipelineLength");
      const seventeen = Array.from({ length: 17 }, (_, i) => ("0x" + (i + 1).toString(16).padStart(64, "0")) as Hex);
      await refused(s, { ...p, pipeline: seventeen }, "RequestBookInvalidPipelineLength");
      await refused(s, { ...p, pipeline: [s.modelId, s.modelId] }, "RequestBookRepeatedModel");
      await refused(s, { ...p, minEachStep: Tier.None }, "RequestBookInvalidPolicy");
    });

    it("a max fee below the price, or more than the escrow holds", async () => {
      const s = await chain.networkHelpers.loadFixture(ready);
      await refused(s, await params(s, { maxFee: PRICES[0] - 1n }), "RequestBookFeeBelowPrice");
      await refused(s, await params(s, { maxFee: 10_000n * OPG }), "FeeEscrowInsufficientBalance", undefined, "", s.hub);
    });

    it("a past deadline, a bad callback, no input or two inputs, a reused nonce", async () => {
      const s = await chain.networkHelpers.loadFixture(ready);
      const now = BigInt(await s.networkHelpers.time.latest());
      await refused(s, await params(s, { deadline: now }), "RequestBookInvalidDeadline");
      await refused(s, await params(s, { callback: s.stranger.address, callbackGasLimit: 50_000 }), "RequestBookInvalidCallback");
      await refused(s, await params(s, { callbackGasLimit: 50_000 }), "RequestBookInvalidCallback");
      await refused(s, await params(s), "RequestBookInvalidInput", "0x", "");
      await refused(s, await params(s), "RequestBookInvalidInput", encodeRequestInput(INPUT), "ipfs://input");
      const p = await params(s);
      await request(s, p);
      await refused(s, p, "RequestBookDuplicate");
    });
  });

  describe("refuses bad fulfilments with a custom error, moving nothing", () => {
    async function refused(s: Ready, call: () => Promise<unknown>, error: string, on: { interface: unknown } = s.requests) {
      const before = await owed(s);
      const reserved = await s.hub.reserved();
      await expect(call()).to.be.revertedWithCustomError(on as typeof s.requests, error);
      expect(await owed(s)).to.equal(before);
      expect(await s.hub.reserved()).to.equal(reserved);
    }

    it("by another operator than the named one, or with another operator's signer", async () => {
      const s = await chain.networkHelpers.loadFixture(ready);
      await fund(s, s.stranger, MIN_STAKE);
      await (await s.token.connect(s.stranger).approve(await s.operators.getAddress(), MIN_STAKE)).wait();
      await (await s.operators.connect(s.stranger).stake(MIN_STAKE)).wait();
      await (await s.operators.connect(s.stranger).registerSigner(s.stranger.address, 0, "0x")).wait();
      const p = await params(s, { operator: s.operator.address });
      await request(s, p);
      const theirs = await signedSteps(s, s.requester.address, p, { operator: s.stranger.address, signer: s.stranger });
      await refused(s, () => s.requests.fulfil(s.requester.address, paramsArg(p), s.stranger.address, stepsArg(theirs), OUTPUTS), "RequestBookWrongOperator");
      const open = await params(s);
      await request(s, open);
      // The stranger's key signs a receipt that names our operator: not its signer.
      const forged = await signedSteps(s, s.requester.address, open, { signer: s.stranger });
      await refused(s, () => s.requests.fulfil(s.requester.address, paramsArg(open), s.operator.address, stepsArg(forged), OUTPUTS), "InferenceHubUnauthorizedSigner");
    });

    it("for another pipeline or another input", async () => {
      const s = await chain.networkHelpers.loadFixture(ready);
      const p = await params(s);
      await request(s, p);
      const otherPipeline = { ...p, pipeline: [s.secondId] };
      const steps = await signedSteps(s, s.requester.address, otherPipeline);
      await refused(s, () => s.requests.fulfil(s.requester.address, paramsArg(otherPipeline), s.operator.address, stepsArg(steps), OUTPUTS), "RequestBookNotOpen");
      // Evidence signed for another input (the signed receipt no longer matches the request's).
      const otherInput = { ...p, inputCommitment: await commitQuantized([9n], 8) };
      const wrong = await signedSteps(s, s.requester.address, otherInput);
      const relabeled = wrong.map((e) => ({ ...e }));
      await refused(s, () => s.requests.fulfil(s.requester.address, paramsArg(p), s.operator.address, stepsArg(relabeled), OUTPUTS), "InferenceHubInvalidSignature");
    });

    it("outputs other than the signed ones, a tier below the policy", async () => {
      const s = await chain.networkHelpers.loadFixture(ready);
      const p = await params(s);
      await request(s, p);
      const steps = await signedSteps(s, s.requester.address, p);
      await refused(s, () => s.requests.fulfil(s.requester.address, paramsArg(p), s.operator.address, stepsArg(steps), [3n, -7n, 251n]), "RequestBookOutputMismatch");
      const strict = await params(s, { minFinalStep: Tier.TEE, maxFee: PRICES[1] });
      await request(s, strict);
      const weak = await signedSteps(s, s.requester.address, strict);
      await refused(s, () => s.requests.fulfil(s.requester.address, paramsArg(strict), s.operator.address, stepsArg(weak), OUTPUTS), "RequestBookPolicyNotMet");
    });

    it("after the deadline, twice, or after a cancellation", async () => {
      const s = await chain.networkHelpers.loadFixture(ready);
      const p = await params(s);
      await request(s, p);
      const steps = await signedSteps(s, s.requester.address, p);
      await (await s.requests.fulfil(s.requester.address, paramsArg(p), s.operator.address, stepsArg(steps), OUTPUTS)).wait();
      await refused(s, () => s.requests.fulfil(s.requester.address, paramsArg(p), s.operator.address, stepsArg(steps), OUTPUTS), "RequestBookNotOpen");
      const late = await params(s);
      await request(s, late);
      const lateSteps = await signedSteps(s, s.requester.address, late);
      await s.networkHelpers.time.increaseTo(late.deadline + 1n);
      await refused(s, () => s.requests.fulfil(s.requester.address, paramsArg(late), s.operator.address, stepsArg(lateSteps), OUTPUTS), "RequestBookExpired");
      await conserved(s, () => s.requests.connect(s.requester).cancel(s.requester.address, paramsArg(late)).then((t) => t.wait()));
      await refused(s, () => s.requests.fulfil(s.requester.address, paramsArg(late), s.operator.address, stepsArg(lateSteps), OUTPUTS), "RequestBookNotOpen");
    });
  });

  describe("cancel", () => {
    it("returns the reservation after the deadline, to the requester only", async () => {
      const s = await chain.networkHelpers.loadFixture(ready);
      const p = await params(s);
      const id = await request(s, p);
      await expect(s.requests.connect(s.requester).cancel(s.requester.address, paramsArg(p))).to.be.revertedWithCustomError(s.requests, "RequestBookNotExpired");
      await s.networkHelpers.time.increaseTo(p.deadline + 1n);
      await expect(s.requests.connect(s.stranger).cancel(s.requester.address, paramsArg(p))).to.be.revertedWithCustomError(s.requests, "RequestBookNotRequester");
      await expect(s.requests.connect(s.requester).cancel(s.requester.address, paramsArg(p))).to.emit(s.requests, "InferenceCancelled").withArgs(id, s.requester.address, p.maxFee);
      expect(await s.hub.balanceOf(s.requester.address)).to.equal(1_000n * OPG);
      expect((await s.requests.resultOf(id))[0]).to.equal(RequestStatus.Cancelled);
      await expect(s.requests.connect(s.requester).cancel(s.requester.address, paramsArg(p))).to.be.revertedWithCustomError(s.requests, "RequestBookNotOpen");
    });
  });

  describe("callbacks that fail do not undo the fulfilment", () => {
    for (const [mode, name] of [[1, "reverts"], [2, "burns all its gas"], [3, "reenters the book"]] as const) {
      it(`a callback that ${name}: recorded, retryable by the consumer`, async () => {
        const s = await chain.networkHelpers.loadFixture(ready);
        const consumer = await (await s.ethers.getContractFactory("MockConsumer")).deploy(s.book);
        const address = await consumer.getAddress();
        await (await s.token.connect(s.admin).approve(await s.hub.getAddress(), 10n * OPG)).wait();
        await (await s.hub.connect(s.admin).deposit(address, 10n * OPG)).wait();
        await (await consumer.setMode(mode)).wait();
        const p = await params(s, { callback: address, callbackGasLimit: 30_000 });
        await (await consumer.ask(paramsArg(p), encodeRequestInput(INPUT))).wait();
        const id = requestIdOf(s.chainId, s.book, address, p);
        const steps = await signedSteps(s, address, p);
        await conserved(s, async () => {
          const tx = s.requests.fulfil(address, paramsArg(p), s.operator.address, stepsArg(steps), OUTPUTS, { gasLimit: 1_000_000 });
          await expect(tx).to.emit(s.requests, "CallbackFailed");
          await expect(tx).to.emit(s.requests, "InferenceFulfilled");
        }, [address]);
        expect((await s.requests.resultOf(id))[0]).to.equal(RequestStatus.Fulfilled);
        expect(await s.hub.balanceOf(address)).to.equal(10n * OPG - PRICES[0]);
        expect(await s.requests.pendingCallback(id)).to.not.equal(s.ethers.ZeroHash);
        expect(await consumer.delivered()).to.equal(0n);
        // Only the consumer, with the delivered outputs, can retry; a wrong retry changes nothing.
        await expect(s.requests.connect(s.stranger).retryCallback(id, Tier.Signature, OUTPUTS)).to.be.revertedWithCustomError(s.requests, "RequestBookNoPendingCallback");
        await expect(consumer.retry(id, Tier.Signature, OUTPUTS)).to.be.revertedWithCustomError(s.requests, "RequestBookCallbackReverted");
        await (await consumer.setMode(0)).wait();
        await expect(consumer.retry(id, Tier.Signature, OUTPUTS)).to.emit(s.requests, "CallbackDelivered").withArgs(id, address);
        expect(await consumer.delivered()).to.equal(1n);
        expect(await s.requests.pendingCallback(id)).to.equal(s.ethers.ZeroHash);
        await expect(consumer.retry(id, Tier.Signature, OUTPUTS)).to.be.revertedWithCustomError(s.requests, "RequestBookNoPendingCallback");
      });
    }

    it("a fulfilment without enough gas for the callback's limit is refused", async () => {
      const s = await chain.networkHelpers.loadFixture(ready);
      const consumer = await (await s.ethers.getContractFactory("MockConsumer")).deploy(s.book);
      const address = await consumer.getAddress();
      await (await s.token.connect(s.admin).approve(await s.hub.getAddress(), 10n * OPG)).wait();
      await (await s.hub.connect(s.admin).deposit(address, 10n * OPG)).wait();
      const p = await params(s, { callback: address, callbackGasLimit: 5_000_000 });
      await (await consumer.ask(paramsArg(p), encodeRequestInput(INPUT))).wait();
      const steps = await signedSteps(s, address, p);
      await expect(s.requests.fulfil(address, paramsArg(p), s.operator.address, stepsArg(steps), OUTPUTS, { gasLimit: 1_000_000 }))
        .to.be.revertedWithCustomError(s.requests, "RequestBookInsufficientCallbackGas");
    });
  });

  describe("TEE tier", () => {
    it("verifies a step signed by the operator's registered enclave key, not by the operator's own key", async () => {
      const s = await deployTeeSystem(chain);
      const { enclave } = await registeredEnclave(s);
      const book = await s.requests.getAddress();
      const now = BigInt(await s.networkHelpers.time.latest());
      const p = buildRequestParams({ pipeline: [s.modelId], inputCommitment: await commitQuantized(INPUT, 8), minEachStep: Tier.TEE, maxFee: PRICES[1], deadline: now + 600n, nonce: 1n });
      await (await s.requests.connect(s.requester).request(paramsArg(p), encodeRequestInput(INPUT), "")).wait();
      const ctx: RequestContext = { chainId: s.chainId, book, requester: s.requester.address, params: p, operator: s.operator.address };
      const step = { index: 0, inputCommitment: p.inputCommitment, tier: Tier.TEE, outputs: OUTPUTS, scaleBits: 8 } as const;
      const own = await signedRequestStep(ctx, { ...step, signer: s.operator });
      await expect(s.requests.fulfil(s.requester.address, paramsArg(p), s.operator.address, evidenceArg([own]), OUTPUTS)).to.be.revertedWithCustomError(s.requests, "InferenceHubInvalidEnclaveKey");
      const attested = await signedRequestStep(ctx, { ...step, signer: enclave.wallet });
      await expect(s.requests.fulfil(s.requester.address, paramsArg(p), s.operator.address, evidenceArg([attested]), OUTPUTS))
        .to.emit(s.requests, "InferenceFulfilled")
        .withArgs(requestIdOf(s.chainId, book, s.requester.address, p), s.operator.address, s.requester.address, Tier.TEE, attested.outputCommitment, PRICES[1], OUTPUTS);
    });
  });

  describe("ZK tier", () => {
    let build: ZkBuild;
    let values: bigint[];

    before(async () => {
      build = await loadBuild((await builtFixture("gemm-relu-3x4")).dir);
      values = quantizeInput(build.model, readInputValues(fixture("gemm-relu-3x4").input, build.model));
    });

    async function zkReady() {
      const s = await ready();
      const fields = zkRegistrationFields(build);
      const zkModel = (await registerModel(s, { tiers: [Tier.ZK], weights: fields.weightsCommitment, verifyingKey: fields.verifyingKey })) as Hex;
      return { ...s, zkModel };
    }

    async function zkSteps(s: Awaited<ReturnType<typeof zkReady>>, p: RequestParams, operator: string) {
      const id = requestIdOf(s.chainId, s.book, s.requester.address, p);
      const binding = stepBinding(s.chainId, s.book, id, s.requester.address, s.zkModel, operator);
      const bundle = await prove(build, fixture("gemm-relu-3x4").input, { binding });
      const signals = encodePublicSignals(bundle.publicSignals);
      const outputs = signals.slice(2, -1);
      const step: RequestStepEvidence = { tier: Tier.ZK, outputCommitment: bundle.outputCommitment as Hex, outputDigest: outputDigestOf(outputs.map(fromField)), signer: s.ethers.ZeroAddress, signature: "0x", proof: encodeProofForEvm(bundle.proof), outputs };
      return { steps: [step], delivered: outputs.map(fromField) };
    }

    it("delivers the proof's public outputs, and a proof bound to one operator cannot pay another", async () => {
      const s = await chain.networkHelpers.loadFixture(zkReady);
      const p = await params(s, { pipeline: [s.zkModel], minEachStep: Tier.ZK, inputCommitment: await requestInputCommitment(values, build.model.scaleBits), maxFee: PRICES[2] });
      const id = await request(s, p);
      const { steps, delivered } = await zkSteps(s, p, s.operator.address);
      await fund(s, s.stranger, MIN_STAKE);
      await (await s.token.connect(s.stranger).approve(await s.operators.getAddress(), MIN_STAKE)).wait();
      await (await s.operators.connect(s.stranger).stake(MIN_STAKE)).wait();
      await expect(s.requests.fulfil(s.requester.address, paramsArg(p), s.stranger.address, stepsArg(steps), delivered)).to.be.revertedWithCustomError(s.requests, "InferenceHubInvalidProof");
      const altered = [...delivered];
      altered[0] = altered[0]! + 1n;
      await expect(s.requests.fulfil(s.requester.address, paramsArg(p), s.operator.address, stepsArg(steps), altered)).to.be.revertedWithCustomError(s.requests, "RequestBookOutputMismatch");
      await expect(s.requests.connect(s.stranger).fulfil(s.requester.address, paramsArg(p), s.operator.address, stepsArg(steps), delivered))
        .to.emit(s.requests, "InferenceFulfilled").withArgs(id, s.operator.address, s.requester.address, Tier.ZK, steps[0]!.outputCommitment, PRICES[2], delivered);
      expect(await s.hub.balanceOf(s.stranger.address)).to.equal(0n);
    });
  });
});
