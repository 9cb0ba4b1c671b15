/**
 * The setup steps of a network and inference requests, without TypeScript:
 * `opg token transfer`, `opg operator stake`, `opg escrow deposit | withdraw | balance`,
 * `opg infer` (request, wait, print the verified outputs), `opg request authorize | show | cancel`.
 * Amounts are in OPG everywhere, errors included.
 */
import { Contract, NonceManager, formatUnits, getAddress, isAddress, parseUnits, type Signer } from "ethers";
import { OpgError } from "../../errors.ts";
import { Tier, parseTier, tierName } from "../../receipts/tier.ts";
import {
  bookOf,
  buildRequestParams,
  cancelRequest,
  decodeRequestInput,
  estimateFee,
  infer,
  paramsFromResult,
  quantizeValues,
  readRequest,
  requestInputCommitment,
  signAuthorization,
  type RequestParams,
} from "../../requests/index.ts";
import { mined } from "../../settlement/client.ts";
import { connect, type Contracts } from "../../settlement/deployment.ts";
import { ContractRevertError, onChain } from "../../settlement/errors.ts";
import { DEFAULT_SCALE_BITS } from "../../zkml/quantize.ts";
import { flattenNested, loadBuild, nestValues } from "../../zkml/index.ts";
import { CHAIN_OPTIONS, CHAIN_USAGE, openChain } from "../chain.ts";
import { UsageError } from "../errors.ts";
import { readJson, writeJson } from "../files.ts";
import { parseOptions } from "../main.ts";
import type { CliCommand, CliIo } from "../types.ts";

const OPG_DECIMALS = 18;
const opg = (wei: bigint) => `${formatUnits(wei, OPG_DECIMALS)} OPG`;

/** Parses an amount in OPG ("1.5"); a malformed or negative one is a usage mistake. */
export function parseOpg(text: string | undefined, what: string): bigint {
  if (text === undefined || !/^[0-9]+(\.[0-9]{1,18})?$/.test(text)) throw new UsageError(`${what} must be an amount in OPG, like 10 or 0.5`);
  return parseUnits(text, OPG_DECIMALS);
}

function address(text: string | undefined, what: string): string {
  if (text === undefined || !isAddress(text)) throw new UsageError(`${what} must be an address`);
  return getAddress(text);
}

/** Re-states balance errors in OPG (the contracts report wei). */
async function inOpg<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await onChain(call);
  } catch (error) {
    if (error instanceof ContractRevertError && ["FeeEscrowInsufficientBalance", "ERC20InsufficientBalance"].includes(error.errorName ?? "")) {
      const [account, balance, needed] = error.args as [string, bigint, bigint];
      const where = error.errorName === "ERC20InsufficientBalance" ? "holds" : "has in escrow";
      throw new OpgError("INSUFFICIENT_BALANCE", `${account} ${where} ${opg(balance)}, needs ${opg(needed)}`, { cause: error });
    }
    if (error instanceof ContractRevertError && error.errorName === "RequestBookFeeBelowPrice") {
      const [maxFee, price] = error.args as [bigint, bigint];
      throw new OpgError("FEE_BELOW_PRICE", `the max fee ${opg(maxFee)} is below the price ${opg(price)}`, { cause: error });
    }
    throw error;
  }
}

async function signed(values: Record<string, unknown>, io: CliIo): Promise<{ contracts: Contracts; signer: Signer; chainId: bigint }> {
  const chain = await openChain(values as Parameters<typeof openChain>[0], io, { needsSigner: true });
  // Several transactions in a row: count nonces locally (a provider may answer a cached count).
  const signer = new NonceManager(chain.signer!);
  return { contracts: connect(chain.deployment, signer), signer, chainId: chain.chainId };
}

// ------------------------------------------------------------------ token, operator, escrow

