import type { network } from "hardhat";
import { formatEther } from "ethers";
import { commitBytes } from "../../src/commitments/index.ts";
import { OperationBuilder, handOffCommitment, zkEvidence, zkRegistrationFields } from "../../src/pipeline/index.ts";
import { bindingOf, buildReceipt, hubDomain, receiptId, signReceipt } from "../../src/receipts/index.ts";
import { prove } from "../../src/zkml/index.ts";
import { deploySystem } from "./system.ts";
import { classify, deployConsumer, startNode, type DemoRequest } from "./requests.ts";
import { runChallenge, type DemoChallenge } from "./challenge.ts";
import { runTeeStep } from "./tee.ts";
import { demoHead } from "./zk.ts";
import { Tier, tierName } from "../../src/receipts/tier.ts";
import {
  connect,
  depositWithPermit,
  readResult,
  registerModel,
  splitFee,
  stakeOperator,
  submitOperation,
  submitProven,
  submitSigned,
  type FeeParts,
  type Settlement,
} from "../../src/settlement/index.ts";

type Connection = Awaited<ReturnType<typeof network.create>>;

const OPG = 10n ** 18n;

export interface DemoReceipt {
  id: string;
  tier: string;
  verified: boolean;
  gasUsed: number;
  fee: string;
  steps?: { tier: string; gasUsed?: number; fee: string; modelId: string }[];
}

export interface DemoReport {
  chainId: number;
  receipts: DemoReceipt[];
  fees: { paid: string; operator: string; modelOwner: string; treasury: string };
  /** Requests served by the operator node for an example consumer contract (fees not in `fees`). */
  requests: Omit<DemoRequest, "latencyMs">[];
  /** Wrong signature results refuted by a watcher with a Groth16 fraud proof. */
  challenges: DemoChallenge[];
}

/**
 * Runs the demo on `connection` and returns the report; `log` receives human-readable lines. `deploymentId`
 * names Ignition's journal on a JSON-RPC chain (the explorer's browser test fills a `hardhat node` this way);
 * `honestPendingReceipts` correct signature results of the circuit model are left pending before the refuted one.
 */
