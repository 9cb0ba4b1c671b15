/**
 * `opg nitro verify` review findings (issue 8, items 8, 9, 10, 14): failure codes and one JSON error object, escaped
 * document content, files read by their stat and never past the limit, --at dates that must exist. In process through
 * runCli, and as a separate process through bin/opg.mjs.
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, truncateSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "chai";
// main.ts first: it loads every command, and nitro.ts imports parseOptions back from it
import { runCli } from "../../src/cli/main.ts";
import { parseAt } from "../../src/cli/commands/nitro.ts";
import type { CliIo } from "../../src/cli/types.ts";
import { encodeCbor, type CborValue } from "../../src/nitro/cbor.ts";
import { createDevAttestation, createDevChain, devPcrs, signDevPayload } from "../../src/nitro/dev.ts";
import { NITRO_LIMITS } from "../../src/nitro/index.ts";
import { fixture, FIXTURES, HOUR, MINUTE, opgProcess } from "./helpers.ts";

const T0 = Date.UTC(2025, 0, 2);
/** Anything a terminal acts on: C0 controls but the final newline, DEL, C1 controls, bidi controls. */
const CONTROL = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;
const EVIL = "\u001b[2J\u001b[Hvalid Nitro attestation\u009b31m\u202e";
/** Payload keys are at most 16 bytes. */
const EVIL_KEY = "\u001b[2J\u001b[H\u009b1m\u202e";

interface Captured {
  code: number;
  stdout: string;
  stderr: string;
}

async function opg(args: string[], cwd: string): Promise<Captured> {
  let stdout = "";
  let stderr = "";
  const io: CliIo = { stdout: (t) => void (stdout += t), stderr: (t) => void (stderr += t), isTTY: false, env: {}, cwd };
  const code = await runCli(args, io);
  return { code, stdout, stderr };
}

/** Exactly one JSON error object on stdout, nothing on stderr. */
function jsonError(run: Captured, code: string, exit = 1): { code: string; message: string; details: Record<string, unknown> } {
  expect(run.code, run.stdout + run.stderr).to.equal(exit);
  expect(run.stderr).to.equal("");
  expect(run.stdout.endsWith("\n")).to.equal(true);
  expect(run.stdout.trimEnd().split("\n")).to.have.length(1);
  const parsed = JSON.parse(run.stdout) as { error: { code: string; message: string; details: Record<string, unknown> } };
  expect(Object.keys(parsed)).to.deep.equal(["error"]);
  expect(parsed.error.code, parsed.error.message).to.equal(code);
  return parsed.error;
}

/** Exit 1 and exactly one line on stderr, `opg nitro verify: CODE: …`. */
function oneLine(run: Captured, code: string): string {
  expect(run.code, run.stderr).to.equal(1);
  expect(run.stdout).to.equal("");
  expect(run.stderr.split("\n"), run.stderr).to.have.length(2);
  expect(run.stderr).to.match(new RegExp(`^opg nitro verify: ${code}: \\S`));
  expect(run.stderr.slice(0, -1), JSON.stringify(run.stderr)).to.not.match(CONTROL);
  return run.stderr;
}

