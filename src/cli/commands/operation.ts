/**
 * `opg operation new | add-signed | add-zk | submit` and `opg result`: a multi-step operation is a JSON
 * file (opg-operation/1) that the parties extend in turn — each adds its step with its evidence, the
 * builder checking the chain of commitments — and the requester submits in one transaction.
 */
import { resolve } from "node:path";
import { Wallet, formatUnits, parseUnits } from "ethers";
import { commitBytes, commitmentToField, type Commitment } from "../../commitments/index.ts";
import { OperationBuilder, operationFromJson, operationIdOf, operationToJson, handOffCommitment } from "../../pipeline/index.ts";
import { checkAddress, checkBytes32 } from "../../receipts/receipt.ts";
import { Tier, parseTier, tierName } from "../../receipts/tier.ts";
import { readResult, readResultDetails, resultView, submitOperation, type ResultView } from "../../settlement/client.ts";
import { loadBuild } from "../../zkml/index.ts";
import { CHAIN_OPTIONS, CHAIN_USAGE, openChain } from "../chain.ts";
import { UsageError } from "../errors.ts";
import { readJson, writeJson } from "../files.ts";
import { parseOptions } from "../main.ts";
import type { CliCommand, CliIo } from "../types.ts";

function nonNegativeBigInt(text: string | undefined, what: string): bigint {
  if (text === undefined || !/^[0-9]+$/.test(text)) throw new UsageError(`${what} must be a non-negative integer`);
  return BigInt(text);
}

/** A tier named on the command line: a typo is a usage mistake (exit 2), never a failed check (exit 1). */
function tierOption(text: string, what: string): Exclude<Tier, 0> {
  try {
    return parseTier(text);
  } catch (error) {
    throw new UsageError(`${what}: ${error instanceof Error ? error.message : String(error)}`);
  }
}

async function load(io: CliIo, path: string): Promise<OperationBuilder> {
  return OperationBuilder.resume(operationFromJson(await readJson(io, path, "operation file")));
}

function signerFromEnv(io: CliIo, name: string): Wallet {
  const key = io.env[name];
  if (key === undefined || key === "") throw new UsageError(`set $${name} to the signing key (the operator's, or the enclave's for TEE)`);
  try {
    return new Wallet(key);
  } catch {
    throw new UsageError(`$${name} does not hold a valid private key`);
  }
}

/** The required --max-fee, in OPG. */
export function maxFeeOption(text: string | undefined): bigint {
  if (text === undefined) throw new UsageError("--max-fee is required");
  try {
    return parseUnits(text, 18);
  } catch {
    throw new UsageError(`--max-fee "${text}" is not a decimal OPG amount`);
  }
}

export const operationNewCommand: CliCommand = {
  path: ["operation", "new"],
  summary: "Start a multi-step operation file",
  usage: `Usage: opg operation new --out <op.json> --requester <addr> --nonce <n> --deadline <unix s> (--input-commitment <0x…> | --input-text <text>) [chain options]

The hub's address and chain id come from the deployment.
${CHAIN_USAGE}
`,
  async run(args, io) {
    const { values } = parseOptions(
      args,
      { ...CHAIN_OPTIONS, out: { type: "string" }, requester: { type: "string" }, nonce: { type: "string" }, deadline: { type: "string" }, "input-commitment": { type: "string" }, "input-text": { type: "string" } },
      { min: 0, max: 0, names: "no positional arguments" },
    );
    if (values.out === undefined || values.requester === undefined) throw new UsageError("--out and --requester are required");
    if ((values["input-commitment"] === undefined) === (values["input-text"] === undefined)) throw new UsageError("give exactly one of --input-commitment or --input-text");
    const inputCommitment: Commitment =
      values["input-commitment"] !== undefined
        ? (checkBytes32(values["input-commitment"], "--input-commitment") as Commitment)
        : await commitBytes(new TextEncoder().encode(values["input-text"]!));
    commitmentToField(inputCommitment);
    const chain = await openChain(values, io, { needsSigner: false });
    const builder = new OperationBuilder({
      chainId: chain.chainId,
      hub: chain.deployment.hub,
      requester: checkAddress(values.requester, "--requester"),
      nonce: nonNegativeBigInt(values.nonce, "--nonce"),
      deadline: nonNegativeBigInt(values.deadline, "--deadline"),
      inputCommitment,
    });
    const empty = { context: builder.context, steps: [], evidence: [], zkOutputs: {} };
    await writeJson(io, values.out, operationToJson(empty));
    io.stdout(`started operation ${operationIdOf(empty)} in ${values.out} (input ${inputCommitment})\n`);
    return 0;
  },
};

