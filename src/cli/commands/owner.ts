/**
 * Model owners after registration: `opg model set-prices | set-tiers | deprecate`, and everyone paid by
 * the hub (model owners, operators, the treasury's recipients): `opg fees balance | withdraw`.
 */
import { formatUnits, parseUnits } from "ethers";
import { checkAddress, checkBytes32 } from "../../receipts/receipt.ts";
import { Tier, parseTier, tierName } from "../../receipts/tier.ts";
import { deprecateModel, escrowBalance, setModelPrices, setModelTiers, withdrawEarnings } from "../../settlement/roles.ts";
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

export const feesBalanceCommand: CliCommand = {
  path: ["fees", "balance"],
  summary: "Fee earnings (and deposits) held for an account in the hub's escrow",
  usage: `Usage: opg fees balance [<address>] [--json] [chain options]

Default address: the signer's ($OPG_PRIVATE_KEY or --key-env).
${CHAIN_USAGE}
`,
  async run(args, io) {
    const { values, positionals } = parseOptions(args, { ...CHAIN_OPTIONS, json: { type: "boolean" } }, { min: 0, max: 1, names: "at most one address" });
    const chain = await openChain(values, io, { needsSigner: positionals.length === 0 });
    const account = positionals[0] === undefined ? await chain.signer!.getAddress() : checkAddress(positionals[0], "address");
    const balance = await escrowBalance(chain.contracts, account);
    io.stdout(values.json ? JSON.stringify({ account, balance: balance.toString() }) + "\n" : `${account}: ${formatUnits(balance, 18)} OPG\n`);
    return 0;
  },
};

export const feesWithdrawCommand: CliCommand = {
  path: ["fees", "withdraw"],
  summary: "Withdraw fee earnings from the hub's escrow (model owner, operator)",
  usage: `Usage: opg fees withdraw [--amount <OPG>] [--to <address>] [chain options]

Withdraws the signer's escrow balance — the model owner's and operator's shares of every fee settled —
to --to (default: the signer). Default amount: everything.
${CHAIN_USAGE}
`,
  async run(args, io) {
    const { values } = parseOptions(args, { ...CHAIN_OPTIONS, amount: { type: "string" }, to: { type: "string" } }, { min: 0, max: 0, names: "no positional arguments" });
    let amount: bigint | undefined;
    if (values.amount !== undefined) {
      try {
        amount = parseUnits(values.amount, 18);
      } catch {
        throw new UsageError(`--amount "${values.amount}" is not a decimal OPG amount`);
      }
      if (amount <= 0n) throw new UsageError("--amount must be positive");
    }
    const to = values.to === undefined ? undefined : checkAddress(values.to, "--to");
    const chain = await openChain(values, io, { needsSigner: true });
    if (amount === undefined && (await escrowBalance(chain.contracts, await chain.signer!.getAddress())) === 0n) {
      throw new UsageError("nothing to withdraw: the signer's escrow balance is 0 (see opg fees balance)");
    }
    const result = await withdrawEarnings(chain.contracts, chain.signer!, { ...(amount === undefined ? {} : { amount }), ...(to === undefined ? {} : { to }) });
    io.stdout(`withdrew ${formatUnits(result.amount, 18)} OPG to ${result.to} (gas ${result.gasUsed})\n`);
    return 0;
  },
};

export const ownerCommands: readonly CliCommand[] = [modelSetPricesCommand, modelSetTiersCommand, modelDeprecateCommand, feesBalanceCommand, feesWithdrawCommand];
