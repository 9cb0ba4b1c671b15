/**
 * The node as a process: the serving loop plus its HTTP API, until SIGTERM / SIGINT. Shutdown stops
 * polling, lets requests in flight finish (their state is durable at every step anyway), closes HTTP and
 * releases the prover's worker threads.
 */
import { releaseZkResources } from "../zkml/index.ts";
import type { Batcher } from "./batcher.ts";
import { closeServer, createNodeServer, listen } from "./http.ts";
import { OperatorNode, describe, type OperatorNodeOptions } from "./node.ts";
import { tierName, type Tier } from "../receipts/tier.ts";

export interface RunNodeOptions extends OperatorNodeOptions {
  readonly http: { readonly port: number; readonly host: string };
  readonly onListening?: (port: number) => void;
  /** Resolves when the node should stop (default: SIGTERM or SIGINT). */
  readonly until?: Promise<unknown>;
  /** Batched settlement of HTTP inferences under spending authorizations (POST /v1/batch/infer). */
  readonly batcher?: Batcher | undefined;
}

function signals(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const handler = (signal: NodeJS.Signals) => {
      process.off("SIGTERM", handler);
      process.off("SIGINT", handler);
      resolve(signal);
    };
    process.on("SIGTERM", handler);
    process.on("SIGINT", handler);
  });
}

export async function runNode(options: RunNodeOptions): Promise<void> {
  const node = new OperatorNode(options);
  const { store } = options;
  const server = createNodeServer(
    {
      infer: (body) => node.inferHttp(body),
      request(id) {
        const row = store.get(id);
        if (row === undefined) return { status: 404, body: { error: { code: "UNKNOWN_REQUEST", message: `no request ${id}` } } };
        return {
          status: 200,
          body: {
            id: row.id,
            source: row.source,
            status: row.status,
            tier: tierName(row.tier as Tier),
            block: row.block,
            attempts: row.attempts,
            transactionHash: row.txHash,
            error: row.error,
            result: row.result === null ? null : (JSON.parse(row.result) as unknown),
          },
        };
      },
      health() {
        return {
          status: node.stopped ? 503 : 200,
          body: {
            ok: !node.stopped,
            operator: options.book.operator,
            chainId: options.book.chainId.toString(),
            head: node.head,
            lastBlock: store.lastBlock() ?? null,
            queue: { waiting: node.queue.depth, running: node.queue.running },
            requests: store.counts(),
            models: [...options.models.values()].map((m) => ({ modelId: m.modelId, kind: m.runner.kind, zk: m.canProve })),
            tee: options.enclave !== undefined,
          },
        };
      },
      metrics: () => node.metrics.render(),
      ...(options.batcher === undefined ? {} : { batchInfer: (body: unknown) => options.batcher!.infer(body), batch: (root: string) => options.batcher!.published(root) }),
    },
    (error) => options.log(`http error: ${describe(error)}`),
  );
  const stopSignal = options.until ?? signals();
  const port = await listen(server, options.http.port, options.http.host);
  try {
    await node.start();
    options.batcher?.start(node.sender);
    options.onListening?.(port);
    options.log(`node ready: http port ${port}, polling every ${options.pollMs} ms, ${options.confirmations} confirmation(s)`);
    const reason = await stopSignal;
    options.log(`shutting down (${String(reason)}): finishing requests in flight…`);
  } finally {
    await node.stop();
    await options.batcher?.stop();
    await closeServer(server);
    await releaseZkResources();
    options.log("stopped");
  }
}
