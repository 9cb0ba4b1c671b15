import { constants } from "node:fs";
import { open, type FileHandle } from "node:fs/promises";
import { resolve } from "node:path";
import { OpgError } from "../../errors.ts";
import { imageId } from "../../nitro/binding.ts";
import { toHex } from "../../nitro/bytes.ts";
import { NITRO_LIMITS } from "../../nitro/document.ts";
import { trustedRoot } from "../../nitro/root.ts";
import { printable, safeJson } from "../../nitro/text.ts";
import { factsToJson, verifyAttestation, type NitroAttestationFacts } from "../../nitro/verify.ts";
import { UsageError } from "../errors.ts";
import { parseOptions } from "../main.ts";
import type { CliCommand, CliIo } from "../types.ts";

const USAGE = `Usage: opg nitro verify <doc.cose> [--root <pem>] [--at <ISO-8601 | unix ms>] [--allow-debug] [--json]

Verifies an AWS Nitro Enclave attestation document (raw COSE_Sign1 bytes): the certificate chain up to the pinned
AWS Nitro root, the ES384 signature, and refuses debug-mode enclaves unless --allow-debug.

Options:
  --root <pem>      trust this root certificate (PEM file) instead of the embedded AWS root
  --at <time>       verification time: ISO-8601 with a zone (2024-08-07T06:39:09Z) or unix milliseconds; default now
  --allow-debug     accept documents from enclaves started in debug mode (PCR0..2 all zero)
  --json            print one JSON object; byte fields are 0x-prefixed lowercase hex, absent ones null. On failure,
                    one JSON object {"error": {"code", "message", "details"}} instead

Exit code 0 only for a valid document, 1 when it is refused (the line names the NITRO_* code), 2 for usage mistakes.
`;

/** Largest root certificate file read: a PEM of a P-384 certificate is under 1 KiB. */
export const ROOT_FILE_LIMIT = 64 * 1024;

const ISO = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,3}))?)?(Z|([+-])(\d{2}):(\d{2})))?$/;
/** The latest instant a JavaScript Date holds (ECMA-262 21.4.1.1). */
const MAX_TIME = 8.64e15;

/**
 * --at accepts unix milliseconds or ISO-8601. A date-time without a zone is refused: Date.parse would read it in the
 * machine's local zone and silently shift the verification time. Every field must be in range for its calendar
 * date (Date.parse reads 2025-02-30 as March 2), and the time must not precede 1970: all usage errors.
 */
export function parseAt(text: string): number {
  const refuse = (why: string): never => {
    throw new UsageError(`--at: ${why}, got "${printable(text)}"`);
  };
  if (/^\d+$/.test(text)) {
    const ms = Number(text);
    if (Number.isSafeInteger(ms) && ms <= MAX_TIME) return ms;
    return refuse("unix milliseconds out of range");
  }
  const m = ISO.exec(text);
  if (m === null) return refuse("expected ISO-8601 with a zone or unix milliseconds");
  const [year, month, day, hour, minute, second] = [m[1], m[2], m[3], m[4], m[5], m[6]].map((v) => Number(v ?? 0)) as [number, number, number, number, number, number];
  const millis = m[7] === undefined ? 0 : Number(m[7].padEnd(3, "0"));
  const date = new Date(0);
  date.setUTCFullYear(year, month - 1, day); // setUTCFullYear, unlike Date.UTC, keeps years 0..99 as written
  date.setUTCHours(hour, minute, second, millis);
  // A real date and time round-trips field for field; 02-30, 04-31, 24:00 and :60 roll over and do not.
  if (date.getUTCFullYear() !== year || date.getUTCMonth() !== month - 1 || date.getUTCDate() !== day || date.getUTCHours() !== hour || date.getUTCMinutes() !== minute || date.getUTCSeconds() !== second) {
    return refuse("not a valid calendar date and time");
  }
  let offset = 0;
  if (m[9] !== undefined) {
    const [h, min] = [Number(m[10]), Number(m[11])];
    if (h > 23 || min > 59) return refuse("zone offset out of range");
    offset = (m[9] === "-" ? -1 : 1) * (h * 60 + min) * 60_000;
  }
  const ms = date.getTime() - offset;
  if (!(ms >= 0 && ms <= MAX_TIME)) return refuse("time before 1970-01-01T00:00:00Z or beyond the representable range");
  return ms;
}

/** What {@link readBoundedFile} throws, by failure: unreadable or not a regular file, and over the limit. */
export interface FileErrorCodes {
  readonly invalid: string;
  readonly tooLarge: string;
}

const NITRO_FILE_ERRORS: FileErrorCodes = { invalid: "NITRO_INPUT_INVALID", tooLarge: "NITRO_TOO_LARGE" };

/**
 * Reads a file named on the command line without trusting its size: the handle is opened non-blocking (a FIFO does
 * not hang the open), must be a regular file, must be at most `limit` bytes by fstat, and at most `limit` + 1 bytes
 * are ever read (a file growing meanwhile is caught, not slurped).
 */
