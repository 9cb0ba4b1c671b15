/**
 * TEE tier gas on a fresh in-process chain: approving an enclave image, registering an enclave key with a 2-of-3
 * attester quorum (and renewing it: the heartbeat an operator pays periodically), and TEE receipts. The first TEE
 * receipt also pays for zero → non-zero escrow credits (operator, model owner, treasury); the steady-state figure is a
 * later receipt, where only the receipt's own result slot is new. The main bench script calls benchTeeGas() and owns
 * bench/results.json.
 */
import { Wallet, getBytes, hexlify, randomBytes } from "ethers";
import type { network } from "hardhat";
import {
  approveEnclaveImage,
  attest,
  imageIdOf,
  quorumDomain,
  quorumEvidence,
  registerEnclaveKey,
  type AttestationFacts,
} from "../../src/enclaves/index.ts";
import { enclaveBinding } from "../../src/nitro/binding.ts";
import { createDevAttestation, createDevChain, type DevChain } from "../../src/nitro/dev.ts";
import { buildReceipt, hubDomain, signReceipt } from "../../src/receipts/index.ts";
import { Tier } from "../../src/receipts/tier.ts";
import { deploySystem } from "../demo/system.ts";
import { connect, depositWithPermit, registerModel, stakeOperator, submitSigned } from "../../src/settlement/index.ts";

type Connection = Awaited<ReturnType<typeof network.create>>;

const OPG = 10n ** 18n;

export async function benchTeeGas(connection: Connection): Promise<Record<string, number>> {
  const { ethers, networkHelpers } = connection;
  const [admin, modelOwner, operator, requester, treasury, ...rest] = await ethers.getSigners();
  const attesters = rest.slice(0, 3);
  if (!admin || !modelOwner || !operator || !requester || !treasury || attesters.length < 3) throw new Error("the bench chain needs at least eight accounts");
  const { chainId } = await ethers.provider.getNetwork();

  const deployment = await deploySystem(connection, { treasury: treasury.address, attesters: attesters.map((a) => a.address), attesterThreshold: 2 });
  const asAdmin = connect(deployment, admin);
  for (const who of [modelOwner, operator, requester]) await (await asAdmin.token.getFunction("transfer")(who.address, 10_000n * OPG)).wait();
  const deadline = BigInt(await networkHelpers.time.latest()) + 7200n;
  const prices = [1n * OPG, 5n * OPG, 50n * OPG] as const;
  const { modelId } = await registerModel(connect(deployment, modelOwner), {
    weightsCommitment: ethers.keccak256(ethers.toUtf8Bytes("bench tee model")) as `0x${string}`,
    metadataURI: "ipfs://bench",
    prices,
    tiers: [Tier.Signature, Tier.TEE],
  });
  const minimumStake = (await asAdmin.operators.getFunction("minimumStake")()) as bigint;
  await stakeOperator(connect(deployment, operator), operator, minimumStake, operator.address, deadline);
  await depositWithPermit(connect(deployment, requester), requester, 1_000n * OPG, deadline);

  // The enclave: a secp256k1 key and a development NSM chain valid around the chain's clock.
  const enclave = new Wallet(hexlify(randomBytes(32)));
  const nowMs = async () => (await networkHelpers.time.latest()) * 1000;
  const nsm: DevChain = createDevChain({ at: await nowMs() });
  const userData = enclaveBinding({ chainId, registry: deployment.enclaves, operator: operator.address, enclaveKey: enclave.address });
  const domain = quorumDomain(chainId, deployment.quorum);
  const attested = async (): Promise<{ facts: AttestationFacts; evidence: string }> => {
    const at = await nowMs();
    const document = createDevAttestation(nsm, { timestamp: at, publicKey: getBytes(enclave.signingKey.publicKey), userData });
    const signed = [];
    for (const attester of attesters.slice(0, 2)) signed.push(await attest(document, { root: nsm.root, at, maxAgeMs: 3_600_000 }, attester, domain));
    const facts = signed[0]!.facts;
    return { facts, evidence: quorumEvidence(signed, { facts, domain }) };
  };

  const first = await attested();
  const approval = await approveEnclaveImage(connect(deployment, modelOwner), modelId, imageIdOf(first.facts));
  const asOperator = connect(deployment, operator);
  const registration = await registerEnclaveKey(asOperator, first.facts, modelId, first.evidence);
  await networkHelpers.time.increase(60);
  const renewed = await attested();
  const renewal = await registerEnclaveKey(asOperator, renewed.facts, modelId, renewed.evidence);

  const hub = connect(deployment, requester).hub;
  const receiptGas: bigint[] = [];
  for (let nonce = 1n; nonce <= 3n; nonce++) {
    const receipt = buildReceipt({
      modelId,
      inputCommitment: ethers.toBeHex(1000n + nonce, 32),
      outputCommitment: ethers.toBeHex(2000n + nonce, 32),
      requester: requester.address,
      operator: operator.address,
      nonce,
      deadline,
      tier: Tier.TEE,
    });
    const signature = await signReceipt(receipt, hubDomain(chainId, deployment.hub), enclave);
    receiptGas.push((await submitSigned(hub, receipt, enclave.address, signature, prices[1])).gasUsed);
  }
  // The second and third receipts touch storage identically; they differ only by calldata bytes
  // (zero bytes in the signature cost 4 gas, others 16), so report the larger.

  return {
    gasTeeImageApproval: Number(approval.gasUsed),
    gasTeeKeyRegistration2of3: Number(registration.gasUsed),
    gasTeeKeyRenewal2of3: Number(renewal.gasUsed),
    gasTeeReceiptFirst: Number(receiptGas[0]),
    gasTeeReceipt: Number(receiptGas[1]! > receiptGas[2]! ? receiptGas[1]! : receiptGas[2]!),
  };
}
