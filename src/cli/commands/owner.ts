/**
 * Model owners after registration: `opg model set-prices | set-tiers | deprecate`. Their fee earnings
 * are withdrawn with `opg escrow balance | withdraw` (request.ts), as operators' are.
 */
import { formatUnits } from "ethers";
import { checkBytes32 } from "../../receipts/receipt.ts";
import { Tier, parseTier, tierName } from "../../receipts/tier.ts";
import { deprecateModel, setModelPrices, setModelTiers } from "../../settlement/roles.ts";
import { CHAIN_OPTIONS, CHAIN_USAGE, openChain } from "../chain.ts";
import { UsageError } from "../errors.ts";
import { parseOptions } from "../main.ts";
import type { CliCommand } from "../types.ts";
import { parsePrices } from "./model.ts";

function tiersOption(text: string): Exclude<Tier, 0>[] {
  try {
    return text.split(",").map((t) => parseTier(t.trim()));
  } catch (error) {
    throw new UsageError(`--tiers: ${error instanceof Error ? error.message : String(error)}`);
  }
}

export const modelSetPricesCommand: CliCommand = {
  path: ["model", "set-prices"],
  summary: "Change a model's per-tier prices (model owner)",
  usage: `Usage: opg model set-prices <model-id> --prices <sig,tee,zk> [chain options]

Sets the OPG price per inference at signature, TEE and ZK (decimal OPG, e.g. 1,5,50). Receipts signed
before the change still settle if their maxFee covers the new price.
${CHAIN_USAGE}
`,
  async run(args, io) {
    const { values, positionals } = parseOptions(args, { ...CHAIN_OPTIONS, prices: { type: "string" } }, { min: 1, max: 1, names: "a model id" });
    if (values.prices === undefined) throw new UsageError("--prices is required");
    const id = checkBytes32(positionals[0]!, "model id");
    const prices = parsePrices(values.prices);
    const chain = await openChain(values, io, { needsSigner: true });
    const gas = await setModelPrices(chain.contracts, id, prices);
    io.stdout(`prices of ${id}: ${prices.map((p) => formatUnits(p, 18)).join(", ")} OPG (signature, tee, zk; gas ${gas})\n`);
    return 0;
  },
};

export const modelSetTiersCommand: CliCommand = {
  path: ["model", "set-tiers"],
  summary: "Change the tiers a model accepts (model owner)",
  usage: `Usage: opg model set-tiers <model-id> --tiers <list> [chain options]

--tiers: comma-separated signature, tee, zk. ZK is accepted only for a model registered with a circuit.
${CHAIN_USAGE}
`,
  async run(args, io) {
    const { values, positionals } = parseOptions(args, { ...CHAIN_OPTIONS, tiers: { type: "string" } }, { min: 1, max: 1, names: "a model id" });
    if (values.tiers === undefined) throw new UsageError("--tiers is required");
    const id = checkBytes32(positionals[0]!, "model id");
    const tiers = tiersOption(values.tiers);
    const chain = await openChain(values, io, { needsSigner: true });
    const gas = await setModelTiers(chain.contracts, id, tiers);
    io.stdout(`tiers of ${id}: ${tiers.map(tierName).join(", ")} (gas ${gas})\n`);
    return 0;
  },
};

export const modelDeprecateCommand: CliCommand = {
  path: ["model", "deprecate"],
  summary: "Deprecate a model for good: no new receipts settle against it (model owner)",
  usage: `Usage: opg model deprecate <model-id> [chain options]
${CHAIN_USAGE}
`,
  async run(args, io) {
    const { values, positionals } = parseOptions(args, { ...CHAIN_OPTIONS }, { min: 1, max: 1, names: "a model id" });
    const id = checkBytes32(positionals[0]!, "model id");
    const chain = await openChain(values, io, { needsSigner: true });
    const gas = await deprecateModel(chain.contracts, id);
    io.stdout(`deprecated ${id} (gas ${gas})\n`);
    return 0;
  },
};

export const ownerCommands: readonly CliCommand[] = [modelSetPricesCommand, modelSetTiersCommand, modelDeprecateCommand];
