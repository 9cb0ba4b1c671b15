/**
 * Submits signed receipts and settles their OPG fees against a deployed system on any network:
 *
 *   npx hardhat node                                                    # terminal 1
 *   npx hardhat ignition deploy ignition/modules/OpgSystem.ts --network localhost
 *   npx hardhat run scripts/settle.ts --network localhost
 *
 * or with `--network rpc` (OPG_RPC_URL and OPG_PRIVATE_KEY configuration variables). The first account
 * is the requester; the operator's key is OPG_OPERATOR_KEY (default: the network's second account).
 * Environment: OPG_MODEL_ID (default: register a demo model), OPG_RECEIPTS (default 3),
 * OPG_DEPOSIT (OPG, default 10).
 */
import { Wallet, formatEther, parseEther, type Signer } from "ethers";
import { readFile } from "node:fs/promises";
import { network } from "hardhat";
import { commitBytes } from "../src/commitments/index.ts";
import { buildReceipt, hubDomain, receiptId, signReceipt } from "../src/receipts/index.ts";
import { Tier } from "../src/receipts/tier.ts";
import { connect, deploymentFromIgnition, depositWithPermit, ignitionAddressesPath, readResult, registerModel, stakeOperator, submitSigned } from "../src/settlement/index.ts";

const { ethers } = await network.create();
const { chainId } = await ethers.provider.getNetwork();
const deployment = deploymentFromIgnition(JSON.parse(await readFile(ignitionAddressesPath(process.cwd(), chainId), "utf8")) as Record<string, unknown>);
const [requester, second] = await ethers.getSigners();
if (requester === undefined) throw new Error("the network has no account to act as requester");
const operatorKey = process.env["OPG_OPERATOR_KEY"];
const operator: Signer = operatorKey ? new Wallet(operatorKey, ethers.provider) : (second ?? requester);
const operatorAddress = await operator.getAddress();
const deadline = BigInt((await ethers.provider.getBlock("latest"))!.timestamp) + 3600n;
const asRequester = connect(deployment, requester);

let modelId = process.env["OPG_MODEL_ID"];
if (modelId === undefined) {
  ({ modelId } = await registerModel(asRequester, {
    weightsCommitment: ethers.id(`settle.ts demo model ${Date.now()}`) as `0x${string}`,
    metadataURI: "ipfs://demo",
    prices: [parseEther("0.1"), parseEther("0.5"), parseEther("5")],
    tiers: [Tier.Signature],
  }));
  console.log(`registered model ${modelId}`);
}
const price = ((await asRequester.models.getFunction("pricesOf")(modelId)) as bigint[])[0]!;

if (!((await asRequester.operators.getFunction("isActive")(operatorAddress)) as boolean)) {
  const stake = (await asRequester.operators.getFunction("minimumStake")()) as bigint;
  if (((await asRequester.token.getFunction("balanceOf")(operatorAddress)) as bigint) < stake) {
    await (await asRequester.token.getFunction("transfer")(operatorAddress, stake)).wait();
  }
  await stakeOperator(connect(deployment, operator), operator, stake, operatorAddress, deadline);
  console.log(`staked operator ${operatorAddress}`);
}

const deposit = parseEther(process.env["OPG_DEPOSIT"] ?? "10");
await depositWithPermit(asRequester, requester, deposit, deadline);
console.log(`deposited ${formatEther(deposit)} OPG with a permit`);

const domain = hubDomain(chainId, deployment.hub);
const count = Number(process.env["OPG_RECEIPTS"] ?? "3");
const base = BigInt(Date.now());
for (let i = 0; i < count; i++) {
  const receipt = buildReceipt({
    modelId,
    inputCommitment: await commitBytes(new TextEncoder().encode(`prompt ${i}`)),
    outputCommitment: await commitBytes(new TextEncoder().encode(`answer ${i}`)),
    requester: requester.address,
    operator: operatorAddress,
    nonce: base + BigInt(i),
    deadline,
    tier: Tier.Signature,
  });
  const settled = await submitSigned(asRequester.hub, receipt, operatorAddress, await signReceipt(receipt, domain, operator), price);
  const result = await readResult(asRequester.hub, receiptId(chainId, deployment.hub, requester.address, modelId, receipt.nonce));
  console.log(
    `receipt ${settled.id} tier ${result.tier === Tier.Signature ? "signature" : result.tier} gas ${settled.gasUsed} fee ${formatEther(settled.fee.fee)} → operator ${formatEther(settled.fee.operator)}, owner ${formatEther(settled.fee.modelOwner)}, treasury ${formatEther(settled.fee.treasury)}`,
  );
}

const earned = (await asRequester.hub.getFunction("balanceOf")(operatorAddress)) as bigint;
if (earned > 0n) {
  await (await (connect(deployment, operator).hub.getFunction("withdraw"))(operatorAddress, earned)).wait();
  console.log(`operator withdrew ${formatEther(earned)} OPG (pull payment)`);
}
