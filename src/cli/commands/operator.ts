/**
 * `opg operator register-signer | rotate-signer`: an operator (the transaction's signer) binds the key that signs its
 * receipts. The registry binds a key only with its holder's agreement: the key in an environment variable signs its
 * EIP-712 consent, or --self binds the operator's own address. Keys never go on the command line.
 */
import { Wallet } from "ethers";
import { checkAddress } from "../../receipts/receipt.ts";
import { registerSigner, rotateSigner } from "../../settlement/client.ts";
import { CHAIN_OPTIONS, CHAIN_USAGE, openChain, type ChainContext } from "../chain.ts";
import { UsageError } from "../errors.ts";
import { parseOptions } from "../main.ts";
import type { CliCommand, CliIo } from "../types.ts";

const SIGNER_OPTIONS = {
  ...CHAIN_OPTIONS,
  "signer-key-env": { type: "string" },
  self: { type: "boolean" },
  deadline: { type: "string" },
  json: { type: "boolean" },
} as const;

const SIGNER_USAGE = `  --signer-key-env <NAME> environment variable holding the key to bind (default: OPG_SIGNER_KEY); it signs its
                          consent to serve the operator (chain, registry, operator, nonce, deadline)
  --self                  bind the operator's own address (no consent needed)
  --deadline <unix s>     last second the consent is valid (default: one hour after the latest block)
  --json                  print {"operator", "signer", "transactionHash", "gasUsed"}
${CHAIN_USAGE}`;

interface SignerValues {
  readonly "signer-key-env"?: string | undefined;
  readonly self?: boolean | undefined;
  readonly deadline?: string | undefined;
}

/** The key to bind (a Wallet that signs its consent, or the operator's own address) and the consent deadline. */
async function signerAndDeadline(values: SignerValues, io: CliIo, chain: ChainContext): Promise<{ signer: Wallet | string; deadline: bigint }> {
  if (values.self === true && values["signer-key-env"] !== undefined) throw new UsageError("give --self or --signer-key-env, not both");
  let deadline: bigint;
  if (values.deadline !== undefined) {
    if (!/^[0-9]+$/.test(values.deadline)) throw new UsageError(`--deadline must be unix seconds, got "${values.deadline}"`);
    deadline = BigInt(values.deadline);
  } else {
    const latest = await chain.provider.getBlock("latest");
    deadline = BigInt(latest?.timestamp ?? Math.floor(Date.now() / 1000)) + 3600n;
  }
  if (values.self === true) return { signer: await chain.signer!.getAddress(), deadline };
  const name = values["signer-key-env"] ?? "OPG_SIGNER_KEY";
  const key = io.env[name];
  if (key === undefined || key === "") throw new UsageError(`set $${name} to the private key to bind (it signs its consent), or pass --self`);
  try {
    return { signer: new Wallet(key), deadline };
  } catch {
    throw new UsageError(`$${name} does not hold a valid private key`);
  }
}

function report(io: CliIo, json: boolean | undefined, verb: string, operator: string, done: { signer: string; gasUsed: bigint; transactionHash: string }): void {
  io.stdout(
    json === true
      ? JSON.stringify({ operator, signer: done.signer, transactionHash: done.transactionHash, gasUsed: Number(done.gasUsed) }) + "\n"
      : `${verb} signer ${done.signer} for operator ${operator} (tx ${done.transactionHash}, gas ${done.gasUsed})\n`,
  );
}

export const operatorRegisterSignerCommand: CliCommand = {
  path: ["operator", "register-signer"],
  summary: "Bind a receipt-signing key to the operator, with the key's consent (operator)",
  usage: `Usage: opg operator register-signer [--signer-key-env <NAME> | --self] [--deadline <unix s>] [--json] [chain options]

The transaction's signer is the operator. Receipts signed by the bound key count for it while it is staked.
${SIGNER_USAGE}
`,
  async run(args, io) {
    const { values } = parseOptions(args, SIGNER_OPTIONS, { min: 0, max: 0, names: "no positional arguments (see --help)" });
    const chain = await openChain(values, io, { needsSigner: true });
    const { signer, deadline } = await signerAndDeadline(values, io, chain);
    const operator = await chain.signer!.getAddress();
    report(io, values.json, "registered", operator, await registerSigner(chain.contracts, chain.signer!, signer, deadline));
    return 0;
  },
};

export const operatorRotateSignerCommand: CliCommand = {
  path: ["operator", "rotate-signer"],
  summary: "Replace one of the operator's signing keys in one transaction (operator)",
  usage: `Usage: opg operator rotate-signer --old <address> [--signer-key-env <NAME> | --self] [--deadline <unix s>] [--json] [chain options]

Unbinds --old (one of the operator's keys) and binds the new key, which consents as for register-signer.
  --old <address>         the key to unbind
${SIGNER_USAGE}
`,
  async run(args, io) {
    const { values } = parseOptions(args, { ...SIGNER_OPTIONS, old: { type: "string" } }, { min: 0, max: 0, names: "no positional arguments (see --help)" });
    if (values.old === undefined) throw new UsageError("--old <address> is required");
    const old = checkAddress(values.old, "--old");
    const chain = await openChain(values, io, { needsSigner: true });
    const { signer, deadline } = await signerAndDeadline(values, io, chain);
    const operator = await chain.signer!.getAddress();
    report(io, values.json, "rotated to", operator, await rotateSigner(chain.contracts, chain.signer!, old, signer, deadline));
    return 0;
  },
};

export const operatorCommands: readonly CliCommand[] = [operatorRegisterSignerCommand, operatorRotateSignerCommand];