export const tokenTransferCommand: CliCommand = {
  path: ["token", "transfer"],
  summary: "Send OPG to an address",
  usage: `Usage: opg token transfer <address> <OPG> [chain options]\n${CHAIN_USAGE}\n`,
  async run(args, io) {
    const { values, positionals } = parseOptions(args, { ...CHAIN_OPTIONS }, { min: 2, max: 2, names: "<address> <OPG>" });
    const to = address(positionals[0], "<address>");
    const amount = parseOpg(positionals[1], "<OPG>");
    const { contracts } = await signed(values, io);
    const receipt = await inOpg(() => mined(contracts.token.getFunction("transfer")(to, amount)));
    io.stdout(`sent ${opg(amount)} to ${to} (gas ${receipt.gasUsed})\n`);
    return 0;
  },
};

export const operatorStakeCommand: CliCommand = {
  path: ["operator", "stake"],
  summary: "Stake OPG as an operator and bind your own key as a signer",
  usage: `Usage: opg operator stake <OPG> [chain options]

Approves and stakes <OPG> from the key's account, then binds that same account as a key whose signatures
count for it, unless it is already bound. To bind another key (it must consent), use
opg operator register-signer --signer-key-env <NAME>.
${CHAIN_USAGE}
`,
  async run(args, io) {
    const { values, positionals } = parseOptions(args, CHAIN_OPTIONS, { min: 1, max: 1, names: "<OPG>" });
    const amount = parseOpg(positionals[0], "<OPG>");
    if (amount === 0n) throw new UsageError("<OPG> must be more than zero");
    const { contracts, signer } = await signed(values, io);
    const me = await signer.getAddress();
    const key = me;
    let gas = 0n;
    gas += (await inOpg(() => mined(contracts.token.getFunction("approve")(contracts.operators.target, amount)))).gasUsed;
    gas += (await inOpg(() => mined(contracts.operators.getFunction("stake")(amount)))).gasUsed;
    const bound = (await contracts.operators.getFunction("operatorOfSigner")(key)) as string;
    if (bound.toLowerCase() !== me.toLowerCase()) {
      gas += (await inOpg(() => mined(contracts.operators.getFunction("registerSigner")(key, 0n, "0x")))).gasUsed;
    }
    const stake = (await contracts.operators.getFunction("stakeOf")(me)) as { bonded: bigint };
    const active = (await contracts.operators.getFunction("isActive")(me)) as boolean;
    io.stdout(`staked ${opg(amount)} (bonded ${opg(stake.bonded)}, ${active ? "active" : "below the minimum stake"}); signer ${key} (gas ${gas})\n`);
    return 0;
  },
};

export const escrowDepositCommand: CliCommand = {
  path: ["escrow", "deposit"],
  summary: "Deposit OPG into the hub's escrow (yours, or --for an account such as a consumer contract)",
  usage: `Usage: opg escrow deposit <OPG> [--for <address>] [chain options]\n${CHAIN_USAGE}\n`,
  async run(args, io) {
    const { values, positionals } = parseOptions(args, { ...CHAIN_OPTIONS, for: { type: "string" } }, { min: 1, max: 1, names: "<OPG>" });
    const amount = parseOpg(positionals[0], "<OPG>");
    if (amount === 0n) throw new UsageError("<OPG> must be more than zero");
    const { contracts, signer } = await signed(values, io);
    const account = values.for === undefined ? await signer.getAddress() : address(values.for, "--for");
    let gas = (await inOpg(() => mined(contracts.token.getFunction("approve")(contracts.hub.target, amount)))).gasUsed;
    gas += (await inOpg(() => mined(contracts.hub.getFunction("deposit")(account, amount)))).gasUsed;
    const balance = (await contracts.hub.getFunction("balanceOf")(account)) as bigint;
    io.stdout(`deposited ${opg(amount)} for ${account}; escrow ${opg(balance)} (gas ${gas})\n`);
    return 0;
  },
};

