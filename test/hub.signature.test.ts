import { anyValue } from "@nomicfoundation/hardhat-ethers-chai-matchers/withArgs";
import { expect } from "chai";
import { Tier } from "../src/receipts/tier.ts";
import { hubDomain, receiptId, signReceipt } from "../src/receipts/index.ts";
import { MIN_STAKE, PRICES, depositWithPermit, fund, inAnHour, makeReceipt, registerModel, sign, signerConsent, stakeOperator, type System } from "./helpers/actors.ts";
import { OPG, deployOn, newChain } from "./helpers/system.ts";

const chain = await newChain();
const { networkHelpers } = chain;

async function ready(): Promise<System & { modelId: string }> {
  const s = await deployOn(chain);
  const modelId = await registerModel(s);
  await stakeOperator(s);
  await fund(s, s.requester, 100n * OPG);
  await depositWithPermit(s, s.requester, 100n * OPG);
  return { ...s, modelId };
}

const HALF_N = 0x7fffffffffffffffffffffffffffffff5d576e7357a4501ddfe92f46681b20a0n;
const N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;

describe("InferenceHub — signature tier", () => {
  it("verifies a signed receipt, records its tier and output, and splits the fee exactly", async () => {
    const s = await networkHelpers.loadFixture(ready);
    const receipt = await makeReceipt(s, s.modelId);
    const signature = await sign(s, receipt);
    const { chainId } = await s.ethers.provider.getNetwork();
    const id = receiptId(chainId, await s.hub.getAddress(), receipt.requester, receipt.modelId, receipt.nonce);

    const tx = s.hub.connect(s.requester).submitSigned(receipt, s.operator.address, signature, PRICES[0]);
    await expect(tx)
      .to.emit(s.hub, "ReceiptVerified")
      .withArgs(id, s.modelId, s.operator.address, s.requester.address, Tier.Signature, receipt.inputCommitment, receipt.outputCommitment, PRICES[0], (PRICES[0] * 7000n) / 10000n, (PRICES[0] * 2000n) / 10000n, PRICES[0] / 10n);

    expect(await s.hub.verifiedTier(id)).to.equal(Tier.Signature);
    expect(await s.hub.verifiedOutput(id, Tier.Signature)).to.equal(receipt.outputCommitment);
    await expect(s.hub.verifiedOutput(id, Tier.TEE)).to.be.revertedWithCustomError(s.hub, "InferenceHubBelowTier");
    expect(await s.hub.balanceOf(s.requester.address)).to.equal(100n * OPG - PRICES[0]);
    expect(await s.hub.balanceOf(s.operator.address)).to.equal((PRICES[0] * 7000n) / 10000n);
    expect(await s.hub.balanceOf(s.modelOwner.address)).to.equal((PRICES[0] * 2000n) / 10000n);
    expect(await s.hub.treasuryAccrued()).to.equal(PRICES[0] / 10n);
    const [sig, tee, zk, ops] = await s.hub.stats();
    expect([sig, tee, zk, ops]).to.deep.equal([1n, 0n, 0n, 0n]);
  });

  it("rounds the split in the protocol's favour with parts summing exactly to the price", async () => {
    const s = await networkHelpers.loadFixture(ready);
    const odd = 12_345n; // wei: 70% and 20% are not whole
    const modelId = await registerModel(s, { prices: [odd, odd, odd] });
    const receipt = await makeReceipt(s, modelId);
    const tx = s.hub.connect(s.requester).submitSigned(receipt, s.operator.address, await sign(s, receipt), odd);
    await expect(tx).to.emit(s.hub, "ReceiptVerified").withArgs(anyValue, modelId, s.operator.address, s.requester.address, Tier.Signature, anyValue, anyValue, odd, 8641n, 2469n, 1235n);
    expect(8641n + 2469n + 1235n).to.equal(odd);
  });

  it("lets a dApp's example consumer refuse results below its minimum tier", async () => {
    const s = await networkHelpers.loadFixture(ready);
    const receipt = await makeReceipt(s, s.modelId);
    await (await s.hub.connect(s.requester).submitSigned(receipt, s.operator.address, await sign(s, receipt), PRICES[0])).wait();
    const id = await s.hub.receiptIdOf(receipt.requester, receipt.modelId, receipt.nonce);
    const strict = await s.ethers.deployContract("TieredConsumer", [await s.hub.getAddress(), Tier.TEE, Tier.TEE, false, false]);
    const lenient = await s.ethers.deployContract("TieredConsumer", [await s.hub.getAddress(), Tier.Signature, Tier.Signature, false, false]);
    await expect(strict.accept(id)).to.be.revertedWithCustomError(strict, "TieredConsumerInsufficientTier").withArgs(id);
    await expect(lenient.accept(id)).to.emit(lenient, "ResultAccepted").withArgs(id, Tier.Signature, receipt.outputCommitment);
    await expect(lenient.accept(id)).to.be.revertedWithCustomError(lenient, "TieredConsumerAlreadyAccepted");
    const unknown = "0x" + "ab".repeat(32);
    await expect(lenient.accept(unknown)).to.be.revertedWithCustomError(lenient, "TieredConsumerInsufficientTier");
  });

  it("lets the example consumer accept a result once even when its output commitment is zero", async () => {
    const s = await networkHelpers.loadFixture(ready);
    const receipt = await makeReceipt(s, s.modelId, { outputCommitment: `0x${"00".repeat(32)}` });
    await (await s.hub.connect(s.requester).submitSigned(receipt, s.operator.address, await sign(s, receipt), PRICES[0])).wait();
    const id = await s.hub.receiptIdOf(receipt.requester, receipt.modelId, receipt.nonce);
    const consumer = await s.ethers.deployContract("TieredConsumer", [await s.hub.getAddress(), Tier.Signature, Tier.Signature, false, false]);
    await expect(consumer.accept(id)).to.emit(consumer, "ResultAccepted").withArgs(id, Tier.Signature, receipt.outputCommitment);
    expect(await consumer.isAccepted(id)).to.equal(true);
    await expect(consumer.accept(id)).to.be.revertedWithCustomError(consumer, "TieredConsumerAlreadyAccepted").withArgs(id);
  });

  it("accepts an ERC-1271 contract operator's signature", async () => {
    const s = await networkHelpers.loadFixture(ready);
    const wallet = await s.ethers.deployContract("ERC1271Wallet", [s.stranger.address]);
    const walletAddress = await wallet.getAddress();
    await fund(s, { address: walletAddress }, MIN_STAKE);
    const token = s.token.interface;
    await (await wallet.connect(s.stranger).execute(await s.token.getAddress(), token.encodeFunctionData("approve", [await s.operators.getAddress(), MIN_STAKE]))).wait();
    const ops = s.operators.interface;
    await (await wallet.connect(s.stranger).execute(await s.operators.getAddress(), ops.encodeFunctionData("stake", [MIN_STAKE]))).wait();
    await (await wallet.connect(s.stranger).execute(await s.operators.getAddress(), ops.encodeFunctionData("registerSigner", [walletAddress, 0, "0x"]))).wait();

    const receipt = await makeReceipt(s, s.modelId, { operator: walletAddress });
    const signature = await sign(s, receipt, s.stranger);
    await expect(s.hub.connect(s.requester).submitSigned(receipt, walletAddress, signature, PRICES[0])).to.emit(s.hub, "ReceiptVerified");
    const bad = await sign(s, receipt, s.operator);
    const other = await makeReceipt(s, s.modelId, { operator: walletAddress });
    await expect(s.hub.connect(s.requester).submitSigned(other, walletAddress, bad, PRICES[0]))
      .to.be.revertedWithCustomError(s.hub, "InferenceHubInvalidSignature");
  });

  it("lets only the requester submit: no blanket approval exists for an operator to drain the escrow", async () => {
    // Regression (issue #9): an approved operator registered its own model priced at the requester's
    // whole balance, signed a receipt nobody asked for and submitted it with maxFee = max.
    const s = await networkHelpers.loadFixture(ready);
    expect(s.hub.interface.hasFunction("approveSubmitter(address,bool)")).to.equal(false);
    const balance = await s.hub.balanceOf(s.requester.address);
    const weights = s.ethers.keccak256(s.ethers.toUtf8Bytes("operator's own model"));
    await s.models.connect(s.operator).registerModel({
      weightsCommitment: weights,
      metadataURI: "ipfs://drain",
      prices: [balance, balance, balance],
      acceptedTiers: 1 << Tier.Signature,
      previousVersion: s.ethers.ZeroHash,
      verifyingKey: "0x",
    });
    const drainModel = await s.models.modelIdOf(s.operator.address, weights);
    const receipt = await makeReceipt(s, drainModel);
    const signature = await sign(s, receipt);
    await expect(s.hub.connect(s.operator).submitSigned(receipt, s.operator.address, signature, s.ethers.MaxUint256))
      .to.be.revertedWithCustomError(s.hub, "InferenceHubUnauthorizedSubmitter").withArgs(s.requester.address, s.operator.address);
    expect(await s.hub.balanceOf(s.requester.address)).to.equal(balance);
  });

  describe("refuses bad input with a custom error and charges nothing", () => {
    async function expectRefused(s: System, call: Promise<unknown>, error: string) {
      const before = await s.hub.balanceOf(s.requester.address);
      await expect(call).to.be.revertedWithCustomError(s.hub, error);
      expect(await s.hub.balanceOf(s.requester.address)).to.equal(before);
    }

    it("replay of the same receipt id", async () => {
      const s = await networkHelpers.loadFixture(ready);
      const receipt = await makeReceipt(s, s.modelId);
      const signature = await sign(s, receipt);
      await (await s.hub.connect(s.requester).submitSigned(receipt, s.operator.address, signature, PRICES[0])).wait();
      await expectRefused(s, s.hub.connect(s.requester).submitSigned(receipt, s.operator.address, signature, PRICES[0]), "InferenceHubAlreadyVerified");
      // Same id with a different output: still the same request, still refused.
      const altered = { ...receipt, outputCommitment: "0x" + "33".repeat(32) } as typeof receipt;
      await expectRefused(s, s.hub.connect(s.requester).submitSigned(altered, s.operator.address, await sign(s, altered), PRICES[0]), "InferenceHubAlreadyVerified");
    });

    it("a signature made for another chain or another hub", async () => {
      const s = await networkHelpers.loadFixture(ready);
      const receipt = await makeReceipt(s, s.modelId);
      const hub = await s.hub.getAddress();
      const otherChain = await signReceipt(receipt, hubDomain(1n, hub), s.operator);
      const otherHub = await signReceipt(receipt, hubDomain(31337n, s.stranger.address), s.operator);
      await expectRefused(s, s.hub.connect(s.requester).submitSigned(receipt, s.operator.address, otherChain, PRICES[0]), "InferenceHubInvalidSignature");
      await expectRefused(s, s.hub.connect(s.requester).submitSigned(receipt, s.operator.address, otherHub, PRICES[0]), "InferenceHubInvalidSignature");
    });

    it("an expired deadline", async () => {
      const s = await networkHelpers.loadFixture(ready);
      const receipt = await makeReceipt(s, s.modelId);
      const signature = await sign(s, receipt);
      await networkHelpers.time.increaseTo(receipt.deadline + 1n);
      await expectRefused(s, s.hub.connect(s.requester).submitSigned(receipt, s.operator.address, signature, PRICES[0]), "InferenceHubExpired");
    });

    it("an unknown model", async () => {
      const s = await networkHelpers.loadFixture(ready);
      const receipt = await makeReceipt(s, "0x" + "99".repeat(32));
      const call = s.hub.connect(s.requester).submitSigned(receipt, s.operator.address, await sign(s, receipt), PRICES[0]);
      await expect(call).to.be.revertedWithCustomError(s.models, "ModelRegistryUnknownModel");
    });

    it("a deprecated model", async () => {
      const s = await networkHelpers.loadFixture(ready);
      await (await s.models.connect(s.modelOwner).deprecate(s.modelId)).wait();
      const receipt = await makeReceipt(s, s.modelId);
      await expectRefused(s, s.hub.connect(s.requester).submitSigned(receipt, s.operator.address, await sign(s, receipt), PRICES[0]), "InferenceHubModelDeprecated");
    });

    it("a tier the model does not accept, or the wrong entry point for the tier", async () => {
      const s = await networkHelpers.loadFixture(ready);
      const teeOnly = await registerModel(s, { tiers: [Tier.TEE] });
      const receipt = await makeReceipt(s, teeOnly);
      await expectRefused(s, s.hub.connect(s.requester).submitSigned(receipt, s.operator.address, await sign(s, receipt), PRICES[0]), "InferenceHubTierNotAccepted");
      const zk = await makeReceipt(s, s.modelId, { tier: Tier.ZK });
      await expectRefused(s, s.hub.connect(s.requester).submitSigned(zk, s.operator.address, await sign(s, zk), PRICES[2]), "InferenceHubWrongTier");
    });

    it("a signer that is not registered, or belongs to another operator", async () => {
      const s = await networkHelpers.loadFixture(ready);
      const receipt = await makeReceipt(s, s.modelId);
      await expectRefused(s, s.hub.connect(s.requester).submitSigned(receipt, s.stranger.address, await sign(s, receipt, s.stranger), PRICES[0]), "InferenceHubUnauthorizedSigner");
      const claimsStranger = await makeReceipt(s, s.modelId, { operator: s.stranger.address });
      await expectRefused(s, s.hub.connect(s.requester).submitSigned(claimsStranger, s.operator.address, await sign(s, claimsStranger), PRICES[0]), "InferenceHubUnauthorizedSigner");
    });

    it("a signer whose operator unbonded below the minimum stake", async () => {
      const s = await networkHelpers.loadFixture(ready);
      await (await s.operators.connect(s.operator).requestUnbond(1n)).wait();
      const receipt = await makeReceipt(s, s.modelId);
      await expectRefused(s, s.hub.connect(s.requester).submitSigned(receipt, s.operator.address, await sign(s, receipt), PRICES[0]), "InferenceHubUnauthorizedSigner");
      await (await s.operators.connect(s.operator).cancelUnbond()).wait();
      await expect(s.hub.connect(s.requester).submitSigned(receipt, s.operator.address, await sign(s, receipt), PRICES[0])).to.emit(s.hub, "ReceiptVerified");
    });

    it("a signer that was rotated out", async () => {
      const s = await networkHelpers.loadFixture(ready);
      const deadline = await inAnHour(s);
      const consent = await signerConsent(s, s.operator, s.stranger, deadline);
      await (await s.operators.connect(s.operator).rotateSigner(s.operator.address, s.stranger.address, deadline, consent)).wait();
      const receipt = await makeReceipt(s, s.modelId);
      await expectRefused(s, s.hub.connect(s.requester).submitSigned(receipt, s.operator.address, await sign(s, receipt), PRICES[0]), "InferenceHubUnauthorizedSigner");
      await expect(s.hub.connect(s.requester).submitSigned(receipt, s.stranger.address, await sign(s, receipt, s.stranger), PRICES[0])).to.emit(s.hub, "ReceiptVerified");
    });

    it("a malleable (high-s) signature", async () => {
      const s = await networkHelpers.loadFixture(ready);
      const receipt = await makeReceipt(s, s.modelId);
      const sig = s.ethers.Signature.from(await sign(s, receipt));
      const highS = N - BigInt(sig.s);
      expect(highS > HALF_N).to.equal(true);
      const flipped = s.ethers.concat([sig.r, s.ethers.toBeHex(highS, 32), s.ethers.toBeHex(sig.v === 27 ? 28 : 27, 1)]);
      await expectRefused(s, s.hub.connect(s.requester).submitSigned(receipt, s.operator.address, flipped, PRICES[0]), "InferenceHubInvalidSignature");
    });

    it("a malformed signature (wrong length, garbage)", async () => {
      const s = await networkHelpers.loadFixture(ready);
      const receipt = await makeReceipt(s, s.modelId);
      const good = await sign(s, receipt);
      for (const bad of ["0x", good.slice(0, 130), good + "00", "0x" + "ff".repeat(65)]) {
        await expectRefused(s, s.hub.connect(s.requester).submitSigned(receipt, s.operator.address, bad, PRICES[0]), "InferenceHubInvalidSignature");
      }
    });

    it("an output commitment outside the scalar field", async () => {
      const s = await networkHelpers.loadFixture(ready);
      const receipt = await makeReceipt(s, s.modelId, { outputCommitment: `0x${"ff".repeat(32)}` });
      await expectRefused(s, s.hub.connect(s.requester).submitSigned(receipt, s.operator.address, await sign(s, receipt), PRICES[0]), "InferenceHubCommitmentOutOfField");
    });

    it("a requester without enough escrow", async () => {
      const s = await networkHelpers.loadFixture(ready);
      const receipt = await makeReceipt(s, s.modelId, { requester: s.stranger.address });
      const call = s.hub.connect(s.stranger).submitSigned(receipt, s.operator.address, await sign(s, receipt), PRICES[0]);
      await expect(call).to.be.revertedWithCustomError(s.hub, "FeeEscrowInsufficientBalance").withArgs(s.stranger.address, 0n, PRICES[0]);
    });

    it("a price above the submitter's maximum fee", async () => {
      const s = await networkHelpers.loadFixture(ready);
      const receipt = await makeReceipt(s, s.modelId);
      await expectRefused(s, s.hub.connect(s.requester).submitSigned(receipt, s.operator.address, await sign(s, receipt), PRICES[0] - 1n), "InferenceHubFeeAboveMaximum");
    });
  });
});
