/**
 * Batch settlement on a fresh embedded chain: requesters sign one spending authorization each, an operator serves
 * `receipts` Signature-tier inferences across them and two models (each requester uses both once there are at
 * least two receipts per requester: two running totals per authorization, the costliest mix), signs one root
 * and settles everything in one transaction; one leaf is then verified on-chain and off-chain. Shared by the
 * demo and the bench.
 */
import { Wallet, ZeroHash, toBeHex, type Signer } from "ethers";
import type { network } from "hardhat";
import { batchDomain, batchSettlementAt, buildBatch, nextLeaf, postBatch, proofOf, signAuthorization, signBatch, verifyLeafOffChain, verifyLeafOnChain, LeafStatus, type BatchLeaf, type SignedAuthorization } from "../../src/batches/index.ts";
import type { Hex } from "../../src/receipts/receipt.ts";
import { Tier } from "../../src/receipts/tier.ts";
import { connect, registerModel, stakeOperator, type Deployment } from "../../src/settlement/index.ts";
import { deploySystem } from "./system.ts";

type Connection = Awaited<ReturnType<typeof network.create>>;
const OPG = 10n ** 18n;
const PRICE = OPG / 1_000n;

export interface BatchRun {
  readonly root: Hex;
  /** The contract's key of the batch: its operator and root. */
  readonly batchId: Hex;
  readonly receipts: number;
  readonly requesters: number;
  readonly gasUsed: number;
  readonly gasPerReceipt: number;
  readonly leafVerified: boolean;
}

export interface BatchBench {
  /**
   * Deploys once; each run posts a new batch with fresh requesters (their first settlement: the costliest). By
   * default each requester uses both models (two running totals each); `oneModelEach` gives each one model.
   */
  run(receipts: number, requesters: number, options?: { oneModelEach?: boolean }): Promise<BatchRun>;
}

export async function batchBench(connection: Connection): Promise<BatchBench> {
  const { ethers } = connection;
  const [admin, modelOwner, maybeOperator, , treasury, a1, a2, a3] = await ethers.getSigners();
  if (!admin || !modelOwner || !maybeOperator || !treasury || !a1 || !a2 || !a3) throw new Error("the embedded chain needs eight accounts");
  const operator = maybeOperator;
  const funder = admin;
  const deployment: Deployment = await deploySystem(connection, { treasury: treasury.address, attesters: [a1.address, a2.address, a3.address], attesterThreshold: 2 });
  if (deployment.batches === undefined) throw new Error("the deployment has no BatchSettlement");
  const asAdmin = connect(deployment, admin);
  await (await asAdmin.token.getFunction("transfer")(operator.address, 100_000n * OPG)).wait();
  const deadline = BigInt((await ethers.provider.getBlock("latest"))!.timestamp) + 3600n;
  const models: Hex[] = [];
  for (const weights of [1n, 2n]) {
    const registration = { weightsCommitment: toBeHex(weights, 32) as Hex, metadataURI: "ipfs://model", prices: [PRICE, 0n, 0n] as const, tiers: [Tier.Signature] };
    models.push((await registerModel(connect(deployment, modelOwner), registration as never)).modelId);
  }
  await stakeOperator(connect(deployment, operator), operator, 100_000n * OPG, operator.address, deadline);
  const { chainId } = await ethers.provider.getNetwork();
  const domain = batchDomain(chainId, deployment.batches);
  const contract = batchSettlementAt(deployment.batches, operator);
  const token = asAdmin.token;
  let counter = 0n;

  async function run(receipts: number, requesterCount: number, options: { oneModelEach?: boolean } = {}): Promise<BatchRun> {
    const requesters: Signer[] = Array.from({ length: requesterCount }, () => Wallet.createRandom());
    const deposit = PRICE * BigInt(receipts);
    await (await token.getFunction("approve")(deployment.batches, deposit * BigInt(requesterCount))).wait();
    const authorizations = new Map<string, SignedAuthorization>();
    const last = new Map<string, BatchLeaf>();
    const ids: Hex[] = [];
    const now = BigInt((await ethers.provider.getBlock("latest"))!.timestamp);
    for (const requester of requesters) {
      const address = await requester.getAddress();
      await (await contract.connect(funder).getFunction("deposit")(address, deposit)).wait();
      const signed = await signAuthorization(requester, domain, { operator: operator.address, cap: deposit, expiry: now + 86_400n });
      authorizations.set(signed.id, signed);
      ids.push(signed.id);
    }
    const leaves: BatchLeaf[] = [];
    for (let i = 0; i < receipts; i++) {
      const k = i % requesterCount;
      const modelId = models[(options.oneModelEach === true ? k : Math.floor(i / requesterCount)) % models.length]!;
      const n = ++counter;
      const leaf = nextLeaf(last.get(`${k}:${modelId}`), {
        modelId,
        inputCommitment: toBeHex(n, 32) as Hex,
        outputCommitment: toBeHex(n + (1n << 128n), 32) as Hex,
        outputDigest: ZeroHash as Hex,
        requester: await requesters[k]!.getAddress(),
        tier: Tier.Signature,
        price: PRICE,
        authorization: ids[k]!,
      });
      last.set(`${k}:${modelId}`, leaf);
      leaves.push(leaf);
    }
    const batch = buildBatch(leaves);
    const signed = await signBatch(operator, domain, batch, `https://operator.example/v1/batches/${batch.root}`);
    const posted = await postBatch(contract, batch, { ...signed, signer: operator.address }, authorizations);
    const probe = leaves[Math.floor(leaves.length / 2)]!;
    const proof = proofOf(batch, probe);
    const onChain = await verifyLeafOnChain(contract, posted.operator, batch.root, probe, proof);
    const leafVerified = verifyLeafOffChain(batch.root, probe, proof) && onChain.status === LeafStatus.Pending && onChain.outputCommitment === probe.outputCommitment;
    const gasUsed = Number(posted.gasUsed);
    return { root: batch.root, batchId: posted.batchId, receipts, requesters: requesterCount, gasUsed, gasPerReceipt: Math.round(gasUsed / receipts), leafVerified };
  }
  return { run };
}

/** The demo's batch section: 64 receipts from 4 requesters in one root. */
export async function runBatchDemo(connection: Connection, log: (line: string) => void): Promise<BatchRun[]> {
  log("\nBatch settlement: 4 requesters sign one spending authorization each; the operator settles 64 receipts under one root…");
  const bench = await batchBench(connection);
  const run = await bench.run(64, 4);
  log(`  root ${run.root}: ${run.receipts} receipts, ${run.gasUsed} gas (${run.gasPerReceipt} per receipt), leaf verified: ${run.leafVerified}`);
  return [run];
}
