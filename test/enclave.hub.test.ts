import { expect } from "chai";
import { approveEnclaveImage, revokeEnclaveImage } from "../src/enclaves/index.ts";
import { receiptId, signReceipt, type Receipt } from "../src/receipts/index.ts";
import { Tier } from "../src/receipts/tier.ts";
import { connect, readResult, splitFee, submitSigned } from "../src/settlement/index.ts";
import { MIN_STAKE, PRICES, domainOf, makeReceipt, registerModel } from "./helpers/actors.ts";
import { attestBy, chainNowMs, deployTeeSystem, enclaveDocument, newEnclave, registerWith, registeredEnclave, stakeAs, type TeeSystem } from "./helpers/enclave.ts";
import { OPG, newChain } from "./helpers/system.ts";

const chain = await newChain();
const { networkHelpers } = chain;

const TEE_PRICE = PRICES[1];

/** A system with one enclave key registered for the operator (image approved for the model, 2-of-3 quorum). */
async function registered() {
  const s = await deployTeeSystem(chain);
  const enclave = await registeredEnclave(s);
  return { s, ...enclave };
}

async function teeReceipt(s: TeeSystem, modelId = s.modelId, overrides: Partial<Omit<Receipt, "tier">> = {}): Promise<Receipt> {
  return makeReceipt(s, modelId, { tier: Tier.TEE, ...overrides });
}

async function signedBy(s: TeeSystem, receipt: Receipt, signer: Parameters<typeof signReceipt>[2]): Promise<string> {
  return signReceipt(receipt, await domainOf(s), signer);
}

/** Refused with `error` on the hub, and neither the requester's escrow nor the hub's counters moved. */
async function expectRefused(s: TeeSystem, submit: () => Promise<unknown>, error: string) {
  const before = [await s.hub.balanceOf(s.requester.address), await s.hub.stats()];
  await expect(submit()).to.be.revertedWithCustomError(s.hub, error);
  expect([await s.hub.balanceOf(s.requester.address), await s.hub.stats()]).to.deep.equal(before);
}

