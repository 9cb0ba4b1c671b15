import { spawn } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { expect } from "chai";
import { CborRaw, encodeCbor, type CborValue } from "../../src/nitro/cbor.ts";
import { parseAttestationDocument } from "../../src/nitro/document.ts";
import { NitroError, type NitroErrorCode } from "../../src/nitro/errors.ts";

/** The shared corpus of real AWS documents (see SOURCES.md there); tests only, never src/. */
export const FIXTURES = fileURLToPath(new URL("../../../shared/fixtures/nitro/", import.meta.url));

export interface Fixture {
  readonly name: string;
  readonly bytes: Uint8Array;
  readonly timestamp: number;
  readonly debug: boolean;
}

export function loadFixtures(): Fixture[] {
  return readdirSync(FIXTURES)
    .filter((f) => f.endsWith(".cose"))
    .sort()
    .map((name) => {
      const bytes = new Uint8Array(readFileSync(FIXTURES + name));
      return { name, bytes, timestamp: parseAttestationDocument(bytes).timestamp, debug: name.includes("debug") };
    });
}

export function fixture(name: string): Fixture {
  const found = loadFixtures().find((f) => f.name === name);
  if (found === undefined) throw new Error(`no fixture ${name}`);
  return found;
}

/** Runs fn, asserting it throws a NitroError with `code`; returns the error for further checks. */
export function expectNitroError(fn: () => unknown, code: NitroErrorCode): NitroError {
  try {
    fn();
  } catch (error) {
    expect(error, String(error)).to.be.instanceOf(NitroError);
    const e = error as NitroError;
    expect(e.code, e.message).to.equal(code);
    return e;
  }
  expect.fail(`expected NitroError ${code}, nothing was thrown`);
}

/** Asserts fn throws some NitroError other than NITRO_INTERNAL (a mutation must be refused, with a typed reason). */
export function expectRefused(fn: () => unknown, context: string): NitroError {
  try {
    fn();
  } catch (error) {
    expect(error, `${context}: ${String(error)}`).to.be.instanceOf(NitroError);
    expect((error as NitroError).code, `${context}: ${(error as Error).message}`).to.not.equal("NITRO_INTERNAL");
    return error as NitroError;
  }
  expect.fail(`${context}: accepted`);
}

/** A map written entry by entry, so tests can repeat keys or use an indefinite length. */
export function rawMap(entries: readonly (readonly [CborValue, CborValue])[], indefinite = false): CborRaw {
  const n = entries.length;
  const head = indefinite ? [0xbf] : n < 24 ? [0xa0 | n] : [0xb8, n];
  const body = entries.map(([k, v]) => Buffer.concat([encodeCbor(k), encodeCbor(v)]));
  return new CborRaw(new Uint8Array(Buffer.concat([Uint8Array.from(head), ...body, Uint8Array.from(indefinite ? [0xff] : [])])));
}

export const MINUTE = 60_000;
export const HOUR = 3_600_000;

/** What a CLI run printed and returned. */
export interface ProcessRun {
  code: number;
  stdout: string;
  stderr: string;
}

const OPG_BIN = fileURLToPath(new URL("../../bin/opg.mjs", import.meta.url));

/** `node bin/opg.mjs args…` in `cwd` as a separate process, `stdin` piped in, `env` added to this process's. */
export function opgProcess(args: readonly string[], cwd: string, options: { stdin?: string; env?: Record<string, string> } = {}): Promise<ProcessRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [OPG_BIN, ...args], { cwd, stdio: ["pipe", "pipe", "pipe"], env: { ...process.env, ...options.env } });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString("utf8")));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString("utf8")));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code: code ?? -1, stdout, stderr }));
    child.stdin.end(options.stdin ?? "");
  });
}
