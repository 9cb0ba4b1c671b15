/**
 * The whole flow on Hardhat's embedded chain: deploy, register a model, stake an operator, deposit
 * with a permit, submit receipts at each tier, settle fees, and print a summary (or one JSON object
 * with --json). Run: `npm run demo` or `npm run -s demo -- --json`.
 */
import { network } from "hardhat";
import { releaseZkResources } from "../src/zkml/index.ts";
import { runBatchDemo } from "./demo/batches.ts";
import { runDemo, type DemoReport } from "./demo/flow.ts";

const json = process.argv.includes("--json");
const log = json ? () => {} : (line: string) => console.log(line);

try {
  const connection = await network.create();
  const report: DemoReport = await runDemo(connection, log);
  const batches = await runBatchDemo(await network.create(), log);
  if (json) console.log(JSON.stringify({ ...report, batches: batches.map(({ root, receipts, gasPerReceipt, leafVerified }) => ({ root, receipts, gasPerReceipt, leafVerified })) }));
} catch (error) {
  console.error(`demo failed: ${error instanceof Error ? error.message : String(error)}`);
  if (process.argv.includes("--verbose") && error instanceof Error) console.error(error.stack);
  process.exitCode = 1;
} finally {
  // snarkjs keeps worker threads alive; without this the process would not exit.
  await releaseZkResources();
}
