/**
 * The bench and demo TEE steps run end to end on fresh chains: the numbers are real measurements, and the demo's
 * receipt really is recorded at tier TEE with the TEE price.
 */
import { expect } from "chai";
import { benchTeeGas } from "../scripts/bench/tee.ts";
import { runTeeStep } from "../scripts/demo/tee.ts";
import { hubDomain } from "../src/receipts/index.ts";
import { Tier } from "../src/receipts/tier.ts";
import { connect, readResult, splitFee } from "../src/settlement/index.ts";
import { PRICES } from "./helpers/actors.ts";
import { deployTeeSystem } from "./helpers/enclave.ts";
import { newChain } from "./helpers/system.ts";

describe("TEE bench and demo step", () => {
  it("benchTeeGas measures image approval, 2-of-3 registration, renewal and TEE receipts", async () => {
    const gas = await benchTeeGas(await newChain());
    expect(Object.keys(gas)).to.deep.equal(["gasTeeImageApproval", "gasTeeKeyRegistration2of3", "gasTeeKeyRenewal2of3", "gasTeeReceiptFirst", "gasTeeReceipt"]);
    for (const [name, value] of Object.entries(gas)) expect(Number.isInteger(value) && value > 21_000 && value < 1_000_000, `${name} = ${value}`).to.equal(true);
    // The first receipt pays for zero → non-zero credits; the steady state does not.
    expect(gas.gasTeeReceiptFirst! > gas.gasTeeReceipt!).to.equal(true);
    // A renewal overwrites the key's slots instead of creating them.
    expect(gas.gasTeeKeyRenewal2of3! < gas.gasTeeKeyRegistration2of3!).to.equal(true);
  });

  it("runTeeStep registers a fresh enclave and settles its receipt at tier TEE", async () => {
    const chain = await newChain();
    const s = await deployTeeSystem(chain);
    const deadline = BigInt(await s.networkHelpers.time.latest()) + 3600n;
    const domain = hubDomain(s.chainId, s.deployment.hub);
    const result = await runTeeStep({
      connection: chain,
      deployment: s.deployment,
      modelId: s.modelId,
      operator: s.operator,
      modelOwner: s.modelOwner,
      requester: s.requester,
      attesters: s.attesters,
      deadline,
      domain,
    });
    expect(result.settlement.fee).to.deep.equal(splitFee(PRICES[1], 7000n, 2000n));
    const stored = await s.enclaves.enclaveKeyOf(result.enclaveKey);
    expect([stored.operator, stored.imageId]).to.deep.equal([s.operator.address, result.imageId]);
    expect(await s.models.isImageApproved(s.modelId, result.imageId)).to.equal(true);
    const recorded = await readResult(connect(s.deployment, s.ethers.provider).hub, result.settlement.id);
    expect(recorded.tier).to.equal(Tier.TEE);
  });
});
