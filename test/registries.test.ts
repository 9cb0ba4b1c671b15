import { expect } from "chai";
import type { Contract } from "ethers";
import { registerSigner, rotateSigner, signPermit, signSignerConsent } from "../src/settlement/client.ts";
import { ContractRevertError } from "../src/settlement/errors.ts";
import { InvalidInputError } from "../src/errors.ts";
import { connect } from "../src/settlement/deployment.ts";
import { deploymentOf } from "./helpers/enclave.ts";
import { Tier, tierMask } from "../src/receipts/tier.ts";
import { MIN_STAKE, PRICES, bindSigner, freshWeights, fund, inAnHour, registerModel, signerConsent, stakeOperator } from "./helpers/actors.ts";
import { OPG, deployOn, newChain } from "./helpers/system.ts";

const chain = await newChain();
const deployed = () => deployOn(chain);
const ZERO32 = "0x" + "00".repeat(32);

describe("ModelRegistry", () => {
  it("content-addresses models by owner and weights, and links versions", async () => {
    const s = await chain.networkHelpers.loadFixture(deployed);
    const weights = freshWeights();
    const id = await registerModel(s, { weights });
    expect(id).to.equal(s.ethers.keccak256(s.ethers.AbiCoder.defaultAbiCoder().encode(["address", "bytes32"], [s.modelOwner.address, weights])));
    const model = await s.models.modelOf(id);
    expect(model.owner).to.equal(s.modelOwner.address);
    expect(model.weightsCommitment).to.equal(weights);
    expect(await s.models.pricesOf(id)).to.deep.equal(PRICES);
    expect(await s.models.modelCount()).to.equal(1n);

    // Same weights, other owner: another model.
    const registration = { weightsCommitment: weights, metadataURI: "ipfs://x", prices: PRICES, acceptedTiers: tierMask([Tier.Signature]), previousVersion: ZERO32, verifyingKey: "0x" };
    await expect(s.models.connect(s.stranger).registerModel(registration)).to.emit(s.models, "ModelRegistered");
    await expect(s.models.connect(s.modelOwner).registerModel(registration)).to.be.revertedWithCustomError(s.models, "ModelRegistryAlreadyRegistered").withArgs(id);

    const v2 = freshWeights();
    await expect(s.models.connect(s.modelOwner).registerModel({ ...registration, weightsCommitment: v2, previousVersion: id }))
      .to.emit(s.models, "ModelRegistered")
      .withArgs(await s.models.modelIdOf(s.modelOwner.address, v2), s.modelOwner.address, v2, id, "ipfs://x");
    await expect(s.models.connect(s.stranger).registerModel({ ...registration, weightsCommitment: freshWeights(), previousVersion: id }))
      .to.be.revertedWithCustomError(s.models, "ModelRegistryInvalidPreviousVersion");
  });

  it("refuses malformed registrations", async () => {
    const s = await chain.networkHelpers.loadFixture(deployed);
    const base = { weightsCommitment: freshWeights(), metadataURI: "", prices: PRICES, acceptedTiers: tierMask([Tier.Signature]), previousVersion: ZERO32, verifyingKey: "0x" };
    await expect(s.models.registerModel({ ...base, weightsCommitment: ZERO32 })).to.be.revertedWithCustomError(s.models, "ModelRegistryZeroCommitment");
    await expect(s.models.registerModel({ ...base, acceptedTiers: 0 })).to.be.revertedWithCustomError(s.models, "ModelRegistryInvalidTiers");
    await expect(s.models.registerModel({ ...base, acceptedTiers: 1 })).to.be.revertedWithCustomError(s.models, "ModelRegistryInvalidTiers");
    await expect(s.models.registerModel({ ...base, acceptedTiers: tierMask([Tier.ZK]) })).to.be.revertedWithCustomError(s.models, "ModelRegistryVerifyingKeyMismatch");
    await expect(s.models.registerModel({ ...base, verifyingKey: "0x" + "00".repeat(64 * 9) })).to.be.revertedWithCustomError(s.models, "ModelRegistryVerifyingKeyMismatch");
    await expect(s.models.registerModel({ ...base, acceptedTiers: tierMask([Tier.ZK]), verifyingKey: "0x1234" })).to.be.revertedWithCustomError(s.verifier, "Groth16MalformedVerifyingKey");
  });

  it("lets only the owner update, emits an event on every change, and deprecates instead of deleting", async () => {
    const s = await chain.networkHelpers.loadFixture(deployed);
    const id = await registerModel(s);
    const other = s.models.connect(s.stranger);
    await expect(other.setPrices(id, [1n, 2n, 3n])).to.be.revertedWithCustomError(s.models, "ModelRegistryNotModelOwner").withArgs(id, s.stranger.address);
    await expect(other.setAcceptedTiers(id, tierMask([Tier.Signature]))).to.be.revertedWithCustomError(s.models, "ModelRegistryNotModelOwner");
    await expect(other.setMetadataURI(id, "ipfs://evil")).to.be.revertedWithCustomError(s.models, "ModelRegistryNotModelOwner");
    await expect(other.deprecate(id)).to.be.revertedWithCustomError(s.models, "ModelRegistryNotModelOwner");
    await expect(other.transferModelOwnership(id, s.stranger.address)).to.be.revertedWithCustomError(s.models, "ModelRegistryNotModelOwner");

    const owner = s.models.connect(s.modelOwner);
    await expect(owner.setPrices(id, [1n, 2n, 3n])).to.emit(s.models, "ModelPricesUpdated").withArgs(id, [1n, 2n, 3n]);
    await expect(owner.setAcceptedTiers(id, tierMask([Tier.TEE]))).to.emit(s.models, "ModelTiersUpdated").withArgs(id, tierMask([Tier.TEE]));
    await expect(owner.setAcceptedTiers(id, tierMask([Tier.ZK]))).to.be.revertedWithCustomError(s.models, "ModelRegistryVerifyingKeyMismatch");
    await expect(owner.setMetadataURI(id, "ipfs://v2")).to.emit(s.models, "ModelMetadataUpdated").withArgs(id, "ipfs://v2");
    await expect(owner.transferModelOwnership(id, s.ethers.ZeroAddress)).to.be.revertedWithCustomError(s.models, "ModelRegistryZeroAddress");
    await expect(owner.deprecate(id)).to.emit(s.models, "ModelDeprecated").withArgs(id);
    expect((await s.models.modelOf(id)).deprecated).to.equal(true);
    await expect(owner.setPrices(id, [1n, 2n, 3n])).to.be.revertedWithCustomError(s.models, "ModelRegistryDeprecated");
    await expect(s.models.modelOf(ZERO32)).to.be.revertedWithCustomError(s.models, "ModelRegistryUnknownModel");
  });

  it("approves enclave images by the model owner only; governance may only revoke", async () => {
    const s = await chain.networkHelpers.loadFixture(deployed);
    const id = await registerModel(s);
    const image = "0x" + "ab".repeat(32);
    await expect(s.models.connect(s.stranger).approveEnclaveImage(id, image)).to.be.revertedWithCustomError(s.models, "ModelRegistryNotModelOwner").withArgs(id, s.stranger.address);
    expect(await s.models.hasRole(await s.models.GOVERNANCE_ROLE(), s.admin.address)).to.equal(true);
    await expect(s.models.connect(s.admin).approveEnclaveImage(id, image)).to.be.revertedWithCustomError(s.models, "ModelRegistryNotModelOwner").withArgs(id, s.admin.address);
    await expect(s.models.connect(s.stranger).revokeEnclaveImage(id, image)).to.be.revertedWithCustomError(s.models, "ModelRegistryNotOwnerOrGovernance");
    await expect(s.models.connect(s.modelOwner).approveEnclaveImage(id, ZERO32)).to.be.revertedWithCustomError(s.models, "ModelRegistryZeroImage");
    await expect(s.models.connect(s.modelOwner).approveEnclaveImage(id, image)).to.emit(s.models, "EnclaveImageApproved").withArgs(id, image, s.modelOwner.address);
    expect(await s.models.isImageApproved(id, image)).to.equal(true);
    await expect(s.models.connect(s.admin).revokeEnclaveImage(id, image)).to.emit(s.models, "EnclaveImageRevoked").withArgs(id, image, s.admin.address);
    expect(await s.models.isImageApproved(id, image)).to.equal(false);
    await expect(s.models.connect(s.modelOwner).revokeEnclaveImage(id, image)).to.emit(s.models, "EnclaveImageRevoked").withArgs(id, image, s.modelOwner.address);
  });
});