export const operationAddSignedCommand: CliCommand = {
  path: ["operation", "add-signed"],
  summary: "Add a signature- or TEE-tier step (signed with the key in $OPG_STEP_KEY)",
  usage: `Usage: opg operation add-signed <op.json> --model <id> --tier <signature|tee> --operator <addr> (--output <0x…> | --output-values <json> --next <zk-build-dir>)

Signs the step's receipt with the key in $OPG_STEP_KEY (the operator's signer, or the enclave key for TEE).
The step consumes the operation's current tail commitment. --output-values hands a vector of numbers to the
next (ZK) step, committed exactly as that circuit quantizes its input.
`,
  async run(args, io) {
    const { values, positionals } = parseOptions(
      args,
      { model: { type: "string" }, tier: { type: "string" }, operator: { type: "string" }, output: { type: "string" }, "output-values": { type: "string" }, next: { type: "string" } },
      { min: 1, max: 1, names: "the operation file" },
    );
    const file = positionals[0]!;
    if (values.model === undefined || values.tier === undefined || values.operator === undefined) throw new UsageError("--model, --tier and --operator are required");
    const tier = tierOption(values.tier, "--tier");
    if (tier === Tier.ZK) throw new UsageError("a zk step is added with `opg operation add-zk`");
    let output: Commitment;
    if (values.output !== undefined) output = checkBytes32(values.output, "--output") as Commitment;
    else if (values["output-values"] !== undefined && values.next !== undefined) {
      let parsed: unknown;
      try {
        parsed = JSON.parse(values["output-values"]);
      } catch {
        throw new UsageError("--output-values takes a JSON array of numbers");
      }
      if (!Array.isArray(parsed) || !parsed.every((v) => typeof v === "number")) throw new UsageError("--output-values takes a JSON array of numbers");
      output = await handOffCommitment(parsed as number[], await loadBuild(resolve(io.cwd, values.next)));
    } else throw new UsageError("give --output, or --output-values with --next");
    const builder = await load(io, file);
    const receipt = await builder.addSignedStep({ modelId: checkBytes32(values.model, "--model"), tier, operator: checkAddress(values.operator, "--operator"), outputCommitment: output, signer: signerFromEnv(io, "OPG_STEP_KEY") });
    await writeJson(io, file, operationToJson(builder.build()));
    io.stdout(`added ${tierName(tier)} step ${receipt.modelId} → ${receipt.outputCommitment}\n`);
    return 0;
  },
};

export const operationAddZkCommand: CliCommand = {
  path: ["operation", "add-zk"],
  summary: "Add a ZK step: prove a built model on an input, bound to the step",
  usage: `Usage: opg operation add-zk <op.json> <build-dir> --model <id> --operator <addr> --input <input.json>

Proves the model of <build-dir> on input.json ({"input": [...]}) with the proof bound to this step's receipt id.
The proven input commitment must be the operation's current tail.
`,
  async run(args, io) {
    const { values, positionals } = parseOptions(args, { model: { type: "string" }, operator: { type: "string" }, input: { type: "string" } }, { min: 2, max: 2, names: "the operation file and a build directory" });
    if (values.model === undefined || values.operator === undefined || values.input === undefined) throw new UsageError("--model, --operator and --input are required");
    const builder = await load(io, positionals[0]!);
    const build = await loadBuild(resolve(io.cwd, positionals[1]!));
    const input = await readJson(io, values.input, "input file");
    const { bundle } = await builder.addZkStep({ modelId: checkBytes32(values.model, "--model"), operator: checkAddress(values.operator, "--operator"), build, input });
    await writeJson(io, positionals[0]!, operationToJson(builder.build()));
    io.stdout(`added zk step: output ${JSON.stringify(bundle.output)}\n`);
    return 0;
  },
};

