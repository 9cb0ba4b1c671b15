/**
 * `opg model register | show`, `opg operation new | add-signed | add-zk | submit`, `opg result` and `opg stats`
 * through runCli against the in-process chain: every party uses its own default Hardhat account key (or the
 * enclave's key for a TEE step) from the environment, and file arguments are relative to the working directory.
 */
import { cpSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "chai";

import { fromField } from "../src/commitments/index.ts";
import { operationFromJson, operationIdOf, type Operation } from "../src/pipeline/index.ts";
import { receiptId } from "../src/receipts/receipt.ts";
import { zkRegistrationFields } from "../src/pipeline/zk.ts";
import { Tier } from "../src/receipts/tier.ts";
import { loadBuild, type ZkBuild } from "../src/zkml/index.ts";
import { PRICES, depositWithPermit, fund, makeReceipt, sign } from "./helpers/actors.ts";
import { deployTeeSystem, registeredEnclave } from "./helpers/enclave.ts";
import { expectFailure, keyOf, runOpg, type Run } from "./helpers/cli.ts";
import { OPG, newChain } from "./helpers/system.ts";
import { builtFixture, fixture } from "./zkml/helpers.ts";

const chain = await newChain();
const { networkHelpers } = chain;

const KEYS = { modelOwner: keyOf(1), operator: keyOf(2), requester: keyOf(3), stranger: keyOf(5) };

const GEMM = "gemm-relu-3x4";
let head: ZkBuild;

/** TEE system (embedder model accepting signature + TEE, staked operator, requester with 100 OPG in escrow) and a registered enclave. */
async function ready() {
  const s = await deployTeeSystem(chain);
  const { enclave } = await registeredEnclave(s);
  const dir = mkdtempSync(join(tmpdir(), "opg-chain-cli-"));
  writeFileSync(join(dir, "deployment.json"), JSON.stringify(s.deployment));
  // The ZK build, reached through a path relative to the working directory.
  symlinkSync(head.dir, join(dir, "head"));
  writeFileSync(join(dir, "input.json"), JSON.stringify(fixture(GEMM).input));
  const deadline = String((await networkHelpers.time.latest()) + 30 * 86_400);
  return { s, dir, enclave, deadline };
}
type Ready = Awaited<ReturnType<typeof ready>>;

/** Commands that take no chain options (they only sign or prove). */
const OFFLINE = new Set(["operation add-signed", "operation add-zk"]);

/** Runs `opg args…` in `dir` with `env` against the in-process chain. */
const opg = (dir: string, env: Record<string, string>, args: string[]): Promise<Run> => runOpg(chain, dir, env, args, OFFLINE.has(args.slice(0, 2).join(" ")));

const as = (key: string) => ({ OPG_PRIVATE_KEY: key });

/** The receipt id of step `i` of an operation on its hub. */
function operationStepId(operation: Operation, i: number): string {
  const step = operation.steps[i]!;
  return receiptId(operation.context.chainId, operation.context.hub, step.requester, step.modelId, step.nonce);
}

/** Exit 0, nothing on stderr. */
function expectSuccess(run: Run): void {
  expect(run.code, run.stderr).to.equal(0);
  expect(run.stderr).to.equal("");
}


/** `opg model register --zk head` by the model owner: the classifier accepting only the ZK tier at 50 OPG. */
async function registerClassifier(r: Ready): Promise<string> {
  const run = await opg(r.dir, as(KEYS.modelOwner), ["model", "register", "--zk", "head", "--prices", "0,0,50", "--tiers", "zk"]);
  expectSuccess(run);
  const id = /^registered model (0x[0-9a-f]{64}) \(tiers zk; gas \d+\)\n$/.exec(run.stdout)?.[1];
  expect(id, run.stdout).to.not.equal(undefined);
  return id!;
}

/** new → add-signed (TEE, enclave key) → add-zk: the operation file `file`, ready to submit. */
async function buildOperation(r: Ready, file: string, nonce: number, classifier: string, embedding: readonly number[]): Promise<Run[]> {
  const runs = [
    await opg(r.dir, {}, ["operation", "new", "--out", file, "--requester", r.s.requester.address, "--nonce", String(nonce), "--deadline", r.deadline, "--input-text", "a customer review to classify"]),
    await opg(r.dir, { OPG_STEP_KEY: r.enclave.wallet.privateKey }, [
      "operation", "add-signed", file, "--model", r.s.modelId, "--tier", "tee", "--operator", r.s.operator.address, "--output-values", JSON.stringify(embedding), "--next", "head",
    ]),
  ];
  for (const run of runs) expectSuccess(run);
  runs.push(await opg(r.dir, {}, ["operation", "add-zk", file, "head", "--model", classifier, "--operator", r.s.operator.address, "--input", "input.json"]));
  return runs;
}

describe("cli: opg model / operation / result / stats on a chain", function () {
  this.timeout(600_000);

  before(async () => {
    head = await loadBuild((await builtFixture(GEMM)).dir);
  });

  describe("opg model", () => {
    it("register --weights registers the signer's model; show --json reads it back", async () => {
      const r = await networkHelpers.loadFixture(ready);
      const weights = "0x" + "ab".repeat(32);
      const run = await opg(r.dir, as(KEYS.modelOwner), ["model", "register", "--weights", weights, "--prices", "1,5,50", "--tiers", "signature,tee", "--metadata", "ipfs://bafy-card"]);
      expectSuccess(run);
      const id = await r.s.models.modelIdOf(r.s.modelOwner.address, weights);
      expect(run.stdout).to.match(new RegExp(`^registered model ${id} \\(tiers signature, tee; gas \\d+\\)\\n$`));

      const show = await opg(r.dir, {}, ["model", "show", id, "--json"]);
      expectSuccess(show);
      expect(JSON.parse(show.stdout)).to.deep.equal({
        modelId: id,
        owner: r.s.modelOwner.address,
        tiers: ["signature", "tee"],
        prices: { signature: "1.0", tee: "5.0", zk: "50.0" },
        deprecated: false,
        weightsCommitment: weights,
        previousVersion: null,
        metadataURI: "ipfs://bafy-card",
        hasVerifyingKey: false,
      });
      expect(await r.s.models.pricesOf(id)).to.deep.equal([1n * OPG, 5n * OPG, 50n * OPG]);

      // A new version points at the old one; fractional prices are exact.
      const next = "0x" + "ac".repeat(32);
      expectSuccess(await opg(r.dir, as(KEYS.modelOwner), ["model", "register", "--weights", next, "--prices", "0.25,2,0", "--tiers", "tee", "--previous", id]));
      const nextId = await r.s.models.modelIdOf(r.s.modelOwner.address, next);
      const shown = await opg(r.dir, {}, ["model", "show", nextId]);
      expectSuccess(shown);
      expect(shown.stdout).to.contain(`previousVersion    ${id}\n`);
      expect(shown.stdout).to.contain(`tiers              ["tee"]\n`);
      expect(shown.stdout).to.contain(`prices             {"signature":"0.25","tee":"2.0","zk":"0.0"}\n`);

      expectFailure(await opg(r.dir, {}, ["model", "show", "0x" + "ee".repeat(32)]), "ModelRegistryUnknownModel");
      expectFailure(await opg(r.dir, {}, ["model", "show", "0x1234"]), "32 bytes");
    });

    it("register --zk registers the build's weights commitment and exactly its verifying key", async () => {
      const r = await networkHelpers.loadFixture(ready);
      const id = await registerClassifier(r);
      const fields = zkRegistrationFields(head);
      expect(id).to.equal(await r.s.models.modelIdOf(r.s.modelOwner.address, fields.weightsCommitment));
      expect(await r.s.models.verifyingKeyOf(id)).to.equal(fields.verifyingKey);
      const show = JSON.parse((await opg(r.dir, {}, ["model", "show", id, "--json"])).stdout) as Record<string, unknown>;
      expect(show).to.deep.include({ tiers: ["zk"], weightsCommitment: fields.weightsCommitment, hasVerifyingKey: true, prices: { signature: "0.0", tee: "0.0", zk: "50.0" } });
    });

    it("register refuses usage mistakes (exit 2), a forgeable key and a duplicate (exit 1), each in one line", async () => {
      const r = await networkHelpers.loadFixture(ready);
      const weights = "0x" + "cd".repeat(32);
      const register = (key: string | undefined, ...args: string[]) => opg(r.dir, key === undefined ? {} : as(key), ["model", "register", ...args]);
      const owner = KEYS.modelOwner;
      const before = await r.s.models.modelCount();

      expectFailure(await register(owner, "--weights", weights, "--zk", "head", "--prices", "1,5,50", "--tiers", "zk"), "exactly one of --weights or --zk", 2);
      expectFailure(await register(owner, "--prices", "1,5,50", "--tiers", "signature"), "exactly one of --weights or --zk", 2);
      expectFailure(await register(owner, "--weights", weights, "--prices", "1,5,50", "--tiers", "signature,zk"), "register with --zk", 2);
      expectFailure(await register(owner, "--zk", "head", "--prices", "1,5,50", "--tiers", "signature"), "add zk to --tiers", 2);
      expectFailure(await register(owner, "--weights", weights, "--prices", "1,5", "--tiers", "signature"), "--prices", 2);
      expectFailure(await register(owner, "--weights", weights, "--prices", "1,five,50", "--tiers", "signature"), "--prices", 2);
      expectFailure(await register(owner, "--weights", weights, "--prices=-1,5,50", "--tiers", "signature"), "--prices", 2);
      expectFailure(await register(owner, "--weights", weights, "--prices", "2000000,5,50", "--tiers", "signature"), "each price is between 0 and", 2);
      expectFailure(await register(owner, "--weights", weights, "--prices", "1,5,50", "--tiers", "signature,gold"), 'unknown tier "gold"', 2);
      expectFailure(await register(owner, "--weights", weights, "--tiers", "signature"), "--prices and --tiers are required", 2);
      expectFailure(await register(undefined, "--weights", weights, "--prices", "1,5,50", "--tiers", "signature"), "OPG_PRIVATE_KEY", 2);
      expectFailure(await register(owner, "--weights", "0x12", "--prices", "1,5,50", "--tiers", "signature"), "--weights");

      // A build whose verifying key was edited so that delta = gamma: anyone could forge its proofs.
      cpSync(head.dir, join(r.dir, "forged"), { recursive: true });
      const vkPath = join(r.dir, "forged", "verification_key.json");
      const vk = JSON.parse(readFileSync(vkPath, "utf8")) as Record<string, unknown>;
      writeFileSync(vkPath, JSON.stringify({ ...vk, vk_delta_2: vk["vk_gamma_2"] }));
      expectFailure(await register(owner, "--zk", "forged", "--prices", "1,5,50", "--tiers", "zk"), "delta = gamma");
      expectFailure(await register(owner, "--zk", "nowhere", "--prices", "1,5,50", "--tiers", "zk"), "not a zk build directory");
      expect(await r.s.models.modelCount()).to.equal(before);

      expectSuccess(await register(owner, "--weights", weights, "--prices", "1,5,50", "--tiers", "signature"));
      expectFailure(await register(owner, "--weights", weights, "--prices", "2,5,50", "--tiers", "tee"), "ModelRegistryAlreadyRegistered");
      expect(await r.s.models.modelCount()).to.equal(before + 1n);
    });
  });

  describe("opg operation / result", () => {
    it("TEE → ZK hybrid: new, add-signed (enclave key), add-zk, submit, then result checks the policy", async () => {
      const r = await networkHelpers.loadFixture(ready);
      const classifier = await registerClassifier(r);
      const embedding = fixture(GEMM).inputValues;
      const [started, signed, proven] = await buildOperation(r, "op.json", 1, classifier, embedding);
      expect(started!.stdout).to.match(/^started operation 0x[0-9a-f]{64} in op\.json \(input 0x[0-9a-f]{64}\)\n$/);
      expect(signed!.stdout).to.match(new RegExp(`^added tee step ${r.s.modelId} → 0x[0-9a-f]{64}\\n$`));
      expectSuccess(proven!);
      expect(proven!.stdout).to.match(/^added zk step: output \[.+\]\n$/);

      const operation = operationFromJson(JSON.parse(readFileSync(join(r.dir, "op.json"), "utf8")));
      const id = operationIdOf(operation);
      expect(operation.steps.map((s) => s.tier)).to.deep.equal([Tier.TEE, Tier.ZK]);
      expect(operation.evidence[0]!.signer).to.equal(r.enclave.wallet.address);
      expect(started!.stdout).to.contain(id);

      // Too low a maximum fee: refused on-chain, nothing charged.
      const escrow = await r.s.hub.balanceOf(r.s.requester.address);
      const submit = (key: string, ...extra: string[]) => opg(r.dir, as(key), ["operation", "submit", "op.json", "--min-each", "tee", "--min-final", "zk", ...extra]);
      // Amounts in the refusal are in OPG, as --max-fee is: never in wei.
      expectFailure(await submit(KEYS.requester, "--max-fee", "54.9"), "InferenceHubFeeAboveMaximum(fee 55.0 OPG, maxFee 54.9 OPG)");
      expectFailure(await submit(KEYS.stranger, "--max-fee", "100"), "InferenceHubUnauthorizedSubmitter");
      expectFailure(await submit(KEYS.requester), "--max-fee is required", 2);
      expect(await r.s.hub.balanceOf(r.s.requester.address)).to.equal(escrow);

      const settled = await submit(KEYS.requester, "--max-fee", "100", "--json");
      expectSuccess(settled);
      const fee = PRICES[1] + 50n * OPG;
      const summary = JSON.parse(settled.stdout) as Record<string, unknown>;
      expect(summary).to.deep.include({ id, tier: "hybrid", weakestTier: "tee", verified: true, steps: ["tee", "zk"], fee: fee.toString() });
      const outputs = operation.evidence[1]!.outputs.map((v) => String(fromField(v)));
      expect(outputs.length).to.be.greaterThan(0);
      expect(summary["gasUsed"]).to.be.a("number").greaterThan(21_000);
      expect(await r.s.hub.balanceOf(r.s.requester.address)).to.equal(escrow - fee);

      const met = await opg(r.dir, {}, ["result", id, "--min-each", "tee", "--min-final", "zk"]);
      expectSuccess(met);
      expect(met.stdout).to.equal(
        `${id}: verified at tee → zk (hybrid), output ${operation.steps[1]!.outputCommitment}; policy met\n` +
          `  step 2 (zk, model ${classifier}) outputs [${outputs.join(", ")}]\n`,
      );
      const strict = await opg(r.dir, {}, ["result", id, "--min-each", "zk"]);
      expect(strict.code).to.equal(1);
      expect(strict.stdout).to.contain("policy NOT met");
      const json = await opg(r.dir, {}, ["result", id, "--json"]);
      expectSuccess(json);
      // The same words as submit --json: "hybrid", the weakest tier the hub records, and the ZK step's proven outputs.
      const view = JSON.parse(json.stdout) as Record<string, unknown>;
      const { gasUsed: _gas, fee: _fee, ...submitted } = summary;
      expect(view).to.deep.equal({ ...submitted, meetsPolicy: true });
      expect(view).to.deep.include({ id, verified: true, tier: "hybrid", weakestTier: "tee", steps: ["tee", "zk"], outputCommitment: operation.steps[1]!.outputCommitment });
      expect(view["stepDetails"]).to.deep.equal([
        { id: operationStepId(operation, 0), modelId: r.s.modelId, tier: "tee", outputCommitment: operation.steps[0]!.outputCommitment },
        { id: operationStepId(operation, 1), modelId: classifier, tier: "zk", outputCommitment: operation.steps[1]!.outputCommitment, outputs },
      ]);
      const unknown = await opg(r.dir, {}, ["result", "0x" + "77".repeat(32)]);
      expect(unknown.code).to.equal(1);
      expect(unknown.stdout).to.equal(`0x${"77".repeat(32)}: not verified\n`);
      expect(JSON.parse((await opg(r.dir, {}, ["result", "0x" + "77".repeat(32), "--json"])).stdout)).to.include({ verified: false, meetsPolicy: false });
      expectFailure(await opg(r.dir, {}, ["result", id, "--min-each", "gold"]), 'unknown tier "gold"', 2);

      // The same operation again: already verified, not charged twice.
      expectFailure(await submit(KEYS.requester, "--max-fee", "100"), "InferenceHubAlreadyVerified");
      expect(await r.s.hub.balanceOf(r.s.requester.address)).to.equal(escrow - fee);
    });

    it("refuses a ZK step that does not consume the previous output, and malformed operation files", async () => {
      const r = await networkHelpers.loadFixture(ready);
      const classifier = await registerClassifier(r);
      // The TEE step hands over other values than input.json proves on: the chain of commitments breaks.
      const other = fixture(GEMM).inputValues.map((v, i) => (i === 0 ? v + 1 : v));
      const runs = await buildOperation(r, "broken.json", 2, classifier, other);
      expectFailure(runs[2]!, "step 1 consumes");
      const stored = operationFromJson(JSON.parse(readFileSync(join(r.dir, "broken.json"), "utf8")));
      expect(stored.steps).to.have.length(1);

      const signed = (file: string, key: string | undefined, ...extra: string[]) =>
        opg(r.dir, key === undefined ? {} : { OPG_STEP_KEY: key }, ["operation", "add-signed", file, "--model", classifier, "--operator", r.s.operator.address, ...extra]);
      expectFailure(await signed("broken.json", undefined, "--tier", "tee", "--output", "0x" + "11".repeat(32)), "OPG_STEP_KEY", 2);
      expectFailure(await signed("broken.json", KEYS.operator, "--tier", "zk", "--output", "0x" + "11".repeat(32)), "add-zk", 2);
      expectFailure(await signed("broken.json", KEYS.operator, "--tier", "tee"), "give --output, or --output-values with --next", 2);
      expectFailure(await signed("broken.json", KEYS.operator, "--tier", "tee", "--output-values", "[1,", "--next", "head"), "--output-values", 2);
      expectFailure(await signed("broken.json", KEYS.operator, "--tier", "gold", "--output", "0x" + "11".repeat(32)), 'unknown tier "gold"', 2);

      writeFileSync(join(r.dir, "corrupt.json"), JSON.stringify({ ...JSON.parse(readFileSync(join(r.dir, "broken.json"), "utf8")), format: "opg-operation/0" }));
      writeFileSync(join(r.dir, "truncated.json"), readFileSync(join(r.dir, "broken.json"), "utf8").slice(0, 100));
      const submit = (file: string) => opg(r.dir, as(KEYS.requester), ["operation", "submit", file, "--max-fee", "100"]);
      expectFailure(await submit("corrupt.json"), "not an opg-operation/1 file");
      expectFailure(await submit("truncated.json"), "is not valid JSON");
      expectFailure(await submit("missing.json"), "cannot read operation file missing.json");
      expectFailure(await opg(r.dir, {}, ["operation", "add-zk", "corrupt.json", "head", "--model", classifier, "--operator", r.s.operator.address, "--input", "input.json"]), "not an opg-operation/1 file");
    });
  });

  describe("opg stats", () => {
    it("counts inferences per tier, proofs, operations, models, attestations, fees paid and distinct parties", async () => {
      const r = await networkHelpers.loadFixture(ready);
      const { s } = r;
      const escrows = async () => (await s.hub.balanceOf(s.requester.address)) + (await s.hub.balanceOf(s.stranger.address));

      // A second requester pays for a signature-tier receipt; the first runs a TEE → ZK operation through the CLI.
      await fund(s, s.stranger, 10n * OPG);
      await depositWithPermit(s, s.stranger, 10n * OPG);
      const before = await escrows();
      const receipt = await makeReceipt(s, s.modelId, { requester: s.stranger.address });
      await (await s.hub.connect(s.stranger).submitSigned(receipt, s.operator.address, await sign(s, receipt), 10n * OPG)).wait();
      const classifier = await registerClassifier(r);
      const runs = await buildOperation(r, "stats.json", 3, classifier, fixture(GEMM).inputValues);
      expectSuccess(runs[2]!);
      expectSuccess(await opg(r.dir, as(KEYS.requester), ["operation", "submit", "stats.json", "--max-fee", "100"]));
      // A one-step operation (signature only) counts as an operation, not as a hybrid one.
      expectSuccess(await opg(r.dir, {}, ["operation", "new", "--out", "one.json", "--requester", s.requester.address, "--nonce", "4", "--deadline", r.deadline, "--input-text", "one step"]));
      expectSuccess(await opg(r.dir, { OPG_STEP_KEY: KEYS.operator }, ["operation", "add-signed", "one.json", "--model", s.modelId, "--tier", "signature", "--operator", s.operator.address, "--output", "0x" + "0a".repeat(32)]));
      const single = await opg(r.dir, as(KEYS.requester), ["operation", "submit", "one.json", "--max-fee", "1", "--json"]);
      expectSuccess(single);
      expect(JSON.parse(single.stdout)).to.deep.include({ tier: "signature", weakestTier: "signature", steps: ["signature"] });
      expectSuccess(await opg(r.dir, as(KEYS.modelOwner), ["model", "register", "--weights", "0x" + "5e".repeat(32), "--prices", "1,1,1", "--tiers", "signature"]));
      const paid = before - (await escrows());
      expect(paid).to.equal(2n * PRICES[0] + PRICES[1] + 50n * OPG);

      const run = await opg(r.dir, {}, ["stats", "--json"]);
      expectSuccess(run);
      const stats = JSON.parse(run.stdout) as Record<string, unknown>;
      const to = await chain.ethers.provider.getBlockNumber();
      expect(stats).to.deep.equal({
        inferences: { total: 4, signature: 2, tee: 1, zk: 1 },
        proofsVerified: 1,
        operations: 2,
        hybridOperations: 1,
        models: 3,
        attestations: 1,
        feesPaid: paid.toString(),
        feesByTier: { signature: (2n * PRICES[0]).toString(), tee: PRICES[1].toString(), zk: (50n * OPG).toString() },
        operators: 1,
        requesters: 2,
        modelsServed: 2,
        blocks: { from: 0, to },
      });

      const plain = await opg(r.dir, {}, ["stats"]);
      expectSuccess(plain);
      const lines = plain.stdout.trimEnd().split("\n");
      expect(lines[0]).to.equal("4 inferences, 1 proof, 3 models, 1 attestation, 1 hybrid operation");
      expect(plain.stdout).to.contain("total                4   57.0 OPG");
      expect(plain.stdout).to.contain("operations 2 (1 hybrid)");
      expect(plain.stdout).to.contain("operators 1 · requesters 2");

      // Events after --from-block only: the counters stay, the fees and parties seen in events do not.
      const later = JSON.parse((await opg(r.dir, {}, ["stats", "--from-block", String(to + 1), "--json"])).stdout) as Record<string, unknown>;
      expect(later).to.deep.include({ proofsVerified: 1, models: 3, feesPaid: "0", operators: 0, requesters: 0, modelsServed: 0 });
      expectFailure(await opg(r.dir, {}, ["stats", "--from-block", "latest"]), "--from-block", 2);
    });
  });
});
