/**
 * `opg watch` and `opg challenge`: the challenger's side of fraud proofs. Both re-run a model with the
 * circuit's fixed-point semantics (the folder is an `opg zk build`) and refute a wrong pending result
 * with a Groth16 proof of the true output; the challenger ($OPG_PRIVATE_KEY) earns a share of the slash.
 */
import { resolve } from "node:path";
import type { Contract } from "ethers";
import { anyInput, findAnyClaim, inputDirectory, processClaim, requestInputs, statusName, watch, type WatchedModel, type WatchEvent, type WatcherContext } from "../../disputes/index.ts";
import { OpgError } from "../../errors.ts";
import { readInputFile } from "../../execution/index.ts";
import { closeServedModels, loadServedModels, parseModelSpec } from "../../node/models.ts";
import { checkBytes32, type Hex } from "../../receipts/receipt.ts";
import { CHAIN_OPTIONS, CHAIN_USAGE, openChain, type ChainContext } from "../chain.ts";
import { UsageError } from "../errors.ts";
import { parseOptions } from "../main.ts";
import type { CliCommand, CliIo } from "../types.ts";

const OPG = 10n ** 18n;

function opg(wei: bigint): string {
  const whole = wei / OPG;
  const frac = (wei % OPG).toString().padStart(18, "0").replace(/0+$/, "");
  return frac === "" ? `${whole}` : `${whole}.${frac}`;
}

function integer(name: string, text: string | undefined, fallback: number, min = 0): number {
  if (text === undefined) return fallback;
  if (!/^\d+$/.test(text) || Number(text) < min || !Number.isSafeInteger(Number(text))) throw new UsageError(`--${name}: expected an integer ≥ ${min}, got "${text}"`);
  return Number(text);
}

function disputesOf(chain: ChainContext): Contract {
  const disputes = chain.contracts.disputes;
  if (disputes === undefined) throw new OpgError("NO_DISPUTES", "this deployment has no Disputes contract (deployed before fraud proofs)");
  return disputes;
}

async function loadWatched(specs: readonly string[] | undefined, io: CliIo): Promise<{ models: Map<string, WatchedModel>; close: () => Promise<void> }> {
  const parsed = (specs ?? []).map(parseModelSpec).map((s) => ({ ...s, dir: resolve(io.cwd, s.dir) }));
  if (parsed.length === 0) throw new UsageError("give at least one --model <modelId>=<dir> (an `opg zk build` folder)");
  const served = await loadServedModels(parsed);
  const models = new Map<string, WatchedModel>();
  for (const m of served.values()) {
    if (!m.canProve) {
      await closeServedModels(served);
      throw new UsageError(`--model ${m.modelId}: ${m.runner.dir} is not an \`opg zk build\` folder: a watcher needs the circuit to prove`);
    }
    models.set(m.modelId.toLowerCase(), { modelId: m.modelId, runner: m.runner, prover: m.prover });
  }
  return { models, close: () => closeServedModels(served) };
}

/** One line (or JSON object) per watcher event. Model and result ids are hex, amounts OPG. */
function describe(event: WatchEvent): string {
  switch (event.kind) {
    case "challenged":
      return `refuted ${event.id}: slashed ${opg(event.report.slashed)} OPG, reward ${opg(event.report.reward)} OPG, requester refund ${opg(event.report.refund)} OPG, gas ${event.report.gasUsed}`;
    case "correct":
      return `correct ${event.id}`;
    case "skipped":
      return `skipped ${event.id}: ${event.reason}`;
    case "failed":
      return `failed ${event.id}: ${event.error.message.replace(/[\u0000-\u001f\u007f]/g, "?")}`;
  }
}

function toJson(event: WatchEvent): Record<string, unknown> {
  const base = { kind: event.kind, id: event.id, modelId: event.modelId };
  if (event.kind === "challenged") {
    const r = event.report;
    return { ...base, refuted: true, slashed: r.slashed.toString(), reward: r.reward.toString(), refund: r.refund.toString(), gasUsed: Number(r.gasUsed), transactionHash: r.transactionHash };
  }
  if (event.kind === "skipped") return { ...base, reason: event.reason };
  if (event.kind === "failed") return { ...base, error: event.error.message };
  return base;
}

const WATCH_USAGE = `Usage: opg watch --model <modelId>=<dir> [--model …] --inputs <dir> [options]

Follows the results that become pending at the hub for the given models, re-runs each on its input with
the circuit's fixed-point semantics and, when the signed output commitment is wrong, refutes it with a
Groth16 proof of the true output (the challenger, $OPG_PRIVATE_KEY, earns a share of the operator's bond).
Inputs are not on-chain for receipts: --inputs is a folder of JSON input files the watcher knows; each is
matched to results by its commitment.

Options:
  --model <id>=<dir>   a model to watch: its \`opg zk build\` folder (repeatable)
  --inputs <dir>       folder of input files ({"input": [...]} or a nested array)
  --from-block <N>     first block to scan (default: the current block)
  --to-block <N>       scan up to block N once and exit (default: follow the chain until SIGTERM)
  --poll <ms>          polling interval (default 1000)
  --json               one JSON object per line
${CHAIN_USAGE}
`;