describe("OperatorRegistry", () => {
  it("stakes with a permit, binds signers, and refuses taken or foreign signers", async () => {
    const s = await chain.networkHelpers.loadFixture(deployed);
    await fund(s, s.operator, MIN_STAKE);
    const deadline = BigInt(await s.networkHelpers.time.latest()) + 3600n;
    const { v, r, s: sigS } = await signPermit(s.token as unknown as Contract, s.operator, await s.operators.getAddress(), MIN_STAKE, deadline);
    await expect(s.operators.connect(s.operator).stakeWithPermit(MIN_STAKE, deadline, v, r, sigS)).to.emit(s.operators, "Staked").withArgs(s.operator.address, MIN_STAKE, MIN_STAKE);
    expect(await s.operators.isActive(s.operator.address)).to.equal(true);
    await bindSigner(s, s.operator, s.stranger);
    expect(await s.operators.activeOperatorOf(s.stranger.address)).to.equal(s.operator.address);
    await expect(s.operators.connect(s.requester).registerSigner(s.stranger.address, deadline, await signerConsent(s, s.requester, s.stranger, deadline))).to.be.revertedWithCustomError(s.operators, "OperatorRegistrySignerTaken");
    await expect(s.operators.connect(s.requester).removeSigner(s.stranger.address)).to.be.revertedWithCustomError(s.operators, "OperatorRegistryNotSignerOwner");
    await expect(s.operators.connect(s.operator).registerSigner(s.ethers.ZeroAddress, deadline, "0x")).to.be.revertedWithCustomError(s.operators, "OperatorRegistryZeroAddress");
    await expect(s.operators.connect(s.operator).stake(0)).to.be.revertedWithCustomError(s.operators, "OperatorRegistryZeroAmount");
  });

  it("binds a key only with its consent: a front-run registration or rotation with someone else's key fails", async () => {
    const s = await chain.networkHelpers.loadFixture(deployed);
    const c = connect(await deploymentOf(s), s.ethers.provider);
    const key = s.treasury; // the key the operator wants to bind
    const deadline = await inAnHour(s);

    // The operator's transaction is in the mempool; the attacker copies its arguments, or signs for the key itself.
    const consent = await signSignerConsent(c, key, s.operator.address, deadline);
    await expect(s.operators.connect(s.stranger).registerSigner(key.address, deadline, consent))
      .to.be.revertedWithCustomError(s.operators, "OperatorRegistryInvalidSignerConsent").withArgs(key.address, s.stranger.address);
    const forged = await s.stranger.signTypedData(
      { name: "OPG OperatorRegistry", version: "1", chainId: (await s.ethers.provider.getNetwork()).chainId, verifyingContract: await s.operators.getAddress() },
      { SignerConsent: [{ name: "operator", type: "address" }, { name: "signer", type: "address" }, { name: "nonce", type: "uint256" }, { name: "deadline", type: "uint256" }] },
      { operator: s.stranger.address, signer: key.address, nonce: 0n, deadline },
    );
    await expect(s.operators.connect(s.stranger).registerSigner(key.address, deadline, forged)).to.be.revertedWithCustomError(s.operators, "OperatorRegistryInvalidSignerConsent");
    await expect(s.operators.connect(s.stranger).registerSigner(key.address, deadline, "0x")).to.be.revertedWithCustomError(s.operators, "OperatorRegistryInvalidSignerConsent");
    expect(await s.operators.operatorOfSigner(key.address)).to.equal(s.ethers.ZeroAddress);

    // The operator's own transaction goes through, through the toolkit too.
    await expect(s.operators.connect(s.operator).registerSigner(key.address, deadline, consent)).to.emit(s.operators, "SignerRegistered").withArgs(s.operator.address, key.address);
    expect(await s.operators.nonces(key.address)).to.equal(1n);
    await expect(s.operators.connect(s.operator).registerSigner(key.address, deadline, consent)).to.be.revertedWithCustomError(s.operators, "OperatorRegistrySignerTaken");

    // Rotation: the new key must consent to this operator; the old consent cannot be replayed after removal.
    const next = s.requester;
    const forStranger = await signSignerConsent(c, next, s.stranger.address, deadline);
    await expect(s.operators.connect(s.operator).rotateSigner(key.address, next.address, deadline, forStranger))
      .to.be.revertedWithCustomError(s.operators, "OperatorRegistryInvalidSignerConsent").withArgs(next.address, s.operator.address);
    const rotated = await rotateSigner(connect(await deploymentOf(s), s.operator), s.operator, key.address, next, deadline);
    expect(rotated.signer).to.equal(next.address);
    expect(await s.operators.operatorOfSigner(next.address)).to.equal(s.operator.address);
    expect(await s.operators.operatorOfSigner(key.address)).to.equal(s.ethers.ZeroAddress);
    await expect(s.operators.connect(s.operator).registerSigner(key.address, deadline, consent)).to.be.revertedWithCustomError(s.operators, "OperatorRegistryInvalidSignerConsent");

    // The operator binds itself without a consent; the toolkit refuses to bind a foreign address without its Signer.
    await registerSigner(connect(await deploymentOf(s), s.operator), s.operator, s.operator.address, deadline);
    expect(await s.operators.operatorOfSigner(s.operator.address)).to.equal(s.operator.address);
    const refused = await registerSigner(connect(await deploymentOf(s), s.operator), s.operator, s.stranger.address, deadline).then(() => undefined, (e: unknown) => e);
    expect(refused).to.be.instanceOf(InvalidInputError);

    // A consent past its deadline is refused, and the error is decoded by the toolkit.
    const late = await signSignerConsent(c, s.stranger, s.operator.address, deadline);
    await s.networkHelpers.time.increaseTo(deadline + 1n);
    const expired = await registerSigner(connect(await deploymentOf(s), s.operator), s.operator, s.stranger, deadline).then(() => undefined, (e: unknown) => e);
    expect(expired).to.be.instanceOf(ContractRevertError);
    expect((expired as ContractRevertError).errorName).to.equal("OperatorRegistryConsentExpired");
    await expect(s.operators.connect(s.operator).registerSigner(s.stranger.address, deadline, late)).to.be.revertedWithCustomError(s.operators, "OperatorRegistryConsentExpired").withArgs(deadline);
  });

  it("keeps unbonding stake slashable and locked until the delay has passed", async () => {
    const s = await chain.networkHelpers.loadFixture(deployed);
    await stakeOperator(s);
    const delay = await s.operators.unbondingDelay();
    await expect(s.operators.connect(s.operator).requestUnbond(MIN_STAKE + 1n)).to.be.revertedWithCustomError(s.operators, "OperatorRegistryInsufficientStake");
    await (await s.operators.connect(s.operator).requestUnbond(MIN_STAKE)).wait();
    expect(await s.operators.isActive(s.operator.address)).to.equal(false);
    await expect(s.operators.connect(s.operator).withdraw(s.operator.address)).to.be.revertedWithCustomError(s.operators, "OperatorRegistryNotReleasable");
    await s.networkHelpers.time.increase(delay - 10n);
    await expect(s.operators.connect(s.operator).withdraw(s.operator.address)).to.be.revertedWithCustomError(s.operators, "OperatorRegistryNotReleasable");

    // Slashing reaches unbonding stake, and only with the role.
    const reason = s.ethers.id("dispute-1");
    await expect(s.operators.connect(s.stranger).slash(s.operator.address, OPG, s.treasury.address, reason)).to.be.revertedWithCustomError(s.operators, "AccessControlUnauthorizedAccount");
    await (await s.operators.connect(s.admin).grantRole(await s.operators.SLASHER_ROLE(), s.stranger.address)).wait();
    await expect(s.operators.connect(s.stranger).slash(s.operator.address, MIN_STAKE + 1n, s.treasury.address, reason)).to.be.revertedWithCustomError(s.operators, "OperatorRegistryInsufficientStake");
    await expect(s.operators.connect(s.stranger).slash(s.operator.address, OPG, s.treasury.address, reason))
      .to.emit(s.operators, "Slashed").withArgs(s.operator.address, OPG, s.treasury.address, reason);
    expect(await s.token.balanceOf(s.treasury.address)).to.equal(OPG);

    await s.networkHelpers.time.increase(20n);
    await expect(s.operators.connect(s.operator).withdraw(s.operator.address)).to.emit(s.operators, "StakeWithdrawn").withArgs(s.operator.address, s.operator.address, MIN_STAKE - OPG);
    await expect(s.operators.connect(s.operator).withdraw(s.operator.address)).to.be.revertedWithCustomError(s.operators, "OperatorRegistryNotReleasable");
  });

  it("restarts the delay when more is unbonded, and cancels back to bonded", async () => {
    const s = await chain.networkHelpers.loadFixture(deployed);
    await stakeOperator(s);
    const delay = await s.operators.unbondingDelay();
    await (await s.operators.connect(s.operator).requestUnbond(OPG)).wait();
    await s.networkHelpers.time.increase(delay - 5n);
    await (await s.operators.connect(s.operator).requestUnbond(OPG)).wait();
    await s.networkHelpers.time.increase(10n);
    await expect(s.operators.connect(s.operator).withdraw(s.operator.address)).to.be.revertedWithCustomError(s.operators, "OperatorRegistryNotReleasable");
    await expect(s.operators.connect(s.operator).cancelUnbond()).to.emit(s.operators, "UnbondingCancelled").withArgs(s.operator.address, 2n * OPG);
    expect((await s.operators.stakeOf(s.operator.address)).bonded).to.equal(MIN_STAKE);
    await expect(s.operators.connect(s.operator).cancelUnbond()).to.be.revertedWithCustomError(s.operators, "OperatorRegistryZeroAmount");
  });
});

