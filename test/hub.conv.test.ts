/**
 * The conv fixture end to end: conv-mnist-4l (Conv, Relu, Conv, Relu, Flatten, Gemm, Relu, Gemm) builds
 * into a circuit (cached across runs, see cachedBuild), proves the fixture input within tolerance of
 * onnxruntime's expected.json, registers with `opg model register --zk` and verifies on-chain.
 */
import { expect } from "chai";
import { mkdtempSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { commitQuantized } from "../src/commitments/index.ts";
import { zkEvidence } from "../src/pipeline/zk.ts";
import { bindingOf, receiptId } from "../src/receipts/index.ts";
import { Tier } from "../src/receipts/tier.ts";
import { encodeProofForEvm, flattenNested, prove, quantizeInput, verify, type ZkBuild, type ZkProofBundle } from "../src/zkml/index.ts";
import { PRICES, depositWithPermit, fund, makeReceipt, stakeOperator } from "./helpers/actors.ts";
import { keyOf, runOpg } from "./helpers/cli.ts";
import { deploymentOf } from "./helpers/enclave.ts";
import { OPG, deployOn, newChain } from "./helpers/system.ts";
import { cachedBuild, fixture, withinTolerance } from "./zkml/helpers.ts";

const chain = await newChain();
const NAME = "conv-mnist-4l";

describe("zkml: conv-mnist-4l end to end (build, prove, register --zk, verify on-chain)", function () {
  this.timeout(1_800_000);
  let build: ZkBuild;
  let bundle: ZkProofBundle;

  before(async () => {
    // Pixels lie in [0, 1): an input range of [-2, 2) keeps each input at 12 + 1 + 1 = 14 range bits.
    build = await cachedBuild(NAME, fixture(NAME).onnx, { inputIntBits: 1 });
    bundle = await prove(build, fixture(NAME).input, { binding: 99n });
  });

  it("fits the constraint budget, with its input and output committed by commitQuantized (packed at 36 bits)", () => {
    const m = build.metadata;
    expect(m.circuit.constraints).to.be.at.most(30_000);
    expect(m.commitment).to.deep.equal({ scheme: "packed", bits: 36, valuesPerElement: 7 });
    expect(m.publicSignals).to.have.length(13);
    expect(m.parameterCount).to.equal(3047);
  });

  it("proves the fixture input with outputs within tolerance of onnxruntime's expected.json", async () => {
    const f = fixture(NAME);
    const { values, shape } = flattenNested(bundle.output);
    expect(shape).to.deep.equal(f.expectedShape);
    values.forEach((v, i) => expect(withinTolerance(v, f.expected[i] ?? NaN), `output ${i}: ${v} vs ${f.expected[i]}`).to.equal(true));
    expect(bundle.inputCommitment).to.equal(await commitQuantized(quantizeInput(build.model, f.inputValues), build.model.scaleBits));
    expect(await verify(build, bundle)).to.deep.equal({ valid: true });
  });

  it("registers with `opg model register --zk` and verifies on-chain (submitProven)", async () => {
    const s = await deployOn(chain);
    const dir = mkdtempSync(join(tmpdir(), "opg-conv-cli-"));
    writeFileSync(join(dir, "deployment.json"), JSON.stringify(await deploymentOf(s)));
    symlinkSync(build.dir, join(dir, "conv"));
    const run = await runOpg(chain, dir, { OPG_PRIVATE_KEY: keyOf(1) }, ["model", "register", "--zk", "conv", "--prices", "0,0,50", "--tiers", "zk"]);
    expect(run.code, run.stderr).to.equal(0);
    const modelId = /^registered model (0x[0-9a-f]{64}) \(tiers zk; gas \d+\)\n$/.exec(run.stdout)?.[1];
    expect(modelId, run.stdout).to.not.equal(undefined);

    await stakeOperator(s);
    await fund(s, s.requester, 1_000n * OPG);
    await depositWithPermit(s, s.requester, 1_000n * OPG);
    const { chainId } = await s.ethers.provider.getNetwork();
    const draft = await makeReceipt(s, modelId!, { tier: Tier.ZK });
    const id = receiptId(chainId, await s.hub.getAddress(), draft.requester, modelId!, draft.nonce);
    const proof = await prove(build, fixture(NAME).input, { binding: bindingOf(id, draft.operator) });
    const receipt = { ...draft, inputCommitment: proof.inputCommitment, outputCommitment: proof.outputCommitment };
    const evidence = zkEvidence(proof, receipt, id);
    const tx = s.hub.connect(s.requester).submitProven(receipt, [...evidence.proof], [...evidence.outputs], PRICES[2]);
    await expect(tx).to.emit(s.hub, "ProofVerified").withArgs(id, modelId, [...evidence.outputs]);
    expect(await s.hub.verifiedTier(id)).to.equal(Tier.ZK);

    // Another output than the proved one is refused.
    const other = await makeReceipt(s, modelId!, { tier: Tier.ZK });
    const otherId = receiptId(chainId, await s.hub.getAddress(), other.requester, modelId!, other.nonce);
    const otherProof = await prove(build, fixture(NAME).input, { binding: bindingOf(otherId, other.operator) });
    const outputs = zkEvidence(otherProof, { ...other, inputCommitment: otherProof.inputCommitment, outputCommitment: otherProof.outputCommitment }, otherId).outputs.map((v, i) => (i === 0 ? v + 1n : v));
    await expect(
      s.hub.connect(s.requester).submitProven({ ...other, inputCommitment: otherProof.inputCommitment, outputCommitment: otherProof.outputCommitment }, [...encodeProofForEvm(otherProof.proof)], outputs, PRICES[2]),
    ).to.be.revertedWithCustomError(s.hub, "InferenceHubInvalidProof");
  });
});
