import type { Contract, Signer, TypedDataDomain } from "ethers";
import { signPermit } from "../../src/settlement/client.ts";
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

/** Stakes the minimum for `s.operator` and registers `signer` as its key. */
export async function stakeOperator(s: System, signer: { address: string } = s.operator): Promise<void> {
  await fund(s, s.operator, MIN_STAKE);
  await (await s.token.connect(s.operator).approve(await s.operators.getAddress(), MIN_STAKE)).wait();
  await (await s.operators.connect(s.operator).stake(MIN_STAKE)).wait();
  await (await s.operators.connect(s.operator).registerSigner(signer.address)).wait();
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