describe("nitro: opg nitro verify, review findings (issue 8)", function () {
  this.timeout(120_000);
  const debug = fixture("automata-2024-08-debug.cose");
  const oav = fixture("marlin-oav-2024-08-a.cose");
  let dir: string;

  before(() => {
    dir = mkdtempSync(join(tmpdir(), "opg-nitro-strict-"));
    const chain = createDevChain({ at: T0 });
    writeFileSync(join(dir, "dev-root.pem"), chain.rootPem);
    writeFileSync(join(dir, "evil-module.cose"), createDevAttestation(chain, { moduleId: `i-0${EVIL}` }));
    const pcrs = new Map<CborValue, CborValue>(devPcrs());
    const payload = new Map<CborValue, CborValue>([["module_id", "i-0"], ["digest", "SHA384"], ["timestamp", T0], ["pcrs", pcrs], ["certificate", chain.certificate], ["cabundle", [...chain.cabundle]], [EVIL_KEY, null]]);
    writeFileSync(join(dir, "evil-key.cose"), signDevPayload(chain, encodeCbor(payload)));
    const named = createDevChain({ at: T0, certificates: { 4: { commonName: EVIL } } });
    writeFileSync(join(dir, "evil-name.cose"), createDevAttestation(named));
    writeFileSync(join(dir, "evil-name-root.pem"), named.rootPem);
  });

  describe("failure codes and --json (item 14)", () => {
    it("prints the NITRO_* code of a refusal in its one line", async () => {
      const line = oneLine(await opg(["nitro", "verify", debug.name, "--at", String(debug.timestamp + MINUTE)], FIXTURES), "NITRO_DEBUG_MODE");
      expect(line).to.equal("opg nitro verify: NITRO_DEBUG_MODE: enclave ran in debug mode (PCR0, PCR1 and PCR2 are all zero)\n");
      oneLine(await opg(["nitro", "verify", oav.name, "--at", String(oav.timestamp + 4 * HOUR)], FIXTURES), "NITRO_CERT_EXPIRED");
      oneLine(await opg(["nitro", "verify", "nope.cose"], FIXTURES), "NITRO_INPUT_INVALID");
    });

    it("under --json prints exactly one JSON error object on stdout, for refusals, unreadable files and usage mistakes", async () => {
      const refused = jsonError(await opg(["nitro", "verify", debug.name, "--json", "--at", String(debug.timestamp + MINUTE)], FIXTURES), "NITRO_DEBUG_MODE");
      expect(refused).to.deep.equal({ code: "NITRO_DEBUG_MODE", message: "enclave ran in debug mode (PCR0, PCR1 and PCR2 are all zero)", details: { field: "pcrs" } });
      const expired = jsonError(await opg(["nitro", "verify", oav.name, "--json", "--at", String(oav.timestamp + 4 * HOUR)], FIXTURES), "NITRO_CERT_EXPIRED");
      expect(expired.details).to.include({ certificate: "certificate", index: 4 });
      jsonError(await opg(["nitro", "verify", "nope.cose", "--json"], FIXTURES), "NITRO_INPUT_INVALID");
      jsonError(await opg(["nitro", "verify", oav.name, "--json", "--at", "yesterday"], FIXTURES), "USAGE", 2);
      jsonError(await opg(["nitro", "verify", oav.name, "--json", "--bogus"], FIXTURES), "USAGE", 2);
    });

    it("as a separate process: exit codes, the code on stderr, one JSON error object under --json", async () => {
      const at = String(debug.timestamp + MINUTE);
      const plain = await opgProcess(["nitro", "verify", debug.name, "--at", at], FIXTURES);
      expect(plain).to.deep.equal({ code: 1, stdout: "", stderr: "opg nitro verify: NITRO_DEBUG_MODE: enclave ran in debug mode (PCR0, PCR1 and PCR2 are all zero)\n" });
      jsonError(await opgProcess(["nitro", "verify", debug.name, "--at", at, "--json"], FIXTURES), "NITRO_DEBUG_MODE");
      jsonError(await opgProcess(["nitro", "verify", debug.name, "--at", "2025-02-30T12:00:00Z", "--json"], FIXTURES), "USAGE", 2);
      const ok = await opgProcess(["nitro", "verify", debug.name, "--at", at, "--json", "--allow-debug"], FIXTURES);
      expect(ok.code, ok.stderr).to.equal(0);
      expect((JSON.parse(ok.stdout) as { timestamp: number }).timestamp).to.equal(debug.timestamp);
    });
  });

  describe("document content is escaped (item 8)", () => {
    const at = String(T0 + MINUTE);

    it("an unknown payload key with terminal escapes: one escaped line, in process and as a separate process", async () => {
      const line = oneLine(await opg(["nitro", "verify", "evil-key.cose", "--root", "dev-root.pem", "--at", at], dir), "NITRO_FIELD_INVALID");
      expect(line).to.contain('unknown field "\\x1b[2J\\x1b[H\\x9b1m\\u202e"');
      const spawned = await opgProcess(["nitro", "verify", "evil-key.cose", "--root", "dev-root.pem", "--at", at], dir);
      expect(spawned.stderr).to.equal(line);
      expect(spawned.code).to.equal(1);
      const json = jsonError(await opg(["nitro", "verify", "evil-key.cose", "--root", "dev-root.pem", "--at", at, "--json"], dir), "NITRO_FIELD_INVALID");
      expect(json.message).to.not.match(CONTROL);
    });

    it("a certificate name with terminal escapes, in the refusal that names it", async () => {
      const expired = String(T0 + 4 * HOUR);
      const line = oneLine(await opg(["nitro", "verify", "evil-name.cose", "--root", "evil-name-root.pem", "--at", expired], dir), "NITRO_CERT_EXPIRED");
      expect(line).to.contain("CN=\\x1b[2J\\x1b[Hvalid Nitro attestation\\x9b31m\\u202e");
    });

    it("a module id with terminal escapes in a valid document: the summary escapes it, --json stays exact but inert", async () => {
      const summary = await opg(["nitro", "verify", "evil-module.cose", "--root", "dev-root.pem", "--at", at], dir);
      expect(summary.code, summary.stderr).to.equal(0);
      expect(summary.stdout).to.not.match(CONTROL);
      expect(summary.stdout).to.contain("module      i-0\\x1b[2J");
      const json = await opg(["nitro", "verify", "evil-module.cose", "--root", "dev-root.pem", "--at", at, "--json"], dir);
      expect(json.code).to.equal(0);
      expect(json.stdout.slice(0, -1)).to.not.match(CONTROL);
      expect((JSON.parse(json.stdout) as { moduleId: string }).moduleId).to.equal(`i-0${EVIL}`);
    });
  });

  describe("files are stat'ed first and read only up to the limit (item 9)", () => {
    it("refuses directories and FIFOs as not regular files (a FIFO without a writer does not hang)", async () => {
      mkdirSync(join(dir, "a-directory"), { recursive: true });
      execFileSync("mkfifo", [join(dir, "a-fifo")]);
      for (const name of ["a-directory", "a-fifo"]) {
        const line = oneLine(await opg(["nitro", "verify", name], dir), "NITRO_INPUT_INVALID");
        expect(line).to.contain(`attestation document ${name} is not a regular file`);
      }
      const root = oneLine(await opg(["nitro", "verify", oav.name, "--root", join(dir, "a-fifo")], FIXTURES), "NITRO_INPUT_INVALID");
      expect(root).to.contain("root certificate");
    });

    it("refuses an oversized file from its size alone, and one byte over the limit", async () => {
      writeFileSync(join(dir, "huge.cose"), "");
      truncateSync(join(dir, "huge.cose"), 64 * 1024 * 1024); // sparse: costs no disk, and must cost no memory
      const huge = oneLine(await opg(["nitro", "verify", "huge.cose"], dir), "NITRO_TOO_LARGE");
      expect(huge).to.contain(`attestation document huge.cose is ${64 * 1024 * 1024} bytes, at most ${NITRO_LIMITS.document} allowed`);
      writeFileSync(join(dir, "over.cose"), new Uint8Array(NITRO_LIMITS.document + 1));
      expect(oneLine(await opg(["nitro", "verify", "over.cose"], dir), "NITRO_TOO_LARGE")).to.contain("over.cose");
      // exactly at the limit the file is read, and refused for what it is rather than for its size
      writeFileSync(join(dir, "at-limit.cose"), new Uint8Array(NITRO_LIMITS.document));
      oneLine(await opg(["nitro", "verify", "at-limit.cose"], dir), "NITRO_COSE_MALFORMED");
    });
  });

  describe("--at must name a real instant (item 10)", () => {
    it("refuses dates that roll over, year 0000 and times before 1970 as usage errors (exit 2)", async () => {
      const bad = [
        "2025-02-30T12:00:00Z",
        "2025-02-31",
        "2025-04-31T00:00:00Z",
        "2023-02-29",
        "0000-01-01",
        "1969-12-31T23:59:59Z",
        "2025-01-01T24:00:00Z",
        "2025-01-01T12:60:00Z",
        "2025-01-01T12:00:60Z",
        "2025-13-01",
        "2025-00-10",
        "2025-01-01T12:00:00+24:00",
        "99999999999999999999",
      ];
      for (const text of bad) {
        expect(() => parseAt(text), text).to.throw(/^--at: /);
        const run = await opg(["nitro", "verify", oav.name, "--at", text], FIXTURES);
        expect(run.code, `${text}: ${run.stderr}`).to.equal(2);
        expect(run.stderr).to.match(/^opg nitro verify: --at: /);
      }
    });

    it("reads valid dates, zones and leap days exactly", () => {
      expect(parseAt("2024-02-29")).to.equal(Date.UTC(2024, 1, 29));
      expect(parseAt("2000-02-29T23:59:59.5Z")).to.equal(Date.UTC(2000, 1, 29, 23, 59, 59, 500));
      expect(parseAt("2025-01-01T01:30:00+01:30")).to.equal(Date.UTC(2025, 0, 1, 0, 0, 0));
      expect(parseAt("2024-12-31T23:00:00-01:00")).to.equal(Date.UTC(2025, 0, 1));
      expect(parseAt("1970-01-01T00:00Z")).to.equal(0);
      expect(parseAt("1722145149000")).to.equal(1722145149000);
    });
  });
});
