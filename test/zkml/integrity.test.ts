/**
 * Build integrity (issue #8, item 1): a build directory whose verification_key.json was swapped for another
 * circuit's key (same public-signal layout) must not verify that circuit's proofs; model.json records the
 * key hash and the hashes of the r1cs, wasm and zkey, and each is checked where it is used. Item 4's
 * `opg model register --zk <dir> --ptau <ceremony>` checks the zkey against the r1cs and the ceremony.
 */
import { expect } from "chai";
import { createHash } from "node:crypto";
import { cp, readFile, rm, writeFile, appendFile } from "node:fs/promises";
import { spawnSync } from "node:child_process";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { runCli } from "../../src/cli/main.ts";
import { OpgError } from "../../src/errors.ts";
import { COMMITTED_VALUE_BITS, packingFactor } from "../../src/commitments/index.ts";
import {
  ensureDevPtau,
  loadBuild,
  prove,
  ptauCacheDir,
  readR1csInfo,
  requiredPtauPower,
  verify,
  verifyBuildSetup,
  verifyingKeyHash,
  ZkArtifactError,
  type BuildResult,
  type ZkProofBundle,
} from "../../src/zkml/index.ts";
import { deploymentOf } from "../helpers/enclave.ts";
import { keyOf, runOpg } from "../helpers/cli.ts";
import { deployOn, newChain } from "../helpers/system.ts";
import { builtFixture, fixture, TEMP_ROOT } from "./helpers.ts";

const OPG_BIN = resolve(dirname(fileURLToPath(import.meta.url)), "../../bin/opg.mjs");

async function rejects(action: () => Promise<unknown>, pattern: RegExp): Promise<OpgError> {
  try {
    await action();
  } catch (error) {
    expect(error).to.be.instanceOf(ZkArtifactError);
    expect((error as Error).message).to.match(pattern);
    return error as OpgError;
  }
  return expect.fail(`expected a ZkArtifactError matching ${pattern}`);
}

async function cli(cwd: string, ...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = "";
  let stderr = "";
  const code = await runCli(args, { stdout: (t) => void (stdout += t), stderr: (t) => void (stderr += t), isTTY: false, env: {}, cwd });
  return { code, stdout, stderr };
}

