import { expect } from "chai";
import { Wallet, hexlify, randomBytes } from "ethers";
import { commitBytes } from "../src/commitments/index.ts";
import { STATEMENT_TYPES, quorumDomain, statementOf, type AttestationFacts } from "../src/enclaves/index.ts";
import type { Hex } from "../src/receipts/index.ts";
import { OperationBuilder, handOffCommitment, operationFromJson, operationIdOf, operationToJson, type Operation } from "../src/pipeline/index.ts";
import { zkRegistrationFields } from "../src/pipeline/zk.ts";
import { Tier } from "../src/receipts/tier.ts";
import { loadBuild, type ZkBuild } from "../src/zkml/index.ts";
import { PRICES, depositWithPermit, fund, registerModel, stakeOperator, type System } from "./helpers/actors.ts";
import { operationArgs, operationBuilder } from "./helpers/operation.ts";
import { OPG, deployOn, newChain } from "./helpers/system.ts";
import { builtFixture, fixture } from "./zkml/helpers.ts";

const chain = await newChain();
let head: ZkBuild;
let embedding: number[];
const PCRS = "0x" + "5a".repeat(144);

type Ready = System & { embedder: string; classifier: string; enclave: Wallet };

/** Registers an enclave key for the operator through the 2-of-3 attester quorum (facts signed directly). */
async function registerEnclave(s: System, modelId: string): Promise<Wallet> {
  const enclave = new Wallet(hexlify(randomBytes(32)));
  const imageId = s.ethers.keccak256(PCRS);
  await (await s.models.connect(s.modelOwner).approveEnclaveImage(modelId, imageId)).wait();
  const now = BigInt(await s.networkHelpers.time.latest());
  const facts: AttestationFacts = {
    attestationDigest: s.ethers.id("attestation document") as Hex,
    pcrs: PCRS as Hex,
    enclaveKey: enclave.address,
    userData: (await s.enclaves.bindingOf(s.operator.address, enclave.address)) as Hex,
    timestamp: now * 1000n,
  };
  const { chainId } = await s.ethers.provider.getNetwork();
  const domain = quorumDomain(chainId, await s.quorum.getAddress());
  const statement = statementOf(facts);
  const signers = [...s.attesters.slice(0, 2)].sort((a, b) => (BigInt(a.address) < BigInt(b.address) ? -1 : 1));
  const signatures = await Promise.all(signers.map((a) => a.signTypedData(domain, STATEMENT_TYPES, statement)));
  const evidence = s.ethers.AbiCoder.defaultAbiCoder().encode(["bytes[]"], [signatures]);
  await (await s.enclaves.connect(s.operator).registerEnclaveKey(facts, modelId, evidence)).wait();
  return enclave;
}

async function ready(): Promise<Ready> {
  const s = await deployOn(chain);
  const fields = zkRegistrationFields(head);
  const classifier = await registerModel(s, { tiers: [Tier.ZK], weights: fields.weightsCommitment, verifyingKey: fields.verifyingKey });
  const embedder = await registerModel(s, { tiers: [Tier.Signature, Tier.TEE] });
  await stakeOperator(s);
  await fund(s, s.requester, 1_000n * OPG);
  await depositWithPermit(s, s.requester, 1_000n * OPG);
  const enclave = await registerEnclave(s, embedder);
  return { ...s, embedder, classifier, enclave };
}

async function builder(s: Ready, nonce: bigint): Promise<OperationBuilder> {
  return operationBuilder(s, nonce, await commitBytes(new TextEncoder().encode("a customer review to classify")));
}

/** TEE embedding step feeding the ZK classifier head. */
async function teeThenZk(s: Ready, nonce: bigint): Promise<Operation> {
  const op = await builder(s, nonce);
  await op.addSignedStep({ modelId: s.embedder, tier: Tier.TEE, operator: s.operator.address, outputCommitment: await handOffCommitment(embedding, head), signer: s.enclave });
  await op.addZkStep({ modelId: s.classifier, operator: s.operator.address, build: head, input: embedding });
  return op.build();
}

const args = operationArgs;

