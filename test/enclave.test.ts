import { expect } from "chai";
import type { BaseContract } from "ethers";
import {
  DEBUG_IMAGE_ID,
  EnclaveError,
  STATEMENT_TYPES,
  approveEnclaveImage,
  encodeEvidence,
  enclaveKeyOf,
  imageIdOf,
  quorumDomainOf,
  quorumEvidence,
  revokeEnclaveImage,
  statementDigest,
  statementOf,
  type AttestationFacts,
} from "../src/enclaves/index.ts";
import { attestationDigestOf, parseAttestationDocument } from "../src/nitro/document.ts";
import { NitroError } from "../src/nitro/errors.ts";
import { ContractRevertError, connect } from "../src/settlement/index.ts";
import { registerModel } from "./helpers/actors.ts";
import {
  attestBy,
  chainNowMs,
  deployTeeSystem,
  enclaveDocument,
  newEnclave,
  registerWith,
  stakeAs,
  type DevEnclave,
  type TeeSystem,
} from "./helpers/enclave.ts";
import { newChain } from "./helpers/system.ts";

const chain = await newChain();
const { networkHelpers } = chain;

async function ready(): Promise<TeeSystem> {
  return deployTeeSystem(chain);
}

/** A system whose model approved the image of `enclave`, plus that enclave's first document (bound to the operator). */
async function withApprovedImage() {
  const s = await ready();
  const enclave = newEnclave(await chainNowMs(s));
  const { document, facts } = await enclaveDocument(s, enclave);
  await approveEnclaveImage(connect(s.deployment, s.modelOwner), s.modelId, imageIdOf(facts));
  return { s, enclave, document, facts };
}

/** Rejects with `type` carrying `code`. */
async function expectError(promise: Promise<unknown>, type: typeof EnclaveError | typeof NitroError, code: string): Promise<void> {
  try {
    await promise;
  } catch (error) {
    expect(error, String(error)).to.be.instanceOf(type);
    expect((error as EnclaveError).code, (error as Error).message).to.equal(code);
    return;
  }
  expect.fail(`expected ${type.name} ${code}, it resolved`);
}

/** The registration of `key` and the attestation counter: what a refused call must leave untouched. */
async function snapshot(s: TeeSystem, key: string) {
  const stored = await s.enclaves.enclaveKeyOf(key);
  return { record: [stored.operator, stored.attestedAt, stored.expiresAt, stored.imageId, stored.attestationDigest], count: await s.enclaves.attestationCount() };
}

/** `call` is a thunk: the transaction must not start (and reject unobserved) before the snapshot is taken. */
async function expectRefused(s: TeeSystem, key: string, call: () => Promise<unknown>, contract: BaseContract, error: string) {
  const before = await snapshot(s, key);
  await expect(call()).to.be.revertedWithCustomError(contract, error);
  expect(await snapshot(s, key)).to.deep.equal(before);
}

function register(s: TeeSystem, facts: AttestationFacts, evidence: string, operator = s.operator, modelId = s.modelId) {
  return s.enclaves.connect(operator).registerEnclaveKey({ ...facts }, modelId, evidence);
}

async function evidenceFor(s: TeeSystem, enclave: DevEnclave, document: Uint8Array, facts: AttestationFacts, attesters = s.attesters.slice(0, 2)) {
  return quorumEvidence(await attestBy(s, enclave, document, attesters), { facts, domain: s.domain });
}

