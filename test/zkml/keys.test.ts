/**
 * delta = gamma makes a Groth16 key forgeable (it is what snarkjs leaves before any phase-2
 * contribution). Such keys are refused everywhere: the pure check, the encoders, the loaders, prove
 * and verify, and every verifying key the repository ships.
 */
import { expect } from "chai";
import { cp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import * as snarkjs from "snarkjs";
import {
  assertNotForgeable,
  checkVerificationKey,
  encodeVerifyingKey,
  ForgeableKeyError,
  loadBuild,
  loadVerificationKey,
  loadZkeyVerificationKey,
  prove,
  verify,
  verifyGroth16,
  type BuildResult,
  type Groth16VerificationKey,
} from "../../src/zkml/index.ts";
import { builtFixture, fixture, sharedPtau, TEMP_ROOT } from "./helpers.ts";

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const SKIP_DIRS = new Set(["node_modules", ".git", "artifacts", "cache", "typechain-types"]);

/** Every JSON file under `root` that looks like a Groth16 verifying key (has vk_delta_2). */
async function findVerifyingKeys(root: string): Promise<string[]> {
  const found: string[] = [];
  const walk = async (dir: string): Promise<void> => {
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) {
        if (!SKIP_DIRS.has(entry.name)) await walk(path);
      } else if (entry.name.endsWith(".json")) {
        const text = await readFile(path, "utf8");
        if (text.includes('"vk_delta_2"')) found.push(path);
      }
    }
  };
  await walk(root);
  return found;
}

function forgeable(vk: Groth16VerificationKey): Groth16VerificationKey {
  return { ...vk, vk_delta_2: vk.vk_gamma_2.map((c) => [...c]) };
}

describe("zkml: keys with delta = gamma are refused everywhere", () => {
  let build: BuildResult;
  let forgedDir: string;

  before(async () => {
    build = await builtFixture("gemm-relu-3x4");
    forgedDir = join(TEMP_ROOT, "forgeable-vk");
    await rm(forgedDir, { recursive: true, force: true });
    await cp(build.dir, forgedDir, { recursive: true });
    await writeFile(join(forgedDir, "verification_key.json"), JSON.stringify(forgeable(build.verificationKey)));
  });

  it("a built key (with its phase-2 contribution) has delta ≠ gamma and passes", async () => {
    expect(build.verificationKey.vk_delta_2).to.not.deep.equal(build.verificationKey.vk_gamma_2);
    assertNotForgeable(build.verificationKey);
    await loadVerificationKey(join(build.dir, "verification_key.json"));
    await loadZkeyVerificationKey(join(build.dir, "model.zkey"));
  });

  it("assertNotForgeable, checkVerificationKey and encodeVerifyingKey refuse an edited key", () => {
    const vk = forgeable(build.verificationKey);
    expect(() => assertNotForgeable(vk)).to.throw(ForgeableKeyError, /delta = gamma/);
    expect(() => checkVerificationKey(vk)).to.throw(ForgeableKeyError);
    expect(() => encodeVerifyingKey(vk)).to.throw(ForgeableKeyError);
  });

  it("verifyGroth16 refuses to check proofs against it", async () => {
    const bundle = await prove(build.dir, fixture("gemm-relu-3x4").input);
    try {
      await verifyGroth16(forgeable(build.verificationKey), bundle.publicSignals, bundle.proof);
      expect.fail("should refuse");
    } catch (error) {
      expect(error).to.be.instanceOf(ForgeableKeyError);
    }
  });

  it("loadBuild, prove and verify refuse a build directory whose verification_key.json is forgeable", async () => {
    const bundle = await prove(build.dir, fixture("gemm-relu-3x4").input);
    for (const action of [() => loadBuild(forgedDir), () => prove(forgedDir, fixture("gemm-relu-3x4").input), () => verify(forgedDir, bundle)]) {
      try {
        await action();
        expect.fail("should refuse");
      } catch (error) {
        expect(error).to.be.instanceOf(ForgeableKeyError);
        expect((error as ForgeableKeyError).code).to.equal("ZK_FORGEABLE_KEY");
      }
    }
  });

  it("a zkey without the phase-2 contribution is refused by the zkey loader and by prove", async () => {
    const dir = join(TEMP_ROOT, "forgeable-zkey");
    await rm(dir, { recursive: true, force: true });
    await cp(build.dir, dir, { recursive: true });
    const ptau = await sharedPtau();
    await snarkjs.zKey.newZKey(join(dir, "model.r1cs"), ptau.path, join(dir, "model.zkey"));
    const raw = await snarkjs.zKey.exportVerificationKey(join(dir, "model.zkey"));
    expect(raw.vk_delta_2).to.deep.equal(raw.vk_gamma_2); // what snarkjs leaves before phase 2
    for (const action of [() => loadZkeyVerificationKey(join(dir, "model.zkey")), () => prove(dir, fixture("gemm-relu-3x4").input)]) {
      try {
        await action();
        expect.fail("should refuse");
      } catch (error) {
        expect(error).to.be.instanceOf(ForgeableKeyError);
      }
    }
  });

  it("every verifying key in the repository is safe (and the scan does find keys)", async () => {
    // The scan finds the forgeable key planted in the temp dir, so an empty result below is meaningful.
    const planted = await findVerifyingKeys(TEMP_ROOT);
    expect(planted).to.include(join(forgedDir, "verification_key.json"));
    for (const path of await findVerifyingKeys(REPO_ROOT)) {
      const vk = JSON.parse(await readFile(path, "utf8")) as Groth16VerificationKey;
      expect(() => checkVerificationKey(vk, path), path).to.not.throw();
    }
  });
});
