/**
 * Gas of batch settlement: one transaction posting a root over N receipts (calldata, signature checks, fee split
 * and bond included: the transaction receipt's gasUsed), for N = 1, 16, 128, 1024. Up to 16 requesters per batch,
 * each settling for the first time (its authorization signature checked and its state written: the costliest
 * case), each using both of two models (two running totals, two closing leaves per requester) from 32 receipts
 * on; `oneModelPerRequester` is the 1,024-receipt batch with each requester using one of the two models. Called
 * by scripts/bench.ts; `npx tsx scripts/bench/batch-settlement.ts` prints it alone.
 */
import { network } from "hardhat";
import { batchBench } from "../demo/batches.ts";

export interface BatchSettlementBench {
  readonly receipts: number;
  readonly gasPerReceipt: number;
  readonly requesters: number;
  readonly curve: Record<string, number>;
  /** Gas per receipt at 1,024 receipts when each requester uses one model (one closing leaf each). */
  readonly oneModelPerRequester: number;
}

export async function benchBatchSettlement(log: (line: string) => void = () => {}): Promise<BatchSettlementBench> {
  const bench = await batchBench(await network.create());
  const curve: Record<string, number> = {};
  const sizes = [1, 16, 128, 1024];
  const requesters = (n: number) => Math.min(n, 16);
  for (const n of sizes) {
    const run = await bench.run(n, requesters(n));
    if (!run.leafVerified) throw new Error(`a leaf of the ${n}-receipt batch did not verify`);
    curve[String(n)] = run.gasPerReceipt;
    log(`  ${n} receipts, ${run.requesters} requesters: ${run.gasUsed} gas, ${run.gasPerReceipt} per receipt`);
  }
  const single = await bench.run(1024, requesters(1024), { oneModelEach: true });
  if (!single.leafVerified) throw new Error("a leaf of the one-model-per-requester batch did not verify");
  log(`  1024 receipts, ${single.requesters} requesters, one model each: ${single.gasUsed} gas, ${single.gasPerReceipt} per receipt`);
  return { receipts: 1024, gasPerReceipt: curve["1024"]!, requesters: requesters(1024), curve, oneModelPerRequester: single.gasPerReceipt };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const result = await benchBatchSettlement(console.log);
  console.log(JSON.stringify({ batch: { settlement: result } }));
}
