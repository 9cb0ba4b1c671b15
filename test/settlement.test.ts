import { expect } from "chai";
import { Interface } from "ethers";
import hre from "hardhat";
import {
  ATTESTER_QUORUM_ABI,
  ENCLAVE_REGISTRY_ABI,
  HUB_ABI,
  MODEL_REGISTRY_ABI,
  OPERATOR_REGISTRY_ABI,
  TOKEN_ABI,
  connect,
  depositWithPermit,
  readResult,
  registerModel,
  splitFee,
  stakeOperator,
  submitSigned,
  ContractRevertError,
} from "../src/settlement/index.ts";
import { Tier } from "../src/receipts/tier.ts";
import { INFERENCE_CONSUMER_ABI, REQUEST_BOOK_ABI } from "../src/requests/abi.ts";
import { MIN_STAKE, fund, makeReceipt, sign } from "./helpers/actors.ts";
import { OPG, deployOn, newChain } from "./helpers/system.ts";

const chain = await newChain();
const deployed = () => deployOn(chain);

describe("settlement toolkit", () => {
  const pairs: [string, readonly string[]][] = [
    ["InferenceHub", HUB_ABI],
    ["ModelRegistry", MODEL_REGISTRY_ABI],
    ["OperatorRegistry", OPERATOR_REGISTRY_ABI],
    ["EnclaveRegistry", ENCLAVE_REGISTRY_ABI],
    ["AttesterQuorum", ATTESTER_QUORUM_ABI],
    ["OPGToken", TOKEN_ABI],
    ["RequestBook", REQUEST_BOOK_ABI],
    ["RequestingConsumer", INFERENCE_CONSUMER_ABI],
  ];
  for (const [name, abi] of pairs) {
    it(`hand-written ${name} ABI matches the compiled contract`, async () => {
      const artifact = await hre.artifacts.readArtifact(name);
      const compiled = new Interface(artifact.abi);
      const written = new Interface(abi);
      written.forEachFunction((f) => expect(compiled.getFunction(f.selector)?.format("minimal"), f.format("full")).to.equal(f.format("minimal")));
      written.forEachEvent((e) => expect(compiled.getEvent(e.topicHash)?.format("minimal"), e.format("full")).to.equal(e.format("minimal")));
      written.forEachError((e) => {
        // Errors of the contracts a hub call reaches (registries, verifier) are listed with the hub.
        const found = compiled.getError(e.selector);
        if (found !== null) expect(found.format("minimal")).to.equal(e.format("minimal"));
      });
    });
  }

  it("splits fees like the contract: shares round down, parts sum exactly", () => {
    for (const fee of [0n, 1n, 9n, 12_345n, 10n ** 18n + 7n]) {
      const parts = splitFee(fee, 7000n, 2000n);
      expect(parts.operator + parts.modelOwner + parts.treasury).to.equal(fee);
      expect(parts.operator).to.equal((fee * 7000n) / 10000n);
    }
  });

  it("registers, stakes, deposits with a permit, submits and reads back through plain ethers contracts", async () => {
    const s = await chain.networkHelpers.loadFixture(deployed);
    const deployment = {
      token: await s.token.getAddress(), hub: await s.hub.getAddress(), models: await s.models.getAddress(), operators: await s.operators.getAddress(),
      enclaves: await s.enclaves.getAddress(), quorum: await s.quorum.getAddress(), verifier: await s.verifier.getAddress(),
    };
    const deadline = BigInt(await s.networkHelpers.time.latest()) + 3600n;
    const { modelId } = await registerModel(connect(deployment, s.modelOwner), {
      weightsCommitment: `0x${"ee".repeat(32)}`, metadataURI: "ipfs://card", prices: [3n * OPG, 4n * OPG, 5n * OPG], tiers: [Tier.Signature],
    });
    await fund(s, s.operator, MIN_STAKE);
    await stakeOperator(connect(deployment, s.operator), s.operator, MIN_STAKE, s.operator.address, deadline);
    await fund(s, s.requester, 10n * OPG);
    await depositWithPermit(connect(deployment, s.requester), s.requester, 10n * OPG, deadline);

    const receipt = await makeReceipt(s, modelId);
    const hub = connect(deployment, s.requester).hub;
    const settled = await submitSigned(hub, receipt, s.operator.address, await sign(s, receipt), 3n * OPG);
    expect(settled.fee).to.deep.equal(splitFee(3n * OPG, 7000n, 2000n));
    expect(settled.steps).to.deep.equal([splitFee(3n * OPG, 7000n, 2000n)]);
    const result = await readResult(hub, settled.id);
    expect(result.tier).to.equal(Tier.Signature);
    expect(result.stepTiers).to.deep.equal([Tier.Signature]);
    expect(result.outputCommitment).to.equal(receipt.outputCommitment);

    const replay = submitSigned(hub, receipt, s.operator.address, await sign(s, receipt), 3n * OPG);
    await replay.then(
      () => expect.fail("a replay must be refused"),
      (error: unknown) => {
        expect(error).to.be.instanceOf(ContractRevertError);
        expect((error as ContractRevertError).errorName).to.equal("InferenceHubAlreadyVerified");
        expect((error as ContractRevertError).message).to.match(/^refused on-chain: InferenceHubAlreadyVerified\(0x/);
      },
    );
  });
});
