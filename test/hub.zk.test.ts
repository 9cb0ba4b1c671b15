import { expect } from "chai";
import { loadBuild, prove, type ZkBuild, type ZkProofBundle } from "../src/zkml/index.ts";
import { zkEvidence, zkRegistrationFields } from "../src/pipeline/zk.ts";
import { bindingOf, receiptId } from "../src/receipts/index.ts";
import { Tier } from "../src/receipts/tier.ts";
import { MIN_STAKE, PRICES, depositWithPermit, fund, makeReceipt, registerModel, stakeOperator, type System } from "./helpers/actors.ts";
import { OPG, deployOn, newChain } from "./helpers/system.ts";
import { builtFixture, fixture } from "./zkml/helpers.ts";

const chain = await newChain();
let build: ZkBuild;
let input: unknown;

async function ready(): Promise<System & { modelId: string }> {
  const s = await deployOn(chain);
  const fields = zkRegistrationFields(build);
  const modelId = await registerModel(s, { tiers: [Tier.Signature, Tier.ZK], weights: fields.weightsCommitment, verifyingKey: fields.verifyingKey });
  await stakeOperator(s);
  await fund(s, s.requester, 1_000n * OPG);
  await depositWithPermit(s, s.requester, 1_000n * OPG);
  return { ...s, modelId };
}

/** A ZK receipt for `modelId` with a proof bound to its id. */
async function provenReceipt(s: System, modelId: string, nonce?: bigint) {
  const { chainId } = await s.ethers.provider.getNetwork();
  const draft = await makeReceipt(s, modelId, { tier: Tier.ZK, ...(nonce === undefined ? {} : { nonce }) });
  const id = receiptId(chainId, await s.hub.getAddress(), draft.requester, modelId, draft.nonce);
  const bundle: ZkProofBundle = await prove(build, input, { binding: bindingOf(id, draft.operator) });
  const receipt = { ...draft, inputCommitment: bundle.inputCommitment, outputCommitment: bundle.outputCommitment };
  return { receipt, id, bundle, evidence: zkEvidence(bundle, receipt, id) };
}

