/**
 * The operator node's serving logic on the in-process chain: the system deployed, the gemm-relu-3x4
 * example registered (signature and ZK) and served, a node factory logging into `lines`, and `request`.
 */
import { readFileSync } from "node:fs";
import { expect } from "chai";
import { BrowserProvider, Wallet, type Contract } from "ethers";
import { cachedBuild } from "../../scripts/demo/zk.ts";
import { inputValues } from "../../src/execution/index.ts";
import { createChainBook } from "../../src/node/chain.ts";
import { loadServedModels } from "../../src/node/models.ts";
import { OperatorNode, type OperatorNodeOptions } from "../../src/node/node.ts";
import type { NodeStore } from "../../src/node/store.ts";
import { Tier } from "../../src/receipts/tier.ts";
import { buildRequestParams, encodeRequestInput } from "../../src/requests/types.ts";
import { connect } from "../../src/settlement/index.ts";
import { encodeVerifyingKey } from "../../src/zkml/index.ts";
import { depositWithPermit, fund, registerModel, stakeOperator } from "./actors.ts";
import { keyOf } from "./cli.ts";
import { deploymentOf } from "./enclave.ts";
import { OPG, deployOn, newChain } from "./system.ts";

const EXAMPLE = new URL("../../examples/models/gemm-relu-3x4/", import.meta.url);

/** A chain with the system deployed, the gemm-relu-3x4 model registered and served, a staked operator and a funded requester. */
export async function setup() {
  const chain = await newChain();
  const s = await deployOn(chain);
  const { build } = await cachedBuild(readFileSync(new URL("model.onnx", EXAMPLE)), "gemm-relu-3x4");
  const modelId = await registerModel(s, { tiers: [Tier.Signature, Tier.ZK], weights: build.metadata.weightsCommitment, verifyingKey: encodeVerifyingKey(build.verificationKey) });
  const other = await registerModel(s, { tiers: [Tier.Signature] });
  await stakeOperator(s);
  await fund(s, s.requester, 500n * OPG);
  await depositWithPermit(s, s.requester, 500n * OPG);
  const provider = new BrowserProvider(chain.provider);
  const deployment = await deploymentOf(s);
  const { chainId } = await provider.getNetwork();
  const wallet = new Wallet(keyOf(2), provider);
  expect(wallet.address).to.equal(s.operator.address);
  const models = await loadServedModels([{ modelId: modelId as `0x${string}`, dir: build.dir }], { warm: true });
  const runner = models.get(modelId as `0x${string}`)!.runner;
  const values = inputValues(JSON.parse(readFileSync(new URL("input.json", EXAMPLE), "utf8")));
  const quantized = runner.quantizeInput(values);
  const expected = await runner.execute(quantized);
  const lines: string[] = [];
  const book = await createChainBook(connect(deployment, provider), provider, wallet.address, chainId);
  const newNode = (store: NodeStore, extra: Partial<OperatorNodeOptions> = {}) =>
    new OperatorNode({ provider, wallet, book, models, store, confirmations: 1, pollMs: 30, concurrency: 2, queueCapacity: 16, log: (l) => lines.push(l), ...extra });
  let nonce = 1n;
  /** Requests from the requester; `input` is the calldata input ("0x" with `uri` for an input by URI). */
  const request = async (fields: Partial<Parameters<typeof buildRequestParams>[0]> = {}, input: string = encodeRequestInput(quantized), uri = "") => {
    const now = BigInt(await s.networkHelpers.time.latest());
    const params = buildRequestParams({ pipeline: [modelId], inputCommitment: expected.inputCommitment, minEachStep: Tier.Signature, maxFee: 100n * OPG, deadline: now + 600n, nonce: nonce++, ...fields });
    const requests = s.requests.connect(s.requester) as unknown as Contract;
    const tx = await requests.getFunction("request")({ ...params, pipeline: [...params.pipeline] }, input, uri);
    await tx.wait();
    return (await s.requests.requestIdOf(s.requester.address, { ...params, pipeline: [...params.pipeline] })).toLowerCase();
  };
  return { s, chain, provider, wallet, book, models, runner, values, quantized, expected, modelId, other, lines, newNode, request, chainId, deployment };
}

/** Polls `check` until it holds. */
export async function until(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 60_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

