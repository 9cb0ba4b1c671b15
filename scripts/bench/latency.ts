/**
 * Request latency with the operator node running: from the consumer's request transaction to its callback
 * having run, on the embedded chain, for the 10k-parameter MLP fixture (mlp-41-82-82-1) at signature and ZK
 * tier. The node's prover is warm (proving key and witness generator in memory, one request served first);
 * the figure is the median of `runs` requests.
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import type { network } from "hardhat";
import { zkRegistrationFields } from "../../src/pipeline/index.ts";
import { Tier } from "../../src/receipts/tier.ts";
import { connect, depositWithPermit, registerModel, stakeOperator } from "../../src/settlement/index.ts";
import { inputValues } from "../../src/execution/index.ts";
import { classify, deployConsumer, startNode } from "../demo/requests.ts";
import { deploySystem } from "../demo/system.ts";
import { cachedBuild } from "../demo/zk.ts";

type Connection = Awaited<ReturnType<typeof network.create>>;
const OPG = 10n ** 18n;

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : Math.round((sorted[mid - 1]! + sorted[mid]!) / 2);
}

export async function benchRequestLatency(
  connection: Connection,
  options: { fixturesDir: string; fixture?: string; runs?: number; log?: (line: string) => void; nodeLog?: (line: string) => void },
): Promise<{ signature: number; zk: number; samples: { signature: number[]; zk: number[] } }> {
  const fixture = options.fixture ?? "mlp-41-82-82-1";
  const runs = options.runs ?? 3;
  const { ethers } = connection;
  const [admin, modelOwner, operator, requester, treasury, ...attesters] = await ethers.getSigners();
  if (!admin || !modelOwner || !operator || !requester || !treasury) throw new Error("the embedded chain needs more accounts");
  const deployment = await deploySystem(connection, { treasury: treasury.address, attesters: attesters.slice(0, 3).map((a) => a.address), attesterThreshold: 2 });
  const asAdmin = connect(deployment, admin);
  for (const who of [modelOwner, operator, requester]) await (await asAdmin.token.getFunction("transfer")(who.address, 100_000n * OPG)).wait();
  const deadline = BigInt((await ethers.provider.getBlock("latest"))!.timestamp) + 3600n;

  const onnx = await readFile(join(options.fixturesDir, fixture, "model.onnx"));
  const { build } = await cachedBuild(onnx, fixture, options.log);
  const values = inputValues(JSON.parse(await readFile(join(options.fixturesDir, fixture, "input.json"), "utf8")));
  const { modelId } = await registerModel(connect(deployment, modelOwner), {
    ...zkRegistrationFields(build),
    metadataURI: "",
    prices: [1n * OPG, 2n * OPG, 5n * OPG],
    tiers: [Tier.Signature, Tier.ZK],
  });
  const minimumStake = (await asAdmin.operators.getFunction("minimumStake")()) as bigint;
  await stakeOperator(connect(deployment, operator), operator, minimumStake, operator.address, deadline);
  await depositWithPermit(connect(deployment, requester), requester, 10n * OPG, deadline);

  const running = await startNode(connection, deployment, [{ modelId, dir: build.dir }], { pollMs: 25, ...(options.nodeLog === undefined ? {} : { log: options.nodeLog }) });
  const samples = { signature: [] as number[], zk: [] as number[] };
  try {
    for (const [name, tier] of [["signature", Tier.Signature], ["zk", Tier.ZK]] as const) {
      const consumer = await deployConsumer(connection, deployment, modelId, tier, requester, 1_000n * OPG);
      // One request first: warms the prover's worker threads and the chain's code caches.
      await classify(running, consumer, requester, modelId, values, { maxFee: 5n * OPG, deadline });
      for (let i = 0; i < runs; i++) {
        const served = await classify(running, consumer, requester, modelId, values, { maxFee: 5n * OPG, deadline });
        if (!served.fulfilled || !served.callback) throw new Error(`request ${served.id} was not fulfilled with its callback`);
        samples[name].push(served.latencyMs);
      }
    }
  } finally {
    await running.stop();
  }
  return { signature: median(samples.signature), zk: median(samples.zk), samples };
}