export const escrowWithdrawCommand: CliCommand = {
  path: ["escrow", "withdraw"],
  summary: "Withdraw OPG from your escrow or earnings (an amount, or all)",
  usage: `Usage: opg escrow withdraw <OPG|all> [--to <address>] [chain options]\n${CHAIN_USAGE}\n`,
  async run(args, io) {
    const { values, positionals } = parseOptions(args, { ...CHAIN_OPTIONS, to: { type: "string" } }, { min: 1, max: 1, names: "<OPG|all>" });
    const all = positionals[0] === "all";
    const requested = all ? 0n : parseOpg(positionals[0], "<OPG>");
    const { contracts, signer } = await signed(values, io);
    const me = await signer.getAddress();
    const to = values.to === undefined ? me : address(values.to, "--to");
    const amount = all ? ((await contracts.hub.getFunction("balanceOf")(me)) as bigint) : requested;
    if (amount === 0n) throw new OpgError("NOTHING_TO_WITHDRAW", `${me} has 0 OPG in escrow`);
    const receipt = await inOpg(() => mined(contracts.hub.getFunction("withdraw")(to, amount)));
    io.stdout(`withdrew ${opg(amount)} to ${to} (gas ${receipt.gasUsed})\n`);
    return 0;
  },
};

export const escrowBalanceCommand: CliCommand = {
  path: ["escrow", "balance"],
  summary: "Show an account's OPG in escrow (or earnings) and in its wallet",
  usage: `Usage: opg escrow balance [<address>] [chain options]\n${CHAIN_USAGE}\n`,
  async run(args, io) {
    const { values, positionals } = parseOptions(args, { ...CHAIN_OPTIONS }, { min: 0, max: 1, names: "[<address>]" });
    const chain = await openChain(values, io, { needsSigner: positionals[0] === undefined });
    const who = positionals[0] === undefined ? await chain.signer!.getAddress() : address(positionals[0], "<address>");
    const escrow = (await chain.contracts.hub.getFunction("balanceOf")(who)) as bigint;
    const wallet = (await chain.contracts.token.getFunction("balanceOf")(who)) as bigint;
    io.stdout(`${who}: escrow ${opg(escrow)}, wallet ${opg(wallet)}\n`);
    return 0;
  },
};

// ------------------------------------------------------------------ requests

const REQUEST_OPTIONS = {
  model: { type: "string", multiple: true },
  input: { type: "string" },
  tier: { type: "string" },
  "final-tier": { type: "string" },
  "max-fee": { type: "string" },
  build: { type: "string" },
  "scale-bits": { type: "string" },
  operator: { type: "string" },
  ttl: { type: "string" },
} as const;

const REQUEST_USAGE = `  --model <id>         the model (repeat for a pipeline, in order)
  --input <file>       JSON input: {"input": [[…]]} or a nested array of numbers
  --tier <t>           signature, tee or zk: every step at least this tier (default signature)
  --final-tier <t>     the final step at least this tier (default: --tier)
  --max-fee <OPG>      the most to pay (default: the book's estimate)
  --build <dir>        an \`opg zk build\` folder of the first model: its scale and output shape
  --scale-bits <n>     fixed-point scale of the first model's input (default ${DEFAULT_SCALE_BITS}, as \`opg zk build\`)
  --operator <addr>    only this operator may serve it
  --ttl <seconds>      time until the request expires (default 600)`;

function tierOption(text: string | undefined, what: string, fallback: Exclude<Tier, 0>): Exclude<Tier, 0> {
  if (text === undefined) return fallback;
  try {
    return parseTier(text);
  } catch (error) {
    throw new UsageError(`${what}: ${error instanceof Error ? error.message : String(error)}`);
  }
}

function intOption(text: string | undefined, what: string, fallback: number, max: number): number {
  if (text === undefined) return fallback;
  if (!/^[0-9]+$/.test(text) || Number(text) > max) throw new UsageError(`${what} must be an integer up to ${max}`);
  return Number(text);
}

interface RequestSpec {
  readonly pipeline: string[];
  readonly quantized: bigint[];
  readonly scaleBits: number;
  readonly outputShape: number[] | undefined;
  readonly minEachStep: Exclude<Tier, 0>;
  readonly minFinalStep: Exclude<Tier, 0>;
  readonly maxFee: bigint | undefined;
  readonly operator: string | undefined;
  readonly ttl: number;
}

