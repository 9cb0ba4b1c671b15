/**
 * Gas of inference requests on Hardhat's embedded chain: `request` and `fulfil` at the signature tier
 * (target: ≤ 150,000 together) and at the ZK tier, each measured in the steady state (the second
 * request of a requester, operator and model owner whose balance slots already exist).
 * The model has a circuit and fraud proofs are on, so a signature fulfilment opens a challenge window
 * (a fresh pending word, the bond lock, the FulfilmentPending event): `fulfil`. The same fulfilment with
 * fraud proofs off (final at once, as when issue 9's target was set) is `fulfilFinalAtOnce`.
 */
import type { network } from "hardhat";
import { provenRequestStep, zkRegistrationFields } from "../../src/pipeline/index.ts";
import { Tier } from "../../src/receipts/tier.ts";
import { buildRequestParams, fulfilAuthorizedRequest, fulfilRequest, signAuthorization, signedRequestStep, submitRequest, type RequestContext } from "../../src/requests/index.ts";
import { connect, depositWithPermit, registerModel, stakeOperator } from "../../src/settlement/index.ts";
import { commitModelInput, quantizeInput, type ZkBuild } from "../../src/zkml/index.ts";
import { deploySystem } from "../demo/system.ts";

type Connection = Awaited<ReturnType<typeof network.create>>;
const OPG = 10n ** 18n;

export interface RequestGas {
  /** `authorized`: one fulfilAuthorized transaction settling an off-chain EIP-712 authorization. */
  readonly signature: { readonly request: number; readonly fulfil: number; readonly authorized: number; readonly fulfilFinalAtOnce: number };
  readonly zk: { readonly request: number; readonly fulfil: number };
}

export async function benchRequestGas(connection: Connection, head: { build: ZkBuild; input: number[] }): Promise<RequestGas> {
  const { ethers } = connection;
  const [admin, modelOwner, operator, requester, treasury, ...attesters] = await ethers.getSigners();
  if (!admin || !modelOwner || !operator || !requester || !treasury) throw new Error("the embedded chain needs more accounts");
  const { chainId } = await ethers.provider.getNetwork();
  const deployment = await deploySystem(connection, { treasury: treasury.address, attesters: attesters.slice(0, 3).map((a) => a.address), attesterThreshold: 2 });
  const asAdmin = connect(deployment, admin);
  for (const who of [modelOwner, operator, requester]) await (await asAdmin.token.getFunction("transfer")(who.address, 100_000n * OPG)).wait();
  const deadline = BigInt((await ethers.provider.getBlock("latest"))!.timestamp) + 3600n;
  const prices = [1n * OPG, 5n * OPG, 50n * OPG] as const;
  const owner = connect(deployment, modelOwner);
  const zkFields = zkRegistrationFields(head.build);
  const { modelId } = await registerModel(owner, { ...zkFields, metadataURI: "ipfs://classifier", prices, tiers: [Tier.Signature, Tier.ZK] });
  const minimumStake = (await connect(deployment, operator).operators.getFunction("minimumStake")()) as bigint;
  await stakeOperator(connect(deployment, operator), operator, minimumStake, operator.address, deadline);
  await depositWithPermit(connect(deployment, requester), requester, 10_000n * OPG, deadline);

  const book = connect(deployment, requester).requests!;
  const { scaleBits } = head.build.model;
  const quantized = quantizeInput(head.build.model, head.input);
  // The circuit's input commitment (packed at the model's input width): what a ZK step proves.
  const inputCommitment = await commitModelInput(head.build.model, quantized);
  let nonce = 1n;

  const round = async (tier: typeof Tier.Signature | typeof Tier.ZK) => {
    const params = buildRequestParams({ pipeline: [modelId], inputCommitment, minEachStep: tier, maxFee: prices[tier - 1]!, deadline, nonce: nonce++ });
    const requested = await submitRequest(book, requester, params, { values: quantized });
    const ctx: RequestContext = { chainId, book: deployment.requests!, requester: requester.address, params, operator: operator.address };
    let evidence;
    let outputs: bigint[];
    if (tier === Tier.ZK) {
      ({ evidence, outputs } = await provenRequestStep(ctx, { index: 0, inputCommitment, build: head.build, input: head.input }));
    } else {
      outputs = [5n, -3n, 17n, 0n];
      evidence = await signedRequestStep(ctx, { index: 0, inputCommitment, tier, outputs, scaleBits, signer: operator });
    }
    const fulfilled = await fulfilRequest(book, operator, ctx, [evidence], outputs);
    return { request: Number(requested.gasUsed), fulfil: Number(fulfilled.gasUsed) };
  };
  const authorized = async () => {
    const params = buildRequestParams({ pipeline: [modelId], inputCommitment, operator: operator.address, maxFee: prices[0], deadline, nonce: nonce++ });
    const ctx: RequestContext = { chainId, book: deployment.requests!, requester: requester.address, params, operator: operator.address };
    const signature = await signAuthorization(requester, chainId, deployment.requests!, params);
    const outputs = [5n, -3n, 17n, 0n];
    const evidence = await signedRequestStep(ctx, { index: 0, inputCommitment, tier: Tier.Signature, outputs, scaleBits, signer: operator });
    return Number((await fulfilAuthorizedRequest(book, operator, ctx, signature, [evidence], outputs)).gasUsed);
  };
  await round(Tier.Signature);
  const signature = { ...(await round(Tier.Signature)), authorized: await authorized(), fulfilFinalAtOnce: 0 };
  const [disputes, window, multiple] = (await asAdmin.hub.getFunction("disputeConfig")()) as [string, bigint, bigint];
  await (await asAdmin.hub.getFunction("setDisputeConfig")(disputes, 0, multiple)).wait();
  signature.fulfilFinalAtOnce = (await round(Tier.Signature)).fulfil;
  await (await asAdmin.hub.getFunction("setDisputeConfig")(disputes, window, multiple)).wait();
  await round(Tier.ZK);
  const zk = await round(Tier.ZK);
  return { signature, zk };
}
