/**
 * What model owners and operators do after registering: change prices and tiers, deprecate a model,
 * withdraw fee earnings from the escrow, unbond and withdraw stake. Each returns plain data; reverts
 * come back as ContractRevertError.
 */
import type { Contract, Signer } from "ethers";
import type { Hex } from "../receipts/receipt.ts";
import { tierMask, type Tier } from "../receipts/tier.ts";
import { mined } from "./client.ts";
import type { Contracts } from "./deployment.ts";
import { onChain } from "./errors.ts";
import { send } from "./transactions.ts";

/** Sets a model's prices (OPG wei per inference at Signature, TEE, ZK). Model owner only. */
export async function setModelPrices(c: Contracts, modelId: Hex, prices: readonly [bigint, bigint, bigint]): Promise<bigint> {
  return (await onChain(() => mined(send(c.models, "setPrices", modelId, [...prices])))).gasUsed;
}

/** Sets the tiers a model accepts. Model owner only (ZK needs the verifying key registered with it). */
export async function setModelTiers(c: Contracts, modelId: Hex, tiers: readonly Exclude<Tier, 0>[]): Promise<bigint> {
  return (await onChain(() => mined(send(c.models, "setAcceptedTiers", modelId, tierMask(tiers))))).gasUsed;
}

/** Deprecates a model for good: no new receipts settle against it. Model owner only. */
export async function deprecateModel(c: Contracts, modelId: Hex): Promise<bigint> {
  return (await onChain(() => mined(send(c.models, "deprecate", modelId)))).gasUsed;
}

/** The escrow balance of `account`: a requester's deposit, or an operator's / model owner's earnings. */
export async function escrowBalance(c: Contracts, account: string): Promise<bigint> {
  return (await c.hub.getFunction("balanceOf")(account)) as bigint;
}

/** Withdraws `amount` (default: everything) of the signer's escrow balance to `to` (default: the signer). */
export async function withdrawEarnings(c: Contracts, signer: Signer, options: { amount?: bigint; to?: string } = {}): Promise<{ amount: bigint; to: string; gasUsed: bigint }> {
  const self = await signer.getAddress();
  const amount = options.amount ?? (await escrowBalance(c, self));
  const to = options.to ?? self;
  const receipt = await onChain(() => mined(send(c.hub.connect(signer) as Contract, "withdraw", to, amount)));
  return { amount, to, gasUsed: receipt.gasUsed };
}

export interface StakeState {
  readonly bonded: bigint;
  readonly unbonding: bigint;
  /** Unix seconds when the unbonding amount can be withdrawn (0 when nothing is unbonding). */
  readonly releaseAt: bigint;
}

export async function stakeOf(c: Contracts, operator: string): Promise<StakeState> {
  const s = (await c.operators.getFunction("stakeOf")(operator)) as { bonded: bigint; unbonding: bigint; releaseAt: bigint };
  return { bonded: s.bonded, unbonding: s.unbonding, releaseAt: s.releaseAt };
}

/** Starts unbonding `amount` of the signer's stake; returns when it can be withdrawn. */
export async function requestUnbond(c: Contracts, amount: bigint): Promise<{ releaseAt: bigint; gasUsed: bigint }> {
  const receipt = await onChain(() => mined(send(c.operators, "requestUnbond", amount)));
  const self = await (c.operators.runner as Signer).getAddress();
  return { releaseAt: (await stakeOf(c, self)).releaseAt, gasUsed: receipt.gasUsed };
}

/** Moves everything unbonding back to bonded stake. */
export async function cancelUnbond(c: Contracts): Promise<bigint> {
  return (await onChain(() => mined(send(c.operators, "cancelUnbond")))).gasUsed;
}

/** Sends the signer's released (unbonded, delay passed) stake to `to`. */
export async function withdrawStake(c: Contracts, to: string): Promise<{ amount: bigint; gasUsed: bigint }> {
  const self = await (c.operators.runner as Signer).getAddress();
  const { unbonding } = await stakeOf(c, self);
  const receipt = await onChain(() => mined(send(c.operators, "withdraw", to)));
  return { amount: unbonding, gasUsed: receipt.gasUsed };
}
