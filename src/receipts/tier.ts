/**
 * Verification tiers, ordered by strength. The numeric values are the on-chain `Tier` enum
 * (contracts/types/Tier.sol); `None` means "not verified".
 */
export const Tier = {
  None: 0,
  Signature: 1,
  TEE: 2,
  ZK: 3,
} as const;

export type Tier = (typeof Tier)[keyof typeof Tier];

/** Names used in JSON output and on the command line. */
export type TierName = "signature" | "tee" | "zk";

const NAMES: Record<Exclude<Tier, 0>, TierName> = { 1: "signature", 2: "tee", 3: "zk" };

export function tierName(tier: Tier): TierName | "none" {
  return tier === Tier.None ? "none" : NAMES[tier];
}

export function parseTier(name: string): Exclude<Tier, 0> {
  switch (name.toLowerCase()) {
    case "signature":
    case "sig":
      return Tier.Signature;
    case "tee":
      return Tier.TEE;
    case "zk":
      return Tier.ZK;
    default:
      throw new RangeError(`unknown tier "${name}" (expected signature, tee or zk)`);
  }
}

/** Bit set of accepted tiers as stored by the ModelRegistry: bit `t` set means tier `t` is accepted. */
export function tierMask(tiers: readonly Exclude<Tier, 0>[]): number {
  return tiers.reduce((mask, t) => mask | (1 << t), 0);
}

/**
 * How a verified result is named everywhere (CLI, demo, stats): "hybrid" when its steps mix tiers (what the product
 * calls a hybrid), otherwise the one tier all its steps share; "none" when nothing was verified.
 */
export function resultTierName(stepTiers: readonly Tier[]): TierName | "hybrid" | "none" {
  const distinct = new Set(stepTiers.filter((t) => t !== Tier.None));
  if (distinct.size > 1) return "hybrid";
  const [only] = distinct;
  return only === undefined ? "none" : tierName(only);
}

/** Whether steps at these tiers make a hybrid (at least two different tiers). */
export function isHybrid(stepTiers: readonly Tier[]): boolean {
  return resultTierName(stepTiers) === "hybrid";
}