export async function runDemo(
  connection: Connection,
  log: (line: string) => void,
  options: { deploymentId?: string; honestPendingReceipts?: number } = {},
): Promise<DemoReport> {
  const { ethers } = connection;
  const [admin, modelOwner, operator, requester, treasury, ...attesters] = await ethers.getSigners();
  if (!admin || !modelOwner || !operator || !requester || !treasury || attesters.length < 3) {
    throw new Error("the embedded chain needs at least eight accounts");
  }
  const { chainId } = await ethers.provider.getNetwork();

  log("1. Deploying the system with Ignition (token, registries, quorum, hub)…");
  const deployment = await deploySystem(connection, { treasury: treasury.address, attesters: attesters.slice(0, 3).map((a) => a.address), attesterThreshold: 2 }, options.deploymentId === undefined ? {} : { deploymentId: options.deploymentId });
  log(`   hub ${deployment.hub} on chain ${chainId}`);

  const asAdmin = connect(deployment, admin);
  for (const who of [modelOwner, operator, requester]) {
    await (await asAdmin.token.getFunction("transfer")(who.address, 10_000n * OPG)).wait();
  }
  const latest = await ethers.provider.getBlock("latest");
  const deadline = BigInt(latest?.timestamp ?? Math.floor(Date.now() / 1000)) + 3600n;

  log("2. Registering a content-addressed model (signature + TEE tiers)…");
  const prices = [1n * OPG, 5n * OPG, 50n * OPG] as const;
  const weights = ethers.keccak256(ethers.toUtf8Bytes("demo sentiment model v1 weights"));
  const { modelId } = await registerModel(connect(deployment, modelOwner), {
    weightsCommitment: weights as `0x${string}`,
    metadataURI: "ipfs://bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi",
    prices,
    tiers: [Tier.Signature, Tier.TEE],
  });
  log(`   model ${modelId}`);

  log("3. Staking the operator with a permit and binding its signer key…");
  const minimumStake = (await connect(deployment, operator).operators.getFunction("minimumStake")()) as bigint;
  await stakeOperator(connect(deployment, operator), operator, minimumStake, operator.address, deadline);

  log("4. Requester deposits 200 OPG into escrow with a permit (no approve transaction)…");
  await depositWithPermit(connect(deployment, requester), requester, 200n * OPG, deadline);

  const hub = connect(deployment, requester).hub;
  const domain = hubDomain(chainId, deployment.hub);
  const receipts: DemoReceipt[] = [];
  const settlements: Settlement[] = [];

  log("5. Operator serves two inferences; the requester submits the signed receipts…");
  const prompts = ["The movie was wonderful.", "The service was slow."];
  for (const [i, prompt] of prompts.entries()) {
    const receipt = buildReceipt({
      modelId,
      inputCommitment: await commitBytes(new TextEncoder().encode(prompt)),
      outputCommitment: await commitBytes(new TextEncoder().encode(i === 0 ? "positive" : "negative")),
      requester: requester.address,
      operator: operator.address,
      nonce: BigInt(i + 1),
      deadline,
      tier: Tier.Signature,
    });
    const signature = await signReceipt(receipt, domain, operator);
    const settled = await submitSigned(hub, receipt, operator.address, signature, prices[0]);
    settlements.push(settled);
    receipts.push(await describe(hub, settled, Tier.Signature));
  }

  log("6. An enclave attests its key (AWS Nitro format, development CA), two of three attesters verify it,");
  log("   the model owner approves the enclave image, the operator registers the key, the enclave signs…");
  const tee = await runTeeStep({
    connection,
    deployment,
    modelId,
    operator,
    modelOwner,
    requester,
    attesters,
    deadline,
    domain,
    prompt: "Summarise this contract's risk.",
    answer: "low",
  });
  settlements.push(tee.settlement);
  receipts.push(await describe(hub, tee.settlement, Tier.TEE));
  log(`   enclave key ${tee.enclaveKey}, image ${tee.imageId.slice(0, 18)}…`);

  log("7. A model owner turns an ONNX classifier into a circuit and registers it for the ZK tier…");
  const head = await demoHead(log);
  const zkFields = zkRegistrationFields(head.build);
  const { modelId: classifierId } = await registerModel(connect(deployment, modelOwner), {
    weightsCommitment: zkFields.weightsCommitment,
    metadataURI: "ipfs://bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku",
    prices,
    tiers: [Tier.Signature, Tier.ZK],
    verifyingKey: zkFields.verifyingKey,
  });
  log(`   classifier ${classifierId} (${head.build.metadata.circuit.constraints} constraints${head.build.metadata.developmentOnly ? ", development-only setup" : ""})`);

  log("8. The operator proves one inference; the hub verifies the Groth16 proof on-chain…");
  {
    const nonce = 100n;
    const id = receiptId(chainId, deployment.hub, requester.address, classifierId, nonce);
    const bundle = await prove(head.build, head.input, { binding: bindingOf(id, operator.address) });
    const receipt = buildReceipt({
      modelId: classifierId,
      inputCommitment: bundle.inputCommitment,
      outputCommitment: bundle.outputCommitment,
      requester: requester.address,
      operator: operator.address,
      nonce,
      deadline,
      tier: Tier.ZK,
    });
    const evidence = zkEvidence(bundle, receipt, id);
    const settled = await submitProven(hub, receipt, evidence.proof, evidence.outputs, prices[2]);
    settlements.push(settled);
    receipts.push(await describe(hub, settled, Tier.ZK));
    log(`   proven output ${JSON.stringify(bundle.output)} (onnxruntime: ${JSON.stringify(head.expected.map((v) => Number(v.toFixed(5))))})`);
  }

  log("9. A hybrid operation: the enclave embeds a review (TEE), the classifier head runs under ZK;");
  log("   both steps verified in one transaction, one escrow debit, policy \"final step ZK, others ≥ TEE\"…");
  {
    const op = new OperationBuilder({
      chainId,
      hub: deployment.hub,
      requester: requester.address,
      nonce: 1n,
      deadline,
      inputCommitment: await commitBytes(new TextEncoder().encode("The battery lasts two days and the screen is superb.")),
    });
    // The enclave's embedding is handed to the head quantized exactly as the circuit quantizes its input.
    await op.addSignedStep({ modelId, tier: Tier.TEE, operator: operator.address, outputCommitment: await handOffCommitment(head.input, head.build), signer: tee.enclave });
    const { bundle } = await op.addZkStep({ modelId: classifierId, operator: operator.address, build: head.build, input: head.input });
    const operation = op.build();
    const settled = await submitOperation(hub, operation.steps, operation.evidence, { minEachStep: Tier.TEE, minFinalStep: Tier.ZK }, prices[1] + prices[2]);
    settlements.push(settled);
    const result = await readResult(hub, settled.id);
    receipts.push({
      id: settled.id,
      tier: "hybrid",
      verified: result.tier >= Tier.TEE && result.stepTiers.length === 2 && result.stepTiers[1] === Tier.ZK,
      gasUsed: Number(settled.gasUsed),
      fee: settled.fee.fee.toString(),
      steps: operation.steps.map((step, i) => ({ tier: tierName(step.tier), modelId: step.modelId, fee: (settled.steps[i]?.fee ?? 0n).toString() })),
    });
    log(`   head output ${JSON.stringify(bundle.output)}; the dApp's consumer policy (TEE, ZK) is met: ${String(result.stepTiers.join(",") === "2,3")}`);
  }

  log("10. Requests: an example consumer contract asks the request book for a classification; the operator node");
  log("    picks each request up from the chain's events, serves it (ZK, then signature) and fulfils it, and the");
  log("    book calls the consumer back with the verified output values…");
  const requests: DemoReport["requests"] = [];
  const running = await startNode(connection, deployment, [{ modelId: classifierId, dir: head.build.dir }]);
  try {
    for (const tier of [Tier.ZK, Tier.Signature] as const) {
      const consumer = await deployConsumer(connection, deployment, classifierId, tier, requester, 200n * OPG);
      const { latencyMs, ...served } = await classify(running, consumer, requester, classifierId, head.input, { maxFee: prices[2], deadline });
      requests.push(served);
      log(`   ${tierName(tier).padEnd(9)} request ${served.id.slice(0, 18)}… fulfilled in ${latencyMs} ms, callback got ${JSON.stringify(served.output)} (gas: request ${served.gasUsed.request}, fulfil ${served.gasUsed.fulfil})`);
    }
  } finally {
    await running.stop();
  }

  log("11. Fraud proofs: the operator signs a deliberately wrong classification; the result is pending for the");
  log("    challenge window with a bond of its stake locked; a watcher re-runs the model, proves the true output");
  log("    and refutes it: the bond is slashed, the watcher rewarded, the requester refunded…");
  const [challenger] = (await ethers.getSigners()).slice(9);
  if (challenger === undefined) throw new Error("the embedded chain needs ten accounts");
  const { challenges } = await runChallenge({
    deployment,
    chainId,
    modelId: classifierId,
    build: head.build,
    input: head.input,
    operator,
    requester,
    challenger,
    price: prices[0],
    deadline,
    // Correct signature results signed before the wrong one stay pending for the window (none by default).
    honest: options.honestPendingReceipts ?? 0,
    log,
  });
  for (const c of challenges) {
    log(`   refuted ${c.id.slice(0, 18)}…: slashed ${formatEther(c.slashed)} OPG, watcher reward ${formatEther(c.reward)} OPG, requester refund ${formatEther(c.refund)} OPG (gas ${c.gasUsed})`);
  }

  const report: DemoReport = { chainId: Number(chainId), receipts, fees: totals(settlements), requests, challenges };
  printSummary(report, log);
  return report;
}

