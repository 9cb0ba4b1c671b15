/**
 * Enclave test helpers: a fresh enclave (secp256k1 wallet + development Nitro CA chain), its attestation documents
 * bound to a chosen chain / registry / operator, attester signatures through `attest`, and registration through the
 * src/enclaves toolkit. Times follow the chain's clock (tests travel in time), never the wall clock.
 */
import { Wallet, getBytes, hexlify, randomBytes, type Signer, type TypedDataDomain } from "ethers";
import {
  approveEnclaveImage,
  attest,
  imageIdOf,
  quorumDomain,
  quorumEvidence,
  registerEnclaveKey,
  unverifiedFactsOf,
  type AttestPolicy,
  type Attestation,
  type AttestationFacts,
  type EnclaveRegistration,
} from "../../src/enclaves/index.ts";
import { enclaveBinding } from "../../src/nitro/binding.ts";
import { createDevAttestation, createDevChain, type DevChain, type DevDocumentFields } from "../../src/nitro/dev.ts";
import { connect, type Deployment } from "../../src/settlement/index.ts";
import { MIN_STAKE, depositWithPermit, fund, registerModel, stakeOperator, type System } from "./actors.ts";
import { OPG, deployOn, type newChain } from "./system.ts";

type Connection = Awaited<ReturnType<typeof newChain>>;

/** A deployed system with a model accepting Signature and TEE, a staked operator and a funded requester. */
export type TeeSystem = System & { modelId: string; deployment: Deployment; chainId: bigint; domain: TypedDataDomain };

export async function deployTeeSystem(chain: Connection): Promise<TeeSystem> {
  const s = await deployOn(chain);
  const modelId = await registerModel(s);
  await stakeOperator(s);
  await fund(s, s.requester, 100n * OPG);
  await depositWithPermit(s, s.requester, 100n * OPG);
  const { chainId } = await s.ethers.provider.getNetwork();
  const deployment = await deploymentOf(s);
  return { ...s, modelId, deployment, chainId, domain: quorumDomain(chainId, deployment.quorum) };
}

export async function deploymentOf(s: System): Promise<Deployment> {
  return {
    token: await s.token.getAddress(),
    hub: await s.hub.getAddress(),
    models: await s.models.getAddress(),
    operators: await s.operators.getAddress(),
    enclaves: await s.enclaves.getAddress(),
    quorum: await s.quorum.getAddress(),
    verifier: await s.verifier.getAddress(),
    requests: await s.requests.getAddress(),
  };
}

/** The latest block's time in milliseconds: what documents are stamped with and attesters verify at. */
export async function chainNowMs(s: System): Promise<number> {
  return (await s.networkHelpers.time.latest()) * 1000;
}

/** Stakes the minimum for `who` so it can register enclave keys as an operator of its own. */
export async function stakeAs(s: System, who: Signer & { address: string }): Promise<void> {
  await fund(s, who, MIN_STAKE);
  await (await s.token.connect(who).approve(await s.operators.getAddress(), MIN_STAKE)).wait();
  await (await s.operators.connect(who).stake(MIN_STAKE)).wait();
}

/** An enclave: the secp256k1 key it generated and the (development) NSM chain that signs its documents. */
export interface DevEnclave {
  readonly wallet: Wallet;
  readonly nsm: DevChain;
}

/** A new enclave whose NSM leaf certificate is valid for 3 hours around `atMs`. */
export function newEnclave(atMs: number, wallet: Wallet = new Wallet(hexlify(randomBytes(32)))): DevEnclave {
  return { wallet, nsm: createDevChain({ at: atMs }) };
}

/** Who the document is bound to; each defaults to the system's own chain, registry and operator. */
export interface BindingOverrides {
  readonly chainId?: bigint;
  readonly registry?: string;
  readonly operator?: string;
}

/**
 * An attestation document from `enclave` carrying its public key and the binding (chain, registry, operator, key),
 * stamped at the chain's current time unless `fields.timestamp` says otherwise.
 */
export async function enclaveDocument(
  s: TeeSystem,
  enclave: DevEnclave,
  options: BindingOverrides & DevDocumentFields = {},
): Promise<{ document: Uint8Array; facts: AttestationFacts }> {
  const { chainId, registry, operator, ...fields } = options;
  const userData = enclaveBinding({
    chainId: chainId ?? s.chainId,
    registry: registry ?? s.deployment.enclaves,
    operator: operator ?? s.operator.address,
    enclaveKey: enclave.wallet.address,
  });
  const document = createDevAttestation(enclave.nsm, {
    timestamp: await chainNowMs(s),
    publicKey: getBytes(enclave.wallet.signingKey.publicKey),
    userData,
    ...fields,
  });
  return { document, facts: unverifiedFactsOf(document) };
}

/** Each of `attesters` verifies `document` with the enclave's dev root pinned (at the chain's time) and signs. */
export async function attestBy(
  s: TeeSystem,
  enclave: DevEnclave,
  document: Uint8Array,
  attesters: readonly Signer[] = s.attesters.slice(0, 2),
  policy: Partial<AttestPolicy> = {},
): Promise<Attestation[]> {
  const at = policy.at ?? (await chainNowMs(s));
  const signed: Attestation[] = [];
  for (const attester of attesters) signed.push(await attest(document, { root: enclave.nsm.root, maxAgeMs: 3_600_000, ...policy, at }, attester, s.domain));
  return signed;
}

/** Registers the document's key for `operator` (default: the system's operator) with the given attestations. */
export async function registerWith(
  s: TeeSystem,
  facts: AttestationFacts,
  attestations: readonly Attestation[],
  options: { operator?: Signer; modelId?: string } = {},
): Promise<EnclaveRegistration> {
  const evidence = quorumEvidence(attestations, { facts, domain: s.domain });
  return registerEnclaveKey(connect(s.deployment, options.operator ?? s.operator), facts, options.modelId ?? s.modelId, evidence);
}

/** The whole path for the common case: document, image approval, 2-of-3 attestation, registration. */
export async function registeredEnclave(s: TeeSystem, given?: DevEnclave) {
  const enclave = given ?? newEnclave(await chainNowMs(s));
  const { document, facts } = await enclaveDocument(s, enclave);
  const imageId = imageIdOf(facts);
  if (!(await s.models.isImageApproved(s.modelId, imageId))) await approveEnclaveImage(connect(s.deployment, s.modelOwner), s.modelId, imageId);
  const registration = await registerWith(s, facts, await attestBy(s, enclave, document));
  return { enclave, document, facts, imageId, registration };
}
