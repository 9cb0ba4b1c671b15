/**
 * Batch Groth16 verification gas (issue 12), written under "batch" → "groth16" in bench/results.json:
 *  - verifier level (execution gas: transaction gas − 21,000 − calldata): one verifyProof (`singleGas`), and
 *    verifyBatch of k real proofs of one model per proof (`curve`, k = 1…16; `gasPerProof` at 16);
 *  - use site: a single ZK `fulfil` against `fulfilZkBatch` of 16 requests of the same model (transaction
 *    gas per request, calldata included: what an operator pays).
 * `npx tsx scripts/bench/batch-groth16.ts` measures it alone and merges it into bench/results.json.
 */
import { readFile, writeFile, mkdir } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { Interface, type Contract } from "ethers";
import { network } from "hardhat";
import { provenRequestStep, zkRegistrationFields } from "../../src/pipeline/index.ts";
import { Tier } from "../../src/receipts/tier.ts";
import { buildRequestParams, fulfilRequest, fulfilZkBatch, submitRequest, type BatchItem, type RequestContext } from "../../src/requests/index.ts";
import { connect, depositWithPermit, registerModel, stakeOperator } from "../../src/settlement/index.ts";
import { commitModelInput, encodeProofForEvm, encodePublicSignals, encodeVerifyingKey, prove, quantizeInput, releaseZkResources, verifyBatch, type ZkBuild } from "../../src/zkml/index.ts";
import { demoHead } from "../demo/zk.ts";
import { deploySystem } from "../demo/system.ts";
import { calldataGas } from "./gas.ts";

type Connection = Awaited<ReturnType<typeof network.create>>;
const OPG = 10n ** 18n;
export const BATCH_SIZES = [1, 2, 4, 8, 16] as const;

const VERIFIER = new Interface([
  "function verifyProof(bytes verifyingKey, uint256[8] proof, uint256[] publicSignals) view returns (bool)",
  "function verifyBatch(bytes verifyingKey, uint256[8][] proofs, uint256[] publicSignals) view returns (bool)",
]);

export interface BatchGroth16Bench {
  readonly proofs: number;
  /** verifyBatch execution gas per proof at `proofs` proofs. */
  readonly gasPerProof: number;
  /** verifyProof execution gas for one proof. */
  readonly singleGas: number;
  /** gasPerProof / singleGas (target ≤ 0.35). */
  readonly ratio: number;
  /** verifyBatch execution gas per proof, by batch size. */
  readonly curve: Record<string, number>;
  readonly publicSignals: number;
  /** Transaction gas per request: one `fulfil`, and `fulfilZkBatch` of `requests` requests. */
  readonly fulfilment: { readonly requests: number; readonly single: number; readonly batchedPerRequest: number; readonly ratio: number };
}

/** Execution gas of a call to the verifier: sent as a transaction, minus intrinsic and calldata gas. */
async function executionGas(connection: Connection, to: string, data: string): Promise<number> {
  const result = await connection.ethers.provider.call({ to, data });
  const [valid] = VERIFIER.decodeFunctionResult(data.startsWith(VERIFIER.getFunction("verifyBatch")!.selector) ? "verifyBatch" : "verifyProof", result);
  if (valid !== true) throw new Error("bench: the verifier refused valid proofs");
  const [sender] = await connection.ethers.getSigners();
  const receipt = await (await sender!.sendTransaction({ to, data })).wait();
  return Number(receipt!.gasUsed) - 21_000 - calldataGas(data);
}

/** The verifier-level figures, from `proofs` real proofs of `build` (different bindings). */
async function verifierLevel(connection: Connection, build: ZkBuild, input: number[], proofs: number) {
  const verifier = await (await connection.ethers.deployContract("Groth16Verifier")).getAddress();
  const key = encodeVerifyingKey(build.verificationKey);
  const bundles = [];
  for (let i = 0; i < proofs; i++) bundles.push(await prove(build, input, { binding: BigInt(i + 1) }));
  if (!(await verifyBatch(build.verificationKey, bundles))) throw new Error("bench: the off-chain batch check refused valid proofs");
  const words = bundles.map((b) => encodeProofForEvm(b.proof));
  const signals = bundles.map((b) => encodePublicSignals(b.publicSignals));
  const singleGas = await executionGas(connection, verifier, VERIFIER.encodeFunctionData("verifyProof", [key, words[0]!, signals[0]!]));
  const curve: Record<string, number> = {};
  for (const k of BATCH_SIZES.filter((k) => k <= proofs)) {
    const data = VERIFIER.encodeFunctionData("verifyBatch", [key, words.slice(0, k), signals.slice(0, k).flat()]);
    curve[String(k)] = Math.round((await executionGas(connection, verifier, data)) / k);
  }
  return { singleGas, curve, publicSignals: signals[0]!.length };
}

