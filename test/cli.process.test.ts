/**
 * The CLI as separate processes (`node bin/opg.mjs …`) against `hardhat node` on a free port: every command must print
 * its result and EXIT — a ZK step leaves snarkjs worker threads behind, which used to keep `opg operation add-zk`
 * alive forever, after a refusal too — with amounts in OPG and the same words for a result wherever it is printed.
 */
import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "chai";
import { ContractFactory, JsonRpcProvider, NonceManager, Wallet, type Contract } from "ethers";
import { artifacts } from "hardhat";
import type { Deployment } from "../src/settlement/index.ts";
import { keyOf } from "./helpers/cli.ts";
import { runOpgProcess, startHardhatNode, type HardhatNode, type ProcessRun } from "./helpers/process.ts";
import { builtFixture, fixture } from "./zkml/helpers.ts";

const OPG = 10n ** 18n;
const GEMM = "gemm-relu-3x4";
/** Generous: a loaded machine starts tsx slowly, and proving GEMM takes seconds. A hang is far longer. */
const TIMEOUT_MS = 180_000;

async function deploy(admin: NonceManager, attester: string): Promise<Deployment> {
  const adminAddress = await admin.getAddress();
  const make = async (name: string, ...args: unknown[]): Promise<Contract> => {
    const artifact = await artifacts.readArtifact(name);
    const contract = await new ContractFactory(artifact.abi, artifact.bytecode, admin).deploy(...args);
    await contract.waitForDeployment();
    return contract as Contract;
  };
  const token = await make("OPGToken", adminAddress, 1_000_000n * OPG);
  const verifier = await make("Groth16Verifier");
  const models = await make("ModelRegistry", adminAddress, verifier.target);
  const operators = await make("OperatorRegistry", adminAddress, token.target, 1_000n * OPG, 7n * 86_400n);
  const quorum = await make("AttesterQuorum", adminAddress, [attester], 1);
  const enclaves = await make("EnclaveRegistry", adminAddress, models.target, operators.target, quorum.target, 3_600, 86_400);
  const hub = await make("InferenceHub", {
    admin: adminAddress, feeToken: token.target, treasury: adminAddress, operatorBps: 7_000, modelOwnerBps: 2_000,
    models: models.target, operators: operators.target, enclaves: enclaves.target, verifier: verifier.target,
  });
  const address = (c: Contract) => c.target as string;
  return { token: address(token), hub: address(hub), models: address(models), operators: address(operators), enclaves: address(enclaves), quorum: address(quorum), verifier: address(verifier) };
}

