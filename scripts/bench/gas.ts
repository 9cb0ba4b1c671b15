/**
 * Gas of the hub's paths on Hardhat's embedded chain: signature, TEE and ZK receipts, and hybrid
 * operations next to the same steps submitted separately; plus the universal Groth16 verifier's own
 * execution gas for a build, next to the precompile floor.
 */
import { Interface, getBytes } from "ethers";
import type { network } from "hardhat";
import { commitBytes } from "../../src/commitments/index.ts";
import { OperationBuilder, handOffCommitment, zkEvidence, zkRegistrationFields } from "../../src/pipeline/index.ts";
import { bindingOf, buildReceipt, hubDomain, receiptId, signReceipt } from "../../src/receipts/index.ts";
import { Tier } from "../../src/receipts/tier.ts";
import {
  connect,
  depositWithPermit,
  registerModel,
  stakeOperator,
  submitOperation,
  submitProven,
  submitSigned,
} from "../../src/settlement/index.ts";
import { encodeProofForEvm, encodePublicSignals, encodeVerifyingKey, prove, type ZkBuild, type ZkProofBundle } from "../../src/zkml/index.ts";
import type { Groth16VerificationKey } from "../../src/zkml/index.ts";
import { deploySystem } from "../demo/system.ts";
import { runTeeStep } from "../demo/tee.ts";

type Connection = Awaited<ReturnType<typeof network.create>>;
const OPG = 10n ** 18n;

/** Gas of every hub path; `head` is the ZK model used for ZK receipts and as the operations' last step. */
export async function benchHubGas(connection: Connection, head: { build: ZkBuild; input: number[] }): Promise<Record<string, number>> {
  const { ethers } = connection;
  const [admin, modelOwner, operator, requester, treasury, ...attesters] = await ethers.getSigners();
  if (!admin || !modelOwner || !operator || !requester || !treasury) throw new Error("the embedded chain needs more accounts");
  const { chainId } = await ethers.provider.getNetwork();
  const deployment = await deploySystem(connection, { treasury: treasury.address, attesters: attesters.slice(0, 3).map((a) => a.address), attesterThreshold: 2 });
  const gas: Record<string, number> = {};
  const asAdmin = connect(deployment, admin);
  for (const who of [modelOwner, operator, requester]) await (await asAdmin.token.getFunction("transfer")(who.address, 100_000n * OPG)).wait();
  const now = BigInt((await ethers.provider.getBlock("latest"))!.timestamp);
  const deadline = now + 3600n;
  const prices = [1n * OPG, 5n * OPG, 50n * OPG] as const;

  const owner = connect(deployment, modelOwner);
  const embedder = await registerModel(owner, { weightsCommitment: ethers.id("bench embedder") as `0x${string}`, metadataURI: "ipfs://embedder", prices, tiers: [Tier.Signature, Tier.TEE] });
  gas["registerModel"] = Number(embedder.gasUsed);
  const normaliser = await registerModel(owner, { weightsCommitment: ethers.id("bench normaliser") as `0x${string}`, metadataURI: "ipfs://normaliser", prices, tiers: [Tier.Signature] });
  const zkFields = zkRegistrationFields(head.build);
  const classifier = await registerModel(owner, { ...zkFields, metadataURI: "ipfs://classifier", prices, tiers: [Tier.ZK] });
  gas["registerZkModel"] = Number(classifier.gasUsed);

  const minimumStake = (await connect(deployment, operator).operators.getFunction("minimumStake")()) as bigint;
  gas["stakeWithPermitAndRegisterSigner"] = Number(await stakeOperator(connect(deployment, operator), operator, minimumStake, operator.address, deadline));
  gas["depositWithPermit"] = Number(await depositWithPermit(connect(deployment, requester), requester, 10_000n * OPG, deadline));

  const hub = connect(deployment, requester).hub;
  const domain = hubDomain(chainId, deployment.hub);
  let nonce = 1n;
  const signed = async (modelId: string, tier: typeof Tier.Signature | typeof Tier.TEE, signer: Parameters<typeof signReceipt>[2] & { address: string }, output: string) => {
    const receipt = buildReceipt({
      modelId,
      inputCommitment: await commitBytes(new TextEncoder().encode(`input ${nonce}`)),
      outputCommitment: output,
      requester: requester.address,
      operator: operator.address,
      nonce: nonce++,
      deadline,
      tier,
    });
    return submitSigned(hub, receipt, signer.address, await signReceipt(receipt, domain, signer), prices[tier - 1]!);
  };
  const someOutput = await commitBytes(new TextEncoder().encode("output"));

  // Signature tier: the first receipt pays for fresh balance slots, later ones are the steady state.
  const sigRuns = [];
  for (let i = 0; i < 3; i++) sigRuns.push(Number((await signed(embedder.modelId, Tier.Signature, operator, someOutput)).gasUsed));
  gas["signatureReceipt.first"] = sigRuns[0]!;
  gas["signatureReceipt"] = sigRuns[2]!;

  // TEE: a real registration flow (generated Nitro document, 2-of-3 attesters), then steady receipts.
  const tee = await runTeeStep({ connection, deployment, modelId: embedder.modelId, operator, modelOwner, requester, attesters, deadline, domain });
  gas["teeReceipt"] = Number((await signed(embedder.modelId, Tier.TEE, tee.enclave, someOutput)).gasUsed);

  // ZK: proof bound to the receipt id.
  const zkReceipt = async () => {
    const n = nonce++;
    const id = receiptId(chainId, deployment.hub, requester.address, classifier.modelId, n);
    const bundle = await prove(head.build, head.input, { binding: bindingOf(id, operator.address) });
    const receipt = buildReceipt({ modelId: classifier.modelId, inputCommitment: bundle.inputCommitment, outputCommitment: bundle.outputCommitment, requester: requester.address, operator: operator.address, nonce: n, deadline, tier: Tier.ZK });
    const evidence = zkEvidence(bundle, receipt, id);
    return submitProven(hub, receipt, evidence.proof, evidence.outputs, prices[2]);
  };
  gas["zkReceipt"] = Number((await zkReceipt()).gasUsed);

  // Hybrid operations next to the same steps submitted separately.
  const handOff = await handOffCommitment(head.input, head.build);
  const separate2 = Number((await signed(embedder.modelId, Tier.TEE, tee.enclave, handOff)).gasUsed) + Number((await zkReceipt()).gasUsed);
  const normalised = await commitBytes(new TextEncoder().encode("normalised"));
  const separate3 = Number((await signed(normaliser.modelId, Tier.Signature, operator, normalised)).gasUsed) + separate2;

  const operation = async (opNonce: bigint, steps: 2 | 3) => {
    const op = new OperationBuilder({ chainId, hub: deployment.hub, requester: requester.address, nonce: opNonce, deadline, inputCommitment: await commitBytes(new TextEncoder().encode(`op ${opNonce}`)) });
    if (steps === 3) await op.addSignedStep({ modelId: normaliser.modelId, tier: Tier.Signature, operator: operator.address, outputCommitment: normalised, signer: operator });
    await op.addSignedStep({ modelId: embedder.modelId, tier: Tier.TEE, operator: operator.address, outputCommitment: handOff, signer: tee.enclave });
    await op.addZkStep({ modelId: classifier.modelId, operator: operator.address, build: head.build, input: head.input });
    const built = op.build();
    return Number((await submitOperation(hub, built.steps, built.evidence, { minEachStep: Tier.Signature, minFinalStep: Tier.ZK }, 1_000n * OPG)).gasUsed);
  };
  gas["operation.2step"] = await operation(1n, 2);
  gas["separate.2step"] = separate2;
  gas["operation.3step"] = await operation(2n, 3);
  gas["separate.3step"] = separate3;
  return gas;
}