async function describe(hub: ReturnType<typeof connect>["hub"], settled: Settlement, tier: Tier): Promise<DemoReceipt> {
  const result = await readResult(hub, settled.id);
  return {
    id: settled.id,
    tier: tierName(tier),
    verified: result.tier === tier,
    gasUsed: Number(settled.gasUsed),
    fee: settled.fee.fee.toString(),
  };
}

function totals(settlements: readonly Settlement[]): DemoReport["fees"] {
  const sum = (pick: (f: FeeParts) => bigint) => settlements.reduce((acc, s) => acc + pick(s.fee), 0n).toString();
  return { paid: sum((f) => f.fee), operator: sum((f) => f.operator), modelOwner: sum((f) => f.modelOwner), treasury: sum((f) => f.treasury) };
}

function printSummary(report: DemoReport, log: (line: string) => void): void {
  log("");
  log("receipt                                                              tier        verified       gas   fee (OPG)");
  for (const r of report.receipts) {
    log(`${r.id}   ${r.tier.padEnd(10)}  ${String(r.verified).padEnd(8)} ${String(r.gasUsed).padStart(9)}   ${formatEther(r.fee)}`);
    for (const step of r.steps ?? []) {
      log(`  └ step ${step.tier.padEnd(10)} model ${step.modelId.slice(0, 10)}…  ${step.gasUsed === undefined ? "" : `gas ${step.gasUsed}`}  fee ${formatEther(step.fee)}`);
    }
  }
  const f = report.fees;
  log("");
  log(`fees paid ${formatEther(f.paid)} OPG → operator ${formatEther(f.operator)}, model owner ${formatEther(f.modelOwner)}, treasury ${formatEther(f.treasury)}`);
  const check = splitFee(BigInt(f.paid), 0n, 0n);
  if (BigInt(f.operator) + BigInt(f.modelOwner) + BigInt(f.treasury) !== check.fee) throw new Error("fee parts do not sum to the fees paid");
}
