/**
 * `opg node`: the operator node. Serves the given models from their folders, follows the chain for requests,
 * fulfils them, answers HTTP. Runs until SIGTERM / SIGINT, then finishes the requests in flight and exits 0.
 */
import { join, resolve } from "node:path";
import { Wallet } from "ethers";
import { OpgError } from "../../errors.ts";
import { createChainBook } from "../../node/chain.ts";
import { DEFAULT_INPUT_FETCH } from "../../node/inputs.ts";
import { closeServedModels, loadServedModels, parseModelSpec } from "../../node/models.ts";
import { tierName, Tier } from "../../receipts/tier.ts";
import { batchDomain, batchSettlementAt } from "../../batches/index.ts";
import type { Batcher } from "../../node/batcher.ts";
import type { RequestBook } from "../../node/book.ts";
import type { ServedModel } from "../../node/models.ts";
import type { Hex } from "../../receipts/receipt.ts";
import { CHAIN_OPTIONS, CHAIN_USAGE, openChain, type ChainContext } from "../chain.ts";
import { UsageError } from "../errors.ts";
import { parseOptions } from "../main.ts";
import type { CliCommand } from "../types.ts";

const USAGE = `Usage: opg node --model <modelId>=<dir> [--model …] [options]

Runs an operator node: follows the chain for inference requests it can serve, runs the model, produces the
evidence for the requested tier (operator signature; enclave signature with --enclave-key-env; Groth16 proof
for \`opg zk build\` folders, the prover kept warm) and fulfils them. Its signer is the operator
($OPG_PRIVATE_KEY or --key-env), which must be staked. State (requests seen, in progress, fulfilled, failed,
last block) is kept in --state, so a restarted node resumes where it stopped without serving twice.

A <dir> is an \`opg zk build\` folder (signature, TEE and ZK results all equal the circuit's fixed-point
outputs) or a folder with only an ONNX model (served in float by onnxruntime, outputs quantized; no ZK).

HTTP (127.0.0.1 by default): POST /v1/infer, GET /v1/requests/<id>, GET /health, GET /metrics; with a
BatchSettlement in the deployment also POST /v1/batch/infer ({"authorization", "model", "input"}: settled later in a
batch, leaves kept in <state>.batches.sqlite) and GET /v1/batches/<root> (the published leaves).

Options:
  --model <id>=<dir>      a model to serve (repeatable)
  --port <N>              HTTP port (default 8547; 0 picks a free one)
  --host <addr>           HTTP listen address (default 127.0.0.1)
  --confirmations <N>     serve a request once its block has N confirmations (default 1 = mined)
  --state <file>          state database (default .opg-node/node-<chainId>-<operator>.sqlite)
  --from-block <N>        first block to scan when the state is new (default: the current block)
  --poll <ms>             chain polling interval (default 1000)
  --concurrency <N>       requests served at once (default 2)
  --queue <N>             requests waiting at most (default 256)
  --enclave-key-env <NAME>  environment variable holding a registered enclave key: enables the TEE tier

Inputs given by URI (request(params, "", inputURI)) are fetched over http(s), checked against the request's
input commitment before use; a bad one is reported once and not served:
  --input-max-bytes <N>   largest input accepted (default 4194304)
  --input-timeout <ms>    time for the whole fetch, redirects included (default 10000)
  --input-redirects <N>   redirects followed at most (default 3)
  --allow-private-inputs  also fetch from loopback, private and link-local addresses
  --allow-file-inputs <dir>  also read file: URIs, from inside <dir> only
  --batch-size <N>        batched settlement (POST /v1/batch/infer under a spending authorization): post a root
                          once N receipts are pending (default 256)
  --batch-age <ms>        … or once the oldest pending receipt is this old (default 60000)
  --public-url <url>      where this node is reachable: batches are published at <url>/v1/batches/<root>
${CHAIN_USAGE}
`;

function integer(name: string, text: string | undefined, fallback: number, min = 0): number {
  if (text === undefined) return fallback;
  if (!/^\d+$/.test(text) || Number(text) < min || !Number.isSafeInteger(Number(text))) throw new UsageError(`--${name}: expected an integer ≥ ${min}, got "${text}"`);
  return Number(text);
}

/** node:sqlite is stable enough for the node's needs; its one-time "experimental" warning would only alarm operators. */
async function withoutSqliteWarning<T>(load: () => Promise<T>): Promise<T> {
  const emit = process.emitWarning;
  process.emitWarning = ((warning: string | Error, ...rest: unknown[]) => {
    if (String(warning instanceof Error ? warning.message : warning).includes("SQLite is an experimental")) return;
    (emit as (...args: unknown[]) => void).call(process, warning, ...rest);
  }) as typeof process.emitWarning;
  try {
    return await load();
  } finally {
    process.emitWarning = emit;
  }
}

/** Batched settlement of HTTP inferences, when the deployment has a BatchSettlement contract. */
async function createBatcher(
  chain: ChainContext,
  wallet: Wallet,
  book: RequestBook,
  models: ReadonlyMap<Hex, ServedModel>,
  log: (line: string) => void,
  options: { path: string; maxSize: number; maxAgeMs: number; publicUrl: string },
): Promise<Batcher | undefined> {
  const address = chain.deployment.batches;
  if (address === undefined) return undefined;
  const { Batcher } = await import("../../node/batcher.ts");
  const priceOf = async (modelId: Hex) => {
    const terms = await book.terms(modelId);
    return terms === undefined || terms.deprecated || ((terms.acceptedTiers >> Tier.Signature) & 1) === 0 ? undefined : terms.prices[0];
  };
  return new Batcher({ ...options, contract: batchSettlementAt(address, wallet), domain: batchDomain(chain.chainId, address), wallet, provider: chain.provider, models, priceOf, log });
}

