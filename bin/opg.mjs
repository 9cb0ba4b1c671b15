#!/usr/bin/env node
// Thin launcher: the toolkit is TypeScript, loaded through tsx so `npx opg` works from a dependency.
import { register } from "tsx/esm/api";

register();
const { runCli, processIo } = await import("../src/cli/main.ts");
process.exitCode = await runCli(process.argv.slice(2), processIo());
