/**
 * The demo's TEE step: a (development) Nitro enclave proves what it runs, gets its key registered, and signs a receipt
 * the hub verifies at tier TEE. No output here: the caller prints what it wants from the returned values.
 *
 *   1. the enclave generates a secp256k1 key; NSM (here the development generator, its root pinned explicitly)
 *      attests it, with user_data binding this chain, the EnclaveRegistry, the operator and the key;
 *   2. the model owner approves the enclave's image (keccak256 of PCR0‖PCR1‖PCR2) for the model;
 *   3. two of the three attesters verify the document and sign its facts (the quorum's threshold);
 *   4. the operator registers the key with their signatures;
 *   5. the enclave signs a TEE receipt; the requester submits it and pays the model's TEE price.
 */
import { Wallet, getBytes, hexlify, keccak256, randomBytes, toUtf8Bytes, type Signer, type TypedDataDomain } from "ethers";
import type { network } from "hardhat";
import { commitBytes } from "../../src/commitments/index.ts";
import { approveEnclaveImage, attest, documentImageId, quorumDomainOf, quorumEvidence, registerEnclaveKey } from "../../src/enclaves/index.ts";
import { enclaveBinding } from "../../src/nitro/binding.ts";
import { createDevAttestation, createDevChain } from "../../src/nitro/dev.ts";
import { buildReceipt, signReceipt, type Hex } from "../../src/receipts/index.ts";
import { Tier } from "../../src/receipts/tier.ts";
import { connect, submitSigned, type Deployment, type Settlement } from "../../src/settlement/index.ts";

type Connection = Awaited<ReturnType<typeof network.create>>;

/** What the TEE step needs from the demo: a deployed system, a model accepting TEE, a staked operator. */
export interface TeeStepContext {
  readonly connection: Connection;
  readonly deployment: Deployment;
  /** A model accepting tier TEE, owned by `modelOwner`. */
  readonly modelId: string;
  /** A staked operator (it registers the enclave key). */
  readonly operator: Signer;
  readonly modelOwner: Signer;
  /** Pays from its escrow. */
  readonly requester: Signer;
  /** At least the quorum's threshold (2) of registered attesters. */
  readonly attesters: readonly Signer[];
  /** Receipt deadline (unix seconds). */
  readonly deadline: bigint;
  /** The hub's EIP-712 domain (receipts are signed under it). */
  readonly domain: TypedDataDomain;
  /** The receipt's nonce; default: derived from the fresh enclave key, so reruns never collide. */
  readonly nonce?: bigint;
  readonly prompt?: string;
  readonly answer?: string;
}

export interface TeeStepResult {
  readonly settlement: Settlement;
  /** The enclave key's address (the receipt's signer). */
  readonly enclaveKey: string;
  /** The enclave's signing key, to sign further TEE steps (it never leaves the enclave in production). */
  readonly enclave: Wallet;
  readonly imageId: Hex;
}

export async function runTeeStep(ctx: TeeStepContext): Promise<TeeStepResult> {
  const { connection, deployment } = ctx;
  const provider = connection.ethers.provider;
  const { chainId } = await provider.getNetwork();
  const operator = await ctx.operator.getAddress();
  const latest = await provider.getBlock("latest");
  if (latest === null) throw new Error("the chain has no latest block");
  // Stamp the document with the chain's clock: the registry judges its age by block time.
  const at = latest.timestamp * 1000;

  // 1. The enclave's key and its attestation document.
  const enclave = new Wallet(hexlify(randomBytes(32)));
  const nsm = createDevChain({ at });
  const document = createDevAttestation(nsm, {
    timestamp: at,
    publicKey: getBytes(enclave.signingKey.publicKey),
    userData: enclaveBinding({ chainId, registry: deployment.enclaves, operator, enclaveKey: enclave.address }),
  });

  // 2. The model owner approves the image the enclave runs (it built the image, so it knows these PCRs).
  const imageId = documentImageId(document);
  await approveEnclaveImage(connect(deployment, ctx.modelOwner), ctx.modelId, imageId);

  // 3. Two attesters verify the document completely (dev root pinned, binding checked) and sign its facts.
  const domain = await quorumDomainOf(connect(deployment, provider));
  const policy = { root: nsm.root, at, maxAgeMs: 3_600_000, binding: { chainId, registry: deployment.enclaves, operator } };
  const attestations = [];
  for (const attester of ctx.attesters.slice(0, 2)) attestations.push(await attest(document, policy, attester, domain));
  const facts = attestations[0]!.facts;

  // 4. The operator registers the enclave key with the quorum's evidence.
  await registerEnclaveKey(connect(deployment, ctx.operator), facts, ctx.modelId, quorumEvidence(attestations, { facts, domain }));

  // 5. The enclave signs a TEE receipt; the requester submits it at the model's TEE price.
  const requester = connect(deployment, ctx.requester);
  const [, teePrice] = (await requester.models.getFunction("pricesOf")(ctx.modelId)) as [bigint, bigint, bigint];
  const receipt = buildReceipt({
    modelId: ctx.modelId,
    inputCommitment: await commitBytes(toUtf8Bytes(ctx.prompt ?? "Is this contract safe to call?")),
    outputCommitment: await commitBytes(toUtf8Bytes(ctx.answer ?? "yes")),
    requester: await ctx.requester.getAddress(),
    operator,
    // Below 2^255: nonces with the top bit set belong to operation steps.
    nonce: ctx.nonce ?? BigInt(keccak256(enclave.address)) >> 1n,
    deadline: ctx.deadline,
    tier: Tier.TEE,
  });
  const signature = await signReceipt(receipt, ctx.domain, enclave);
  const settlement = await submitSigned(requester.hub, receipt, enclave.address, signature, teePrice);
  return { settlement, enclaveKey: enclave.address, enclave, imageId };
}
