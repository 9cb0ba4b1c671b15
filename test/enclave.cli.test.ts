/**
 * `opg enclave approve-image | attest | register` through runCli against the in-process chain: each role uses its own
 * default Hardhat account key from the environment, exactly as on a real network.
 */
import { mkdirSync, mkdtempSync, truncateSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { expect } from "chai";
import { Wallet } from "ethers";
import { imageIdOf } from "../src/enclaves/index.ts";
import { chainNowMs, deployTeeSystem, enclaveDocument, newEnclave } from "./helpers/enclave.ts";
import { expectFailure, keyOf, runOpg, type Run } from "./helpers/cli.ts";
import { newChain } from "./helpers/system.ts";
import { opgProcess } from "./nitro/helpers.ts";

const chain = await newChain();
const { networkHelpers } = chain;

const KEYS = { modelOwner: keyOf(1), operator: keyOf(2), stranger: keyOf(5), attesters: [keyOf(6), keyOf(7), keyOf(8)] };

async function ready() {
  const s = await deployTeeSystem(chain);
  const dir = mkdtempSync(join(tmpdir(), "opg-enclave-cli-"));
  writeFileSync(join(dir, "deployment.json"), JSON.stringify(s.deployment));
  const enclave = newEnclave(await chainNowMs(s));
  writeFileSync(join(dir, "dev-root.pem"), enclave.nsm.rootPem);
  const { document, facts } = await enclaveDocument(s, enclave);
  writeFileSync(join(dir, "enclave.cose"), document);
  const other = await enclaveDocument(s, enclave, { timestamp: (await chainNowMs(s)) - 1000 });
  writeFileSync(join(dir, "other.cose"), other.document);
  return { s, dir, enclave, facts, at: String(Number(facts.timestamp) + 1000) };
}

/** Runs `opg args…` with `key` as OPG_PRIVATE_KEY and the in-process chain as provider. */
const opg = (dir: string, key: string | undefined, args: string[]): Promise<Run> => runOpg(chain, dir, key === undefined ? {} : { OPG_PRIVATE_KEY: key }, args);

/** Runs `fn` with process.stdin replaced by a stream of `text` (how `--attestations -` is fed in process). */
async function withStdin<T>(text: string, fn: () => Promise<T>): Promise<T> {
  const original = Object.getOwnPropertyDescriptor(process, "stdin")!;
  Object.defineProperty(process, "stdin", { value: Readable.from([Buffer.from(text)]), configurable: true, enumerable: original.enumerable });
  try {
    return await fn();
  } finally {
    Object.defineProperty(process, "stdin", original);
  }
}

/** Approves the image, has attesters 2 and 0 run `opg enclave attest`, and returns their outputs exactly as printed. */
async function attestOutputs(r: Awaited<ReturnType<typeof ready>>): Promise<string[]> {
  expect((await opg(r.dir, KEYS.modelOwner, ["enclave", "approve-image", "--model", r.s.modelId, "--document", "enclave.cose"])).code).to.equal(0);
  const outputs: string[] = [];
  for (const key of [KEYS.attesters[2]!, KEYS.attesters[0]!]) {
    const run = await opg(r.dir, key, ["enclave", "attest", "enclave.cose", "--operator", r.s.operator.address, "--root", "dev-root.pem", "--at", r.at]);
    expect(run.code, run.stderr).to.equal(0);
    outputs.push(run.stdout);
  }
  return outputs;
}

describe("cli: opg enclave", () => {
  it("the default account keys are the system's actors", async () => {
    const { s } = await networkHelpers.loadFixture(ready);
    expect([1, 2, 5, 6, 7, 8].map((i) => new Wallet(keyOf(i)).address)).to.deep.equal(
      [s.modelOwner, s.operator, s.stranger, ...s.attesters].map((a) => a.address),
    );
  });

  it("approve-image --document approves the document's image; --image … --revoke revokes it", async () => {
    const { s, dir, facts } = await networkHelpers.loadFixture(ready);
    const image = imageIdOf(facts);
    const approved = await opg(dir, KEYS.modelOwner, ["enclave", "approve-image", "--model", s.modelId, "--document", "enclave.cose"]);
    expect(approved.code, approved.stderr).to.equal(0);
    expect(approved.stdout).to.match(new RegExp(`^approved enclave image ${image} for model ${s.modelId} \\(tx 0x[0-9a-f]{64}, gas \\d+\\)\\n$`));
    expect(await s.models.isImageApproved(s.modelId, image)).to.equal(true);

    const revoked = await opg(dir, KEYS.modelOwner, ["enclave", "approve-image", "--model", s.modelId, "--image", image, "--revoke"]);
    expect(revoked.code, revoked.stderr).to.equal(0);
    expect(revoked.stdout).to.contain(`revoked enclave image ${image}`);
    expect(await s.models.isImageApproved(s.modelId, image)).to.equal(false);
  });

  it("approve-image: a signer that is not the model owner, bad input, usage mistakes", async () => {
    const { s, dir, facts } = await networkHelpers.loadFixture(ready);
    const image = imageIdOf(facts);
    expectFailure(await opg(dir, KEYS.stranger, ["enclave", "approve-image", "--model", s.modelId, "--image", image]), "ModelRegistryNotModelOwner");
    expectFailure(await opg(dir, KEYS.stranger, ["enclave", "approve-image", "--model", s.modelId, "--image", image, "--revoke"]), "ModelRegistryNotOwnerOrGovernance");
    expectFailure(await opg(dir, KEYS.modelOwner, ["enclave", "approve-image", "--model", s.modelId, "--image", "0x1234"]), "image id must be 32 bytes");
    expectFailure(await opg(dir, KEYS.modelOwner, ["enclave", "approve-image", "--model", s.modelId, "--image", "0x" + "00".repeat(32)]), "zero image id");
    expectFailure(await opg(dir, undefined, ["enclave", "approve-image", "--model", s.modelId, "--image", image]), "OPG_PRIVATE_KEY", 2);
    expectFailure(await opg(dir, KEYS.modelOwner, ["enclave", "approve-image", "--image", image]), "--model", 2);
    expectFailure(await opg(dir, KEYS.modelOwner, ["enclave", "approve-image", "--model", s.modelId, "--image", image, "--document", "enclave.cose"]), "exactly one of", 2);
    expectFailure(await opg(dir, KEYS.modelOwner, ["enclave", "approve-image", "--model", s.modelId, "--document", "missing.cose"]), "cannot read attestation document");
    expect(await s.models.isImageApproved(s.modelId, image)).to.equal(false);
  });

  it("attest → register: two attesters sign, the operator registers the key with their outputs", async () => {
    const { s, dir, enclave, facts, at } = await networkHelpers.loadFixture(ready);
    expect((await opg(dir, KEYS.modelOwner, ["enclave", "approve-image", "--model", s.modelId, "--document", "enclave.cose"])).code).to.equal(0);

    const outputs = [];
    for (const key of [KEYS.attesters[2]!, KEYS.attesters[0]!]) {
      const run = await opg(dir, key, ["enclave", "attest", "enclave.cose", "--operator", s.operator.address, "--root", "dev-root.pem", "--at", at]);
      expect(run.code, run.stderr).to.equal(0);
      expect(run.stdout.trimEnd().split("\n")).to.have.length(1);
      const json = JSON.parse(run.stdout) as Record<string, string>;
      expect(Object.keys(json)).to.deep.equal(["attester", "signature"]);
      expect(json.signature).to.match(/^0x[0-9a-f]{130}$/);
      outputs.push(json);
    }
    expect(outputs.map((o) => o.attester)).to.deep.equal([s.attesters[2]!.address, s.attesters[0]!.address]);
    writeFileSync(join(dir, "attestations.json"), JSON.stringify(outputs));

    const run = await opg(dir, KEYS.operator, ["enclave", "register", "enclave.cose", "--model", s.modelId, "--attestations", "attestations.json", "--json"]);
    expect(run.code, run.stderr).to.equal(0);
    const out = JSON.parse(run.stdout) as Record<string, unknown>;
    const stored = await s.enclaves.enclaveKeyOf(enclave.wallet.address);
    expect(out).to.include({
      key: enclave.wallet.address,
      operator: s.operator.address,
      imageId: imageIdOf(facts),
      attestationDigest: facts.attestationDigest,
      attestedAt: Number(facts.timestamp / 1000n),
      expiresAt: Number(stored.expiresAt),
    });
    expect(stored.operator).to.equal(s.operator.address);

    // The same document again is not newer: refused on-chain, one readable line.
    expectFailure(await opg(dir, KEYS.operator, ["enclave", "register", "enclave.cose", "--model", s.modelId, "--attestations", "attestations.json"]), "EnclaveRegistryNotNewer");
  });

  it("attest refuses: another operator's binding, an unpinned root, a stale document, a non-attester key", async () => {
    const { s, dir, at } = await networkHelpers.loadFixture(ready);
    const attest = (key: string, ...extra: string[]) => opg(dir, key, ["enclave", "attest", "enclave.cose", "--at", at, ...extra]);
    expectFailure(await attest(KEYS.attesters[0]!, "--operator", s.stranger.address, "--root", "dev-root.pem"), "does not bind");
    expectFailure(await attest(KEYS.attesters[0]!, "--operator", s.operator.address), "root");
    expectFailure(await attest(KEYS.attesters[0]!, "--operator", s.operator.address, "--root", "dev-root.pem", "--max-age", "0"), "old");
    expectFailure(await attest(KEYS.stranger, "--operator", s.operator.address, "--root", "dev-root.pem"), "is not a registered attester");
    expectFailure(await attest(KEYS.attesters[0]!, "--root", "dev-root.pem"), "--operator", 2);
    expectFailure(await attest(KEYS.attesters[0]!, "--operator", s.operator.address, "--max-age", "1h"), "--max-age", 2);
  });

  it("register refuses attestations of another document, a quorum below threshold, and malformed files", async () => {
    const { s, dir, at } = await networkHelpers.loadFixture(ready);
    expect((await opg(dir, KEYS.modelOwner, ["enclave", "approve-image", "--model", s.modelId, "--document", "enclave.cose"])).code).to.equal(0);
    const signed = [];
    for (const key of KEYS.attesters.slice(0, 2)) {
      signed.push(JSON.parse((await opg(dir, key, ["enclave", "attest", "enclave.cose", "--operator", s.operator.address, "--root", "dev-root.pem", "--at", at])).stdout) as unknown);
    }
    writeFileSync(join(dir, "two.json"), JSON.stringify(signed));
    writeFileSync(join(dir, "one.json"), JSON.stringify(signed.slice(0, 1)));
    writeFileSync(join(dir, "broken.json"), "[{");
    writeFileSync(join(dir, "empty.json"), "[]");
    const register = (doc: string, file: string) => opg(dir, KEYS.operator, ["enclave", "register", doc, "--model", s.modelId, "--attestations", file]);

    expectFailure(await register("other.cose", "two.json"), "for another document, chain or quorum");
    expectFailure(await register("enclave.cose", "one.json"), "AttesterQuorumBelowThreshold");
    expectFailure(await register("enclave.cose", "broken.json"), "attestations are not JSON");
    expectFailure(await register("enclave.cose", "empty.json"), "non-empty JSON array");
    expectFailure(await opg(dir, KEYS.operator, ["enclave", "register", "enclave.cose", "--attestations", "two.json"]), "--model", 2);
    expect((await s.enclaves.attestationCount())).to.equal(0n);
  });

  describe("register --attestations takes what attest prints (issue 8, item 22)", () => {
    const registered = async (r: Awaited<ReturnType<typeof ready>>, run: Run) => {
      expect(run.code, run.stderr).to.equal(0);
      expect((JSON.parse(run.stdout) as { key: string }).key).to.equal(r.enclave.wallet.address);
      expect((await r.s.enclaves.enclaveKeyOf(r.enclave.wallet.address)).operator).to.equal(r.s.operator.address);
    };
    const register = (r: Awaited<ReturnType<typeof ready>>, ...sources: string[]) =>
      opg(r.dir, KEYS.operator, ["enclave", "register", "enclave.cose", "--model", r.s.modelId, "--json", ...sources.flatMap((f) => ["--attestations", f])]);

    it("the outputs concatenated into one file, one JSON object per line", async () => {
      const r = await networkHelpers.loadFixture(ready);
      writeFileSync(join(r.dir, "attestations.jsonl"), (await attestOutputs(r)).join(""));
      await registered(r, await register(r, "attestations.jsonl"));
    });

    it("one output per file, --attestations repeated", async () => {
      const r = await networkHelpers.loadFixture(ready);
      const outputs = await attestOutputs(r);
      outputs.forEach((o, i) => writeFileSync(join(r.dir, `attester-${i}.json`), o));
      await registered(r, await register(r, "attester-0.json", "attester-1.json"));
    });

    it("the outputs piped into standard input with --attestations -", async () => {
      const r = await networkHelpers.loadFixture(ready);
      const outputs = await attestOutputs(r);
      await registered(r, await withStdin(outputs.join(""), () => register(r, "-")));
    });

    it("refuses a malformed line (naming it), the same attester twice, and standard input named twice", async () => {
      const r = await networkHelpers.loadFixture(ready);
      const [first, second] = (await attestOutputs(r)) as [string, string];
      writeFileSync(join(r.dir, "broken.jsonl"), first + "{not json\n" + second);
      writeFileSync(join(r.dir, "first.json"), first);
      const plain = (...files: string[]) => opg(r.dir, KEYS.operator, ["enclave", "register", "enclave.cose", "--model", r.s.modelId, ...files.flatMap((f) => ["--attestations", f])]);
      expectFailure(await plain("broken.jsonl"), "ENCLAVE_ATTESTATIONS_MALFORMED: attestations are not JSON: broken.jsonl line 2");
      expectFailure(await plain("first.json", "first.json"), "ENCLAVE_DUPLICATE_ATTESTER");
      expectFailure(await plain("-", "-"), "standard input can be read only once", 2);
      // under --json the failure is one JSON error object on stdout
      const json = await register(r, "broken.jsonl");
      expect(json.code).to.equal(1);
      expect(json.stderr).to.equal("");
      expect((JSON.parse(json.stdout) as { error: { code: string } }).error.code).to.equal("ENCLAVE_ATTESTATIONS_MALFORMED");
      expect(await r.s.enclaves.attestationCount()).to.equal(0n);
    });

    it("as a separate process, reads standard input and names its bad line", async () => {
      const r = await networkHelpers.loadFixture(ready);
      const [first] = (await attestOutputs(r)) as [string, string];
      // Parsing happens before the chain is reached, so an unreachable --rpc is never contacted.
      const args = ["enclave", "register", "enclave.cose", "--model", r.s.modelId, "--attestations", "-", "--rpc", "http://127.0.0.1:9", "--deployment", "deployment.json"];
      const run = await opgProcess(args, r.dir, { stdin: first + "[oops\n", env: { OPG_PRIVATE_KEY: KEYS.operator } });
      expect(run.code, run.stderr).to.equal(1);
      expect(run.stdout).to.equal("");
      expect(run.stderr).to.equal("opg enclave register: ENCLAVE_ATTESTATIONS_MALFORMED: attestations are not JSON: standard input line 2 (Unexpected token 'o', \"[oops\" is not valid JSON)\n");
    });
  });

  it("attest and register stat their files first: directories and oversized files are refused before any read (issue 8, item 9)", async () => {
    const r = await networkHelpers.loadFixture(ready);
    mkdirSync(join(r.dir, "a-directory"));
    writeFileSync(join(r.dir, "huge.cose"), "");
    truncateSync(join(r.dir, "huge.cose"), 32 * 1024 * 1024);
    const attest = (doc: string) => opg(r.dir, KEYS.attesters[0]!, ["enclave", "attest", doc, "--operator", r.s.operator.address, "--root", "dev-root.pem", "--at", r.at]);
    expectFailure(await attest("a-directory"), "NITRO_INPUT_INVALID: attestation document a-directory is not a regular file");
    expectFailure(await attest("huge.cose"), `NITRO_TOO_LARGE: attestation document huge.cose is ${32 * 1024 * 1024} bytes`);
    expectFailure(await opg(r.dir, KEYS.operator, ["enclave", "register", "huge.cose", "--model", r.s.modelId, "--attestations", "x.json"]), "NITRO_TOO_LARGE");
    expectFailure(await opg(r.dir, KEYS.operator, ["enclave", "register", "enclave.cose", "--model", r.s.modelId, "--attestations", "a-directory"]), "FILE_UNREADABLE: attestations file a-directory is not a regular file");
  });

  it("lists the commands in opg --help and prints usage with --help", async () => {
    const { dir } = await networkHelpers.loadFixture(ready);
    const help = await opg(dir, undefined, ["--help"]);
    for (const command of ["enclave approve-image", "enclave attest", "enclave register"]) expect(help.stdout).to.contain(`opg ${command}`);
    const usage = await opg(dir, undefined, ["enclave", "register", "--help"]);
    expect(usage.code).to.equal(0);
    expect(usage.stdout).to.contain("Usage: opg enclave register <doc.cose> --model <id> --attestations <file.json | ->");
  });
});
