#!/usr/bin/env node
// Thin launcher: the toolkit is TypeScript, loaded through tsx so `npx opg` works from a dependency.
import { register } from "tsx/esm/api";

register();
const { runCli, processIo } = await import("../src/cli/main.ts");
const code = await runCli(process.argv.slice(2), processIo());
// One command, one process: exit once its output is flushed, whatever handles a dependency left open.
await new Promise((done) => process.stdout.write("", () => process.stderr.write("", done)));
process.exit(code);