describe("zkml: build integrity (key hash, artifact hashes, setup check)", () => {
  // Two circuits with the same public-signal layout (4 signals: two commitments, one output, binding).
  let linreg: BuildResult;
  let other: BuildResult;
  let otherProof: ZkProofBundle;
  const swapped = join(TEMP_ROOT, "integrity-swapped-vk");

  before(async () => {
    linreg = await builtFixture("linreg-hummingbird-2x1");
    other = await builtFixture("linear-41x1");
    expect(other.verificationKey.nPublic).to.equal(linreg.verificationKey.nPublic);
    otherProof = await prove(other.dir, fixture("linear-41x1").input);
    await rm(swapped, { recursive: true, force: true });
    await cp(linreg.dir, swapped, { recursive: true });
    await cp(join(other.dir, "verification_key.json"), join(swapped, "verification_key.json"));
  });

  it("model.json records the key hash and sha256 of the r1cs, wasm and zkey", async () => {
    const metadata = JSON.parse(await readFile(join(linreg.dir, "model.json"), "utf8")) as Record<string, unknown>;
    expect(metadata["format"]).to.equal("opg-zkml/4");
    expect(metadata["commitment"]).to.deep.equal({ scheme: "packed", bits: COMMITTED_VALUE_BITS, valuesPerElement: packingFactor(COMMITTED_VALUE_BITS) });
    expect(metadata["verifyingKeyHash"]).to.equal(verifyingKeyHash(linreg.verificationKey));
    expect(metadata["artifacts"]).to.have.all.keys("r1cs", "wasm", "zkey");
    for (const hash of Object.values(metadata["artifacts"] as Record<string, string>)) expect(hash).to.match(/^0x[0-9a-f]{64}$/);
  });

  it("a swapped verification_key.json is refused by loadBuild, verify and `opg zk verify`", async () => {
    await rejects(() => loadBuild(swapped), /is not the key this build made/);
    await rejects(() => verify(swapped, otherProof), /is not the key this build made/);
    const proofPath = join(TEMP_ROOT, "integrity-other-proof.json");
    await writeFile(proofPath, JSON.stringify(otherProof));
    const run = await cli(TEMP_ROOT, "zk", "verify", swapped, proofPath);
    expect(run.code).to.equal(1);
    expect(run.stdout).to.equal("");
    expect(run.stderr.trimEnd().split("\n")).to.have.length(1);
    expect(run.stderr).to.match(/^opg zk verify: .*verification_key\.json is not the key this build made/);
  });

  it("with model.json edited too, the key the caller trusts (--key-hash, the proof's named key) still decides", async () => {
    const dir = join(TEMP_ROOT, "integrity-swapped-both");
    await rm(dir, { recursive: true, force: true });
    await cp(swapped, dir, { recursive: true });
    const metadataPath = join(dir, "model.json");
    const metadata = JSON.parse(await readFile(metadataPath, "utf8")) as Record<string, unknown>;
    await writeFile(metadataPath, JSON.stringify({ ...metadata, verifyingKeyHash: verifyingKeyHash(other.verificationKey) }));
    const trusted = verifyingKeyHash(linreg.verificationKey);
    const result = await verify(dir, otherProof, { verifyingKeyHash: trusted });
    expect(result.valid).to.equal(false);
    expect(result.reason).to.match(/is not the expected key/);
    const proofPath = join(TEMP_ROOT, "integrity-other-proof.json");
    await writeFile(proofPath, JSON.stringify(otherProof));
    const run = await cli(TEMP_ROOT, "zk", "verify", dir, proofPath, "--key-hash", trusted);
    expect(run).to.deep.include({ code: 1, stdout: `invalid: the build's verifying key (hash ${verifyingKeyHash(other.verificationKey)}) is not the expected key ${trusted}\n` });
    // Control: the honest build with the trusted hash is valid.
    const honest = await prove(linreg.dir, fixture("linreg-hummingbird-2x1").input);
    expect(await verify(linreg.dir, honest, { verifyingKeyHash: trusted })).to.deep.equal({ valid: true });
  });

  it("as a separate process: `opg zk verify` refuses the swapped key and checks --key-hash, then exits", async () => {
    const proofPath = join(TEMP_ROOT, "integrity-other-proof.json");
    await writeFile(proofPath, JSON.stringify(otherProof));
    const opg = (...args: string[]) => spawnSync(process.execPath, [OPG_BIN, ...args], { cwd: TEMP_ROOT, encoding: "utf8", timeout: 120_000 });
    const swappedRun = opg("zk", "verify", swapped, proofPath);
    expect(swappedRun.status, swappedRun.stderr).to.equal(1);
    expect(swappedRun.stderr.trimEnd().split("\n")).to.have.length(1);
    expect(swappedRun.stderr).to.match(/is not the key this build made/);
    const honestPath = join(TEMP_ROOT, "integrity-honest-proof.json");
    await writeFile(honestPath, JSON.stringify(await prove(linreg.dir, fixture("linreg-hummingbird-2x1").input)));
    const trusted = opg("zk", "verify", linreg.dir, honestPath, "--key-hash", verifyingKeyHash(linreg.verificationKey));
    expect(trusted.status, trusted.stderr).to.equal(0);
    expect(trusted.stdout).to.equal("valid\n");
    const untrusted = opg("zk", "verify", linreg.dir, honestPath, "--key-hash", verifyingKeyHash(other.verificationKey));
    expect(untrusted.status).to.equal(1);
    expect(untrusted.stdout).to.match(/^invalid: the build's verifying key .* is not the expected key/);
    expect(opg("zk", "verify", linreg.dir, honestPath, "--key-hash", "0x12").status).to.equal(1);
  });

  it("a proof bundle naming another key is invalid", async () => {
    const honest = await prove(linreg.dir, fixture("linreg-hummingbird-2x1").input);
    const renamed = { ...honest, model: { ...honest.model, verifyingKeyHash: verifyingKeyHash(other.verificationKey) } };
    const result = await verify(linreg.dir, renamed);
    expect(result.valid).to.equal(false);
    expect(result.reason).to.match(/the proof names verifying key/);
  });

  it("prove refuses a wasm or zkey that is not the one model.json recorded", async () => {
    for (const file of [join("model_js", "model.wasm"), "model.zkey"]) {
      const dir = join(TEMP_ROOT, `integrity-${file.replace(/\W/g, "-")}`);
      await rm(dir, { recursive: true, force: true });
      await cp(linreg.dir, dir, { recursive: true });
      await appendFile(join(dir, file), Buffer.from([0]));
      await rejects(() => prove(dir, fixture("linreg-hummingbird-2x1").input), /is not the file this build recorded/);
    }
  });

  it("a build from an older toolkit (opg-zkml/1, no hashes) is refused with a readable reason", async () => {
    const dir = join(TEMP_ROOT, "integrity-v1");
    await rm(dir, { recursive: true, force: true });
    await cp(linreg.dir, dir, { recursive: true });
    const metadata = JSON.parse(await readFile(join(dir, "model.json"), "utf8")) as Record<string, unknown>;
    delete metadata["artifacts"];
    await writeFile(join(dir, "model.json"), JSON.stringify({ ...metadata, format: "opg-zkml/1" }));
    await rejects(() => loadBuild(dir), /older toolkit .* rebuild it/);
  });

  it("opg-zkml/2 and /3 builds (input packed at its own width, output unpacked) are refused; /4 needs the hashes and the 36-bit commitment scheme", async () => {
    const dir = join(TEMP_ROOT, "integrity-v2");
    await rm(dir, { recursive: true, force: true });
    await cp(linreg.dir, dir, { recursive: true });
    const metadata = JSON.parse(await readFile(join(dir, "model.json"), "utf8")) as Record<string, unknown>;
    const { artifacts, commitment, ...rest } = metadata;
    const write = (m: Record<string, unknown>) => writeFile(join(dir, "model.json"), JSON.stringify(m));
    await write({ ...rest, artifacts, format: "opg-zkml/2" });
    await rejects(() => loadBuild(dir), /older toolkit \(opg-zkml\/2\).* rebuild it/);
    // A version-3 build committed its input packed at its own input width and its output unpacked.
    const inputCommitment = { scheme: "packed", bits: linreg.model.inputBits, valuesPerElement: packingFactor(linreg.model.inputBits) };
    await write({ ...rest, artifacts, inputCommitment, format: "opg-zkml/3" });
    await rejects(() => loadBuild(dir), /older toolkit \(opg-zkml\/3\).* rebuild it/);
    await write({ ...rest, commitment, format: "opg-zkml/4" });
    await rejects(() => loadBuild(dir), /has no valid artifact hashes/);
    await write({ ...rest, artifacts, format: "opg-zkml/4" });
    await rejects(() => loadBuild(dir), /has no valid commitment scheme/);
    await write({ ...rest, artifacts, commitment: inputCommitment, format: "opg-zkml/4" });
    await rejects(() => loadBuild(dir), /has no valid commitment scheme/);
    await write(metadata);
    expect((await loadBuild(dir)).metadata.commitment).to.deep.equal({ scheme: "packed", bits: 36, valuesPerElement: 7 });
  });

  describe("setup check against the ceremony (item 4)", () => {
    let foreignPtau: string;
    /** The cached ptau the build used: the smallest one of sufficient power when it was built (not always the run's shared one). */
    const ownPtau = async () => join(ptauCacheDir(), (await loadBuild(linreg.dir)).metadata.ptau.file);

    before(async () => {
      // A different ceremony of the same power: the build's zkey does not derive from it.
      const info = await readR1csInfo(join(linreg.dir, "model.r1cs"));
      const power = requiredPtauPower(info.constraints, info.outputs + info.publicInputs);
      foreignPtau = (await ensureDevPtau(power, { cacheDir: join(TEMP_ROOT, "foreign-ptau") })).path;
    });

    it("two processes generating the same power keep the first ceremony: a file a build used is never replaced", async () => {
      const cacheDir = join(TEMP_ROOT, "racing-ptau");
      const digest = async (path: string) => createHash("sha256").update(await readFile(path)).digest("hex");
      // Both calls miss the cache and generate; each records the file's content when it returns.
      const seen: string[] = [];
      await Promise.all([1, 2].map(async () => seen.push(await digest((await ensureDevPtau(4, { cacheDir })).path))));
      const final = await digest(join(cacheDir, "opg-dev-pot4.ptau"));
      expect(seen).to.deep.equal([final, final]);
    });

    it("verifyBuildSetup accepts the build with its own ptau and refuses another ceremony", async () => {
      const build = await loadBuild(linreg.dir);
      await verifyBuildSetup(build, await ownPtau());
      await rejects(() => verifyBuildSetup(build, foreignPtau), /was not made from .* and the ceremony/);
    });

    it("`opg model register --zk <dir> --ptau <file>` registers only after the check passes", async () => {
      const chain = await newChain();
      const s = await deployOn(chain);
      const dir = join(TEMP_ROOT, "integrity-register");
      await rm(dir, { recursive: true, force: true });
      await cp(linreg.dir, join(dir, "head"), { recursive: true });
      await writeFile(join(dir, "deployment.json"), JSON.stringify(await deploymentOf(s)));
      const env = { OPG_PRIVATE_KEY: keyOf(1) };
      const register = (ptau: string) => runOpg(chain, dir, env, ["model", "register", "--zk", "head", "--ptau", ptau, "--prices", "0,0,50", "--tiers", "zk"]);

      const refused = await register(foreignPtau);
      expect(refused.code, refused.stderr).to.equal(1);
      expect(refused.stdout).to.equal("");
      expect(refused.stderr.trimEnd().split("\n").filter((l) => !l.startsWith("✔"))).to.have.length(1);
      expect(refused.stderr).to.match(/opg model register: .*was not made from .* and the ceremony/);
      expect(await s.models.modelCount()).to.equal(0n);

      const usage = await runOpg(chain, dir, env, ["model", "register", "--weights", "0x" + "cd".repeat(32), "--ptau", foreignPtau, "--prices", "1,1,1", "--tiers", "signature"]);
      expect(usage.code).to.equal(2);

      const accepted = await register(await ownPtau());
      expect(accepted.code, accepted.stderr).to.equal(0);
      expect(accepted.stdout).to.match(/^setup verified: .*\nregistered model 0x[0-9a-f]{64} \(tiers zk; gas \d+\)\n$/);
      expect(await s.models.modelCount()).to.equal(1n);
    });

    it("`opg zk verify --model <id>` checks the build against the key registered on-chain", async () => {
      const chain = await newChain();
      const s = await deployOn(chain);
      const dir = join(TEMP_ROOT, "integrity-verify-model");
      await rm(dir, { recursive: true, force: true });
      await cp(other.dir, join(dir, "other"), { recursive: true });
      await cp(linreg.dir, join(dir, "linreg"), { recursive: true });
      await writeFile(join(dir, "deployment.json"), JSON.stringify(await deploymentOf(s)));
      const env = { OPG_PRIVATE_KEY: keyOf(1) };
      const registered = await runOpg(chain, dir, env, ["model", "register", "--zk", "linreg", "--prices", "0,0,50", "--tiers", "zk"]);
      const id = /registered model (0x[0-9a-f]{64})/.exec(registered.stdout)?.[1];
      expect(id, registered.stderr).to.be.a("string");
      await writeFile(join(dir, "other-proof.json"), JSON.stringify(otherProof));
      const honest = await prove(linreg.dir, fixture("linreg-hummingbird-2x1").input);
      await writeFile(join(dir, "proof.json"), JSON.stringify(honest));

      const wrong = await runOpg(chain, dir, {}, ["zk", "verify", "other", "other-proof.json", "--model", id!]);
      expect(wrong.code).to.equal(1);
      expect(wrong.stdout).to.match(/^invalid: the build's verifying key .* is not the expected key/);
      const right = await runOpg(chain, dir, {}, ["zk", "verify", "linreg", "proof.json", "--model", id!]);
      expect(right).to.deep.include({ code: 0, stdout: "valid\n" });
    });
  });
});
