#!/usr/bin/env node
// The `opg` command. Installed from the package it runs the compiled JavaScript in dist/ (plain node, no
// TypeScript at run time). In a clone of the repository without a build (`npm run build`, which
// `npm ci` runs through `prepare`), it falls back to the TypeScript sources through tsx, a dev dependency.
import { existsSync } from "node:fs";

const compiled = new URL("../dist/cli/main.js", import.meta.url);
let main;
if (existsSync(compiled)) {
  main = await import(compiled.href);
} else {
  let register;
  try {
    ({ register } = await import("tsx/esm/api"));
  } catch {
    process.stderr.write("opg: dist/ is missing: run `npm run build` in the opg-verifier checkout\n");
    process.exit(1);
  }
  register();
  main = await import(new URL("../src/cli/main.ts", import.meta.url).href);
}
const code = await main.runCli(process.argv.slice(2), main.processIo());
// One command, one process: exit once its output is flushed, whatever handles a dependency left open.
// (`opg node` and `opg explorer` are servers: their run() resolves only when they stop.)
await new Promise((done) => process.stdout.write("", () => process.stderr.write("", done)));
process.exit(code);