/** The use site: one ZK fulfil (steady state) against fulfilZkBatch of `requests` requests. */
async function useSite(connection: Connection, build: ZkBuild, input: number[], requests: number) {
  const { ethers } = connection;
  const [admin, modelOwner, operator, requester, treasury, ...attesters] = await ethers.getSigners();
  if (!admin || !modelOwner || !operator || !requester || !treasury) throw new Error("the embedded chain needs more accounts");
  const { chainId } = await ethers.provider.getNetwork();
  const deployment = await deploySystem(connection, { treasury: treasury.address, attesters: attesters.slice(0, 3).map((a) => a.address), attesterThreshold: 2 });
  const asAdmin = connect(deployment, admin);
  for (const who of [modelOwner, operator, requester]) await (await asAdmin.token.getFunction("transfer")(who.address, 100_000n * OPG)).wait();
  const deadline = BigInt((await ethers.provider.getBlock("latest"))!.timestamp) + 3600n;
  const prices = [1n * OPG, 5n * OPG, 50n * OPG] as const;
  const { modelId } = await registerModel(connect(deployment, modelOwner), { ...zkRegistrationFields(build), metadataURI: "ipfs://classifier", prices, tiers: [Tier.ZK] });
  const minimumStake = (await connect(deployment, operator).operators.getFunction("minimumStake")()) as bigint;
  await stakeOperator(connect(deployment, operator), operator, minimumStake, operator.address, deadline);
  await depositWithPermit(connect(deployment, requester), requester, 50_000n * OPG, deadline);
  const book = connect(deployment, requester).requests! as Contract;
  const inputCommitment = await commitModelInput(build.model, quantizeInput(build.model, input));
  let nonce = 1n;
  const open = async (): Promise<BatchItem> => {
    const params = buildRequestParams({ pipeline: [modelId], inputCommitment, minEachStep: Tier.ZK, maxFee: prices[2], deadline, nonce: nonce++ });
    await submitRequest(book, requester, params, { values: quantizeInput(build.model, input) });
    const ctx: RequestContext = { chainId, book: deployment.requests!, requester: requester.address, params, operator: operator.address };
    const { evidence, outputs } = await provenRequestStep(ctx, { index: 0, inputCommitment, build, input });
    return { ctx, steps: [evidence], outputs };
  };
  let single = 0;
  for (let round = 0; round < 2; round++) {
    const item = await open();
    single = Number((await fulfilRequest(book, operator, item.ctx, item.steps, item.outputs)).gasUsed);
  }
  const items: BatchItem[] = [];
  for (let i = 0; i < requests; i++) items.push(await open());
  const { gasUsed } = await fulfilZkBatch(book, operator, items);
  const batchedPerRequest = Math.round(Number(gasUsed) / requests);
  return { requests, single, batchedPerRequest, ratio: Math.round((batchedPerRequest / single) * 1000) / 1000 };
}

/** Both measurements, on fresh chains. */
export async function benchBatchGroth16(head: { build: ZkBuild; input: number[] }, proofs = 16): Promise<BatchGroth16Bench> {
  const verifier = await verifierLevel(await network.create(), head.build, head.input, proofs);
  const fulfilment = await useSite(await network.create(), head.build, head.input, proofs);
  const gasPerProof = verifier.curve[String(proofs)]!;
  return { proofs, gasPerProof, singleGas: verifier.singleGas, ratio: Math.round((gasPerProof / verifier.singleGas) * 1000) / 1000, curve: verifier.curve, publicSignals: verifier.publicSignals, fulfilment };
}

/** Merges the figures into bench/results.json's "batch" object (next to "settlement", if any). */
export async function writeBatchGroth16(result: BatchGroth16Bench, path = "bench/results.json"): Promise<void> {
  const results = JSON.parse(await readFile(path, "utf8").catch(() => "{}")) as { batch?: Record<string, unknown> };
  results.batch = { ...results.batch, groth16: result };
  await mkdir("bench", { recursive: true });
  await writeFile(path, JSON.stringify(results, null, 2) + "\n");
}

// `npx tsx scripts/bench/batch-groth16.ts`: measures batch verification alone and merges it into the results.
if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  try {
    const result = await benchBatchGroth16(await demoHead((line) => console.log(line)));
    await writeBatchGroth16(result);
    console.log(JSON.stringify({ batch: { groth16: result } }, null, 2));
  } finally {
    await releaseZkResources();
  }
}
