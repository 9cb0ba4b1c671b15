/**
 * `opg stats`: the figures people quote ("2M inferences, 500k proofs, 2,000 models") for one
 * deployment, per tier, from contract state (counters) and events (fees, distinct operators,
 * requesters and models served).
 */
import { formatUnits, type Contract, type EventLog } from "ethers";
import { Tier, isHybrid } from "../../receipts/tier.ts";
import { CHAIN_OPTIONS, CHAIN_USAGE, openChain } from "../chain.ts";
import { UsageError } from "../errors.ts";
import { parseOptions } from "../main.ts";
import type { CliCommand } from "../types.ts";

/** Deployment-wide figures. */
export interface DeploymentStats {
  readonly inferences: { readonly total: number; readonly signature: number; readonly tee: number; readonly zk: number };
  readonly proofsVerified: number;
  /** Multi-step operations verified (contract counter; includes one-step operations). */
  readonly operations: number;
  /** Operations whose steps mix tiers, from OperationVerified events since the first block. */
  readonly hybridOperations: number;
  readonly models: number;
  readonly attestations: number;
  readonly feesPaid: string;
  readonly feesByTier: { readonly signature: string; readonly tee: string; readonly zk: string };
  readonly operators: number;
  readonly requesters: number;
  readonly modelsServed: number;
  readonly blocks: { readonly from: number; readonly to: number };
}

/** Events are read in windows so public RPC endpoints with log-range limits still answer. */
const WINDOW = 10_000;

async function hubEvents(hub: Contract, name: string, from: number, to: number): Promise<EventLog[]> {
  const events: EventLog[] = [];
  for (let start = from; start <= to; start += WINDOW) {
    const batch = await hub.queryFilter(hub.filters[name]!(), start, Math.min(to, start + WINDOW - 1));
    events.push(...batch.filter((e): e is EventLog => "args" in e));
  }
  return events;
}

export async function deploymentStats(contracts: { hub: Contract; models: Contract; enclaves: Contract }, fromBlock: number, toBlock: number): Promise<DeploymentStats> {
  const [signature, tee, zk, operations] = ((await contracts.hub.getFunction("stats")()) as bigint[]).map(Number) as [number, number, number, number];
  const models = Number(await contracts.models.getFunction("modelCount")());
  const attestations = Number(await contracts.enclaves.getFunction("attestationCount")());
  const events = await hubEvents(contracts.hub, "ReceiptVerified", fromBlock, toBlock);
  const hybridOperations = (await hubEvents(contracts.hub, "OperationVerified", fromBlock, toBlock)).filter((event) => {
    const count = Number(event.args.getValue("steps") as bigint);
    const packed = event.args.getValue("stepTiers") as bigint;
    return isHybrid(Array.from({ length: count }, (_, i) => Number((packed >> BigInt(4 * i)) & 0xfn) as Tier));
  }).length;
  const fees = { [Tier.Signature]: 0n, [Tier.TEE]: 0n, [Tier.ZK]: 0n } as Record<number, bigint>;
  const operators = new Set<string>();
  const requesters = new Set<string>();
  const served = new Set<string>();
  for (const event of events) {
    const tier = Number(event.args.getValue("tier"));
    fees[tier] = (fees[tier] ?? 0n) + (event.args.getValue("fee") as bigint);
    operators.add(event.args.getValue("operator") as string);
    requesters.add(event.args.getValue("requester") as string);
    served.add(event.args.getValue("modelId") as string);
  }
  const total = (fees[Tier.Signature] ?? 0n) + (fees[Tier.TEE] ?? 0n) + (fees[Tier.ZK] ?? 0n);
  return {
    inferences: { total: signature + tee + zk, signature, tee, zk },
    proofsVerified: zk,
    operations,
    hybridOperations,
    models,
    attestations,
    feesPaid: total.toString(),
    feesByTier: { signature: (fees[Tier.Signature] ?? 0n).toString(), tee: (fees[Tier.TEE] ?? 0n).toString(), zk: (fees[Tier.ZK] ?? 0n).toString() },
    operators: operators.size,
    requesters: requesters.size,
    modelsServed: served.size,
    blocks: { from: fromBlock, to: toBlock },
  };
}

function compact(n: number): string {
  return new Intl.NumberFormat("en", { notation: "compact", maximumFractionDigits: 1 }).format(n);
}

export function headline(s: DeploymentStats): string {
  const plural = (n: number, word: string) => `${compact(n)} ${word}${n === 1 ? "" : "s"}`;
  return `${plural(s.inferences.total, "inference")}, ${plural(s.proofsVerified, "proof")}, ${plural(s.models, "model")}, ${plural(s.attestations, "attestation")}, ${plural(s.hybridOperations, "hybrid operation")}`;
}

export const statsCommand: CliCommand = {
  path: ["stats"],
  summary: "Inferences, proofs, attestations and models of a deployment, per tier",
  usage: `Usage: opg stats [--from-block <n>] [--json] [chain options]

Counters come from contract state; fees and distinct operators, requesters and models served from
ReceiptVerified events, and hybrid operations (steps at different tiers) from OperationVerified events, since
--from-block (default 0: the deployment's whole history).
${CHAIN_USAGE}
`,
  async run(args, io) {
    const { values } = parseOptions(args, { ...CHAIN_OPTIONS, "from-block": { type: "string" }, json: { type: "boolean" } }, { min: 0, max: 0, names: "no positional arguments" });
    const from = values["from-block"] === undefined ? 0 : Number(values["from-block"]);
    if (!Number.isSafeInteger(from) || from < 0) throw new UsageError("--from-block must be a block number");
    const chain = await openChain(values, io, { needsSigner: false });
    const to = await chain.provider.getBlockNumber();
    const stats = await deploymentStats(chain.contracts, from, to);
    if (values.json) {
      io.stdout(JSON.stringify(stats) + "\n");
      return 0;
    }
    const opg = (wei: string) => `${formatUnits(wei, 18)} OPG`;
    io.stdout(
      [
        headline(stats),
        "",
        `tier        inferences   fees`,
        ...(["signature", "tee", "zk"] as const).map((t) => `${t.padEnd(10)}  ${String(stats.inferences[t]).padStart(10)}   ${opg(stats.feesByTier[t])}`),
        `${"total".padEnd(10)}  ${String(stats.inferences.total).padStart(10)}   ${opg(stats.feesPaid)}`,
        "",
        `proofs verified ${stats.proofsVerified} · operations ${stats.operations} (${stats.hybridOperations} hybrid) · models ${stats.models} (${stats.modelsServed} served) · attestations ${stats.attestations}`,
        `operators ${stats.operators} · requesters ${stats.requesters} · blocks ${stats.blocks.from}–${stats.blocks.to}`,
      ].join("\n") + "\n",
    );
    return 0;
  },
};

export const statsCommands: readonly CliCommand[] = [statsCommand];

