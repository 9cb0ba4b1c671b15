/**
 * The explorer's HTTP server (node:http): GET / serves the page, GET /api/state a fresh snapshot of the
 * chain as JSON (snapshots are shared by requests arriving within `minIntervalMs`).
 */
import { createServer, type Server } from "node:http";
import type { Provider } from "ethers";
import type { Contracts } from "../settlement/deployment.ts";
import { explorerPage } from "./page.ts";
import { readSnapshot, type Snapshot } from "./state.ts";

export interface ExplorerOptions {
  readonly contracts: Contracts;
  readonly provider: Provider;
  /** Shown on the page (the JSON-RPC URL). */
  readonly rpc: string;
  readonly refreshMs?: number;
}

export function createExplorerServer(options: ExplorerOptions): Server {
  const refreshMs = options.refreshMs ?? 2_000;
  const page = explorerPage({ rpc: options.rpc, refreshMs });
  let last: { at: number; snapshot: Promise<Snapshot> } | undefined;
  const snapshot = () => {
    const now = Date.now();
    if (last === undefined || now - last.at >= Math.min(1_000, refreshMs)) {
      last = { at: now, snapshot: readSnapshot(options.contracts, options.provider) };
      last.snapshot.catch(() => (last = undefined));
    }
    return last.snapshot;
  };
  return createServer((request, response) => {
    const url = new URL(request.url ?? "/", "http://localhost");
    const headers = { "cache-control": "no-store", "x-content-type-options": "nosniff", "content-security-policy": "default-src 'self'; script-src 'unsafe-inline'; style-src 'unsafe-inline'" };
    if (request.method !== "GET") {
      response.writeHead(405, headers).end();
      return;
    }
    if (url.pathname === "/") {
      response.writeHead(200, { ...headers, "content-type": "text/html; charset=utf-8" }).end(page);
      return;
    }
    if (url.pathname === "/api/state") {
      snapshot().then(
        (s) => response.writeHead(200, { ...headers, "content-type": "application/json" }).end(JSON.stringify(s)),
        (error: unknown) =>
          response.writeHead(502, { ...headers, "content-type": "application/json" }).end(JSON.stringify({ error: error instanceof Error ? error.message.split("\n")[0] : String(error) })),
      );
      return;
    }
    response.writeHead(404, { ...headers, "content-type": "text/plain" }).end("not found\n");
  });
}
