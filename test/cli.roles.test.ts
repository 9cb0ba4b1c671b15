/**
 * Every role from the command line, as separate `opg` processes against `hardhat node` (JSON-RPC), in a
 * project directory holding only Ignition's deployment file for the chain (no --deployment flag):
 * model owner (register, set-prices, set-tiers, deprecate, escrow balance / withdraw of earnings), operator (receipt
 * sign at each tier, unbond, withdraw), requester (receipt submit; insufficient escrow names its fix),
 * attesters and the TEE tier from `opg nitro dev-document`, and `opg commit --values`.
 */
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "chai";
import { Wallet } from "ethers";
import { commitQuantized } from "../src/commitments/index.ts";
import { depositWithPermit, fund, stakeOperator } from "./helpers/actors.ts";
import { keyOf } from "./helpers/cli.ts";
import { opgProcess, type ProcessRun } from "./helpers/process.ts";
import { startRpcNode, type RpcNode } from "./helpers/rpc.ts";
import { deployOn, OPG } from "./helpers/system.ts";

describe("cli: every role as separate processes against hardhat node", function () {
  let node: RpcNode;
  let s: Awaited<ReturnType<typeof deployOn>>;
  let dir: string;
  const env = (key: number, extra: Record<string, string> = {}) => ({ OPG_RPC_URL: node.url, OPG_PRIVATE_KEY: keyOf(key), ...extra });
  const opg = (key: number, args: string[], extra: Record<string, string> = {}) => opgProcess(dir, env(key, extra), args);
  const ok = (run: ProcessRun): string => {
    expect(run.code, run.stderr).to.equal(0);
    expect(run.stderr).to.equal("");
    return run.stdout;
  };
  const oneLineFailure = (run: ProcessRun, text: string) => {
    expect(run.code, run.stdout).to.not.equal(0);
    expect(run.stderr.trimEnd().split("\n"), run.stderr).to.have.length(1);
    expect(run.stderr).to.contain(text);
  };

  before(async function () {
    node = await startRpcNode();
    s = await deployOn(node.connection as never, {}, { deploymentId: node.deploymentId });
    dir = mkdtempSync(join(tmpdir(), "opg-roles-"));
    // Only Ignition's file for the chain: the CLI finds it by chain id.
    const addresses = {
      "OpgSystem#OPGToken": await s.token.getAddress(), "OpgSystem#InferenceHub": await s.hub.getAddress(), "OpgSystem#ModelRegistry": await s.models.getAddress(),
      "OpgSystem#OperatorRegistry": await s.operators.getAddress(), "OpgSystem#EnclaveRegistry": await s.enclaves.getAddress(), "OpgSystem#AttesterQuorum": await s.quorum.getAddress(),
      "OpgSystem#Groth16Verifier": await s.verifier.getAddress(),
    };
    mkdirSync(join(dir, "ignition", "deployments", "chain-31337"), { recursive: true });
    writeFileSync(join(dir, "ignition", "deployments", "chain-31337", "deployed_addresses.json"), JSON.stringify(addresses));
    await stakeOperator(s);
    await fund(s, s.requester, 100n * OPG);
    await depositWithPermit(s, s.requester as never, 3n * OPG);
  });
  after(async () => node?.stop());

  let modelId: string;

  it("opg commit --values matches the library's commitment", async function () {
    const out = ok(await opg(0, ["commit", "--values", "[1, -0.5, 2]", "--json"]));
    expect(JSON.parse(out).commitment).to.equal(await commitQuantized([4096n, -2048n, 8192n], 12));
    oneLineFailure(await opg(0, ["commit", "--values", "[1, \"x\"]"]), "array of finite numbers");
  });

  it("model owner: register, set prices and tiers", async function () {
    const out = ok(await opg(1, ["model", "register", "--weights", `0x${"ab".repeat(32)}`, "--prices", "1,5,50", "--tiers", "signature,tee"]));
    modelId = /registered model (0x[0-9a-f]{64})/.exec(out)![1]!;
    ok(await opg(1, ["model", "set-prices", modelId, "--prices", "2,6,60"]));
    ok(await opg(1, ["model", "set-tiers", modelId, "--tiers", "signature,tee"]));
    const shown = JSON.parse(ok(await opg(0, ["model", "show", modelId, "--json"])));
    expect(shown.prices).to.deep.equal({ signature: "2.0", tee: "6.0", zk: "60.0" });
    expect(shown.tiers).to.deep.equal(["signature", "tee"]);
    oneLineFailure(await opg(5, ["model", "set-prices", modelId, "--prices", "0,0,0"]), "ModelRegistryNotModelOwner");
    oneLineFailure(await opg(5, ["model", "set-prices", modelId, "--prices", "0,0,0"]), "sign with the model owner's key");
  });

  it("operator signs a signature receipt, requester submits it; the second one hits the escrow and names the fix", async function () {
    const sign = (nonce: number, out: string) =>
      opg(2, ["receipt", "sign", "--model", modelId, "--tier", "signature", "--operator", s.operator.address, "--requester", s.requester.address, "--nonce", String(nonce), "--input-values", "[1,2,3]", "--output-values", "[0.5]", "--out", out], { OPG_STEP_KEY: keyOf(2) });
    ok(await sign(1, "r1.json"));
    const submitted = JSON.parse(ok(await opg(3, ["receipt", "submit", "r1.json", "--max-fee", "2", "--json"])));
    expect(submitted).to.include({ tier: "signature", verified: true, fee: (2n * OPG).toString() });
    ok(await sign(2, "r2.json"));
    const refused = await opg(3, ["receipt", "submit", "r2.json", "--max-fee", "2"]);
    oneLineFailure(refused, "FeeEscrowInsufficientBalance");
    expect(refused.stderr).to.contain("deposit with opg escrow deposit");
  });

  it("TEE tier from a development document: approve, attest (2 of 3), register, sign with the enclave key, submit", async function () {
    const made = ok(await opg(2, ["nitro", "dev-document", "--out", "doc.cose", "--operator", s.operator.address]));
    expect(made).to.match(/^DEVELOPMENT attestation document/);
    expect(made).to.contain("not AWS");
    const verified = ok(await opg(0, ["nitro", "verify", "doc.cose", "--root", "opg-dev-root.pem"]));
    expect(verified).to.contain("valid Nitro attestation");
    oneLineFailure(await opg(0, ["nitro", "verify", "doc.cose"]), "root");

    ok(await opg(1, ["enclave", "approve-image", "--model", modelId, "--document", "doc.cose"]));
    const attestations = [];
    for (const attester of [6, 7]) attestations.push(JSON.parse(ok(await opg(attester, ["enclave", "attest", "doc.cose", "--operator", s.operator.address, "--root", "opg-dev-root.pem"]))));
    writeFileSync(join(dir, "attestations.json"), JSON.stringify(attestations));
    ok(await opg(2, ["enclave", "register", "doc.cose", "--model", modelId, "--attestations", "attestations.json"]));

    await depositWithPermit(s, s.requester as never, 10n * OPG);
    const enclaveKey = JSON.parse(readFileSync(join(dir, "opg-dev-enclave-key.json"), "utf8")) as { development: boolean; privateKey: string; address: string };
    expect(enclaveKey.development).to.equal(true);
    ok(await opg(2, ["receipt", "sign", "--model", modelId, "--tier", "tee", "--operator", s.operator.address, "--requester", s.requester.address, "--nonce", "3", "--input", `0x${"01".repeat(32)}`, "--output-values", "[1]", "--out", "tee.json"], { OPG_STEP_KEY: enclaveKey.privateKey }));
    const submitted = JSON.parse(ok(await opg(3, ["receipt", "submit", "tee.json", "--max-fee", "6", "--json"])));
    expect(submitted).to.include({ tier: "tee", verified: true, fee: (6n * OPG).toString() });
  });

  it("model owner withdraws fee earnings, then deprecates the model", async function () {
    // 20% of the 2 OPG signature fee and the 6 OPG TEE fee.
    const earned = ((2n + 6n) * OPG * 2_000n) / 10_000n;
    expect(ok(await opg(1, ["escrow", "balance"]))).to.contain(`${s.modelOwner.address}: escrow 1.6 OPG`);
    const before = await s.token.balanceOf(s.modelOwner.address);
    const out = ok(await opg(1, ["escrow", "withdraw", "all"]));
    expect(out).to.contain("withdrew 1.6 OPG");
    expect((await s.token.balanceOf(s.modelOwner.address)) - before).to.equal(earned);
    oneLineFailure(await opg(1, ["escrow", "withdraw", "all"]), "has 0 OPG in escrow");
    ok(await opg(1, ["model", "deprecate", modelId]));
    expect(JSON.parse(ok(await opg(0, ["model", "show", modelId, "--json"]))).deprecated).to.equal(true);
  });

  it("operator unbonds, cannot withdraw before the delay, withdraws after it", async function () {
    oneLineFailure(await opg(2, ["operator", "withdraw"]), "nothing is unbonding");
    expect(ok(await opg(2, ["operator", "unbond", "--amount", "400"]))).to.match(/unbonding 400\.0 OPG: withdraw with opg operator withdraw after \d{4}-/);
    oneLineFailure(await opg(2, ["operator", "withdraw"]), "withdraw after that");
    await s.networkHelpers.time.increase(7 * 24 * 3600 + 1);
    const before = await s.token.balanceOf(s.operator.address);
    expect(ok(await opg(2, ["operator", "withdraw"]))).to.contain("withdrew 400.0 OPG");
    expect((await s.token.balanceOf(s.operator.address)) - before).to.equal(400n * OPG);
    void Wallet;
  });
});