describe("InferenceHub — ZK tier", function () {
  this.timeout(600_000);

  before(async () => {
    await builtFixture("gemm-relu-3x4");
    build = await loadBuild((await builtFixture("gemm-relu-3x4")).dir);
    input = fixture("gemm-relu-3x4").input;
  });

  it("verifies a Groth16 proof on-chain, records tier ZK and charges the ZK price", async () => {
    const s = await chain.networkHelpers.loadFixture(ready);
    const { receipt, id, evidence } = await provenReceipt(s, s.modelId);
    const tx = s.hub.connect(s.requester).submitProven(receipt, [...evidence.proof], [...evidence.outputs], PRICES[2]);
    await expect(tx).to.emit(s.hub, "ProofVerified").withArgs(id, s.modelId, [...evidence.outputs]);
    await expect(tx).to.emit(s.hub, "ReceiptVerified");
    expect(await s.hub.verifiedTier(id)).to.equal(Tier.ZK);
    expect(await s.hub.verifiedOutput(id, Tier.ZK)).to.equal(receipt.outputCommitment);
    expect(await s.hub.balanceOf(s.requester.address)).to.equal(1_000n * OPG - PRICES[2]);
    const [, , zk] = await s.hub.stats();
    expect(zk).to.equal(1n);
  });

  describe("refuses, charging nothing", () => {
    async function refused(s: System, call: Promise<unknown>, error: string, on: { interface: unknown } = s.hub) {
      const before = await s.hub.balanceOf(s.requester.address);
      await expect(call).to.be.revertedWithCustomError(on as typeof s.hub, error);
      expect(await s.hub.balanceOf(s.requester.address)).to.equal(before);
    }

    it("a proof resubmitted for another receipt (binding)", async () => {
      const s = await chain.networkHelpers.loadFixture(ready);
      const { receipt, evidence } = await provenReceipt(s, s.modelId);
      const stolen = { ...receipt, nonce: receipt.nonce + 1000n };
      await refused(s, s.hub.connect(s.requester).submitProven(stolen, [...evidence.proof], [...evidence.outputs], PRICES[2]), "InferenceHubInvalidProof");
    });

    it("a proof made for one operator, settled naming another active operator (binding covers the operator)", async () => {
      // Regression (issue #9): the binding was the receipt id only, so the same proof paid whichever
      // active operator the submitted receipt named.
      const s = await chain.networkHelpers.loadFixture(ready);
      await fund(s, s.stranger, MIN_STAKE);
      await (await s.token.connect(s.stranger).approve(await s.operators.getAddress(), MIN_STAKE)).wait();
      await (await s.operators.connect(s.stranger).stake(MIN_STAKE)).wait();
      expect(await s.operators.isActive(s.stranger.address)).to.equal(true);
      const { receipt, evidence } = await provenReceipt(s, s.modelId);
      const other = { ...receipt, operator: s.stranger.address };
      await refused(s, s.hub.connect(s.requester).submitProven(other, [...evidence.proof], [...evidence.outputs], PRICES[2]), "InferenceHubInvalidProof");
      expect(await s.hub.balanceOf(s.stranger.address)).to.equal(0n);
      await expect(s.hub.connect(s.requester).submitProven(receipt, [...evidence.proof], [...evidence.outputs], PRICES[2])).to.emit(s.hub, "ReceiptVerified");
    });

    it("altered outputs, output commitment or input commitment", async () => {
      const s = await chain.networkHelpers.loadFixture(ready);
      const { receipt, evidence } = await provenReceipt(s, s.modelId);
      const outputs = [...evidence.outputs];
      outputs[0] = (outputs[0] ?? 0n) + 1n;
      await refused(s, s.hub.connect(s.requester).submitProven(receipt, [...evidence.proof], outputs, PRICES[2]), "InferenceHubInvalidProof");
      const otherOutput = { ...receipt, outputCommitment: `0x${"00".repeat(31)}01` as const };
      await refused(s, s.hub.connect(s.requester).submitProven(otherOutput, [...evidence.proof], [...evidence.outputs], PRICES[2]), "InferenceHubInvalidProof");
      const otherInput = { ...receipt, inputCommitment: `0x${"00".repeat(31)}02` as const };
      await refused(s, s.hub.connect(s.requester).submitProven(otherInput, [...evidence.proof], [...evidence.outputs], PRICES[2]), "InferenceHubInvalidProof");
      const proof = [...evidence.proof];
      proof[0] = (proof[0] ?? 0n) ^ 1n;
      await refused(s, s.hub.connect(s.requester).submitProven(receipt, proof, [...evidence.outputs], PRICES[2]), "InferenceHubInvalidProof");
      // And the real one still goes through afterwards: nothing was consumed by the refusals.
      await expect(s.hub.connect(s.requester).submitProven(receipt, [...evidence.proof], [...evidence.outputs], PRICES[2])).to.emit(s.hub, "ProofVerified");
      await refused(s, s.hub.connect(s.requester).submitProven(receipt, [...evidence.proof], [...evidence.outputs], PRICES[2]), "InferenceHubAlreadyVerified");
    });

    it("a proof for another model", async () => {
      const s = await chain.networkHelpers.loadFixture(ready);
      const other = await builtFixture("linreg-hummingbird-2x1");
      const fields = zkRegistrationFields(await loadBuild(other.dir));
      const otherModel = await registerModel(s, { tiers: [Tier.ZK], weights: fields.weightsCommitment, verifyingKey: fields.verifyingKey });
      const { chainId } = await s.ethers.provider.getNetwork();
      const draft = await makeReceipt(s, otherModel, { tier: Tier.ZK });
      const id = receiptId(chainId, await s.hub.getAddress(), draft.requester, otherModel, draft.nonce);
      const bundle = await prove(build, input, { binding: bindingOf(id, draft.operator) });
      const receipt = { ...draft, inputCommitment: bundle.inputCommitment, outputCommitment: bundle.outputCommitment };
      const evidence = zkEvidence(bundle, receipt, id);
      // gemm-relu has 4 outputs, linreg 1: the other model's key expects another signal count.
      await refused(s, s.hub.connect(s.requester).submitProven(receipt, [...evidence.proof], [...evidence.outputs], PRICES[2]), "Groth16SignalCountMismatch", s.verifier);
      await refused(s, s.hub.connect(s.requester).submitProven(receipt, [...evidence.proof], [...evidence.outputs].slice(0, 1), PRICES[2]), "InferenceHubInvalidProof");
    });

    it("public signals at or above the field modulus", async () => {
      const s = await chain.networkHelpers.loadFixture(ready);
      const { receipt, evidence } = await provenReceipt(s, s.modelId);
      const r = 21888242871839275222246405745257275088548364400416034343698204186575808495617n;
      const outputs = [...evidence.outputs];
      outputs[1] = (outputs[1] ?? 0n) + r; // same value mod r: must not be accepted as an alias
      await refused(s, s.hub.connect(s.requester).submitProven(receipt, [...evidence.proof], outputs, PRICES[2]), "Groth16SignalOutOfField", s.verifier);
    });

    it("a model that does not accept ZK, and the wrong entry point", async () => {
      const s = await chain.networkHelpers.loadFixture(ready);
      const sigOnly = await registerModel(s, { tiers: [Tier.Signature] });
      const { receipt, evidence } = await provenReceipt(s, sigOnly);
      await refused(s, s.hub.connect(s.requester).submitProven(receipt, [...evidence.proof], [...evidence.outputs], PRICES[2]), "InferenceHubTierNotAccepted");
      const signed = { ...receipt, tier: Tier.Signature } as const;
      await refused(s, s.hub.connect(s.requester).submitProven(signed, [...evidence.proof], [...evidence.outputs], PRICES[2]), "InferenceHubWrongTier");
    });

    it("an operator without stake", async () => {
      const s = await chain.networkHelpers.loadFixture(ready);
      const { receipt, evidence } = await provenReceipt(s, s.modelId);
      const unstaked = { ...receipt, operator: s.stranger.address };
      await refused(s, s.hub.connect(s.requester).submitProven(unstaked, [...evidence.proof], [...evidence.outputs], PRICES[2]), "InferenceHubInactiveOperator");
    });
  });

  it("refuses to register a forgeable verifying key (delta == gamma) or a malformed one", async () => {
    const s = await chain.networkHelpers.loadFixture(ready);
    const key = zkRegistrationFields(build).verifyingKey.slice(2);
    const words = key.match(/.{64}/g) ?? [];
    const forged = "0x" + [...words.slice(0, 10), ...words.slice(6, 10), ...words.slice(14)].join("");
    await expect(registerModel(s, { tiers: [Tier.ZK], verifyingKey: forged })).to.be.revertedWithCustomError(s.verifier, "Groth16ForgeableVerifyingKey");
    await expect(registerModel(s, { tiers: [Tier.ZK], verifyingKey: "0x" + key.slice(0, -64) })).to.be.revertedWithCustomError(s.verifier, "Groth16MalformedVerifyingKey");
  });

  it("refuses to register a key with an off-curve point, delta = −gamma or gamma at infinity (#8 items 4, 18)", async () => {
    const s = await chain.networkHelpers.loadFixture(ready);
    const words = zkRegistrationFields(build).verifyingKey.slice(2).match(/.{64}/g) ?? [];
    const key = (w: string[]): string => "0x" + w.join("");
    const Q = 21888242871839275222246405745257275088696311157297823662689037894645226208583n;
    const word = (v: bigint): string => v.toString(16).padStart(64, "0");
    // beta in snarkjs order (c0 before c1): the classic encoding mistake, off the twist.
    const swapped = [...words.slice(0, 2), words[3]!, words[2]!, ...words.slice(4)];
    await expect(registerModel(s, { tiers: [Tier.ZK], verifyingKey: key(swapped) }))
      .to.be.revertedWithCustomError(s.verifier, "Groth16VerifyingKeyPointNotOnCurve").withArgs(1);
    // IC[2].y + 1: off G1.
    const ic = [...words];
    ic[14 + 5] = word((BigInt("0x" + ic[14 + 5]!) + 1n) % Q);
    await expect(registerModel(s, { tiers: [Tier.ZK], verifyingKey: key(ic) }))
      .to.be.revertedWithCustomError(s.verifier, "Groth16VerifyingKeyPointNotOnCurve").withArgs(6);
    const negated = [...words.slice(0, 10), words[6]!, words[7]!, word((Q - BigInt("0x" + words[8]!)) % Q), word((Q - BigInt("0x" + words[9]!)) % Q), ...words.slice(14)];
    await expect(registerModel(s, { tiers: [Tier.ZK], verifyingKey: key(negated) })).to.be.revertedWithCustomError(s.verifier, "Groth16ForgeableVerifyingKey");
    const infinity = [...words.slice(0, 6), ...new Array<string>(4).fill(word(0n)), ...words.slice(10)];
    await expect(registerModel(s, { tiers: [Tier.ZK], verifyingKey: key(infinity) })).to.be.revertedWithCustomError(s.verifier, "Groth16ForgeableVerifyingKey");
  });

  it("keeps the registered key readable and bound to the model", async () => {
    const s = await chain.networkHelpers.loadFixture(ready);
    expect(await s.models.verifyingKeyOf(s.modelId)).to.equal(zkRegistrationFields(build).verifyingKey);
    expect((await s.models.modelOf(s.modelId)).weightsCommitment).to.equal(build.metadata.weightsCommitment);
  });
});