describe("FeeEscrow (in the hub)", () => {
  it("pays out by pull withdrawals and sends the treasury share to the treasury", async () => {
    const s = await chain.networkHelpers.loadFixture(deployed);
    await fund(s, s.requester, 10n * OPG);
    await (await s.token.connect(s.requester).approve(await s.hub.getAddress(), 10n * OPG)).wait();
    await expect(s.hub.connect(s.requester).deposit(s.requester.address, 10n * OPG)).to.emit(s.hub, "Deposited").withArgs(s.requester.address, s.requester.address, 10n * OPG);
    await expect(s.hub.connect(s.requester).withdraw(s.requester.address, 11n * OPG)).to.be.revertedWithCustomError(s.hub, "FeeEscrowInsufficientBalance");
    await expect(s.hub.connect(s.requester).withdraw(s.ethers.ZeroAddress, OPG)).to.be.revertedWithCustomError(s.hub, "FeeEscrowZeroAddress");
    await expect(s.hub.connect(s.requester).withdraw(s.requester.address, 0)).to.be.revertedWithCustomError(s.hub, "FeeEscrowZeroAmount");
    await expect(s.hub.connect(s.requester).deposit(s.ethers.ZeroAddress, OPG)).to.be.revertedWithCustomError(s.hub, "FeeEscrowZeroAddress");
    await expect(s.hub.connect(s.requester).withdraw(s.stranger.address, 4n * OPG)).to.emit(s.hub, "Withdrawn").withArgs(s.requester.address, s.stranger.address, 4n * OPG);
    expect(await s.token.balanceOf(s.stranger.address)).to.equal(4n * OPG);
    expect(await s.hub.balanceOf(s.requester.address)).to.equal(6n * OPG);
    await expect(s.hub.withdrawTreasury()).to.be.revertedWithCustomError(s.hub, "FeeEscrowZeroAmount");
  });

  it("lets only the fee admin change the split, never above 100%", async () => {
    const s = await chain.networkHelpers.loadFixture(deployed);
    await expect(s.hub.connect(s.stranger).setFeeSplit(1, 1)).to.be.revertedWithCustomError(s.hub, "AccessControlUnauthorizedAccount");
    await expect(s.hub.connect(s.admin).setFeeSplit(9000, 1001)).to.be.revertedWithCustomError(s.hub, "FeeEscrowInvalidSplit").withArgs(9000, 1001);
    await expect(s.hub.connect(s.admin).setFeeSplit(9000, 1000)).to.emit(s.hub, "FeeSplitUpdated").withArgs(9000, 1000);
    await expect(s.hub.connect(s.admin).setTreasury(s.ethers.ZeroAddress)).to.be.revertedWithCustomError(s.hub, "FeeEscrowZeroAddress");
  });

  it("refuses zero addresses at deployment", async () => {
    const s = await chain.networkHelpers.loadFixture(deployed);
    const zero = s.ethers.ZeroAddress;
    const factory = await s.ethers.getContractFactory("InferenceHub");
    const config = { admin: s.admin.address, feeToken: await s.token.getAddress(), treasury: s.treasury.address, operatorBps: 7000, modelOwnerBps: 2000, models: await s.models.getAddress(), operators: await s.operators.getAddress(), enclaves: await s.enclaves.getAddress(), verifier: await s.verifier.getAddress() };
    await expect(factory.deploy({ ...config, treasury: zero })).to.be.revertedWithCustomError(factory, "FeeEscrowZeroAddress");
    await expect(factory.deploy({ ...config, models: zero })).to.be.revertedWithCustomError(factory, "InferenceHubZeroAddress");
    await expect(factory.deploy({ ...config, operatorBps: 10001 })).to.be.revertedWithCustomError(factory, "FeeEscrowInvalidSplit");
    const registry = await s.ethers.getContractFactory("OperatorRegistry");
    await expect(registry.deploy(s.admin.address, zero, 1, 1)).to.be.revertedWithCustomError(registry, "OperatorRegistryZeroAddress");
    await expect(registry.deploy(s.admin.address, await s.token.getAddress(), 1, 0)).to.be.revertedWithCustomError(registry, "OperatorRegistryInvalidDelay");
    const models = await s.ethers.getContractFactory("ModelRegistry");
    await expect(models.deploy(zero, await s.verifier.getAddress())).to.be.revertedWithCustomError(models, "AccessControlInvalidDefaultAdmin");
    await expect(models.deploy(s.admin.address, zero)).to.be.revertedWithCustomError(models, "ModelRegistryZeroAddress");
  });
});