export async function readBoundedFile(io: CliIo, path: string, what: string, limit: number, codes: FileErrorCodes = NITRO_FILE_ERRORS): Promise<Uint8Array> {
  const shown = printable(path);
  let handle: FileHandle;
  try {
    handle = await open(resolve(io.cwd, path), constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
  } catch (error) {
    const reason = error instanceof Error && "code" in error ? String(error.code) : String(error);
    throw new OpgError(codes.invalid, `cannot read ${what} ${shown} (${reason})`, { cause: error, details: { path } });
  }
  try {
    const stat = await handle.stat();
    if (!stat.isFile()) throw new OpgError(codes.invalid, `${what} ${shown} is not a regular file`, { details: { path } });
    const tooLarge = (size: number | string): never => {
      throw new OpgError(codes.tooLarge, `${what} ${shown} is ${size} bytes, at most ${limit} allowed`, { details: { path, max: limit } });
    };
    if (stat.size > limit) tooLarge(stat.size);
    const buffer = Buffer.alloc(limit + 1);
    let total = 0;
    for (;;) {
      const { bytesRead } = await handle.read(buffer, total, buffer.length - total, null);
      if (bytesRead === 0) break;
      total += bytesRead;
      if (total > limit) tooLarge(`more than ${limit}`);
    }
    return new Uint8Array(buffer.buffer, buffer.byteOffset, total);
  } finally {
    await handle.close();
  }
}

/** Reads and pins a root certificate named with --root. */
export async function readRoot(io: CliIo, path: string) {
  return trustedRoot(Buffer.from(await readBoundedFile(io, path, "root certificate", ROOT_FILE_LIMIT)).toString("utf8"));
}

/** Reads an attestation document named on the command line (at most NITRO_LIMITS.document bytes). */
export function readDocument(io: CliIo, path: string): Promise<Uint8Array> {
  return readBoundedFile(io, path, "attestation document", NITRO_LIMITS.document);
}

/** An OpgError re-thrown for the terminal: `CODE: message`, escaped, the original (and its stack) as cause. */
class ReportedError extends OpgError {
  override readonly name = "ReportedError";
  constructor(original: OpgError) {
    super(original.code, `${original.code}: ${printable(original.message)}`, { cause: original, details: { ...original.details } });
    // --verbose prints this stack: show where the failure happened, not where it was re-thrown.
    this.stack = `${this.message}\n${original.stack ?? ""}${original.cause instanceof Error ? `\nCaused by: ${original.cause.stack ?? original.cause.message}` : ""}`;
  }
}

/**
 * Runs a command body so that every failure names its code. On the terminal the failure becomes one line
 * `CODE: message` with control characters escaped (messages carry document content); with `--json` among `args`,
 * the failure is instead exactly one JSON object {"error": {"code", "message", "details"}} on stdout, with exit code
 * 2 for usage mistakes and 1 otherwise.
 */
export async function reportingFailures(args: readonly string[], io: CliIo, body: () => Promise<number>): Promise<number> {
  try {
    return await body();
  } catch (error) {
    if (args.includes("--json")) {
      const code = error instanceof OpgError ? error.code : "INTERNAL";
      const message = error instanceof Error ? (error.message.split("\n")[0] ?? "") : String(error);
      const details = error instanceof OpgError ? error.details : {};
      io.stdout(safeJson({ error: { code, message, details } }) + "\n");
      return error instanceof UsageError ? 2 : 1;
    }
    if (error instanceof UsageError) throw new UsageError(printable(error.message));
    if (error instanceof OpgError) throw new ReportedError(error);
    throw error;
  }
}

function summary(f: NitroAttestationFacts, rootLabel: string): string {
  const bytes = (b: Uint8Array | null): string => (b === null ? "none" : `${toHex(b)} (${b.length} bytes)`);
  const pcr = (i: number): string => (f.pcrs[i] === undefined ? "none" : toHex(f.pcrs[i]));
  const debug = [0, 1, 2].every((i) => f.pcrs[i]?.every((b) => b === 0) === true);
  return [
    `valid Nitro attestation${debug ? " (DEBUG MODE enclave)" : ""}, chained to ${rootLabel}`,
    `  module      ${printable(f.moduleId)}`,
    `  time        ${new Date(f.timestamp).toISOString()}`,
    `  image id    ${imageId(f.pcrs)}`,
    `  PCR0        ${pcr(0)}`,
    `  PCR1        ${pcr(1)}`,
    `  PCR2        ${pcr(2)}`,
    `  public key  ${bytes(f.publicKey)}`,
    `  user data   ${bytes(f.userData)}`,
    `  nonce       ${bytes(f.nonce)}`,
    `  digest      ${f.attestationDigest} (SHA-256 of the canonical document)`,
    "",
  ].join("\n");
}

/** `opg nitro verify`. */
export const nitroVerifyCommand: CliCommand = {
  path: ["nitro", "verify"],
  summary: "Verify an AWS Nitro Enclave attestation document",
  usage: USAGE,
  run: (args, io) =>
    reportingFailures(args, io, async () => {
      const { values, positionals } = parseOptions(
        args,
        {
          root: { type: "string" },
          at: { type: "string" },
          "allow-debug": { type: "boolean" },
          json: { type: "boolean" },
        },
        { min: 1, max: 1, names: "one attestation document path (see --help)" },
      );
      const at = values.at === undefined ? Date.now() : parseAt(values.at);
      const root = values.root === undefined ? undefined : await readRoot(io, values.root);
      const document = await readDocument(io, positionals[0]!);
      const facts = verifyAttestation(document, { at, root, allowDebug: values["allow-debug"] === true });
      const rootLabel = root === undefined ? "the AWS Nitro root" : `the root in ${printable(values.root!)} (sha256 ${root.sha256})`;
      io.stdout(values.json === true ? safeJson(factsToJson(facts)) + "\n" : summary(facts, rootLabel));
      return 0;
    }),
};

/** Every `opg nitro ...` command, for registration in commands/index.ts. */
export const nitroCommands: readonly CliCommand[] = [nitroVerifyCommand];
