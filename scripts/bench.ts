/**
 * `npm run bench`: gas of every on-chain operation, Nitro verification throughput, and ZK circuit costs
 * per fixture model, written to bench/results.json and printed as tables.
 * `npm run bench -- --quick` skips the slow per-fixture ZK builds and the power-17 ptau check.
 * `npm run bench -- --zk a,b` only re-measures the named ZK models and merges them into bench/results.json.
 * `npm run bench -- --cli` only re-measures CLI start-up (`"cli": {helpMs, zkVerifyMs, helpPeakMiB, nodeBareMs}`).
 * `npm run bench -- --batch` only re-measures batch settlement and merges it into bench/results.json's `batch`.
 */
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { cpus } from "node:os";
import { network } from "hardhat";
import { releaseZkResources } from "../src/zkml/index.ts";
import { benchBatchGroth16 } from "./bench/batch-groth16.ts";
import { benchBatchSettlement } from "./bench/batch-settlement.ts";
import { benchChallenge } from "./bench/challenge.ts";
import { benchCli } from "./bench/cli.ts";
import { benchHubGas, verifierGas } from "./bench/gas.ts";
import { benchRequestLatency } from "./bench/latency.ts";
import { benchNitro } from "./bench/nitro.ts";
import { benchRequestGas } from "./bench/requests.ts";
import { benchTeeGas } from "./bench/tee.ts";
import { benchPtau, benchZk, defaultFixturesDir, type PtauBenchEntry, type ZkBenchEntry } from "./bench/zk.ts";
import { demoHead } from "./demo/zk.ts";

const quick = process.argv.includes("--quick");
const say = (line: string) => console.log(line);

function table(title: string, rows: Record<string, Record<string, number | string>>): void {
  const names = Object.keys(rows);
  const columns = [...new Set(names.flatMap((n) => Object.keys(rows[n]!)))];
  const width = Math.max(12, ...names.map((n) => n.length));
  say(`\n${title}`);
  say(["".padEnd(width), ...columns.map((c) => c.padStart(Math.max(10, c.length)))].join("  "));
  for (const name of names) {
    say([name.padEnd(width), ...columns.map((c) => String(rows[name]![c] ?? "").padStart(Math.max(10, c.length)))].join("  "));
  }
}

/** `--zk a,b`: re-measure only these ZK models, keeping every other result. */
async function benchZkOnly(names: string[]): Promise<void> {
  const results = JSON.parse(await readFile("bench/results.json", "utf8").catch(() => "{}")) as {
    gas?: Record<string, number>;
    verifier?: Record<string, Record<string, number>>;
    zk?: Record<string, ZkBenchEntry>;
  };
  const gas = (results.gas ??= {});
  const verifier = (results.verifier ??= {});
  const chain = await network.create();
  const deployed = await chain.ethers.deployContract("Groth16Verifier");
  const address = await deployed.getAddress();
  const zk = await benchZk({
    fixtures: names,
    onProgress: (e) => (e.done ? say(`  ✔ ${e.step}`) : undefined),
    onBuilt: async (name, build, bundle) => {
      verifier[name] = await verifierGas(chain, address, build.verificationKey, bundle);
      gas[`zkVerify.${name}`] = verifier[name]!["execution"]!;
    },
  });
  results.zk = { ...results.zk, ...zk };
  await mkdir("bench", { recursive: true });
  await writeFile("bench/results.json", JSON.stringify(results, null, 2) + "\n");
  table("ZK circuits", zk as unknown as Record<string, Record<string, number>>);
  table("Groth16 verification (execution gas; calldata separate)", Object.fromEntries(names.map((n) => [n, verifier[n] ?? {}])));
}

/** `--cli`: re-measure only CLI start-up (the compiled bin), keeping every other result. */
async function benchCliOnly(): Promise<void> {
  const results = JSON.parse(await readFile("bench/results.json", "utf8").catch(() => "{}")) as Record<string, unknown>;
  const head = await demoHead(say);
  const cli = await benchCli(head.build.dir, { input: [head.input] });
  results["cli"] = cli;
  await mkdir("bench", { recursive: true });
  await writeFile("bench/results.json", JSON.stringify(results, null, 2) + "\n");
  table("CLI start-up (medians of interleaved runs; ms, MiB)", { cli: { ...cli, helpPeakMiB: cli.helpPeakMiB ?? "n/a", zkVerifyCpuMs: cli.zkVerifyCpuMs ?? "n/a" } });
}

