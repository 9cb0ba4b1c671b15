/**
 * The node's HTTP API on node:http:
 *   POST /v1/infer          a requester's signed authorization + input → outputs and evidence at once
 *   GET  /v1/requests/<id>  where a request stands
 *   GET  /health            liveness and chain position (JSON)
 *   GET  /metrics           Prometheus text format
 *   POST /v1/batch/infer    one inference under a spending authorization, settled later in a batch (with --batch)
 *   GET  /v1/batches/<root> the published leaves of a batch this node posted
 * Errors are JSON `{"error": {"code", "message"}}` with a 4xx status for the caller's mistakes.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { OpgError } from "../errors.ts";

/** Largest request body accepted (an input of ~100k values in JSON). */
export const MAX_BODY_BYTES = 2 * 1024 * 1024;

export interface HttpHandlers {
  infer(body: unknown): Promise<{ status: number; body: unknown }>;
  request(id: string): { status: number; body: unknown };
  health(): { status: number; body: unknown };
  metrics(): string;
  /** Batched settlement (src/node/batcher.ts), when the node runs with it. */
  batchInfer?(body: unknown): Promise<{ status: number; body: unknown }>;
  batch?(root: string): string | undefined;
}

/** An error the HTTP layer reports with its own status (400 by default). */
export class HttpError extends OpgError {
  override readonly name = "HttpError";
  constructor(
    readonly status: number,
    code: string,
    message: string,
    options: { cause?: unknown } = {},
  ) {
    super(code, message, options);
  }
}

async function readBody(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk));
    size += buffer.length;
    if (size > MAX_BODY_BYTES) throw new HttpError(413, "BODY_TOO_LARGE", `request body above ${MAX_BODY_BYTES} bytes`);
    chunks.push(buffer);
  }
  const text = Buffer.concat(chunks).toString("utf8");
  try {
    return JSON.parse(text);
  } catch (cause) {
    throw new HttpError(400, "BODY_NOT_JSON", "the request body is not JSON", { cause });
  }
}

function send(res: ServerResponse, status: number, body: unknown, type = "application/json"): void {
  const text = typeof body === "string" && type !== "application/json" ? body : JSON.stringify(body, (_, v: unknown) => (typeof v === "bigint" ? v.toString() : v));
  res.writeHead(status, { "content-type": type === "application/json" ? "application/json; charset=utf-8" : type, "content-length": Buffer.byteLength(text) });
  res.end(text);
}

function errorBody(error: unknown): { status: number; body: unknown } {
  if (error instanceof HttpError) return { status: error.status, body: { error: { code: error.code, message: error.message } } };
  if (error instanceof OpgError) return { status: 400, body: { error: { code: error.code, message: error.message } } };
  return { status: 500, body: { error: { code: "INTERNAL", message: "internal error" } } };
}

export function createNodeServer(handlers: HttpHandlers, onError: (error: unknown) => void = () => undefined): Server {
  return createServer((req, res) => {
    void (async () => {
      const url = new URL(req.url ?? "/", "http://node");
      try {
        if (req.method === "GET" && url.pathname === "/health") {
          const { status, body } = handlers.health();
          return send(res, status, body);
        }
        if (req.method === "GET" && url.pathname === "/metrics") return send(res, 200, handlers.metrics(), "text/plain; version=0.0.4; charset=utf-8");
        const match = /^\/v1\/requests\/(0x[0-9a-fA-F]{64})$/.exec(url.pathname);
        if (req.method === "GET" && match !== null) {
          const { status, body } = handlers.request(match[1]!.toLowerCase());
          return send(res, status, body);
        }
        const batchRoot = /^\/v1\/batches\/(0x[0-9a-fA-F]{64})$/.exec(url.pathname);
        if (req.method === "GET" && batchRoot !== null && handlers.batch !== undefined) {
          const dump = handlers.batch(batchRoot[1]!);
          return dump === undefined ? send(res, 404, { error: { code: "UNKNOWN_BATCH", message: `no batch ${batchRoot[1]}` } }) : send(res, 200, dump, "application/json; charset=utf-8");
        }
        if (url.pathname === "/v1/batch/infer" && handlers.batchInfer !== undefined) {
          if (req.method !== "POST") return send(res, 405, { error: { code: "METHOD_NOT_ALLOWED", message: "POST /v1/batch/infer" } });
          const { status, body } = await handlers.batchInfer(await readBody(req));
          return send(res, status, body);
        }
        if (url.pathname === "/v1/infer") {
          if (req.method !== "POST") return send(res, 405, { error: { code: "METHOD_NOT_ALLOWED", message: "POST /v1/infer" } });
          const { status, body } = await handlers.infer(await readBody(req));
          return send(res, status, body);
        }
        return send(res, 404, { error: { code: "NOT_FOUND", message: `no route ${req.method ?? ""} ${url.pathname}` } });
      } catch (error) {
        const { status, body } = errorBody(error);
        if (status >= 500) onError(error);
        if (!res.headersSent) send(res, status, body);
        else res.end();
      }
    })();
  });
}

/** Listens on `host:port` (0 = any free port) and resolves with the bound port. */
export function listen(server: Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

export function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeIdleConnections();
  });
}