describe("InferenceHub — TEE tier", () => {
  it("verifies a receipt signed by a registered enclave key at tier TEE and splits the TEE price exactly", async () => {
    const { s, enclave } = await networkHelpers.loadFixture(registered);
    const receipt = await teeReceipt(s);
    const signature = await signedBy(s, receipt, enclave.wallet);
    const id = receiptId(s.chainId, s.deployment.hub, receipt.requester, receipt.modelId, receipt.nonce);
    const parts = splitFee(TEE_PRICE, 7000n, 2000n);

    await expect(s.hub.connect(s.requester).submitSigned(receipt, enclave.wallet.address, signature, TEE_PRICE))
      .to.emit(s.hub, "ReceiptVerified")
      .withArgs(id, s.modelId, s.operator.address, s.requester.address, Tier.TEE, receipt.inputCommitment, receipt.outputCommitment, TEE_PRICE, parts.operator, parts.modelOwner, parts.treasury);
    expect(parts.operator + parts.modelOwner + parts.treasury).to.equal(TEE_PRICE);
    expect(await s.hub.verifiedTier(id)).to.equal(Tier.TEE);
    expect(await s.hub.verifiedOutput(id, Tier.TEE)).to.equal(receipt.outputCommitment);
    await expect(s.hub.verifiedOutput(id, Tier.ZK)).to.be.revertedWithCustomError(s.hub, "InferenceHubBelowTier");
    expect(await s.hub.balanceOf(s.requester.address)).to.equal(100n * OPG - TEE_PRICE);
    expect(await s.hub.balanceOf(s.operator.address)).to.equal(parts.operator);
    expect(await s.hub.balanceOf(s.modelOwner.address)).to.equal(parts.modelOwner);
    expect(await s.hub.treasuryAccrued()).to.equal(parts.treasury);
    expect([...(await s.hub.stats())]).to.deep.equal([0n, 1n, 0n, 0n]);
  });

  it("settles through the toolkit like any signed receipt: submitSigned with the enclave key as signer", async () => {
    const { s, enclave } = await networkHelpers.loadFixture(registered);
    const receipt = await teeReceipt(s);
    const hub = connect(s.deployment, s.requester).hub;
    const settled = await submitSigned(hub, receipt, enclave.wallet.address, await signedBy(s, receipt, enclave.wallet), TEE_PRICE);
    expect(settled.fee).to.deep.equal(splitFee(TEE_PRICE, 7000n, 2000n));
    expect(await readResult(hub, settled.id)).to.deep.equal({ tier: Tier.TEE, stepTiers: [Tier.TEE], outputCommitment: receipt.outputCommitment });
  });

  describe("refuses, with the hub's custom error, and charges nothing", () => {
    it("once the key has expired (and up to then accepts it)", async () => {
      const { s, enclave, registration } = await networkHelpers.loadFixture(registered);
      const deadline = registration.expiresAt + 600n;
      const last = await teeReceipt(s, s.modelId, { deadline });
      const late = await teeReceipt(s, s.modelId, { deadline });
      await networkHelpers.time.setNextBlockTimestamp(registration.expiresAt - 1n);
      await expect(s.hub.connect(s.requester).submitSigned(last, enclave.wallet.address, await signedBy(s, last, enclave.wallet), TEE_PRICE)).to.emit(s.hub, "ReceiptVerified");
      const signature = await signedBy(s, late, enclave.wallet);
      await networkHelpers.time.setNextBlockTimestamp(registration.expiresAt);
      await expect(s.hub.connect(s.requester).submitSigned(late, enclave.wallet.address, signature, TEE_PRICE))
        .to.be.revertedWithCustomError(s.hub, "InferenceHubInvalidEnclaveKey")
        .withArgs(enclave.wallet.address, s.operator.address);
      await expectRefused(s, () => s.hub.connect(s.requester).submitSigned(late, enclave.wallet.address, signature, TEE_PRICE), "InferenceHubInvalidEnclaveKey");
    });

    it("after the image is revoked: every key of that image at once, for that model only", async () => {
      const { s, enclave, imageId } = await networkHelpers.loadFixture(registered);
      const second = await registeredEnclave(s); // another enclave running the same image
      expect(second.imageId).to.equal(imageId);
      const otherModel = await registerModel(s);
      await approveEnclaveImage(connect(s.deployment, s.modelOwner), otherModel, imageId);

      await revokeEnclaveImage(connect(s.deployment, s.modelOwner), s.modelId, imageId);
      for (const key of [enclave.wallet, second.enclave.wallet]) {
        const receipt = await teeReceipt(s);
        const signature = await signedBy(s, receipt, key);
        await expect(s.hub.connect(s.requester).submitSigned(receipt, key.address, signature, TEE_PRICE))
          .to.be.revertedWithCustomError(s.hub, "InferenceHubImageNotApproved")
          .withArgs(s.modelId, imageId);
        await expectRefused(s, () => s.hub.connect(s.requester).submitSigned(receipt, key.address, signature, TEE_PRICE), "InferenceHubImageNotApproved");
      }
      const elsewhere = await teeReceipt(s, otherModel);
      await expect(s.hub.connect(s.requester).submitSigned(elsewhere, enclave.wallet.address, await signedBy(s, elsewhere, enclave.wallet), TEE_PRICE)).to.emit(s.hub, "ReceiptVerified");
      // Approving again restores the keys without re-registration.
      await approveEnclaveImage(connect(s.deployment, s.modelOwner), s.modelId, imageId);
      const again = await teeReceipt(s);
      await expect(s.hub.connect(s.requester).submitSigned(again, second.enclave.wallet.address, await signedBy(s, again, second.enclave.wallet), TEE_PRICE)).to.emit(s.hub, "ReceiptVerified");
    });

    it("for a model that did not approve the enclave's image", async () => {
      const { s, enclave, imageId } = await networkHelpers.loadFixture(registered);
      const other = await registerModel(s, { tiers: [Tier.TEE] });
      const receipt = await teeReceipt(s, other);
      const signature = await signedBy(s, receipt, enclave.wallet);
      await expect(s.hub.connect(s.requester).submitSigned(receipt, enclave.wallet.address, signature, TEE_PRICE))
        .to.be.revertedWithCustomError(s.hub, "InferenceHubImageNotApproved")
        .withArgs(other, imageId);
      await expectRefused(s, () => s.hub.connect(s.requester).submitSigned(receipt, enclave.wallet.address, signature, TEE_PRICE), "InferenceHubImageNotApproved");
    });

    it("for an operator that unbonded below the minimum stake", async () => {
      const { s, enclave } = await networkHelpers.loadFixture(registered);
      await (await s.operators.connect(s.operator).requestUnbond(MIN_STAKE)).wait();
      const receipt = await teeReceipt(s);
      const signature = await signedBy(s, receipt, enclave.wallet);
      await expect(s.hub.connect(s.requester).submitSigned(receipt, enclave.wallet.address, signature, TEE_PRICE))
        .to.be.revertedWithCustomError(s.hub, "InferenceHubInactiveOperator")
        .withArgs(s.operator.address);
      await expectRefused(s, () => s.hub.connect(s.requester).submitSigned(receipt, enclave.wallet.address, signature, TEE_PRICE), "InferenceHubInactiveOperator");
    });

    it("a signer that is not an enclave key: the operator's own key, or another operator's claim", async () => {
      const { s, enclave } = await networkHelpers.loadFixture(registered);
      const receipt = await teeReceipt(s);
      // The operator's signer key is good for tier Signature, not TEE.
      const byOperator = await signedBy(s, receipt, s.operator);
      await expectRefused(s, () => s.hub.connect(s.requester).submitSigned(receipt, s.operator.address, byOperator, TEE_PRICE), "InferenceHubInvalidEnclaveKey");
      // The enclave key named as signer, but the signature is someone else's.
      await expectRefused(s, () => s.hub.connect(s.requester).submitSigned(receipt, enclave.wallet.address, byOperator, TEE_PRICE), "InferenceHubInvalidSignature");
      // A receipt naming another (staked) operator cannot borrow this operator's enclave.
      await stakeAs(s, s.stranger);
      const borrowed = await teeReceipt(s, s.modelId, { operator: s.stranger.address });
      const sig = await signedBy(s, borrowed, enclave.wallet);
      await expect(s.hub.connect(s.requester).submitSigned(borrowed, enclave.wallet.address, sig, TEE_PRICE))
        .to.be.revertedWithCustomError(s.hub, "InferenceHubInvalidEnclaveKey")
        .withArgs(enclave.wallet.address, s.stranger.address);
      // And an enclave key is not an operator signer: it cannot claim tier Signature.
      const asSignature = await makeReceipt(s, s.modelId, { tier: Tier.Signature });
      await expectRefused(s, async () => s.hub.connect(s.requester).submitSigned(asSignature, enclave.wallet.address, await signedBy(s, asSignature, enclave.wallet), PRICES[0]), "InferenceHubUnauthorizedSigner");
    });

    it("a key its operator revoked, and a model that does not accept tier TEE", async () => {
      const { s, enclave } = await networkHelpers.loadFixture(registered);
      const signatureOnly = await registerModel(s, { tiers: [Tier.Signature] });
      const receipt = await teeReceipt(s, signatureOnly);
      await expectRefused(s, async () => s.hub.connect(s.requester).submitSigned(receipt, enclave.wallet.address, await signedBy(s, receipt, enclave.wallet), TEE_PRICE), "InferenceHubTierNotAccepted");
      await (await s.enclaves.connect(s.operator).revokeEnclaveKey(enclave.wallet.address)).wait();
      const after = await teeReceipt(s);
      await expectRefused(s, async () => s.hub.connect(s.requester).submitSigned(after, enclave.wallet.address, await signedBy(s, after, enclave.wallet), TEE_PRICE), "InferenceHubInvalidEnclaveKey");
    });
  });

  it("a renewed key (fresh attestation from a fresh NSM certificate) keeps serving past its first expiry", async () => {
    const { s, enclave, registration } = await networkHelpers.loadFixture(registered);
    await networkHelpers.time.increaseTo(registration.expiresAt - 3600n);
    // NSM certificates last 3 hours, so a day later the enclave's documents chain through a new leaf.
    const renewedEnclave = newEnclave(await chainNowMs(s), enclave.wallet);
    const { document, facts } = await enclaveDocument(s, renewedEnclave);
    const renewal = await registerWith(s, facts, await attestBy(s, renewedEnclave, document));
    expect(renewal.expiresAt > registration.expiresAt).to.equal(true);
    await networkHelpers.time.increaseTo(registration.expiresAt + 60n);
    const receipt = await teeReceipt(s);
    await expect(s.hub.connect(s.requester).submitSigned(receipt, enclave.wallet.address, await signedBy(s, receipt, enclave.wallet), TEE_PRICE)).to.emit(s.hub, "ReceiptVerified");
  });
});
