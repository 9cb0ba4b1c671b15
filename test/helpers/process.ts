/** Runs the `opg` bin as a separate process, as a user would (compiled dist/, see bin/opg.mjs). */
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";

export const OPG_BIN = fileURLToPath(new URL("../../bin/opg.mjs", import.meta.url));

export interface ProcessRun {
  code: number;
  stdout: string;
  stderr: string;
}

export function opgProcess(cwd: string, env: Record<string, string>, args: readonly string[]): Promise<ProcessRun> {
  return new Promise((resolve) => {
    execFile(process.execPath, [OPG_BIN, ...args], { cwd, env: { PATH: process.env["PATH"] ?? "", HOME: process.env["HOME"] ?? "", ...env }, maxBuffer: 16 << 20 }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof (error as { code?: unknown }).code === "number" ? ((error as { code: number }).code) : 1;
      resolve({ code, stdout, stderr });
    });
  });
}
