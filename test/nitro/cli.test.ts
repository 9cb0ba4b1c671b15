import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "chai";
import { runCli } from "../../src/cli/main.ts";
import type { CliIo } from "../../src/cli/types.ts";
import { createDevAttestation, createDevChain } from "../../src/nitro/dev.ts";
import { FIXTURES, fixture, MINUTE } from "./helpers.ts";

interface Captured {
  code: number;
  stdout: string;
  stderr: string;
}

async function opg(args: string[], cwd = FIXTURES): Promise<Captured> {
  let stdout = "";
  let stderr = "";
  const io: CliIo = { stdout: (t) => void (stdout += t), stderr: (t) => void (stderr += t), isTTY: false, env: {}, cwd };
  const code = await runCli(args, io);
  return { code, stdout, stderr };
}

describe("nitro: opg nitro verify", () => {
  const oav = fixture("marlin-oav-2024-08-a.cose");
  const debug = fixture("automata-2024-08-debug.cose");

  it("prints exactly one JSON object with the documented fields for a valid document", async () => {
    const r = await opg(["nitro", "verify", oav.name, "--json", "--at", String(oav.timestamp + MINUTE)]);
    expect(r).to.include({ code: 0, stderr: "" });
    expect(r.stdout.trim().split("\n")).to.have.length(1);
    const json = JSON.parse(r.stdout) as Record<string, unknown>;
    expect(Object.keys(json)).to.deep.equal(["moduleId", "timestamp", "digest", "pcrs", "publicKey", "userData", "nonce", "attestationDigest"]);
    expect(json).to.include({ moduleId: "i-084e1dd2f1b2c529b-enc0190fecc5b166251", timestamp: oav.timestamp, digest: "SHA384", userData: null, nonce: null });
    // the canonical digest: this document's s is high, so it is the SHA-256 of the low-S spelling, not of the file
    expect(json.attestationDigest).to.equal("0x261a134cf00f6a943982cff4686db59b0fae00185690cab9ed92e38358af3f2b");
    expect((json.pcrs as Record<string, string>)["0"]).to.match(/^0x5fec1b73[0-9a-f]{88}$/);
    expect(Object.keys(json.pcrs as object)).to.have.length(16);
    expect(json.publicKey).to.match(/^0x[0-9a-f]{128}$/);
  });

  it("accepts ISO-8601 times and prints a human summary without --json", async () => {
    const r = await opg(["nitro", "verify", oav.name, "--at", new Date(oav.timestamp + MINUTE).toISOString()]);
    expect(r.code).to.equal(0);
    expect(r.stdout).to.match(/^valid Nitro attestation, chained to the AWS Nitro root\n/);
    expect(r.stdout).to.contain("image id    0x");
  });

  it("refuses a debug-mode document unless --allow-debug, in one readable line", async () => {
    const at = String(debug.timestamp + MINUTE);
    const refused = await opg(["nitro", "verify", debug.name, "--at", at]);
    expect(refused).to.include({ code: 1, stdout: "" });
    expect(refused.stderr).to.equal("opg nitro verify: NITRO_DEBUG_MODE: enclave ran in debug mode (PCR0, PCR1 and PCR2 are all zero)\n");
    const allowed = await opg(["nitro", "verify", debug.name, "--at", at, "--allow-debug", "--json"]);
    expect(allowed.code).to.equal(0);
    expect((JSON.parse(allowed.stdout) as { nonce: string }).nonce).to.equal("0x" + Buffer.from("1234").toString("hex"));
  });

  it("fails with one line for expired, corrupt and missing documents", async () => {
    for (const args of [[oav.name], ["bad/base-nitro-validator-2026-01-as-published-corrupt.cose"], ["nope.cose"]]) {
      const r = await opg(["nitro", "verify", ...args, "--at", String(oav.timestamp + 4 * 3_600_000)]);
      expect(r.code, args[0]).to.equal(1);
      expect(r.stdout).to.equal("");
      expect(r.stderr.split("\n")).to.have.length(2); // one line plus the final newline
      expect(r.stderr).to.match(/^opg nitro verify: \S/);
    }
  });

  it("exits 2 on usage mistakes", async () => {
    for (const args of [[], [oav.name, "--at", "yesterday"], [oav.name, "--at", "2024-08-07T06:39:09"], [oav.name, "--bogus"], [oav.name, oav.name]]) {
      const r = await opg(["nitro", "verify", ...args]);
      expect(r.code, args.join(" ")).to.equal(2);
    }
  });

  it("trusts a development root only when given with --root", async () => {
    const t0 = Date.UTC(2025, 0, 2);
    const chain = createDevChain({ at: t0 });
    const dir = mkdtempSync(join(tmpdir(), "opg-nitro-"));
    writeFileSync(join(dir, "dev.cose"), createDevAttestation(chain, { userData: Uint8Array.of(0xaa) }));
    writeFileSync(join(dir, "dev-root.pem"), chain.rootPem);
    const at = String(t0 + MINUTE);
    const pinned = await opg(["nitro", "verify", "dev.cose", "--root", "dev-root.pem", "--at", at, "--json"], dir);
    expect(pinned.code, pinned.stderr).to.equal(0);
    expect((JSON.parse(pinned.stdout) as { userData: string }).userData).to.equal("0xaa");
    const unpinned = await opg(["nitro", "verify", "dev.cose", "--at", at], dir);
    expect(unpinned.code).to.equal(1);
    expect(unpinned.stderr).to.contain("cabundle[0] is not the pinned root");
  });
});