async function requestSpec(values: Record<string, unknown>, io: CliIo): Promise<RequestSpec> {
  const models = (values["model"] as string[] | undefined) ?? [];
  if (models.length === 0) throw new UsageError("--model is required");
  for (const m of models) if (!/^0x[0-9a-fA-F]{64}$/.test(m)) throw new UsageError(`--model ${m} is not a model id (32 bytes of 0x hex)`);
  if (values["input"] === undefined) throw new UsageError("--input is required");
  let scaleBits = intOption(values["scale-bits"] as string | undefined, "--scale-bits", DEFAULT_SCALE_BITS, 64);
  let outputShape: number[] | undefined;
  if (values["build"] !== undefined) {
    if (values["scale-bits"] !== undefined) throw new UsageError("give --build or --scale-bits, not both");
    const build = await loadBuild(String(values["build"]));
    scaleBits = build.model.scaleBits;
    outputShape = [...build.model.output.shape];
  }
  const json = await readJson(io, String(values["input"]), "input file");
  const nested = typeof json === "object" && json !== null && !Array.isArray(json) && "input" in json ? (json as { input: unknown }).input : json;
  let flat: number[];
  try {
    flat = flattenNested(nested).values;
  } catch (cause) {
    throw new OpgError("INPUT_MALFORMED", `input file ${String(values["input"])} holds no array of numbers`, { cause });
  }
  const minEachStep = tierOption(values["tier"] as string | undefined, "--tier", Tier.Signature);
  return {
    pipeline: models,
    quantized: quantizeValues(flat, scaleBits),
    scaleBits,
    outputShape,
    minEachStep,
    minFinalStep: tierOption(values["final-tier"] as string | undefined, "--final-tier", minEachStep),
    maxFee: values["max-fee"] === undefined ? undefined : parseOpg(values["max-fee"] as string, "--max-fee"),
    operator: values["operator"] === undefined ? undefined : address(values["operator"] as string, "--operator"),
    ttl: intOption(values["ttl"] as string | undefined, "--ttl", 600, 365 * 86_400),
  };
}

export const inferCommand: CliCommand = {
  path: ["infer"],
  summary: "Request an inference on-chain, wait for an operator, print the verified outputs",
  usage: `Usage: opg infer --model <id> --input <input.json> [--tier <signature|tee|zk>] [--max-fee <OPG>] [--json] [options]

Reserves the max fee from your escrow (opg escrow deposit), requests the inference from the
RequestBook and waits until an operator (opg node) fulfils it; prints the outputs the contract verified.
${REQUEST_USAGE}
  --input-uri <uri>    carry only this URI on-chain: it serves the quantized input as {"input": ["<int>", …]}
                       (the node fetches it and checks it against the commitment of --input)
  --timeout <seconds>  how long to wait (default 300)
  --json               one JSON object: {"requestId", "tier", "verified", "output", "gasUsed", "fee"}
${CHAIN_USAGE}
`,
  async run(args, io) {
    const { values } = parseOptions(args, { ...CHAIN_OPTIONS, ...REQUEST_OPTIONS, "input-uri": { type: "string" }, timeout: { type: "string" }, json: { type: "boolean" } }, { min: 0, max: 0, names: "no positional arguments" });
    const spec = await requestSpec(values, io);
    const inputUri = values["input-uri"];
    if (inputUri !== undefined && !/^(https?|file):\/\/\S+$/.test(inputUri)) throw new UsageError(`--input-uri must be an http(s) or file: URI, got ${JSON.stringify(inputUri.slice(0, 200))}`);
    const timeout = intOption(values.timeout, "--timeout", 300, 86_400);
    const { contracts, signer } = await signed(values, io);
    const progress = !values.json && io.isTTY;
    if (progress) io.stderr(`requesting ${spec.pipeline.length === 1 ? "model " + spec.pipeline[0] : `a ${spec.pipeline.length}-model pipeline`} at tier ${tierName(spec.minEachStep)}…\n`);
    const result = await inOpg(() =>
      infer({
        contracts,
        requester: signer,
        pipeline: spec.pipeline,
        input: { quantized: spec.quantized, scaleBits: spec.scaleBits },
        policy: { minEachStep: spec.minEachStep, minFinalStep: spec.minFinalStep },
        ...(spec.maxFee === undefined ? {} : { maxFee: spec.maxFee }),
        ...(spec.operator === undefined ? {} : { operator: spec.operator }),
        ttlSeconds: spec.ttl,
        timeoutMs: timeout * 1000,
        ...(inputUri === undefined ? {} : { inputUri }),
        onRequested: (r) => {
          if (progress) io.stderr(`request ${r.requestId} (gas ${r.gasUsed}); waiting for an operator…\n`);
        },
      }),
    );
    const values_ = [...result.values];
    let output: unknown = [values_];
    // --build describes the first model: its output shape is the result's only for a single model.
    if (spec.outputShape !== undefined && spec.pipeline.length === 1) {
      try {
        output = nestValues(values_, spec.outputShape);
      } catch {
        output = [values_];
      }
    }
    const finalTier = tierName(result.tiers.at(-1) ?? Tier.None);
    if (values.json) {
      io.stdout(
        JSON.stringify({
          requestId: result.requestId,
          tier: finalTier,
          tiers: result.tiers.map(tierName),
          verified: true,
          output,
          quantized: result.output.map(String),
          gasUsed: { request: Number(result.gasUsed.request), fulfil: Number(result.gasUsed.fulfil) },
          fee: formatUnits(result.fee, OPG_DECIMALS),
          operator: result.operator,
        }) + "\n",
      );
      return 0;
    }
    io.stdout(
      [
        `request   ${result.requestId}`,
        `verified  tier ${result.tiers.map(tierName).join(" → ")} by operator ${result.operator}`,
        `output    ${JSON.stringify(output)}`,
        `fee       ${opg(result.fee)}`,
        `gas       request ${result.gasUsed.request}, fulfil ${result.gasUsed.fulfil}`,
      ].join("\n") + "\n",
    );
    return 0;
  },
};