const VERIFIER = new Interface(["function verifyProof(bytes verifyingKey, uint256[8] proof, uint256[] publicSignals) view returns (bool)"]);

/** Calldata gas (EIP-2028): 16 per non-zero byte, 4 per zero byte. */
export function calldataGas(data: string): number {
  return [...getBytes(data)].reduce((sum, byte) => sum + (byte === 0 ? 4 : 16), 0);
}

/**
 * The universal verifier's execution gas for one proof: a transaction calling verifyProof, minus the
 * 21,000 intrinsic gas and the calldata, next to the precompile floor 45,000 + 34,000·4 + 6,150·n.
 */
export async function verifierGas(connection: Connection, verifier: string, vk: Groth16VerificationKey, bundle: ZkProofBundle) {
  const [sender] = await connection.ethers.getSigners();
  const signals = encodePublicSignals(bundle.publicSignals);
  const data = VERIFIER.encodeFunctionData("verifyProof", [encodeVerifyingKey(vk), encodeProofForEvm(bundle.proof), signals]);
  const valid = VERIFIER.decodeFunctionResult("verifyProof", await connection.ethers.provider.call({ to: verifier, data }))[0] as boolean;
  if (!valid) throw new Error("bench: the on-chain verifier refused a valid proof");
  const receipt = await (await sender!.sendTransaction({ to: verifier, data })).wait();
  const calldata = calldataGas(data);
  const execution = Number(receipt!.gasUsed) - 21_000 - calldata;
  const floor = 45_000 + 34_000 * 4 + 6_150 * signals.length;
  return { execution, calldata, floor, ratio: Math.round((execution / floor) * 1000) / 1000, publicSignals: signals.length };
}