export const watchCommand: CliCommand = {
  path: ["watch"],
  summary: "Watch pending results and refute wrong ones with a Groth16 proof",
  usage: WATCH_USAGE,
  async run(args, io) {
    const { values } = parseOptions(
      args,
      { ...CHAIN_OPTIONS, model: { type: "string", multiple: true }, inputs: { type: "string" }, "from-block": { type: "string" }, "to-block": { type: "string" }, poll: { type: "string" }, json: { type: "boolean" } },
      { min: 0, max: 0, names: "no positional arguments (see --help)" },
    );
    if (values.inputs === undefined) throw new UsageError("give --inputs <dir>: the watcher must know the inputs it re-checks");
    const pollMs = integer("poll", values.poll, 1000, 10);
    const chain = await openChain(values, io, { needsSigner: true });
    const disputes = disputesOf(chain);
    const { models, close } = await loadWatched(values.model, io);
    try {
      const book = chain.contracts.requests;
      const files = await inputDirectory(resolve(io.cwd, values.inputs), models.values());
      const ctx: WatcherContext = {
        hub: chain.contracts.hub,
        book,
        disputes,
        models,
        inputs: book === undefined ? files : anyInput(files, requestInputs(book)),
        log: values.json === true ? undefined : (line) => io.stderr(`${new Date().toISOString()} ${line}\n`),
      };
      const print = (event: WatchEvent) => io.stdout(values.json === true ? `${JSON.stringify(toJson(event))}\n` : `${describe(event)}\n`);
      const head = await chain.provider.getBlockNumber();
      const fromBlock = integer("from-block", values["from-block"], head);
      if (values["to-block"] !== undefined) {
        const { scanBlocks } = await import("../../disputes/index.ts");
        for (const event of await scanBlocks(ctx, fromBlock, integer("to-block", values["to-block"], head))) print(event);
        return 0;
      }
      const controller = new AbortController();
      const stop = () => controller.abort();
      process.once("SIGTERM", stop);
      process.once("SIGINT", stop);
      try {
        await watch(ctx, { fromBlock, pollMs, signal: controller.signal, onEvent: print });
      } finally {
        process.off("SIGTERM", stop);
        process.off("SIGINT", stop);
      }
      return 0;
    } finally {
      await close();
    }
  },
};

const CHALLENGE_USAGE = `Usage: opg challenge <result-id> --model <modelId>=<dir> --input <file> [--json]

Re-runs a pending result's model on <file> (which must have the result's input commitment) with the
circuit's fixed-point semantics and, if the signed output is wrong, refutes it with a Groth16 proof of the
true output. A correct result is left alone (exit 1, nothing sent).

Options:
  --model <id>=<dir>   the result's model: its \`opg zk build\` folder
  --input <file>       the input ({"input": [...]} or a nested array)
  --from-block <N>     where to look for the result's events (default 0)
  --json               print {"id","refuted","slashed","reward","refund","gasUsed"}
${CHAIN_USAGE}
`;

export const challengeCommand: CliCommand = {
  path: ["challenge"],
  summary: "Refute one pending result with a Groth16 proof of its true output",
  usage: CHALLENGE_USAGE,
  async run(args, io) {
    const { values, positionals } = parseOptions(
      args,
      { ...CHAIN_OPTIONS, model: { type: "string", multiple: true }, input: { type: "string" }, "from-block": { type: "string" }, json: { type: "boolean" } },
      { min: 1, max: 1, names: "<result-id>" },
    );
    const id = checkBytes32(positionals[0]!, "result id") as Hex;
    if (values.input === undefined) throw new UsageError("give --input <file>: the input the result was computed on");
    const chain = await openChain(values, io, { needsSigner: true });
    const disputes = disputesOf(chain);
    const book = chain.contracts.requests;
    const pending = await findAnyClaim(chain.contracts.hub, book, id, integer("from-block", values["from-block"], 0));
    const source = pending.source === "requests" && book !== undefined ? book : chain.contracts.hub;
    const [status] = (await source.getFunction("statusOf")(id)) as [bigint, bigint, boolean];
    if (Number(status) !== 2) throw new OpgError("NOT_PENDING", `result ${id} is ${statusName(Number(status))}: only pending results can be challenged`);
    const { models, close } = await loadWatched(values.model, io);
    try {
      const model = models.get(pending.claim.modelId.toLowerCase());
      if (model === undefined) throw new UsageError(`result ${id} is of model ${pending.claim.modelId}: give --model ${pending.claim.modelId}=<dir>`);
      const quantized = model.runner.quantizeInput(await readInputFile(resolve(io.cwd, values.input)));
      const event = await processClaim({ hub: chain.contracts.hub, book, disputes, models, inputs: async () => quantized }, pending);
      if (event.kind === "failed") throw event.error;
      if (values.json === true) io.stdout(`${JSON.stringify(toJson(event))}\n`);
      else io.stdout(`${describe(event)}\n`);
      return event.kind === "challenged" ? 0 : 1;
    } finally {
      await close();
    }
  },
};

export const disputeCommands: readonly CliCommand[] = [watchCommand, challengeCommand];