export const requestAuthorizeCommand: CliCommand = {
  path: ["request", "authorize"],
  summary: "Sign an off-chain EIP-712 authorization for one operator to settle one inference",
  usage: `Usage: opg request authorize --model <id> --input <input.json> --operator <addr> --out <auth.json> [options]

Writes {"format": "opg-authorization/1", requester, params, input, signature}: what \`POST /v1/infer\`
of an operator node takes. The operator settles it with fulfilAuthorized; the price is debited from
your escrow then (no reservation). Each authorization settles at most once.
${REQUEST_USAGE}
  --nonce <n>          the authorization's nonce (default: time-based)
${CHAIN_USAGE}
`,
  async run(args, io) {
    const { values } = parseOptions(args, { ...CHAIN_OPTIONS, ...REQUEST_OPTIONS, out: { type: "string" }, nonce: { type: "string" } }, { min: 0, max: 0, names: "no positional arguments" });
    if (values.out === undefined) throw new UsageError("--out is required");
    if (values.operator === undefined) throw new UsageError("--operator is required: an authorization names the operator it lets settle");
    const spec = await requestSpec(values, io);
    if (values.nonce !== undefined && !/^[0-9]{1,77}$/.test(values.nonce)) throw new UsageError("--nonce must be a non-negative integer");
    const { contracts, signer, chainId } = await signed(values, io);
    const book = bookOf(contracts);
    const maxFee = spec.maxFee ?? (await inOpg(() => estimateFee(book, spec.pipeline, spec.minEachStep, spec.minFinalStep)));
    const latest = await signer.provider!.getBlock("latest");
    const params = buildRequestParams({
      pipeline: spec.pipeline,
      inputCommitment: await requestInputCommitment(spec.quantized, spec.scaleBits),
      minEachStep: spec.minEachStep,
      minFinalStep: spec.minFinalStep,
      operator: spec.operator!,
      maxFee,
      deadline: BigInt(latest?.timestamp ?? Math.floor(Date.now() / 1000)) + BigInt(spec.ttl),
      nonce: values.nonce === undefined ? BigInt(Date.now()) : BigInt(values.nonce),
    });
    const signature = await signAuthorization(signer, chainId, book.target as string, params);
    const requester = await signer.getAddress();
    await writeJson(io, values.out, {
      format: "opg-authorization/1",
      chainId: chainId.toString(),
      book: book.target,
      requester,
      params: paramsJson(params),
      input: spec.quantized.map(String),
      scaleBits: spec.scaleBits,
      signature,
    });
    io.stdout(`authorized ${spec.operator} to settle one inference for at most ${opg(maxFee)} until ${params.deadline} (${values.out})\n`);
    return 0;
  },
};

