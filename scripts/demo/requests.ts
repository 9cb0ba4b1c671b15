/**
 * The demo's request section: an example consumer contract (RequestingConsumer) asks the request book for a
 * classification; the operator node code (src/node, the same code `opg node` runs) picks the request up from
 * the chain's events, runs the model with the circuit's fixed-point semantics, signs or proves it and
 * fulfils; the book verifies it and calls the consumer back with the output values.
 * Also used by `npm run bench` to measure the latency from request to callback with a warm prover.
 */
import { BrowserProvider, Contract, HDNodeWallet, Interface, Wallet, type Signer } from "ethers";
import type { network } from "hardhat";
import { loadServedModels } from "../../src/node/models.ts";
import { createChainBook } from "../../src/node/chain.ts";
import { OperatorNode } from "../../src/node/node.ts";
import { NodeStore } from "../../src/node/store.ts";
import type { Hex } from "../../src/receipts/receipt.ts";
import { Tier } from "../../src/receipts/tier.ts";
import { REQUEST_BOOK_ABI } from "../../src/requests/abi.ts";
import { encodeRequestInput } from "../../src/requests/types.ts";
import { connect, mined, type Deployment } from "../../src/settlement/index.ts";
import type { ModelRunner } from "../../src/execution/index.ts";

type Connection = Awaited<ReturnType<typeof network.create>>;

/** Hardhat's default accounts (the embedded chain's signers). */
const HARDHAT_MNEMONIC = "test test test test test test test test test test test junk";

export interface DemoRequest {
  id: string;
  tier: string;
  steps: string[];
  fulfilled: boolean;
  callback: boolean;
  output: number[];
  gasUsed: { request: number; fulfil: number };
  /** From sending the request to the consumer's callback having run (ms). */
  latencyMs: number;
}

export interface RunningNode {
  readonly node: OperatorNode;
  readonly store: NodeStore;
  readonly runner: (modelId: string) => ModelRunner;
  stop(): Promise<void>;
}

/**
 * Starts the operator node code against the embedded chain for `models` (operator: default account
 * `operatorIndex`, which must be staked), polling every `pollMs`.
 */
export async function startNode(
  connection: Connection,
  deployment: Deployment,
  models: readonly { modelId: string; dir: string }[],
  options: { operatorIndex?: number; pollMs?: number; log?: (line: string) => void } = {},
): Promise<RunningNode> {
  const provider = new BrowserProvider(connection.provider);
  const wallet = new Wallet(HDNodeWallet.fromPhrase(HARDHAT_MNEMONIC, "", `m/44'/60'/0'/0/${options.operatorIndex ?? 2}`).privateKey, provider);
  const { chainId } = await provider.getNetwork();
  const served = await loadServedModels(
    models.map((m) => ({ modelId: m.modelId.toLowerCase() as Hex, dir: m.dir })),
    { warm: true },
  );
  const store = new NodeStore(":memory:");
  const node = new OperatorNode({
    provider,
    wallet,
    book: await createChainBook(connect(deployment, provider), provider, wallet.address, chainId),
    models: served,
    store,
    confirmations: 1,
    pollMs: options.pollMs ?? 50,
    concurrency: 2,
    queueCapacity: 64,
    log: options.log ?? (() => undefined),
  });
  await node.start();
  return {
    node,
    store,
    runner: (modelId) => served.get(modelId.toLowerCase() as Hex)!.runner,
    async stop() {
      await node.stop();
      store.close();
    },
  };
}

/** Deploys a RequestingConsumer asking `modelId` at `tier` and funds its escrow from `payer`. */
export async function deployConsumer(connection: Connection, deployment: Deployment, modelId: string, tier: Exclude<Tier, 0>, payer: Signer, funds: bigint): Promise<Contract> {
  const consumer = (await connection.ethers.deployContract("RequestingConsumer", [deployment.requests, [modelId], Tier.Signature, tier])) as unknown as Contract;
  await consumer.waitForDeployment();
  const c = connect(deployment, payer);
  await mined(c.token.getFunction("approve")(deployment.hub, funds));
  await mined(c.hub.getFunction("deposit")(await consumer.getAddress(), funds));
  return consumer;
}

/**
 * The consumer asks for a classification of `values`; resolves once its callback ran (the node serving
 * the request meanwhile).
 */
export async function classify(
  running: RunningNode,
  consumer: Contract,
  caller: Signer,
  modelId: string,
  values: readonly number[],
  options: { maxFee: bigint; deadline: bigint; callbackGas?: number; timeoutMs?: number },
): Promise<DemoRequest> {
  const runner = running.runner(modelId);
  const quantized = runner.quantizeInput(values);
  const { inputCommitment } = await runner.execute(quantized);
  const asCaller = consumer.connect(caller) as Contract;
  const started = performance.now();
  const sent = await mined(asCaller.getFunction("classify")(inputCommitment, encodeRequestInput(quantized), options.maxFee, options.deadline, options.callbackGas ?? 200_000));
  const id = requestIdOf(sent.logs);
  const end = Date.now() + (options.timeoutMs ?? 120_000);
  for (;;) {
    const outputs = (await consumer.getFunction("outputsOf")(id)) as bigint[];
    const pending = (await consumer.getFunction("pending")(id)) as string;
    if (outputs.length > 0 && /^0x0{64}$/.test(pending)) break;
    const row = running.store.get(id);
    if (row !== undefined && (row.status === "rejected" || row.status === "failed")) throw new Error(`request ${id} was not served: ${row.error ?? row.status}`);
    if (Date.now() > end) throw new Error(`request ${id} was not fulfilled in time`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  const latencyMs = performance.now() - started;
  // The node records the fulfilment once its transaction is mined: wait for that bookkeeping too.
  for (let i = 0; i < 500 && running.store.get(id)?.status !== "fulfilled"; i++) await new Promise((resolve) => setTimeout(resolve, 10));
  const row = running.store.get(id);
  const result = JSON.parse(row?.result ?? "{}") as { gasUsed?: string; callback?: boolean | null; steps?: { tier: string }[] };
  const outputs = (await consumer.getFunction("outputsOf")(id)) as bigint[];
  return {
    id,
    tier: result.steps?.at(-1)?.tier ?? "none",
    steps: (result.steps ?? []).map((s) => s.tier),
    fulfilled: row?.status === "fulfilled",
    callback: result.callback === true,
    output: outputs.map((v) => Number(v) / 2 ** runner.scaleBits),
    gasUsed: { request: Number(sent.gasUsed), fulfil: Number(result.gasUsed ?? 0) },
    latencyMs: Math.round(latencyMs),
  };
}

const BOOK_EVENTS = new Interface(REQUEST_BOOK_ABI);

function requestIdOf(logs: readonly { topics: readonly string[]; data: string }[]): Hex {
  for (const log of logs) {
    try {
      const parsed = BOOK_EVENTS.parseLog(log);
      if (parsed?.name === "InferenceRequested") return (parsed.args.getValue("requestId") as string).toLowerCase() as Hex;
    } catch {
      // another contract's event
    }
  }
  throw new Error("the request transaction emitted no InferenceRequested");
}
