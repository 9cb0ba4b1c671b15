import { expect } from "chai";
import { runDemo } from "../scripts/demo/flow.ts";
import { releaseZkResources } from "../src/zkml/index.ts";
import { newChain } from "./helpers/system.ts";

// Root-level: after the whole run, stop snarkjs's worker threads or the test process never exits.
after(releaseZkResources);

describe("npm run demo", function () {
  this.timeout(600_000);

  it("runs the whole flow on the embedded chain and reports every tier verified, fees split exactly", async () => {
    const lines: string[] = [];
    const report = await runDemo(await newChain(), (line) => lines.push(line));
    expect(report.chainId).to.equal(31337);
    expect(report.receipts.map((r) => r.tier)).to.deep.equal(["signature", "signature", "tee", "zk", "hybrid"]);
    for (const receipt of report.receipts) {
      expect(receipt.verified, receipt.tier).to.equal(true);
      expect(receipt.id).to.match(/^0x[0-9a-f]{64}$/);
      expect(receipt.gasUsed).to.be.greaterThan(21_000);
      expect(receipt.fee).to.match(/^[0-9]+$/);
    }
    const hybrid = report.receipts[4]!;
    expect(hybrid.steps?.map((s) => s.tier)).to.deep.equal(["tee", "zk"]);
    expect(BigInt(hybrid.fee)).to.equal(hybrid.steps!.reduce((sum, s) => sum + BigInt(s.fee), 0n));
    // The combined call is cheaper than the same two steps submitted separately.
    expect(hybrid.gasUsed).to.be.lessThan(report.receipts[2]!.gasUsed + report.receipts[3]!.gasUsed);
    const { paid, operator, modelOwner, treasury } = report.fees;
    expect(BigInt(operator) + BigInt(modelOwner) + BigInt(treasury)).to.equal(BigInt(paid));
    expect(BigInt(paid)).to.equal(report.receipts.reduce((sum, r) => sum + BigInt(r.fee), 0n));
    expect(lines.some((l) => l.includes("fees paid"))).to.equal(true);

    // The operator node served an example consumer's requests from chain events, at ZK then signature tier,
    // and the consumer's callback received the same fixed-point outputs both times.
    expect(report.requests.map((r) => r.tier)).to.deep.equal(["zk", "signature"]);
    for (const request of report.requests) {
      expect(Object.keys(request)).to.deep.equal(["id", "tier", "steps", "fulfilled", "callback", "output", "gasUsed"]);
      expect(request.id).to.match(/^0x[0-9a-f]{64}$/);
      expect(request.steps).to.deep.equal([request.tier]);
      expect(request.fulfilled).to.equal(true);
      expect(request.callback).to.equal(true);
      expect(request.gasUsed.request).to.be.greaterThan(21_000);
      expect(request.gasUsed.fulfil).to.be.greaterThan(21_000);
    }
    expect(report.requests[0]!.output).to.have.length(4);
    expect(report.requests[1]!.output).to.deep.equal(report.requests[0]!.output);
    // The classifier's proven output (step 8) is what the callback got.
    expect(lines.some((l) => l.includes(`proven output ${JSON.stringify([report.requests[0]!.output])}`))).to.equal(true);
    // Fraud proofs: the deliberately wrong signature result was refuted; the bond (10 × the 1 OPG price)
    // was paid out as 20% reward and the requester's fee plus 30% compensation.
    expect(report.challenges).to.have.length(1);
    const [challenge] = report.challenges;
    expect(challenge).to.include({ refuted: true, slashed: (10n * 10n ** 18n).toString(), reward: (2n * 10n ** 18n).toString(), refund: (4n * 10n ** 18n).toString() });
    expect(challenge!.gasUsed).to.be.greaterThan(0);
  });
});