describe("admin roles and the attestation verifier", () => {
  it("moves the default admin in two steps, after a delay, in every contract that has one", async () => {
    const s = await chain.networkHelpers.loadFixture(deployed);
    for (const contract of [s.models, s.operators, s.enclaves, s.quorum, s.hub]) {
      const role = await contract.DEFAULT_ADMIN_ROLE();
      await expect(contract.connect(s.admin).grantRole(role, s.stranger.address)).to.be.revertedWithCustomError(contract, "AccessControlEnforcedDefaultAdminRules");
      expect(await contract.defaultAdminDelay()).to.equal(2n * 86_400n);
      await (await contract.connect(s.admin).beginDefaultAdminTransfer(s.stranger.address)).wait();
      await expect(contract.connect(s.stranger).acceptDefaultAdminTransfer()).to.be.revertedWithCustomError(contract, "AccessControlEnforcedDefaultAdminDelay");
    }
    await s.networkHelpers.time.increase(2 * 86_400 + 1);
    for (const contract of [s.models, s.operators, s.enclaves, s.quorum, s.hub]) {
      await (await contract.connect(s.stranger).acceptDefaultAdminTransfer()).wait();
      expect(await contract.defaultAdmin()).to.equal(s.stranger.address);
      expect(await contract.hasRole(await contract.DEFAULT_ADMIN_ROLE(), s.admin.address)).to.equal(false);
    }
  });

  it("swaps the attestation verifier only after a proposal has waited out its delay", async () => {
    const s = await chain.networkHelpers.loadFixture(deployed);
    const current = await s.enclaves.attestationVerifier();
    const next = await (await s.ethers.deployContract("AttesterQuorum", [s.admin.address, [s.stranger.address], 1])).getAddress();
    const delay = await s.enclaves.VERIFIER_CHANGE_DELAY();
    expect(delay).to.equal(3n * 86_400n);
    await expect(s.enclaves.connect(s.stranger).proposeAttestationVerifier(next)).to.be.revertedWithCustomError(s.enclaves, "AccessControlUnauthorizedAccount");
    await expect(s.enclaves.connect(s.admin).acceptAttestationVerifier()).to.be.revertedWithCustomError(s.enclaves, "EnclaveRegistryNoPendingVerifier");
    await expect(s.enclaves.connect(s.admin).proposeAttestationVerifier(s.ethers.ZeroAddress)).to.be.revertedWithCustomError(s.enclaves, "EnclaveRegistryZeroAddress");

    const proposed = await s.enclaves.connect(s.admin).proposeAttestationVerifier(next);
    const effectiveAt = BigInt((await s.ethers.provider.getBlock((await proposed.wait())!.blockNumber))!.timestamp) + delay;
    await expect(proposed).to.emit(s.enclaves, "AttestationVerifierProposed").withArgs(next, effectiveAt);
    expect(await s.enclaves.attestationVerifier()).to.equal(current);
    expect(await s.enclaves.pendingAttestationVerifier()).to.equal(next);
    await expect(s.enclaves.connect(s.admin).acceptAttestationVerifier()).to.be.revertedWithCustomError(s.enclaves, "EnclaveRegistryVerifierChangeNotReady").withArgs(effectiveAt);
    await s.networkHelpers.time.increaseTo(effectiveAt - 2n); // the next block is one second before effectiveAt
    await expect(s.enclaves.connect(s.admin).acceptAttestationVerifier()).to.be.revertedWithCustomError(s.enclaves, "EnclaveRegistryVerifierChangeNotReady");
    await s.networkHelpers.time.increaseTo(effectiveAt);
    await expect(s.enclaves.connect(s.stranger).acceptAttestationVerifier()).to.be.revertedWithCustomError(s.enclaves, "AccessControlUnauthorizedAccount");
    await expect(s.enclaves.connect(s.admin).acceptAttestationVerifier()).to.emit(s.enclaves, "AttestationVerifierUpdated").withArgs(next);
    expect(await s.enclaves.attestationVerifier()).to.equal(next);
    expect(await s.enclaves.pendingAttestationVerifier()).to.equal(s.ethers.ZeroAddress);

    // A proposal can be cancelled before it is accepted.
    await (await s.enclaves.connect(s.admin).proposeAttestationVerifier(current)).wait();
    await expect(s.enclaves.connect(s.admin).cancelAttestationVerifier()).to.emit(s.enclaves, "AttestationVerifierProposalCancelled").withArgs(current);
    await s.networkHelpers.time.increase(delay);
    await expect(s.enclaves.connect(s.admin).acceptAttestationVerifier()).to.be.revertedWithCustomError(s.enclaves, "EnclaveRegistryNoPendingVerifier");
    expect(await s.enclaves.attestationVerifier()).to.equal(next);
  });
});
