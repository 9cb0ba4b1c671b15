/**
 * Operators leaving (or reducing their stake): `opg operator unbond` starts the unbonding delay (or
 * cancels it), `opg operator withdraw` takes the released stake out once the delay has passed.
 */
import { formatUnits, parseUnits } from "ethers";
import { checkAddress } from "../../receipts/receipt.ts";
import { cancelUnbond, requestUnbond, stakeOf, withdrawStake } from "../../settlement/roles.ts";
import { CHAIN_OPTIONS, CHAIN_USAGE, openChain } from "../chain.ts";
import { UsageError } from "../errors.ts";
import { parseOptions } from "../main.ts";
import type { CliCommand } from "../types.ts";

const when = (seconds: bigint) => new Date(Number(seconds) * 1000).toISOString();

export const operatorUnbondCommand: CliCommand = {
  path: ["operator", "unbond"],
  summary: "Start unbonding stake (or --cancel it); withdraw after the delay (operator)",
  usage: `Usage: opg operator unbond (--amount <OPG> | --all | --cancel) [chain options]

Unbonding stake stops counting as bonded at once (below the minimum the operator is inactive) and can be
withdrawn with \`opg operator withdraw\` after the registry's unbonding delay. A new request restarts the
delay for everything unbonding. --cancel moves it all back to bonded stake.
${CHAIN_USAGE}
`,
  async run(args, io) {
    const { values } = parseOptions(args, { ...CHAIN_OPTIONS, amount: { type: "string" }, all: { type: "boolean" }, cancel: { type: "boolean" } }, { min: 0, max: 0, names: "no positional arguments" });
    const modes = [values.amount !== undefined, values.all === true, values.cancel === true].filter(Boolean).length;
    if (modes !== 1) throw new UsageError("give exactly one of --amount <OPG>, --all or --cancel");
    const chain = await openChain(values, io, { needsSigner: true });
    const self = await chain.signer!.getAddress();
    if (values.cancel) {
      const before = await stakeOf(chain.contracts, self);
      const gas = await cancelUnbond(chain.contracts);
      io.stdout(`cancelled unbonding: ${formatUnits(before.unbonding, 18)} OPG bonded again (gas ${gas})\n`);
      return 0;
    }
    let amount: bigint;
    if (values.all) amount = (await stakeOf(chain.contracts, self)).bonded;
    else {
      try {
        amount = parseUnits(values.amount!, 18);
      } catch {
        throw new UsageError(`--amount "${values.amount}" is not a decimal OPG amount`);
      }
    }
    if (amount <= 0n) throw new UsageError("nothing to unbond: the amount (or the bonded stake) is 0");
    const { releaseAt, gasUsed } = await requestUnbond(chain.contracts, amount);
    io.stdout(`unbonding ${formatUnits(amount, 18)} OPG: withdraw with opg operator withdraw after ${when(releaseAt)} (gas ${gasUsed})\n`);
    return 0;
  },
};

export const operatorWithdrawCommand: CliCommand = {
  path: ["operator", "withdraw"],
  summary: "Withdraw stake whose unbonding delay has passed (operator)",
  usage: `Usage: opg operator withdraw [--to <address>] [chain options]

Sends everything unbonding to --to (default: the operator) once the delay has passed.
${CHAIN_USAGE}
`,
  async run(args, io) {
    const { values } = parseOptions(args, { ...CHAIN_OPTIONS, to: { type: "string" } }, { min: 0, max: 0, names: "no positional arguments" });
    const chain = await openChain(values, io, { needsSigner: true });
    const self = await chain.signer!.getAddress();
    const to = values.to === undefined ? self : checkAddress(values.to, "--to");
    const state = await stakeOf(chain.contracts, self);
    if (state.unbonding === 0n) throw new UsageError("nothing is unbonding: start with opg operator unbond --amount <OPG>");
    const now = BigInt((await chain.provider.getBlock("latest"))?.timestamp ?? 0);
    if (now < state.releaseAt) throw new UsageError(`${formatUnits(state.unbonding, 18)} OPG is released at ${when(state.releaseAt)}: withdraw after that`);
    const { amount, gasUsed } = await withdrawStake(chain.contracts, to);
    io.stdout(`withdrew ${formatUnits(amount, 18)} OPG of stake to ${to} (gas ${gasUsed})\n`);
    return 0;
  },
};

export const unbondCommands: readonly CliCommand[] = [operatorUnbondCommand, operatorWithdrawCommand];
