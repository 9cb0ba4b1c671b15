/**
 * The CLI as separate processes against `npx hardhat node` (free port): a new user funds accounts,
 * stakes, deposits, asks for an inference with `opg infer` and reads it back, while an operator
 * (here the library's operator-side functions, as the operator node uses them) fulfils it.
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "chai";
import { Contract, NonceManager, Wallet } from "ethers";
import { Tier } from "../src/receipts/tier.ts";
import { REQUEST_BOOK_ABI, decodeRequestInput, fulfilRequest, paramsFromResult, signedRequestStep, type RequestContext } from "../src/requests/index.ts";
import { connect, registerModel, type Deployment } from "../src/settlement/index.ts";
import { keyOf } from "./helpers/cli.ts";
import { deployTo, opgProcess, startHardhatNode, type LocalNode, type ProcessRun } from "./helpers/processes.ts";

const OPG = 10n ** 18n;
const KEYS = { admin: keyOf(0), modelOwner: keyOf(1), operator: keyOf(2), requester: keyOf(3) };

function ok(run: ProcessRun): string {
  expect(run.code, run.stderr).to.equal(0);
  return run.stdout;
}

/** Exit 1 and one readable line on stderr. */
function failed(run: ProcessRun, text: string): void {
  expect(run.code, run.stdout + run.stderr).to.equal(1);
  expect(run.stderr.trimEnd().split("\n"), run.stderr).to.have.length(1);
  expect(run.stderr).to.contain(text);
}

describe("cli processes: opg token / operator / escrow / infer / request against npx hardhat node", function () {
  this.timeout(600_000);
  let node: LocalNode;
  let deployment: Deployment;
  let dir: string;
  let modelId: string;
  let stopOperator = false;
  let operatorLoop: Promise<void>;
  const as = (key: string) => ({ OPG_PRIVATE_KEY: key, OPG_RPC_URL: node.url });
  const opg = (key: string, ...args: string[]) => opgProcess([...args, "--deployment", "deployment.json"], as(key), dir);

  before(async () => {
    node = await startHardhatNode();
    deployment = await deployTo(node.provider, { minimumStake: 100n * OPG });
    dir = mkdtempSync(join(tmpdir(), "opg-requests-cli-"));
    writeFileSync(join(dir, "deployment.json"), JSON.stringify(deployment));
    writeFileSync(join(dir, "input.json"), JSON.stringify({ input: [[0.5, -1, 2, 0.25]] }));
    const owner = connect(deployment, new NonceManager(new Wallet(KEYS.modelOwner, node.provider)));
    ({ modelId } = await registerModel(owner, { weightsCommitment: `0x${"42".repeat(32)}`, metadataURI: "ipfs://doubler", prices: [2n * OPG, 5n * OPG, 50n * OPG], tiers: [Tier.Signature] }));
    // The operator: serves every request for the model by doubling its input values, at the signature tier.
    const operator = new NonceManager(new Wallet(KEYS.operator, node.provider));
    const book = new Contract(deployment.requests!, REQUEST_BOOK_ABI, operator);
    const { chainId } = await node.provider.getNetwork();
    const served = new Set<string>();
    operatorLoop = (async () => {
      while (!stopOperator) {
        const events = await book.queryFilter(book.filters["InferenceRequested"]!(), 0);
        for (const event of events) {
          if (!("args" in event) || served.has(event.args.getValue("requestId") as string)) continue;
          served.add(event.args.getValue("requestId") as string);
          const params = paramsFromResult(event.args.getValue("params"));
          const outputs = decodeRequestInput(event.args.getValue("input") as string).map((v) => 2n * v);
          const ctx: RequestContext = { chainId, book: deployment.requests!, requester: event.args.getValue("requester") as string, params, operator: await operator.getAddress() };
          const step = await signedRequestStep(ctx, { index: 0, inputCommitment: params.inputCommitment, tier: Tier.Signature, outputs, scaleBits: 12, signer: operator });
          await fulfilRequest(book, operator, ctx, [step], outputs);
        }
        await new Promise((r) => setTimeout(r, 300));
      }
    })();
  });

  after(async () => {
    stopOperator = true;
    await operatorLoop?.catch(() => undefined);
    node?.provider.destroy();
    await node?.stop();
  });

  it("funds, stakes, deposits, infers and withdraws with amounts in OPG", async () => {
    const operator = new Wallet(KEYS.operator).address;
    const requester = new Wallet(KEYS.requester).address;
    expect(ok(await opg(KEYS.admin, "token", "transfer", operator, "500"))).to.match(/^sent 500\.0 OPG to 0x[0-9a-fA-F]{40} \(gas \d+\)\n$/);
    ok(await opg(KEYS.admin, "token", "transfer", requester, "100"));
    expect(ok(await opg(KEYS.operator, "operator", "stake", "200"))).to.contain("bonded 200.0 OPG, active");
    expect(ok(await opg(KEYS.requester, "escrow", "deposit", "40"))).to.contain("escrow 40.0 OPG");

    const run = await opg(KEYS.requester, "infer", "--model", modelId, "--input", "input.json", "--tier", "signature", "--json");
    const result = JSON.parse(ok(run)) as { requestId: string; tier: string; verified: boolean; output: number[][]; fee: string; gasUsed: { request: number; fulfil: number } };
    expect(result.verified).to.equal(true);
    expect(result.tier).to.equal("signature");
    expect(result.output).to.deep.equal([[1, -2, 4, 0.5]]);
    expect(result.fee).to.equal("2.0");
    expect(result.gasUsed.request).to.be.greaterThan(0);
    expect(result.gasUsed.fulfil).to.be.greaterThan(0);

    const shown = JSON.parse(ok(await opg(KEYS.requester, "request", "show", result.requestId, "--json"))) as { status: string; pipeline: string[] };
    expect(shown.status).to.equal("fulfilled");
    expect(shown.pipeline).to.deep.equal([modelId.toLowerCase()]);
    expect(ok(await opg(KEYS.requester, "escrow", "balance"))).to.contain("escrow 38.0 OPG");
    expect(ok(await opg(KEYS.operator, "escrow", "withdraw", "all"))).to.match(/^withdrew 1\.4 OPG to /);
  });

  it("fails with one readable line, in OPG, for bad input", async () => {
    // Errors with an obvious fix name it.
    failed(await opg(KEYS.requester, "escrow", "withdraw", "1000"), "needs 1000.0 OPG: deposit with opg escrow deposit");
    failed(await opg(KEYS.requester, "infer", "--model", modelId, "--input", "input.json", "--max-fee", "1"), "below the price 2.0 OPG: raise --max-fee");
    failed(await opg(KEYS.requester, "infer", "--model", modelId, "--input", "input.json", "--tier", "zk"), "RequestBookTierNotAccepted");
    failed(await opg(KEYS.requester, "infer", "--model", modelId, "--input", "missing.json"), "cannot read input file missing.json");
    const usage = await opg(KEYS.requester, "token", "transfer", "nobody", "1");
    expect(usage.code).to.equal(2);
    expect(usage.stderr).to.contain("<address> must be an address");
    failed(await opg(KEYS.requester, "request", "cancel", `0x${"ab".repeat(32)}`), "no request");
  });
});