describe("EnclaveRegistry — registration with an attester quorum", () => {
  it("hashes the attester statement exactly like AttesterQuorum, under the domain the quorum reports", async () => {
    const { s, facts } = await networkHelpers.loadFixture(withApprovedImage);
    expect(statementDigest(facts, s.domain)).to.equal(await s.quorum.statementDigest({ ...facts }));
    expect(await quorumDomainOf(connect(s.deployment, s.ethers.provider))).to.deep.equal(s.domain);
    // The typehash the TS types produce is the contract's constant.
    const typeString = `AttestationStatement(${STATEMENT_TYPES.AttestationStatement!.map((f) => `${f.type} ${f.name}`).join(",")})`;
    expect(s.ethers.id(typeString)).to.equal(await s.quorum.STATEMENT_TYPEHASH());
    expect(statementOf(facts).pcrsHash).to.equal(imageIdOf(facts));
  });

  it("registers a key with a 2-of-3 quorum and stores digest, image, key, operator, attestation time and expiry", async () => {
    const { s, enclave, document, facts } = await networkHelpers.loadFixture(withApprovedImage);
    // Attesters 0 and 2: any two of the three make the threshold.
    const attestations = await attestBy(s, enclave, document, [s.attesters[0]!, s.attesters[2]!]);
    expect(attestations.map((a) => a.facts)).to.deep.equal([facts, facts]);
    const evidence = quorumEvidence(attestations, { facts, domain: s.domain });

    const attestedAt = facts.timestamp / 1000n;
    const expiresAt = attestedAt + (await s.enclaves.keyLifetime());
    const digest = attestationDigestOf(parseAttestationDocument(document));
    const imageId = imageIdOf(facts);
    await expect(register(s, facts, evidence))
      .to.emit(s.enclaves, "EnclaveKeyRegistered")
      .withArgs(enclave.wallet.address, s.operator.address, imageId, digest, attestedAt, expiresAt, facts.pcrs);

    const stored = await enclaveKeyOf(connect(s.deployment, s.ethers.provider), enclave.wallet.address);
    expect(stored).to.deep.equal({ operator: s.operator.address, attestedAt, expiresAt, imageId, attestationDigest: digest });
    expect(await s.enclaves.attestationCount()).to.equal(1n);
  });

  it("accepts all three attesters in any collection order through the toolkit, which reports what was stored", async () => {
    const { s, enclave, document, facts } = await networkHelpers.loadFixture(withApprovedImage);
    const attestations = await attestBy(s, enclave, document, [...s.attesters].reverse());
    const registration = await registerWith(s, facts, attestations);
    expect(registration).to.include({ key: enclave.wallet.address, operator: s.operator.address, imageId: imageIdOf(facts), attestedAt: facts.timestamp / 1000n });
    expect(registration.gasUsed > 0n).to.equal(true);
    expect((await s.enclaves.enclaveKeyOf(enclave.wallet.address)).operator).to.equal(s.operator.address);
  });

  describe("refuses, with the contract's custom error, and stores nothing", () => {
    it("a document replayed by another operator", async () => {
      const { s, enclave, document, facts } = await networkHelpers.loadFixture(withApprovedImage);
      const evidence = await evidenceFor(s, enclave, document, facts);
      await stakeAs(s, s.stranger);
      await expectRefused(s, enclave.wallet.address, () => register(s, facts, evidence, s.stranger), s.enclaves, "EnclaveRegistryBindingMismatch");
      await expect(register(s, facts, evidence, s.stranger))
        .to.be.revertedWithCustomError(s.enclaves, "EnclaveRegistryBindingMismatch")
        .withArgs(await s.enclaves.bindingOf(s.stranger.address, enclave.wallet.address), facts.userData);
    });

    it("a document bound to another chain (attesters checking the binding refuse it first)", async () => {
      const { s, enclave } = await networkHelpers.loadFixture(withApprovedImage);
      const { document, facts } = await enclaveDocument(s, enclave, { chainId: 1n });
      const binding = { chainId: s.chainId, registry: s.deployment.enclaves, operator: s.operator.address };
      await expectError(attestBy(s, enclave, document, s.attesters.slice(0, 1), { binding }), NitroError, "NITRO_USER_DATA_MISMATCH");
      const evidence = await evidenceFor(s, enclave, document, facts);
      await expectRefused(s, enclave.wallet.address, () => register(s, facts, evidence), s.enclaves, "EnclaveRegistryBindingMismatch");
    });

    it("a document bound to another registry", async () => {
      const { s, enclave } = await networkHelpers.loadFixture(withApprovedImage);
      const { document, facts } = await enclaveDocument(s, enclave, { registry: s.deployment.hub });
      const evidence = await evidenceFor(s, enclave, document, facts);
      await expectRefused(s, enclave.wallet.address, () => register(s, facts, evidence), s.enclaves, "EnclaveRegistryBindingMismatch");
    });

    it("a stale attestation (older than maxAttestationAge when submitted)", async () => {
      const { s, enclave, document, facts } = await networkHelpers.loadFixture(withApprovedImage);
      const evidence = await evidenceFor(s, enclave, document, facts);
      await networkHelpers.time.increase((await s.enclaves.maxAttestationAge()) + 1n);
      await expect(register(s, facts, evidence)).to.be.revertedWithCustomError(s.enclaves, "EnclaveRegistryStaleAttestation");
      await expectRefused(s, enclave.wallet.address, () => register(s, facts, evidence), s.enclaves, "EnclaveRegistryStaleAttestation");
    });

    it("an attestation stamped more than the tolerated skew in the future", async () => {
      const { s, enclave } = await networkHelpers.loadFixture(withApprovedImage);
      const ahead = (await chainNowMs(s)) + 10 * 60_000;
      const { document, facts } = await enclaveDocument(s, enclave, { timestamp: ahead });
      // Attesters whose clocks run 10 minutes ahead would sign it; the chain does not take it.
      const evidence = quorumEvidence(await attestBy(s, enclave, document, s.attesters.slice(0, 2), { at: ahead }), { facts, domain: s.domain });
      await expectRefused(s, enclave.wallet.address, () => register(s, facts, evidence), s.enclaves, "EnclaveRegistryStaleAttestation");
    });

    it("an image the named model did not approve (even if another model did)", async () => {
      const { s, enclave, document, facts } = await networkHelpers.loadFixture(withApprovedImage);
      const evidence = await evidenceFor(s, enclave, document, facts);
      const other = await registerModel(s);
      await expect(register(s, facts, evidence, s.operator, other))
        .to.be.revertedWithCustomError(s.enclaves, "EnclaveRegistryImageNotApproved")
        .withArgs(other, imageIdOf(facts));
      await revokeEnclaveImage(connect(s.deployment, s.modelOwner), s.modelId, imageIdOf(facts));
      await expectRefused(s, enclave.wallet.address, () => register(s, facts, evidence), s.enclaves, "EnclaveRegistryImageNotApproved");
    });

    it("a debug enclave: attesters refuse it by default, and the registry refuses it even when they sign", async () => {
      const { s, enclave } = await networkHelpers.loadFixture(withApprovedImage);
      const { document, facts } = await enclaveDocument(s, enclave, { debug: true });
      expect(imageIdOf(facts)).to.equal(DEBUG_IMAGE_ID);
      await expectError(attestBy(s, enclave, document), NitroError, "NITRO_DEBUG_MODE");
      await expectError(approveEnclaveImage(connect(s.deployment, s.modelOwner), s.modelId, DEBUG_IMAGE_ID), EnclaveError, "ENCLAVE_IMAGE_INVALID");
      const lax = quorumEvidence(await attestBy(s, enclave, document, s.attesters.slice(0, 2), { allowDebug: true }), { facts, domain: s.domain });
      await expectRefused(s, enclave.wallet.address, () => register(s, facts, lax), s.enclaves, "EnclaveRegistryDebugImage");
    });

    it("PCRs that are not three 48-byte values (facts no attester running attest would sign)", async () => {
      const { s, enclave, facts } = await networkHelpers.loadFixture(withApprovedImage);
      const short = { ...facts, pcrs: `0x${facts.pcrs.slice(2, 2 + 192)}` } as AttestationFacts;
      const signatures = [];
      for (const attester of s.attesters.slice(0, 2)) signatures.push({ attester: attester.address, signature: (await attester.signTypedData(s.domain, STATEMENT_TYPES, { ...statementOf(short) })) as `0x${string}` });
      const evidence = quorumEvidence(signatures, { facts: short, domain: s.domain });
      await expectRefused(s, enclave.wallet.address, () => register(s, short, evidence), s.enclaves, "EnclaveRegistryMalformedPcrs");
    });

    it("one signature where the threshold is two", async () => {
      const { s, enclave, document, facts } = await networkHelpers.loadFixture(withApprovedImage);
      const evidence = await evidenceFor(s, enclave, document, facts, s.attesters.slice(1, 2));
      await expect(register(s, facts, evidence)).to.be.revertedWithCustomError(s.quorum, "AttesterQuorumBelowThreshold").withArgs(1n, 2n);
      await expectRefused(s, enclave.wallet.address, () => register(s, facts, evidence), s.quorum, "AttesterQuorumBelowThreshold");
      await expectRefused(s, enclave.wallet.address, () => register(s, facts, encodeEvidence([])), s.quorum, "AttesterQuorumBelowThreshold");
    });

    it("the same attester twice, and signatures out of address order", async () => {
      const { s, enclave, document, facts } = await networkHelpers.loadFixture(withApprovedImage);
      const [a, b] = await attestBy(s, enclave, document, s.attesters.slice(0, 2));
      expect(() => quorumEvidence([a!, a!])).to.throw(EnclaveError).with.property("code", "ENCLAVE_DUPLICATE_ATTESTER");
      await expectRefused(s, enclave.wallet.address, () => register(s, facts, encodeEvidence([a!.signature, a!.signature])), s.quorum, "AttesterQuorumUnsortedOrDuplicate");
      const [low, high] = BigInt(a!.attester) < BigInt(b!.attester) ? [a!, b!] : [b!, a!];
      await expectRefused(s, enclave.wallet.address, () => register(s, facts, encodeEvidence([high.signature, low.signature])), s.quorum, "AttesterQuorumUnsortedOrDuplicate");
    });

    it("a signature from an account that is not a registered attester", async () => {
      const { s, enclave, document, facts } = await networkHelpers.loadFixture(withApprovedImage);
      const evidence = await evidenceFor(s, enclave, document, facts, [s.attesters[0]!, s.stranger]);
      await expect(register(s, facts, evidence)).to.be.revertedWithCustomError(s.quorum, "AttesterQuorumUnknownAttester").withArgs(s.stranger.address);
      await expectRefused(s, enclave.wallet.address, () => register(s, facts, evidence), s.quorum, "AttesterQuorumUnknownAttester");
    });

    it("signatures over another document's facts (the toolkit names the mismatch before sending)", async () => {
      const { s, enclave, document } = await networkHelpers.loadFixture(withApprovedImage);
      const attestations = await attestBy(s, enclave, document);
      await networkHelpers.time.increase(5);
      const { facts: later } = await enclaveDocument(s, enclave);
      expect(() => quorumEvidence(attestations, { facts: later, domain: s.domain })).to.throw(EnclaveError).with.property("code", "ENCLAVE_ATTESTATION_MISMATCH");
      // Sent anyway, the first signature recovers to an unrelated address.
      await expectRefused(s, enclave.wallet.address, () => register(s, later, quorumEvidence(attestations)), s.quorum, "AttesterQuorumUnknownAttester");
    });

    it("an operator without active stake", async () => {
      const { s, enclave } = await networkHelpers.loadFixture(withApprovedImage);
      const { document, facts } = await enclaveDocument(s, enclave, { operator: s.stranger.address });
      const evidence = await evidenceFor(s, enclave, document, facts);
      await expectRefused(s, enclave.wallet.address, () => register(s, facts, evidence, s.stranger), s.enclaves, "EnclaveRegistryInactiveOperator");
    });

    it("a key already registered by another operator", async () => {
      const { s, enclave, document, facts } = await networkHelpers.loadFixture(withApprovedImage);
      await registerWith(s, facts, await attestBy(s, enclave, document));
      await stakeAs(s, s.stranger);
      await networkHelpers.time.increase(5);
      // A genuine document of the same key, bound to the stranger: the key still belongs to the first operator.
      const { document: theirs, facts: theirFacts } = await enclaveDocument(s, enclave, { operator: s.stranger.address });
      const evidence = await evidenceFor(s, enclave, theirs, theirFacts);
      await expect(register(s, theirFacts, evidence, s.stranger))
        .to.be.revertedWithCustomError(s.enclaves, "EnclaveRegistryKeyTaken")
        .withArgs(enclave.wallet.address, s.operator.address);
      await expectRefused(s, enclave.wallet.address, () => register(s, theirFacts, evidence, s.stranger), s.enclaves, "EnclaveRegistryKeyTaken");
    });

    it("through the toolkit: a ContractRevertError naming the custom error", async () => {
      const { s, enclave, document, facts } = await networkHelpers.loadFixture(withApprovedImage);
      const other = await registerModel(s);
      try {
        await registerWith(s, facts, await attestBy(s, enclave, document), { modelId: other });
        expect.fail("registered for a model that did not approve the image");
      } catch (error) {
        expect(error).to.be.instanceOf(ContractRevertError);
        expect((error as ContractRevertError).errorName).to.equal("EnclaveRegistryImageNotApproved");
        expect((error as ContractRevertError).args).to.deep.equal([other, imageIdOf(facts)]);
      }
      try {
        await approveEnclaveImage(connect(s.deployment, s.stranger), s.modelId, imageIdOf(facts));
        expect.fail("a stranger approved an image");
      } catch (error) {
        expect((error as ContractRevertError).errorName).to.equal("ModelRegistryNotModelOwner");
      }
      expect(await enclaveKeyOf(connect(s.deployment, s.ethers.provider), enclave.wallet.address)).to.equal(undefined);
    });
  });

  describe("image approval", () => {
    it("by the model owner only; governance may revoke; revoking flips isImageApproved back", async () => {
      const s = await networkHelpers.loadFixture(ready);
      const image = "0x" + "ab".repeat(32);
      const asOwner = connect(s.deployment, s.modelOwner);
      const asGovernance = connect(s.deployment, s.admin);
      await approveEnclaveImage(asOwner, s.modelId, image);
      expect(await s.models.isImageApproved(s.modelId, image)).to.equal(true);
      await revokeEnclaveImage(asGovernance, s.modelId, image);
      expect(await s.models.isImageApproved(s.modelId, image)).to.equal(false);
      const refused = await approveEnclaveImage(asGovernance, s.modelId, image).then(() => undefined, (error: unknown) => error);
      expect(refused).to.be.instanceOf(ContractRevertError);
      expect((refused as ContractRevertError).errorName).to.equal("ModelRegistryNotModelOwner");
      expect(await s.models.isImageApproved(s.modelId, image)).to.equal(false);
      await approveEnclaveImage(asOwner, s.modelId, image);
      expect(await s.models.isImageApproved(s.modelId, image)).to.equal(true);
      await expectError(approveEnclaveImage(asOwner, s.modelId, "0x" + "00".repeat(32)), EnclaveError, "ENCLAVE_IMAGE_INVALID");
      await expectError(approveEnclaveImage(asOwner, s.modelId, "0x1234"), EnclaveError, "ENCLAVE_IMAGE_INVALID");
    });
  });

  describe("renewal (heartbeat)", () => {
    it("a newer attestation of the same key renews it: new digest and attestation time, later expiry", async () => {
      const { s, enclave, document, facts } = await networkHelpers.loadFixture(withApprovedImage);
      const first = await registerWith(s, facts, await attestBy(s, enclave, document));
      await networkHelpers.time.increase(600);
      const { document: fresh, facts: freshFacts } = await enclaveDocument(s, enclave);
      const renewed = await registerWith(s, freshFacts, await attestBy(s, enclave, fresh, s.attesters.slice(1, 3)));
      expect(renewed.attestedAt).to.equal(freshFacts.timestamp / 1000n);
      expect(renewed.expiresAt - first.expiresAt).to.equal(renewed.attestedAt - first.attestedAt);
      expect(renewed.attestedAt - first.attestedAt >= 600n).to.equal(true);
      const stored = await s.enclaves.enclaveKeyOf(enclave.wallet.address);
      expect([stored.attestedAt, stored.expiresAt, stored.attestationDigest]).to.deep.equal([renewed.attestedAt, renewed.expiresAt, freshFacts.attestationDigest]);
      expect(await s.enclaves.attestationCount()).to.equal(2n);
    });

    it("an older attestation, or the same one again, is refused", async () => {
      const { s, enclave, document, facts } = await networkHelpers.loadFixture(withApprovedImage);
      const older = await evidenceFor(s, enclave, document, facts);
      await networkHelpers.time.increase(600);
      const { document: fresh, facts: freshFacts } = await enclaveDocument(s, enclave);
      const newer = await evidenceFor(s, enclave, fresh, freshFacts);
      await (await register(s, freshFacts, newer)).wait();
      await expect(register(s, facts, older))
        .to.be.revertedWithCustomError(s.enclaves, "EnclaveRegistryNotNewer")
        .withArgs(freshFacts.timestamp / 1000n, facts.timestamp / 1000n);
      await expectRefused(s, enclave.wallet.address, () => register(s, facts, older), s.enclaves, "EnclaveRegistryNotNewer");
      await expectRefused(s, enclave.wallet.address, () => register(s, freshFacts, newer), s.enclaves, "EnclaveRegistryNotNewer");
      expect((await s.enclaves.enclaveKeyOf(enclave.wallet.address)).attestationDigest).to.equal(freshFacts.attestationDigest);
    });

    it("a revoked key stays revoked: replaying its attestation is refused, only a newer one revives it", async () => {
      const { s, enclave, document, facts } = await networkHelpers.loadFixture(withApprovedImage);
      const evidence = await evidenceFor(s, enclave, document, facts);
      await (await register(s, facts, evidence)).wait();
      await expect(s.enclaves.connect(s.stranger).revokeEnclaveKey(enclave.wallet.address)).to.be.revertedWithCustomError(s.enclaves, "EnclaveRegistryNotKeyOperator");
      await expect(s.enclaves.connect(s.operator).revokeEnclaveKey(enclave.wallet.address)).to.emit(s.enclaves, "EnclaveKeyRevoked");
      expect((await s.enclaves.enclaveKeyOf(enclave.wallet.address)).expiresAt).to.equal(0n);
      await expectRefused(s, enclave.wallet.address, () => register(s, facts, evidence), s.enclaves, "EnclaveRegistryNotNewer");
      await networkHelpers.time.increase(60);
      const { document: fresh, facts: freshFacts } = await enclaveDocument(s, enclave);
      await (await register(s, freshFacts, await evidenceFor(s, enclave, fresh, freshFacts))).wait();
      expect((await s.enclaves.enclaveKeyOf(enclave.wallet.address)).expiresAt > 0n).to.equal(true);
    });
  });
});