function paramsJson(p: RequestParams): Record<string, unknown> {
  return { ...p, pipeline: [...p.pipeline], maxFee: p.maxFee.toString(), deadline: p.deadline.toString(), callbackGasLimit: p.callbackGasLimit.toString(), nonce: p.nonce.toString() };
}

/** The InferenceRequested event of `requestId`: its params and input. */
async function requestedEvent(book: Contract, requestId: string) {
  if (!/^0x[0-9a-fA-F]{64}$/.test(requestId)) throw new UsageError("<request-id> must be 32 bytes of 0x hex");
  const [event] = await book.queryFilter(book.filters["InferenceRequested"]!(requestId), 0);
  if (event === undefined || !("args" in event)) throw new OpgError("UNKNOWN_REQUEST", `no request ${requestId} on this book`);
  const params = paramsFromResult(event.args.getValue("params"));
  return { params, requester: event.args.getValue("requester") as string, input: event.args.getValue("input") as string, uri: event.args.getValue("inputURI") as string };
}

const STATUS = ["none", "open", "fulfilled", "cancelled", "refuted"] as const;

export const requestShowCommand: CliCommand = {
  path: ["request", "show"],
  summary: "Show a request: what it asked, its status and its result",
  usage: `Usage: opg request show <request-id> [--json] [chain options]\n${CHAIN_USAGE}\n`,
  async run(args, io) {
    const { values, positionals } = parseOptions(args, { ...CHAIN_OPTIONS, json: { type: "boolean" } }, { min: 1, max: 1, names: "<request-id>" });
    const chain = await openChain(values, io, { needsSigner: false });
    const book = bookOf(chain.contracts);
    const { params, requester, input, uri } = await requestedEvent(book, positionals[0]!);
    const result = await readRequest(book, positionals[0]!);
    const shown = {
      requestId: positionals[0],
      status: STATUS[result.status],
      requester,
      ...paramsJson(params),
      input: input === "0x" ? undefined : decodeRequestInput(input).map(String),
      inputURI: uri === "" ? undefined : uri,
      tier: tierName(result.tier),
      outputCommitment: result.outputCommitment,
    };
    if (values.json) {
      io.stdout(JSON.stringify(shown) + "\n");
      return 0;
    }
    io.stdout(
      [
        `request    ${positionals[0]} (${shown.status})`,
        `requester  ${requester}`,
        `pipeline   ${params.pipeline.join(" → ")}`,
        `policy     each ≥ ${tierName(params.minEachStep)}, final ≥ ${tierName(params.minFinalStep)}; max fee ${opg(params.maxFee)}; deadline ${params.deadline}`,
        `input      ${params.inputCommitment}`,
        ...(result.status === 2 ? [`result     tier ${tierName(result.tier)}, output ${result.outputCommitment}`] : []),
      ].join("\n") + "\n",
    );
    return 0;
  },
};

export const requestCancelCommand: CliCommand = {
  path: ["request", "cancel"],
  summary: "Cancel your expired request and get its reservation back",
  usage: `Usage: opg request cancel <request-id> [chain options]\n${CHAIN_USAGE}\n`,
  async run(args, io) {
    const { values, positionals } = parseOptions(args, { ...CHAIN_OPTIONS }, { min: 1, max: 1, names: "<request-id>" });
    const { contracts, signer } = await signed(values, io);
    const book = bookOf(contracts);
    const { params } = await requestedEvent(book, positionals[0]!);
    const gas = await inOpg(() => cancelRequest(book, signer, params));
    io.stdout(`cancelled ${positionals[0]}: ${opg(params.maxFee)} back in escrow (gas ${gas})\n`);
    return 0;
  },
};

export const requestCommands: readonly CliCommand[] = [
  tokenTransferCommand,
  operatorStakeCommand,
  escrowDepositCommand,
  escrowWithdrawCommand,
  escrowBalanceCommand,
  inferCommand,
  requestAuthorizeCommand,
  requestShowCommand,
  requestCancelCommand,
];