export const nodeCommand: CliCommand = {
  path: ["node"],
  summary: "Run an operator node: serve inference requests from the chain and over HTTP",
  usage: USAGE,
  async run(args, io) {
    const { values } = parseOptions(
      args,
      {
        ...CHAIN_OPTIONS,
        model: { type: "string", multiple: true },
        port: { type: "string" },
        host: { type: "string" },
        confirmations: { type: "string" },
        state: { type: "string" },
        "from-block": { type: "string" },
        poll: { type: "string" },
        concurrency: { type: "string" },
        queue: { type: "string" },
        "enclave-key-env": { type: "string" },
        "input-max-bytes": { type: "string" },
        "input-timeout": { type: "string" },
        "input-redirects": { type: "string" },
        "allow-private-inputs": { type: "boolean" },
        "allow-file-inputs": { type: "string" },
        "batch-size": { type: "string" },
        "batch-age": { type: "string" },
        "public-url": { type: "string" },
      },
      { min: 0, max: 0, names: "no positional arguments (see --help)" },
    );
    const specs = (values.model ?? []).map(parseModelSpec).map((s) => ({ ...s, dir: resolve(io.cwd, s.dir) }));
    if (specs.length === 0) throw new UsageError("give at least one --model <modelId>=<dir>");
    const port = integer("port", values.port, 8547);
    if (port > 65535) throw new UsageError(`--port: expected 0..65535, got ${port}`);
    const confirmations = integer("confirmations", values.confirmations, 1, 1);
    const pollMs = integer("poll", values.poll, 1000, 10);
    const concurrency = integer("concurrency", values.concurrency, 2, 1);
    const queueCapacity = integer("queue", values.queue, 256, 1);
    const inputs = {
      maxBytes: integer("input-max-bytes", values["input-max-bytes"], DEFAULT_INPUT_FETCH.maxBytes, 1),
      timeoutMs: integer("input-timeout", values["input-timeout"], DEFAULT_INPUT_FETCH.timeoutMs, 1),
      maxRedirects: integer("input-redirects", values["input-redirects"], DEFAULT_INPUT_FETCH.maxRedirects),
      allowPrivate: values["allow-private-inputs"] === true,
      fileRoot: values["allow-file-inputs"] === undefined ? undefined : resolve(io.cwd, values["allow-file-inputs"]),
    };
    const fromBlock = values["from-block"] === undefined ? undefined : integer("from-block", values["from-block"], 0);

    let enclave: Wallet | undefined;
    if (values["enclave-key-env"] !== undefined) {
      const name = values["enclave-key-env"];
      const key = io.env[name];
      if (key === undefined || key === "") throw new UsageError(`--enclave-key-env ${name}: $${name} is not set`);
      try {
        enclave = new Wallet(key);
      } catch (cause) {
        throw new OpgError("BAD_PRIVATE_KEY", `$${name} does not hold a valid private key`, { cause });
      }
    }

    // Loaded here, not at the top: node:sqlite prints an experimental warning when it is first imported,
    // and every other command would show it.
    const { NodeStore } = await withoutSqliteWarning(() => import("../../node/store.ts"));
    const { runNode } = await import("../../node/service.ts");
    const chain = await openChain(values, io, { needsSigner: true });
    const wallet = chain.signer as Wallet;
    const operator = await wallet.getAddress();
    const book = await createChainBook(chain.contracts, chain.provider, operator, chain.chainId);
    const models = await loadServedModels(specs, { warm: true });
    const statePath = values.state === undefined ? join(io.cwd, ".opg-node", `node-${chain.chainId}-${operator.toLowerCase()}.sqlite`) : resolve(io.cwd, values.state);
    const store = new NodeStore(statePath);
    const log = (line: string) => io.stderr(`${new Date().toISOString()} ${line}\n`);
    const batcher = await createBatcher(chain, wallet, book, models, log, {
      path: statePath.replace(/\.sqlite$/, "") + ".batches.sqlite",
      maxSize: integer("batch-size", values["batch-size"], 256, 1),
      maxAgeMs: integer("batch-age", values["batch-age"], 60_000, 10),
      publicUrl: values["public-url"] ?? `http://${values.host ?? "127.0.0.1"}:${port}`,
    });
    for (const m of models.values()) {
      const tiers = [Tier.Signature, ...(enclave === undefined ? [] : [Tier.TEE]), ...(m.canProve ? [Tier.ZK] : [])].map(tierName).join(", ");
      log(`serving model ${m.modelId} from ${m.runner.dir} (${m.runner.kind}; tiers ${tiers})`);
    }
    try {
      await runNode({
        provider: chain.provider,
        wallet,
        enclave: enclave?.connect(chain.provider),
        book,
        models,
        store,
        confirmations,
        fromBlock,
        pollMs,
        concurrency,
        queueCapacity,
        log,
        inputs,
        http: { port, host: values.host ?? "127.0.0.1" },
        batcher,
        onListening: (boundPort) => io.stdout(`opg node: operator ${operator}, chain ${chain.chainId}, http://${values.host ?? "127.0.0.1"}:${boundPort}, state ${statePath}\n`),
      });
    } finally {
      store.close();
      await closeServedModels(models);
    }
    return 0;
  },
};

export const nodeCommands: readonly CliCommand[] = [nodeCommand];
