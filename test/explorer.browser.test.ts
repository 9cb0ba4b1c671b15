/**
 * The explorer in a real browser: `hardhat node` (a separate process on a free port) filled by the demo's
 * flow — signature, TEE and ZK receipts, a hybrid operation, two requests served by the operator node, a
 * pending signature result and a refuted one — plus a model whose metadata URI is HTML; `opg explorer` as a
 * separate process; headless Chromium (Debian's /usr/bin/chromium, or $CHROMIUM_PATH) driven by
 * puppeteer-core reads the rendered page. The screenshot is kept in test-artifacts/explorer.png.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { expect } from "chai";
import { type Browser } from "puppeteer-core";
import { runDemo, type DemoReport } from "../scripts/demo/flow.ts";
import { Tier } from "../src/receipts/tier.ts";
import { connect, loadDeployment, registerModel } from "../src/settlement/index.ts";
import { releaseZkResources } from "../src/zkml/index.ts";
import { OPG_BIN } from "./helpers/process.ts";
import { startRpcNode, type RpcNode } from "./helpers/rpc.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const CHROMIUM = process.env["CHROMIUM_PATH"] ?? "/usr/bin/chromium";
const HOSTILE_URI = `<img src=x onerror="document.body.dataset.pwned='1'">ipfs://evil`;

interface RenderedPage {
  totals: Record<string, string>;
  sections: Record<string, { title: string; rows: Record<string, string>[] }>;
  /** The metadata column as displayed (textContent). */
  metadataShown: string[];
  images: number;
  pwned: string | undefined;
}

/**
 * Run in the page (a string: this project's TypeScript has no DOM types): what the page shows, by section
 * and column (each cell's full value: long hex is shortened on screen).
 */
const READ_PAGE = `(() => {
  const totals = {};
  for (const box of document.querySelectorAll("[data-total]")) totals[box.dataset.total] = box.querySelector(".value")?.textContent ?? "";
  const sections = {};
  for (const section of document.querySelectorAll("section")) {
    const rows = [...section.querySelectorAll("tr")].slice(1).map((tr) => {
      const row = {};
      for (const td of tr.querySelectorAll("td")) row[td.dataset.col] = td.dataset.value ?? "";
      return row;
    });
    sections[section.id] = { title: section.querySelector("h2")?.textContent ?? "", rows };
  }
  const metadataShown = [...document.querySelectorAll('td[data-col="metadata"]')].map((td) => td.textContent);
  return { totals, sections, metadataShown, images: document.querySelectorAll("img").length, pwned: document.body.dataset.pwned };
})()`;

/** Starts `opg explorer` and resolves with its URL once it listens. */
function startExplorer(args: readonly string[]): Promise<{ url: string; child: ChildProcess }> {
  const child = spawn(process.execPath, [OPG_BIN, "explorer", ...args], { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"], env: { PATH: process.env["PATH"] ?? "", HOME: process.env["HOME"] ?? "" } });
  let output = "";
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`opg explorer did not start:\n${output}`)), 60_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString("utf8");
      const found = /at (http:\/\/127\.0\.0\.1:\d+\/)/.exec(output);
      if (found !== null) {
        clearTimeout(timer);
        resolve({ url: found[1]!, child });
      }
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", onData);
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`opg explorer exited (${code}):\n${output}`));
    });
  });
}