describe("cli as separate processes against hardhat node", function () {
  this.timeout(1_200_000);
  let node: HardhatNode;
  let dir: string;
  let provider: JsonRpcProvider;
  let deployment: Deployment;
  const keys = { admin: keyOf(0), modelOwner: keyOf(1), operator: keyOf(2), requester: keyOf(3) };
  const operator = new Wallet(keys.operator).address;
  const requester = new Wallet(keys.requester).address;

  /** `opg args…` in its own process; chain commands get the node and the deployment file. */
  const opg = (env: Record<string, string>, args: string[]): Promise<ProcessRun> =>
    runOpgProcess(args, { cwd: dir, env: { OPG_RPC_URL: node.url, ...env }, timeoutMs: TIMEOUT_MS });
  const chainArgs = ["--deployment", "deployment.json"];
  /** It exited by itself, with `code`. */
  const exited = (run: ProcessRun, code: number) => {
    expect(run.timedOut, `still running after ${TIMEOUT_MS} ms — stdout: ${run.stdout} stderr: ${run.stderr}`).to.equal(false);
    expect(run.code, run.stderr).to.equal(code);
  };

  before(async () => {
    const head = await builtFixture(GEMM);
    node = await startHardhatNode();
    provider = new JsonRpcProvider(node.url, undefined, { staticNetwork: true, cacheTimeout: -1 });
    const admin = new NonceManager(new Wallet(keys.admin, provider));
    deployment = await deploy(admin, new Wallet(keyOf(6)).address);
    dir = mkdtempSync(join(tmpdir(), "opg-process-cli-"));
    writeFileSync(join(dir, "deployment.json"), JSON.stringify(deployment));
    symlinkSync(head.dir, join(dir, "head"));
    writeFileSync(join(dir, "input.json"), JSON.stringify(fixture(GEMM).input));

    // The operator stakes and the requester funds its escrow (plain transactions: not what is under test).
    const token = new ContractFactory((await artifacts.readArtifact("OPGToken")).abi, "0x").attach(deployment.token).connect(admin) as Contract;
    for (const who of [operator, requester]) await (await token.getFunction("transfer")(who, 1_000n * OPG)).wait();
    const asOperator = new Wallet(keys.operator, provider);
    const registryAbi = (await artifacts.readArtifact("OperatorRegistry")).abi;
    await (await (token.connect(asOperator) as Contract).getFunction("approve")(deployment.operators, 1_000n * OPG)).wait();
    await (await (new ContractFactory(registryAbi, "0x").attach(deployment.operators).connect(asOperator) as Contract).getFunction("stake")(1_000n * OPG)).wait();
    const asRequester = new Wallet(keys.requester, provider);
    const hubAbi = (await artifacts.readArtifact("InferenceHub")).abi;
    await (await (token.connect(asRequester) as Contract).getFunction("approve")(deployment.hub, 100n * OPG)).wait();
    await (await (new ContractFactory(hubAbi, "0x").attach(deployment.hub).connect(asRequester) as Contract).getFunction("deposit")(requester, 100n * OPG)).wait();
  });

  after(async () => {
    provider?.destroy();
    await node?.stop();
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  it("signature → ZK hybrid end to end: every command exits, refusals in OPG, one word for the result", async () => {
    const register = await opg({ OPG_PRIVATE_KEY: keys.operator }, ["operator", "register-signer", "--self", ...chainArgs]);
    exited(register, 0);
    expect(register.stdout).to.match(new RegExp(`^registered signer ${operator} for operator ${operator} `));

    const zk = await opg({ OPG_PRIVATE_KEY: keys.modelOwner }, ["model", "register", "--zk", "head", "--prices", "0,0,50", "--tiers", "zk", ...chainArgs]);
    exited(zk, 0);
    const classifier = /registered model (0x[0-9a-f]{64})/.exec(zk.stdout)![1]!;
    const sig = await opg({ OPG_PRIVATE_KEY: keys.modelOwner }, ["model", "register", "--weights", "0x" + "e1".repeat(32), "--prices", "1,5,50", "--tiers", "signature", ...chainArgs]);
    exited(sig, 0);
    const embedder = /registered model (0x[0-9a-f]{64})/.exec(sig.stdout)![1]!;

    const deadline = String(Math.floor(Date.now() / 1000) + 86_400);
    const build = async (file: string, nonce: number, values: readonly number[]) => {
      exited(await opg({}, ["operation", "new", "--out", file, "--requester", requester, "--nonce", String(nonce), "--deadline", deadline, "--input-text", "a review", ...chainArgs]), 0);
      exited(await opg({ OPG_STEP_KEY: keys.operator }, ["operation", "add-signed", file, "--model", embedder, "--tier", "signature", "--operator", operator, "--output-values", JSON.stringify(values), "--next", "head"]), 0);
      return opg({}, ["operation", "add-zk", file, "head", "--model", classifier, "--operator", operator, "--input", "input.json"]);
    };

    // The ZK step proves, prints its result and exits.
    const proven = await build("op.json", 1, fixture(GEMM).inputValues);
    exited(proven, 0);
    expect(proven.stdout).to.match(/^added zk step: output \[.+\]\n$/);

    // A refused ZK step (the signed step handed over other values) exits too, with one line.
    const refused = await build("broken.json", 2, fixture(GEMM).inputValues.map((v, i) => (i === 0 ? v + 1 : v)));
    exited(refused, 1);
    expect(refused.stdout).to.equal("");
    expect(refused.stderr.trimEnd().split("\n")).to.have.length(1);
    expect(refused.stderr).to.contain("step 1 consumes");

    // --max-fee is in OPG: so is the refusal (1 OPG for the signature step + 50 for the ZK step).
    const tooLow = await opg({ OPG_PRIVATE_KEY: keys.requester }, ["operation", "submit", "op.json", "--max-fee", "50", ...chainArgs]);
    exited(tooLow, 1);
    expect(tooLow.stderr).to.contain("InferenceHubFeeAboveMaximum(fee 51.0 OPG, maxFee 50.0 OPG)");
    expect(tooLow.stderr).to.not.contain("51000000000000000000");

    const submitted = await opg({ OPG_PRIVATE_KEY: keys.requester }, ["operation", "submit", "op.json", "--max-fee", "60", "--json", ...chainArgs]);
    exited(submitted, 0);
    const summary = JSON.parse(submitted.stdout) as Record<string, unknown> & { id: string; stepDetails: { outputs?: string[] }[] };
    expect(summary).to.deep.include({ tier: "hybrid", weakestTier: "signature", steps: ["signature", "zk"], fee: (51n * OPG).toString() });
    expect(summary.stepDetails[1]!.outputs).to.be.an("array").that.is.not.empty;

    const result = await opg({}, ["result", summary.id, "--json", ...chainArgs]);
    exited(result, 0);
    const { gasUsed: _gas, fee: _fee, ...view } = summary;
    expect(JSON.parse(result.stdout)).to.deep.equal({ ...view, meetsPolicy: true });

    const stats = await opg({}, ["stats", "--json", ...chainArgs]);
    exited(stats, 0);
    expect(JSON.parse(stats.stdout)).to.deep.include({ operations: 1, hybridOperations: 1, proofsVerified: 1 });

    // Usage mistakes exit 2 at once.
    exited(await opg({}, ["operation", "add-zk", "op.json", "head"]), 2);
  });
});
