import type { Contract, Signer, TypedDataDomain } from "ethers";
import { SIGNER_CONSENT_TYPES, signPermit } from "../../src/settlement/client.ts";
import { buildReceipt, hubDomain, signReceipt, type Receipt } from "../../src/receipts/index.ts";
import { Tier, tierMask } from "../../src/receipts/tier.ts";
import { OPG, type deploySystem } from "./system.ts";

export type System = Awaited<ReturnType<typeof deploySystem>>;

export const PRICES: [bigint, bigint, bigint] = [1n * OPG, 5n * OPG, 50n * OPG];
export const MIN_STAKE = 1_000n * OPG;

let weightsCounter = 1n;
/** A fresh weights commitment, so every call registers a new model. */
export function freshWeights(): string {
  return "0x" + (weightsCounter++).toString(16).padStart(64, "0");
}

/** Registers a model owned by `s.modelOwner` and returns its id. */
export async function registerModel(
  s: System,
  options: { tiers?: Exclude<Tier, 0>[]; prices?: [bigint, bigint, bigint]; verifyingKey?: string; weights?: string } = {},
): Promise<string> {
  const weights = options.weights ?? freshWeights();
  const registration = {
    weightsCommitment: weights,
    metadataURI: "ipfs://bafy-model-card",
    prices: options.prices ?? PRICES,
    acceptedTiers: tierMask(options.tiers ?? [Tier.Signature, Tier.TEE]),
    previousVersion: "0x" + "00".repeat(32),
    verifyingKey: options.verifyingKey ?? "0x",
  };
  await (await s.models.connect(s.modelOwner).registerModel(registration)).wait();
  return s.models.modelIdOf(s.modelOwner.address, weights);
}

/** Gives `who` OPG from the admin's supply. */
export async function fund(s: System, who: { address: string }, amount: bigint): Promise<void> {
  await (await s.token.connect(s.admin).transfer(who.address, amount)).wait();
}

/** An hour from the chain's clock: the deadline of permits and consents in tests. */
export async function inAnHour(s: System): Promise<bigint> {
  return BigInt(await s.networkHelpers.time.latest()) + 3600n;
}

/** `signer`'s EIP-712 consent to serve `operator` (with its current registry nonce); empty when it is the operator. */
export async function signerConsent(s: System, operator: { address: string }, signer: Signer & { address: string }, deadline: bigint): Promise<string> {
  if (signer.address === operator.address) return "0x";
  const { chainId } = await s.ethers.provider.getNetwork();
  const domain = { name: "OPG OperatorRegistry", version: "1", chainId, verifyingContract: await s.operators.getAddress() };
  const nonce = await s.operators.nonces(signer.address);
  return signer.signTypedData(domain, SIGNER_CONSENT_TYPES, { operator: operator.address, signer: signer.address, nonce, deadline });
}

/** Binds `signer` to `operator` with the signer's consent. */
export async function bindSigner(s: System, operator: Signer & { address: string }, signer: Signer & { address: string }): Promise<void> {
  const deadline = await inAnHour(s);
  await (await s.operators.connect(operator).registerSigner(signer.address, deadline, await signerConsent(s, operator, signer, deadline))).wait();
}

/** Stakes the minimum for `s.operator` and registers `signer` (default: the operator itself) as its key. */
export async function stakeOperator(s: System, signer: Signer & { address: string } = s.operator): Promise<void> {
  await fund(s, s.operator, MIN_STAKE);
  await (await s.token.connect(s.operator).approve(await s.operators.getAddress(), MIN_STAKE)).wait();
  await (await s.operators.connect(s.operator).stake(MIN_STAKE)).wait();
  await bindSigner(s, s.operator, signer);
}

/** Signs an ERC-2612 permit for the hub and deposits with it: one transaction. */
export async function depositWithPermit(s: System, who: Signer & { address: string }, amount: bigint): Promise<void> {
  const deadline = BigInt(await s.networkHelpers.time.latest()) + 3600n;
  const { v, r, s: sigS } = await signPermit(s.token as unknown as Contract, who, await s.hub.getAddress(), amount, deadline);
  await (await s.hub.connect(who).depositWithPermit(who.address, amount, deadline, v, r, sigS)).wait();
}

export async function domainOf(s: System): Promise<TypedDataDomain> {
  const { chainId } = await s.ethers.provider.getNetwork();
  return hubDomain(chainId, await s.hub.getAddress());
}

let nonceCounter = 1n;
export async function makeReceipt(
  s: System,
  modelId: string,
  overrides: Partial<Omit<Receipt, "tier">> & { tier?: Exclude<Tier, 0> } = {},
): Promise<Receipt> {
  const now = BigInt(await s.networkHelpers.time.latest());
  return buildReceipt({
    modelId,
    inputCommitment: "0x" + "11".repeat(32),
    outputCommitment: "0x" + "22".repeat(32),
    requester: s.requester.address,
    operator: s.operator.address,
    nonce: nonceCounter++,
    deadline: now + 600n,
    tier: Tier.Signature,
    ...overrides,
  });
}

export async function sign(s: System, receipt: Receipt, signer: Parameters<typeof signReceipt>[2] = s.operator): Promise<string> {
  return signReceipt(receipt, await domainOf(s), signer);
}