describe("InferenceHub — hybrid operations", function () {
  this.timeout(600_000);

  before(async () => {
    head = await loadBuild((await builtFixture("gemm-relu-3x4")).dir);
    embedding = fixture("gemm-relu-3x4").inputValues;
  });

  it("verifies a TEE step feeding a ZK step in one call, with one debit and per-step tiers", async () => {
    const s = await chain.networkHelpers.loadFixture(ready);
    const operation = await teeThenZk(s, 1n);
    const id = operationIdOf(operation);
    const fee = PRICES[1] + PRICES[2];
    const tx = s.hub.connect(s.requester).submitOperation(...args(operation, { minEach: Tier.TEE, minFinal: Tier.ZK }));
    await expect(tx).to.emit(s.hub, "OperationVerified").withArgs(id, s.requester.address, 2n, Tier.TEE | (Tier.ZK << 4), fee);
    await expect(tx).to.emit(s.hub, "ProofVerified");
    expect(await s.hub.balanceOf(s.requester.address)).to.equal(1_000n * OPG - fee);
    const result = await s.hub.resultOf(id);
    expect(result.tier).to.equal(Tier.TEE);
    expect(result.stepCount).to.equal(2n);
    expect(result.outputCommitment).to.equal(operation.steps[1]!.outputCommitment);
    expect(await s.hub.meetsPolicy(id, Tier.TEE, Tier.ZK)).to.equal(true);
    expect(await s.hub.meetsPolicy(id, Tier.ZK, Tier.ZK)).to.equal(false);
    const [sig, tee, zk, ops] = await s.hub.stats();
    expect([sig, tee, zk, ops]).to.deep.equal([0n, 1n, 1n, 1n]);

    const consumer = await s.ethers.deployContract("TieredConsumer", [await s.hub.getAddress(), Tier.TEE, Tier.ZK, false, false]);
    await expect(consumer.acceptOperation(id, [s.embedder, s.classifier], operation.context.inputCommitment)).to.emit(consumer, "ResultAccepted").withArgs(id, Tier.TEE, operation.steps[1]!.outputCommitment);
    const strict = await s.ethers.deployContract("TieredConsumer", [await s.hub.getAddress(), Tier.ZK, Tier.ZK, false, false]);
    await expect(strict.acceptOperation(id, [s.embedder, s.classifier], operation.context.inputCommitment)).to.be.revertedWithCustomError(strict, "TieredConsumerInsufficientTier");
  });

  it("makes results self-describing: a consumer refuses a pipeline truncated to its first step (regression)", async () => {
    // Regression (issue #9): a signed two-step pipeline truncated to its first step was recorded under
    // the operation id, and TieredConsumer accepted the intermediate embedding as the result.
    const s = await chain.networkHelpers.loadFixture(ready);
    const second = await registerModel(s, { tiers: [Tier.Signature] });
    const middle = await commitBytes(new TextEncoder().encode("embedding"));
    const output = await commitBytes(new TextEncoder().encode("label"));
    const full = await builder(s, 7n);
    await full.addSignedStep({ modelId: s.embedder, tier: Tier.Signature, operator: s.operator.address, outputCommitment: middle, signer: s.operator });
    await full.addSignedStep({ modelId: second, tier: Tier.Signature, operator: s.operator.address, outputCommitment: output, signer: s.operator });
    const operation = full.build();
    const truncated = { ...operation, steps: operation.steps.slice(0, 1), evidence: operation.evidence.slice(0, 1) };
    const id = operationIdOf(operation);
    await (await s.hub.connect(s.requester).submitOperation(...args(truncated, { minEach: Tier.Signature, minFinal: Tier.Signature }))).wait();
    const asked = [s.embedder, second];
    const input = operation.context.inputCommitment;
    expect(await s.hub.describes(id, asked, input)).to.equal(false);
    expect(await s.hub.describes(id, [s.embedder], input)).to.equal(true);
    const consumer = await s.ethers.deployContract("TieredConsumer", [await s.hub.getAddress(), Tier.Signature, Tier.Signature, false, false]);
    await expect(consumer.acceptOperation(id, asked, input)).to.be.revertedWithCustomError(consumer, "TieredConsumerNotWhatWasAsked").withArgs(id);
    await expect(consumer.acceptOperation(id, [s.embedder], middle)).to.be.revertedWithCustomError(consumer, "TieredConsumerNotWhatWasAsked");
    expect(await consumer.isAccepted(id)).to.equal(false);
  });

  it("round-trips an operation through its JSON file form", async () => {
    const s = await chain.networkHelpers.loadFixture(ready);
    const operation = await teeThenZk(s, 2n);
    const back = operationFromJson(JSON.parse(JSON.stringify(operationToJson(operation))));
    expect(operationIdOf(back)).to.equal(operationIdOf(operation));
    await expect(s.hub.connect(s.requester).submitOperation(...args(back, { minEach: Tier.Signature, minFinal: Tier.ZK }))).to.emit(s.hub, "OperationVerified");
  });

  it("chains three steps: signature → TEE → ZK", async () => {
    const s = await chain.networkHelpers.loadFixture(ready);
    const op = await builder(s, 3n);
    const middle = await commitBytes(new TextEncoder().encode("normalised text"));
    await op.addSignedStep({ modelId: s.embedder, tier: Tier.Signature, operator: s.operator.address, outputCommitment: middle, signer: s.operator });
    // Same embedder model twice in one operation would reuse a receipt id: use another model for step 2.
    const second = await registerModel(s, { tiers: [Tier.TEE] });
    await (await s.models.connect(s.modelOwner).approveEnclaveImage(second, s.ethers.keccak256(PCRS))).wait();
    await op.addSignedStep({ modelId: second, tier: Tier.TEE, operator: s.operator.address, outputCommitment: await handOffCommitment(embedding, head), signer: s.enclave });
    await op.addZkStep({ modelId: s.classifier, operator: s.operator.address, build: head, input: embedding });
    const operation = op.build();
    await expect(s.hub.connect(s.requester).submitOperation(...args(operation, { minEach: Tier.Signature, minFinal: Tier.ZK })))
      .to.emit(s.hub, "OperationVerified")
      .withArgs(operationIdOf(operation), s.requester.address, 3n, Tier.Signature | (Tier.TEE << 4) | (Tier.ZK << 8), PRICES[0] + PRICES[1] + PRICES[2]);
  });

  describe("refuses, charging nothing", () => {
    async function refused(s: Ready, operation: Operation, policy: { minEach: Tier; minFinal: Tier }, error: string, maxFee?: bigint) {
      const before = await s.hub.balanceOf(s.requester.address);
      await expect(s.hub.connect(s.requester).submitOperation(...args(operation, policy, maxFee))).to.be.revertedWithCustomError(s.hub, error);
      expect(await s.hub.balanceOf(s.requester.address)).to.equal(before);
    }
    const open = { minEach: Tier.Signature, minFinal: Tier.Signature };

    it("a broken chain of commitments (caught off-chain and on-chain)", async () => {
      const s = await chain.networkHelpers.loadFixture(ready);
      const op = await builder(s, 10n);
      await op.addSignedStep({ modelId: s.embedder, tier: Tier.TEE, operator: s.operator.address, outputCommitment: await commitBytes(new Uint8Array([1])), signer: s.enclave });
      await op.addZkStep({ modelId: s.classifier, operator: s.operator.address, build: head, input: embedding }).then(
        () => expect.fail("the builder must refuse a step that does not consume the previous output"),
        (error: Error) => expect(error.name).to.equal("BrokenChainError"),
      );
      const good = await teeThenZk(s, 11n);
      const broken = { ...good, steps: [good.steps[0]!, { ...good.steps[1]!, inputCommitment: `0x${"00".repeat(31)}07` as const }] };
      await refused(s, broken, open, "InferenceHubBrokenChain");
    });

    it("a first step that does not consume the requested input", async () => {
      const s = await chain.networkHelpers.loadFixture(ready);
      const good = await teeThenZk(s, 12n);
      const other = { ...good, context: { ...good.context, inputCommitment: `0x${"00".repeat(31)}09` as const } };
      await refused(s, other, open, "InferenceHubInputMismatch");
    });

    it("a step at a tier its model does not accept", async () => {
      const s = await chain.networkHelpers.loadFixture(ready);
      const op = await builder(s, 13n);
      await op.addSignedStep({ modelId: s.classifier, tier: Tier.TEE, operator: s.operator.address, outputCommitment: await handOffCommitment(embedding, head), signer: s.enclave });
      await refused(s, op.build(), open, "InferenceHubTierNotAccepted");
    });

    it("any step whose evidence fails", async () => {
      const s = await chain.networkHelpers.loadFixture(ready);
      const good = await teeThenZk(s, 14n);
      const badSignature = { ...good, evidence: [{ ...good.evidence[0]!, signature: (await s.stranger.signMessage("x")) as `0x${string}` }, good.evidence[1]!] };
      await refused(s, badSignature, open, "InferenceHubInvalidSignature");
      const proof = [...good.evidence[1]!.proof];
      proof[7] = (proof[7] ?? 0n) ^ 2n;
      const badProof = { ...good, evidence: [good.evidence[0]!, { ...good.evidence[1]!, proof }] };
      await refused(s, badProof, open, "InferenceHubInvalidProof");
    });

    it("an operation that does not meet the requester's policy", async () => {
      const s = await chain.networkHelpers.loadFixture(ready);
      const good = await teeThenZk(s, 15n);
      await refused(s, good, { minEach: Tier.ZK, minFinal: Tier.ZK }, "InferenceHubPolicyNotMet");
      const op = await builder(s, 16n);
      await op.addSignedStep({ modelId: s.embedder, tier: Tier.TEE, operator: s.operator.address, outputCommitment: await commitBytes(new Uint8Array([2])), signer: s.enclave });
      await refused(s, op.build(), { minEach: Tier.Signature, minFinal: Tier.ZK }, "InferenceHubPolicyNotMet");
    });

    it("evidence moved between a single receipt and an operation, or the nonce reused by another operation", async () => {
      const s = await chain.networkHelpers.loadFixture(ready);
      const good = await teeThenZk(s, 18n);
      // The TEE step's signed receipt carries a step nonce: submitSigned refuses it.
      const step = good.steps[0]!;
      await expect(s.hub.connect(s.requester).submitSigned(step, good.evidence[0]!.signer, good.evidence[0]!.signature, PRICES[1]))
        .to.be.revertedWithCustomError(s.hub, "InferenceHubNonceNamespace");
      // A single receipt's nonce cannot start an operation.
      const single = { ...good, steps: good.steps.map((r) => ({ ...r, nonce: 18n })) };
      await refused(s, single, open, "InferenceHubNonceNamespace");
      // Once the nonce is used, a different operation under it is the same id.
      await (await s.hub.connect(s.requester).submitOperation(...args(good, open))).wait();
      const op = await builder(s, 18n);
      await op.addSignedStep({ modelId: s.embedder, tier: Tier.TEE, operator: s.operator.address, outputCommitment: await commitBytes(new Uint8Array([3])), signer: s.enclave });
      await refused(s, op.build(), open, "InferenceHubAlreadyVerified");
    });

    it("two steps of one model (they would share a receipt id)", async () => {
      const s = await chain.networkHelpers.loadFixture(ready);
      const op = await builder(s, 19n);
      const first = await commitBytes(new Uint8Array([4]));
      await op.addSignedStep({ modelId: s.embedder, tier: Tier.TEE, operator: s.operator.address, outputCommitment: first, signer: s.enclave });
      await op.addSignedStep({ modelId: s.embedder, tier: Tier.TEE, operator: s.operator.address, outputCommitment: first, signer: s.enclave }).then(
        () => expect.fail("the builder must refuse a repeated model"),
        (error: Error) => expect(error.message).to.match(/already runs a step/),
      );
      const built = op.build();
      const repeated = { ...built, steps: [built.steps[0]!, { ...built.steps[0]!, inputCommitment: first }], evidence: [built.evidence[0]!, built.evidence[0]!] };
      await refused(s, repeated, open, "InferenceHubRepeatedModel");
    });

    it("replay, step mismatch, bad step counts and a fee above the maximum", async () => {
      const s = await chain.networkHelpers.loadFixture(ready);
      const good = await teeThenZk(s, 17n);
      await refused(s, good, open, "InferenceHubFeeAboveMaximum", PRICES[1] + PRICES[2] - 1n);
      await (await s.hub.connect(s.requester).submitOperation(...args(good, open))).wait();
      await refused(s, good, open, "InferenceHubAlreadyVerified");
      const mismatch = { ...good, steps: [good.steps[0]!, { ...good.steps[1]!, nonce: good.steps[1]!.nonce + 1n }] };
      await refused(s, mismatch, open, "InferenceHubStepMismatch");
      const none = { ...good, steps: [], evidence: [] };
      await expect(s.hub.connect(s.requester).submitOperation([], [], { inputCommitment: good.context.inputCommitment, minEachStep: 1, minFinalStep: 1, maxFee: 0 }))
        .to.be.revertedWithCustomError(s.hub, "InferenceHubInvalidStepCount");
      const lopsided = { ...good, evidence: [good.evidence[0]!] };
      await refused(s, lopsided, open, "InferenceHubInvalidStepCount");
      expect(none.steps.length).to.equal(0);
    });
  });
});