describe("explorer: the live page in headless Chromium against hardhat node", function () {
  this.timeout(900_000);
  let node: RpcNode;
  let report: DemoReport;
  let explorer: ChildProcess | undefined;
  let browser: Browser | undefined;
  let page: RenderedPage;
  let hostileModel: string;

  before(async function () {
    if (!existsSync(CHROMIUM)) throw new Error(`no Chromium at ${CHROMIUM}: install Debian's chromium (.ci/run does) or set CHROMIUM_PATH`);
    node = await startRpcNode();
    try {
      report = await runDemo(node.connection as never, () => {}, { deploymentId: node.deploymentId, honestPendingReceipts: 1 });
    } finally {
      await releaseZkResources();
    }
    const deploymentFile = join(ROOT, "ignition", "deployments", node.deploymentId, "deployed_addresses.json");
    const [, modelOwner] = await node.connection.ethers.getSigners();
    const deployment = await loadDeployment(deploymentFile);
    ({ modelId: hostileModel } = await registerModel(connect(deployment, modelOwner!), {
      weightsCommitment: `0x${"5a".repeat(32)}`,
      metadataURI: HOSTILE_URI,
      prices: [1n, 2n, 3n],
      tiers: [Tier.Signature],
    }));

    const started = await startExplorer(["--rpc", node.url, "--deployment", deploymentFile, "--port", "0"]);
    explorer = started.child;
    const { default: puppeteer } = await import("puppeteer-core");
    browser = await puppeteer.launch({ executablePath: CHROMIUM, headless: true, args: ["--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"] });
    const tab = await browser.newPage();
    await tab.setViewport({ width: 1600, height: 1200 });
    await tab.goto(started.url, { waitUntil: "domcontentloaded" });
    await tab.waitForFunction('document.querySelector("#receipts table") !== null && document.querySelector("#requests table") !== null', { timeout: 120_000 });
    page = (await tab.evaluate(READ_PAGE)) as RenderedPage;
    mkdirSync(join(ROOT, "test-artifacts"), { recursive: true });
    await tab.screenshot({ path: join(ROOT, "test-artifacts", "explorer.png"), fullPage: true });
  });

  after(async function () {
    await browser?.close();
    if (explorer !== undefined && explorer.exitCode === null) {
      const exited = new Promise((resolve) => explorer!.once("exit", resolve));
      explorer.kill("SIGTERM");
      await exited;
    }
    await node?.stop();
  });

  it("shows totals per tier, requests and fraud-proof outcomes", function () {
    const count = (label: string) => Number(page.totals[label]);
    expect(count("inferences · signature")).to.be.at.least(4);
    expect(count("inferences · tee")).to.be.at.least(2);
    expect(count("inferences · zk")).to.be.at.least(2);
    expect(count("requests")).to.equal(report.requests.length);
    expect(count("requests fulfilled")).to.equal(report.requests.length);
    expect(count("results refuted")).to.equal(report.challenges.length);
    expect(count("results pending")).to.equal(1);
    expect(page.totals["fees · zk"]).to.match(/^[1-9][0-9.]* OPG$/);
  });

  it("lists receipts with their tier and status: final, pending, refuted", function () {
    const receipts = page.sections["receipts"]!.rows;
    expect(new Set(receipts.map((r) => r["tier"]))).to.include.members(["signature", "tee", "zk"]);
    const refuted = receipts.filter((r) => r["status"] === "refuted");
    expect(refuted.map((r) => r["id"])).to.deep.equal(report.challenges.map((c) => c.id));
    const pending = receipts.filter((r) => r["status"] === "pending");
    expect(pending).to.have.length(1);
    expect(pending[0]!["final at"]).to.match(/^\d{4}-\d\d-\d\dT/);
    expect(receipts.filter((r) => r["status"] === "final").map((r) => r["tier"])).to.include.members(["signature", "tee", "zk"]);
    // Every receipt and operation step has one of the three statuses (a step's is its operation's).
    expect(receipts.filter((r) => !["final", "pending", "refuted"].includes(r["status"]!))).to.deep.equal([]);
    expect(page.sections["refutations"]!.rows.map((r) => r["result id"])).to.deep.equal(report.challenges.map((c) => c.id));
  });

  it("lists the hybrid operation and the requests with the tier of each step", function () {
    const operations = page.sections["operations"]!.rows;
    expect(operations.map((r) => r["steps (tier of each)"])).to.include("tee → zk");
    const requests = page.sections["requests"]!.rows;
    expect(requests.map((r) => r["id"]).sort()).to.deep.equal(report.requests.map((r) => r.id).sort());
    for (const served of report.requests) {
      const row = requests.find((r) => r["id"] === served.id)!;
      expect(row["status"]).to.equal("final");
      expect(row["steps (tier of each)"]).to.equal(served.steps.join(" → "));
      expect(row["outputs"]).to.match(/^-?\d+(, -?\d+)*$/);
    }
  });

  it("shows the public outputs of proofs, models with prices, tiers and images, and enclave keys with expiry", function () {
    const proofs = page.sections["proofs"]!.rows;
    expect(proofs.length).to.be.at.least(2);
    for (const p of proofs) expect(p["outputs (signed fixed-point integers)"]).to.match(/^-?\d+(, -?\d+)*$/);
    const models = page.sections["models"]!.rows;
    const sentiment = models.find((m) => m["tiers"] === "signature, tee")!;
    expect(sentiment["prices (signature / tee / zk)"]).to.equal("1.0 / 5.0 / 50.0");
    expect(sentiment["approved images"]).to.match(/^0x[0-9a-f]{64}$/);
    expect(models.find((m) => m["tiers"] === "signature, zk")).to.not.equal(undefined);
    const keys = page.sections["enclaves"]!.rows;
    expect(keys.length).to.be.at.least(1);
    expect(keys[0]!["state"]).to.equal("active");
    expect(Date.parse(keys[0]!["expires"]!)).to.be.greaterThan(Date.parse(keys[0]!["attested"]!));
  });

  it("shows what the chain says as text: HTML in a model's metadata URI does not run", function () {
    const hostile = page.sections["models"]!.rows.find((m) => m["id"] === hostileModel)!;
    expect(hostile["metadata"]).to.equal(HOSTILE_URI);
    expect(page.metadataShown).to.include(HOSTILE_URI);
    expect(page.images).to.equal(0);
    expect(page.pwned).to.equal(undefined);
    expect(existsSync(join(ROOT, "test-artifacts", "explorer.png"))).to.equal(true);
  });
});
