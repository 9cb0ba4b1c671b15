/**
 * Fraud proofs in the demo and the bench: an operator signs a deliberately wrong output for a model with a
 * circuit (this script plays the dishonest operator: nothing in the product can be told to lie), the
 * requester submits it, the result is pending; a watcher re-runs the model with the circuit's fixed-point
 * semantics, proves the true output and refutes it. The operator's bond is slashed, the challenger
 * rewarded, the requester refunded.
 */
import type { Signer } from "ethers";
import { commitQuantized } from "../../src/commitments/index.ts";
import { scanBlocks, type WatchedModel } from "../../src/disputes/index.ts";
import { circuitRunner } from "../../src/execution/index.ts";
import { buildReceipt, hubDomain, outputDigestOf, signReceipt, type Hex } from "../../src/receipts/index.ts";
import { Tier } from "../../src/receipts/tier.ts";
import { connect, type Deployment } from "../../src/settlement/index.ts";
import { loadProver, type ZkBuild } from "../../src/zkml/index.ts";

/** Receipt nonces of these runs (a module counter: several runs share one requester). */
let nonce = 1_000_000n;

export interface DemoChallenge {
  id: string;
  refuted: true;
  slashed: string;
  reward: string;
  refund: string;
  gasUsed: number;
}

export interface ChallengeRun {
  challenges: DemoChallenge[];
  /** Gas of signature receipts of the circuit model (pending, bond locked), steady state. */
  pendingReceiptGas: number;
}

/**
 * Submits `honest` correct signature receipts and then one wrong one for `modelId` (a model with a circuit
 * accepting the signature tier), and lets a watcher (`challenger`) refute the wrong one.
 */
export async function runChallenge(options: {
  deployment: Deployment;
  chainId: bigint;
  modelId: string;
  build: ZkBuild;
  input: readonly number[];
  operator: Signer;
  requester: Signer;
  challenger: Signer;
  price: bigint;
  deadline: bigint;
  honest?: number;
  log?: (line: string) => void;
}): Promise<ChallengeRun> {
  const { deployment, build } = options;
  const runner = circuitRunner(build);
  const quantized = runner.quantizeInput([...options.input]);
  const hub = connect(deployment, options.requester).hub;
  const domain = hubDomain(options.chainId, deployment.hub);
  const operator = await options.operator.getAddress();
  const requester = await options.requester.getAddress();
  const submit = async (lie: boolean) => {
    const honest = await runner.execute(quantized);
    const output = lie ? honest.output.map((v, i) => (i === 0 ? v + 1n : v)) : honest.output;
    const receipt = buildReceipt({
      modelId: options.modelId,
      inputCommitment: honest.inputCommitment,
      outputCommitment: lie ? await commitQuantized(output, honest.scaleBits) : honest.outputCommitment,
      outputDigest: outputDigestOf(output),
      requester,
      operator,
      nonce: nonce++,
      deadline: options.deadline,
      tier: Tier.Signature,
    });
    const signature = await signReceipt(receipt, domain, options.operator);
    const mined = (await (await hub.getFunction("submitSigned")(receipt, operator, signature, options.price)).wait())!;
    const id = (await hub.getFunction("receiptIdOf")(requester, options.modelId, receipt.nonce)) as Hex;
    return { id, block: mined.blockNumber as number, gasUsed: Number(mined.gasUsed) };
  };

  let pendingReceiptGas = 0;
  for (let i = 0; i < (options.honest ?? 2); i++) pendingReceiptGas = (await submit(false)).gasUsed;
  const wrong = await submit(true);
  options.log?.(`   operator signed a wrong output: result ${wrong.id.slice(0, 18)}… is pending`);

  const model: WatchedModel = { modelId: options.modelId as Hex, runner, prover: () => loadProver(build) };
  const disputes = connect(deployment, options.challenger).disputes;
  if (disputes === undefined) throw new Error("the deployment has no Disputes contract");
  const events = await scanBlocks(
    { hub: connect(deployment, options.challenger).hub, disputes, models: new Map([[options.modelId.toLowerCase(), model]]), inputs: async () => quantized },
    wrong.block,
    wrong.block,
  );
  const challenges: DemoChallenge[] = [];
  for (const event of events) {
    if (event.kind === "failed") throw event.error;
    if (event.kind !== "challenged") continue;
    const r = event.report;
    challenges.push({ id: r.id, refuted: true, slashed: r.slashed.toString(), reward: r.reward.toString(), refund: r.refund.toString(), gasUsed: Number(r.gasUsed) });
  }
  return { challenges, pendingReceiptGas };
}
