import { readFile } from "node:fs/promises";
import { resolve } from "node:path";
import { imageId } from "../../nitro/binding.ts";
import { toHex } from "../../nitro/bytes.ts";
import { NitroError } from "../../nitro/errors.ts";
import { trustedRoot } from "../../nitro/root.ts";
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
  --json            print one JSON object; byte fields are 0x-prefixed lowercase hex, absent ones null

Exit code 0 only for a valid document.
`;

/**
 * --at accepts unix milliseconds or ISO-8601. A date-time without a zone is refused: Date.parse would read it in the
 * machine's local zone and silently shift the verification time.
 */
export function parseAt(text: string): number {
  if (/^\d+$/.test(text)) {
    const ms = Number(text);
    if (Number.isSafeInteger(ms)) return ms;
  } else if (/^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:\d{2}))?$/.test(text)) {
    const ms = Date.parse(text);
    if (Number.isFinite(ms)) return ms;
  }
  throw new UsageError(`--at: expected ISO-8601 with a zone or unix milliseconds, got "${text}"`);
}

async function readInput(io: CliIo, path: string, what: string): Promise<Buffer> {
  try {
    return await readFile(resolve(io.cwd, path));
  } catch (error) {
    const reason = error instanceof Error && "code" in error ? String(error.code) : String(error);
    throw new NitroError("NITRO_INPUT_INVALID", `cannot read ${what} ${path} (${reason})`, { cause: error });
  }
}

function summary(f: NitroAttestationFacts, rootLabel: string): string {
  const bytes = (b: Uint8Array | null): string => (b === null ? "none" : `${toHex(b)} (${b.length} bytes)`);
  const pcr = (i: number): string => (f.pcrs[i] === undefined ? "none" : toHex(f.pcrs[i]));
  const debug = [0, 1, 2].every((i) => f.pcrs[i]?.every((b) => b === 0) === true);
  return [
    `valid Nitro attestation${debug ? " (DEBUG MODE enclave)" : ""}, chained to ${rootLabel}`,
    `  module      ${f.moduleId}`,
    `  time        ${new Date(f.timestamp).toISOString()}`,
    `  image id    ${imageId(f.pcrs)}`,
    `  PCR0        ${pcr(0)}`,
    `  PCR1        ${pcr(1)}`,
    `  PCR2        ${pcr(2)}`,
    `  public key  ${bytes(f.publicKey)}`,
    `  user data   ${bytes(f.userData)}`,
    `  nonce       ${bytes(f.nonce)}`,
    `  document    sha256 ${f.attestationDigest}`,
    "",
  ].join("\n");
}

/** `opg nitro verify`. */
export const nitroVerifyCommand: CliCommand = {
  path: ["nitro", "verify"],
  summary: "Verify an AWS Nitro Enclave attestation document",
  usage: USAGE,
  async run(args, io) {
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
    const root = values.root === undefined ? undefined : trustedRoot((await readInput(io, values.root, "root certificate")).toString("utf8"));
    const document = await readInput(io, positionals[0]!, "attestation document");
    const facts = verifyAttestation(new Uint8Array(document), { at, root, allowDebug: values["allow-debug"] === true });
    io.stdout(values.json === true ? JSON.stringify(factsToJson(facts)) + "\n" : summary(facts, root === undefined ? "the AWS Nitro root" : `the root in ${values.root} (sha256 ${root.sha256})`));
    return 0;
  },
};

/** Every `opg nitro ...` command, for registration in commands/index.ts. */
export const nitroCommands: readonly CliCommand[] = [nitroVerifyCommand];