export const operationSubmitCommand: CliCommand = {
  path: ["operation", "submit"],
  summary: "Submit an operation: every step verified in one transaction",
  usage: `Usage: opg operation submit <op.json> --max-fee <OPG> [--min-each <tier>] [--min-final <tier>] [--json] [chain options]

The requester's policy: every step at least --min-each, the final step at least --min-final (default signature).
Signer: the requester, or a submitter it approved.
${CHAIN_USAGE}
`,
  async run(args, io) {
    const { values, positionals } = parseOptions(
      args,
      { ...CHAIN_OPTIONS, "max-fee": { type: "string" }, "min-each": { type: "string" }, "min-final": { type: "string" }, json: { type: "boolean" } },
      { min: 1, max: 1, names: "the operation file" },
    );
    const maxFee = maxFeeOption(values["max-fee"]);
    const policy = { minEachStep: tierOption(values["min-each"] ?? "signature", "--min-each"), minFinalStep: tierOption(values["min-final"] ?? "signature", "--min-final") };
    const operation = operationFromJson(await readJson(io, positionals[0]!, "operation file"));
    const chain = await openChain(values, io, { needsSigner: true });
    const settled = await submitOperation(chain.contracts.hub, operation.steps, operation.evidence, policy, maxFee);
    const result = await readResult(chain.contracts.hub, settled.id);
    const details = await readResultDetails(chain.contracts.hub, settled.id, Number((await chain.provider.getTransactionReceipt(settled.transactionHash))?.blockNumber ?? 0));
    const summary = { ...resultView(settled.id, result, details), gasUsed: Number(settled.gasUsed), fee: settled.fee.fee.toString() };
    io.stdout(
      values.json
        ? JSON.stringify(summary) + "\n"
        : `verified operation ${settled.id} (${summary.tier}): steps ${summary.steps.join(" → ")}, fee ${formatUnits(settled.fee.fee, 18)} OPG, gas ${settled.gasUsed}\n${stepLines(summary)}`,
    );
    return 0;
  },
};

/** One line per step whose outputs were proven (ZK): the outputs its proof made public, as fixed-point integers. */
function stepLines(view: ResultView): string {
  return (view.stepDetails ?? [])
    .map((step, i) => (step.outputs === undefined ? "" : `  step ${i + 1} (${step.tier}, model ${step.modelId}) outputs [${step.outputs.join(", ")}]\n`))
    .join("");
}

export const resultCommand: CliCommand = {
  path: ["result"],
  summary: "Read what the hub recorded for a receipt or operation id (and check a policy)",
  usage: `Usage: opg result <id> [--min-each <tier>] [--min-final <tier>] [--json] [chain options]

Exits 0 when the id was verified and meets the policy (default: any tier), 1 otherwise. The tier is "hybrid" when
the steps mix tiers; every step is shown, with the outputs a ZK step's proof made public (fixed-point integers).
  --from-block <n>     read the verifying events from this block on (default 0)
${CHAIN_USAGE}
`,
  async run(args, io) {
    const { values, positionals } = parseOptions(
      args,
      { ...CHAIN_OPTIONS, "min-each": { type: "string" }, "min-final": { type: "string" }, json: { type: "boolean" }, "from-block": { type: "string" } },
      { min: 1, max: 1, names: "a receipt or operation id" },
    );
    const fromBlock = values["from-block"] === undefined ? 0 : Number(values["from-block"]);
    if (!Number.isSafeInteger(fromBlock) || fromBlock < 0) throw new UsageError("--from-block must be a block number");
    const id = checkBytes32(positionals[0]!, "id");
    const minEach = tierOption(values["min-each"] ?? "signature", "--min-each");
    const minFinal = tierOption(values["min-final"] ?? "signature", "--min-final");
    const chain = await openChain(values, io, { needsSigner: false });
    const result = await readResult(chain.contracts.hub, id);
    const verified = result.tier !== Tier.None;
    const final = result.stepTiers.at(-1) ?? Tier.None;
    const meets = verified && result.tier >= minEach && final >= minFinal;
    const details = verified ? await readResultDetails(chain.contracts.hub, id, fromBlock) : undefined;
    const view = { ...resultView(id, result, details), meetsPolicy: meets };
    io.stdout(
      values.json
        ? JSON.stringify(view) + "\n"
        : verified
          ? `${id}: verified at ${view.steps.join(" → ")} (${view.tier}), output ${result.outputCommitment}; policy ${meets ? "met" : "NOT met"}\n${stepLines(view)}`
          : `${id}: not verified\n`,
    );
    return meets ? 0 : 1;
  },
};

export const operationCommands: readonly CliCommand[] = [operationNewCommand, operationAddSignedCommand, operationAddZkCommand, operationSubmitCommand, resultCommand];