const zkOnly = process.argv.indexOf("--zk");
try {
  if (process.argv.includes("--batch")) {
    const results = JSON.parse(await readFile("bench/results.json", "utf8").catch(() => "{}")) as { batch?: Record<string, unknown> };
    results.batch = { ...results.batch, settlement: await benchBatchSettlement((line) => say(line)) };
    await mkdir("bench", { recursive: true });
    await writeFile("bench/results.json", JSON.stringify(results, null, 2) + "\n");
    process.exit(0);
  }
  if (zkOnly >= 0) {
    await benchZkOnly((process.argv[zkOnly + 1] ?? "").split(",").filter((n) => n !== ""));
    process.exit(0);
  }
  if (process.argv.includes("--cli")) {
    await benchCliOnly();
    process.exit(0);
  }
  say("Measuring gas on Hardhat's embedded chain…");
  const head = await demoHead(say);
  const gas: Record<string, number> = await benchHubGas(await network.create(), head);
  for (const [key, value] of Object.entries(await benchTeeGas(await network.create()))) gas[`tee.${key}`] = value;
  say("Measuring inference requests (request and fulfil)…");
  const requestGas = await benchRequestGas(await network.create(), head);

  say("Measuring fraud proofs: a challenge, and the gas a challenge window adds to a signature receipt…");
  const fraud = await benchChallenge(await network.create(), head);
  const challenge = { gas: fraud.gas, pendingReceiptExtraGas: fraud.pendingExtra, signatureReceiptPending: fraud.pendingReceipt, signatureReceiptFinalAtOnce: fraud.finalReceipt };

  say("Measuring request → callback latency with the operator node running (mlp-41-82-82-1, warm prover)…");
  const latency = await benchRequestLatency(await network.create(), { fixturesDir: defaultFixturesDir(), log: say });
  const requests = { ...requestGas, latencyMs: { signature: latency.signature, zk: latency.zk } };

  say("Measuring CLI start-up (compiled bin)…");
  const cli = await benchCli(head.build.dir, { input: [head.input] });

  say("Measuring batch Groth16 verification (16 proofs of one model) and fulfilZkBatch…");
  const batchGroth16 = await benchBatchGroth16(head);

  say("Measuring batch settlement (one root over 1, 16, 128 and 1,024 receipts)…");
  const batchSettlement = await benchBatchSettlement((line) => say(line));

  say("Measuring Nitro attestation verification throughput…");
  const nitro = await benchNitro();

  const verifier: Record<string, Record<string, number>> = {};
  let zk: Record<string, ZkBenchEntry> = {};
  let ptau: PtauBenchEntry | undefined;
  if (!quick) {
    say("Checking local ptau generation at power 17 (tens of minutes the first time, then cached)…");
    ptau = await benchPtau(17, (e) => (e.done ? say(`  ✔ ${e.step}`) : undefined));
    say("Building, proving and verifying every fixture model (several minutes)…");
    const chain = await network.create();
    const deployed = await chain.ethers.deployContract("Groth16Verifier");
    const address = await deployed.getAddress();
    zk = await benchZk({
      onBuilt: async (name, build, bundle) => {
        verifier[name] = await verifierGas(chain, address, build.verificationKey, bundle);
        gas[`zkVerify.${name}`] = verifier[name]!["execution"]!;
      },
    });
  }

  const results = {
    gas,
    requests,
    challenge,
    cli,
    batch: { groth16: batchGroth16, settlement: batchSettlement },
    verifier,
    nitro,
    zk,
    ...(ptau === undefined ? {} : { ptau }),
    environment: { node: process.version, cpus: cpus().length, cpuModel: cpus()[0]?.model ?? "unknown", date: new Date().toISOString() },
  };
  await mkdir("bench", { recursive: true });
  await writeFile("bench/results.json", JSON.stringify(results, null, 2) + "\n");

  table("Gas", Object.fromEntries(Object.entries(gas).map(([k, v]) => [k, { gas: v }])));
  say(`  signature receipt, steady state: ${gas["signatureReceipt"]} (target ≤ 100,000)`);
  say(`  2-step operation ${gas["operation.2step"]} vs separate ${gas["separate.2step"]}; 3-step ${gas["operation.3step"]} vs ${gas["separate.3step"]}`);
  say(`  challenge ${challenge.gas}; a pending signature receipt costs ${challenge.pendingReceiptExtraGas} more (target ≤ 25,000)`);
  table("Inference requests (gas)", { signature: requests.signature, zk: requests.zk });
  const sig = requests.signature;
  say(`  signature request + fulfil ${sig.request + sig.fulfil} with its challenge window, ${sig.request + sig.fulfilFinalAtOnce} final at once (target ≤ 150,000)`);
  table("Batch Groth16 verification (execution gas per proof, by batch size)", { verifyBatch: batchGroth16.curve, verifyProof: { "1": batchGroth16.singleGas } });
  say(`  ${batchGroth16.gasPerProof} per proof at ${batchGroth16.proofs} = ${batchGroth16.ratio}× one verifyProof (target ≤ 0.35); fulfilZkBatch ${batchGroth16.fulfilment.batchedPerRequest} per request vs fulfil ${batchGroth16.fulfilment.single}`);
  if (Object.keys(verifier).length > 0) table("Groth16 verification (execution gas; calldata separate)", verifier);
  table("Request latency, request → callback (ms, median)", { "mlp-41-82-82-1": requests.latencyMs });
  say(`  ZK ${requests.latencyMs.zk} ms (target ≤ 3,000 with a warm prover); samples ${JSON.stringify(latency.samples)}`);
  say(`  batch settlement: ${batchSettlement.gasPerReceipt} gas per receipt at 1,024 receipts (target ≤ 2,000); curve ${JSON.stringify(batchSettlement.curve)}`);
  table("Nitro verification", { nitro });
  table("CLI start-up", { cli: { ...cli, helpPeakMiB: cli.helpPeakMiB ?? "n/a", zkVerifyCpuMs: cli.zkVerifyCpuMs ?? "n/a" } });
  if (Object.keys(zk).length > 0) table("ZK circuits", zk as unknown as Record<string, Record<string, number>>);
  say("\nwrote bench/results.json");
} catch (error) {
  console.error(`bench failed: ${error instanceof Error ? error.message : String(error)}`);
  if (process.argv.includes("--verbose") && error instanceof Error) console.error(error.stack);
  process.exitCode = 1;
} finally {
  await releaseZkResources();
}
