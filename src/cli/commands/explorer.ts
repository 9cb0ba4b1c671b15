/** `opg explorer`: a live web page of a deployment (see src/explorer). */
import { CHAIN_OPTIONS, CHAIN_USAGE, openChain } from "../chain.ts";
import { UsageError } from "../errors.ts";
import { parseOptions } from "../main.ts";
import type { CliCommand } from "../types.ts";

export const explorerCommand: CliCommand = {
  path: ["explorer"],
  summary: "Serve a live web page of a deployment: totals per tier, receipts, requests, proofs, models, enclave keys",
  usage: `Usage: opg explorer [--port N] [--host <addr>] [chain options]

Serves http://<host>:<port>/ (default 127.0.0.1, port 8080; --port 0 picks a free one) until interrupted.
The page refreshes itself every 2 seconds from the chain.
${CHAIN_USAGE}
`,
  async run(args, io) {
    const { values } = parseOptions(args, { ...CHAIN_OPTIONS, port: { type: "string" }, host: { type: "string" } }, { min: 0, max: 0, names: "no positional arguments" });
    const port = values.port === undefined ? 8080 : Number(values.port);
    if (!Number.isInteger(port) || port < 0 || port > 65_535) throw new UsageError(`--port: expected 0..65535, got "${values.port}"`);
    const chain = await openChain(values, io, { needsSigner: false });
    const { createExplorerServer } = await import("../../explorer/server.ts");
    const rpc = values.rpc ?? io.env["OPG_RPC_URL"] ?? "http://127.0.0.1:8545";
    const server = createExplorerServer({ contracts: chain.contracts, provider: chain.provider, rpc });
    const host = values.host ?? "127.0.0.1";
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(port, host, () => resolve());
    });
    const address = server.address();
    const actual = typeof address === "object" && address !== null ? address.port : port;
    io.stdout(`explorer for chain ${chain.chainId} at http://${host}:${actual}/ (Ctrl-C to stop)\n`);
    await new Promise<void>((resolve) => {
      const stop = () => server.close(() => resolve());
      process.once("SIGINT", stop);
      process.once("SIGTERM", stop);
    });
    return 0;
  },
};

export const explorerCommands: readonly CliCommand[] = [explorerCommand];
