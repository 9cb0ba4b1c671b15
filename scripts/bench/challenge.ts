/**
 * Gas of fraud proofs: a challenge that refutes a wrong signature result, and what the challenge window
 * adds to a signature receipt (the same receipts with fraud proofs off, then on).
 */
import type { network } from "hardhat";
import { Tier } from "../../src/receipts/tier.ts";
import { connect, depositWithPermit, registerModel, stakeOperator } from "../../src/settlement/index.ts";
import { zkRegistrationFields } from "../../src/pipeline/index.ts";
import type { ZkBuild } from "../../src/zkml/index.ts";
import { runChallenge } from "../demo/challenge.ts";
import { deploySystem } from "../demo/system.ts";

type Connection = Awaited<ReturnType<typeof network.create>>;
const OPG = 10n ** 18n;

export async function benchChallenge(connection: Connection, head: { build: ZkBuild; input: number[] }): Promise<{ gas: number; pendingReceipt: number; finalReceipt: number; pendingExtra: number }> {
  const { ethers } = connection;
  const [admin, modelOwner, operator, requester, treasury, a1, a2, a3, , challenger] = await ethers.getSigners();
  if (!admin || !modelOwner || !operator || !requester || !treasury || !a1 || !a2 || !a3 || !challenger) throw new Error("the embedded chain needs ten accounts");
  const { chainId } = await ethers.provider.getNetwork();
  const deployment = await deploySystem(connection, { treasury: treasury.address, attesters: [a1.address, a2.address, a3.address], attesterThreshold: 2 });
  const asAdmin = connect(deployment, admin);
  for (const who of [operator, requester]) await (await asAdmin.token.getFunction("transfer")(who.address, 100_000n * OPG)).wait();
  const deadline = BigInt((await ethers.provider.getBlock("latest"))!.timestamp) + 3600n;
  const prices = [1n * OPG, 5n * OPG, 50n * OPG] as const;
  const { modelId } = await registerModel(connect(deployment, modelOwner), { ...zkRegistrationFields(head.build), metadataURI: "ipfs://classifier", prices, tiers: [Tier.Signature, Tier.ZK] });
  await stakeOperator(connect(deployment, operator), operator, 10_000n * OPG, operator.address, deadline);
  await depositWithPermit(connect(deployment, requester), requester, 10_000n * OPG, deadline);
  const run = { deployment, chainId, modelId, build: head.build, input: head.input, operator, requester, challenger, price: prices[0], deadline, honest: 3 };

  const [disputes, window, multiple] = (await asAdmin.hub.getFunction("disputeConfig")()) as [string, bigint, bigint];
  await (await asAdmin.hub.getFunction("setDisputeConfig")(disputes, 0, multiple)).wait();
  const off = await runChallenge(run);
  await (await asAdmin.hub.getFunction("setDisputeConfig")(disputes, window, multiple)).wait();
  const on = await runChallenge(run);
  const challenge = on.challenges[0];
  if (challenge === undefined) throw new Error("the wrong result was not refuted");
  return { gas: challenge.gasUsed, pendingReceipt: on.pendingReceiptGas, finalReceipt: off.pendingReceiptGas, pendingExtra: on.pendingReceiptGas - off.pendingReceiptGas };
}
