/**
 * One commitment scheme end to end (issue 13): a ZK step's output commitment is the next ZK step's input
 * commitment, and a signature step's output commitment (an operator's float runner) is a ZK step's input
 * commitment, so two-step operations with ZK steps verify on-chain in one `submitOperation` call. The
 * requester computes the operation's input commitment from the values alone (no circuit build).
 */
import { expect } from "chai";
import { commitQuantized } from "../src/commitments/index.ts";
import { loadModelRunner } from "../src/execution/index.ts";
import { BrokenChainError, operationIdOf, type OperationBuilder } from "../src/pipeline/index.ts";
import { zkRegistrationFields } from "../src/pipeline/zk.ts";
import { Tier } from "../src/receipts/tier.ts";
import { requestInputCommitment, quantizeValues } from "../src/requests/index.ts";
import { flattenNested, type ZkBuild } from "../src/zkml/index.ts";
import { PRICES, depositWithPermit, fund, registerModel, stakeOperator, type System } from "./helpers/actors.ts";
import { operationArgs, operationBuilder } from "./helpers/operation.ts";
import { OPG, deployOn, newChain } from "./helpers/system.ts";
import { buildOnnx } from "./zkml/onnx-builder.ts";
import { cachedBuild, fixture } from "./zkml/helpers.ts";

const chain = await newChain();
const FIRST = "gemm-relu-3x4";

/** A 4 → 2 head (Gemm, then Relu on one branch added back) that consumes gemm-relu-3x4's four outputs. */
const HEAD_ONNX = buildOnnx({
  input: { name: "x", shape: [1, 4] },
  output: "y",
  nodes: [
    { op: "Gemm", inputs: ["x", "W", "b"], output: "h", attributes: { transB: 1 } },
    { op: "Relu", inputs: ["h"], output: "r" },
    { op: "Add", inputs: ["r", "h"], output: "y" },
  ],
  initializers: [
    { name: "W", dims: [2, 4], values: [0.5, -1.25, 0.75, 2, -0.5, 1, 0.25, -3] },
    { name: "b", dims: [2], values: [0.125, -0.25] },
  ],
});

let first: ZkBuild;
let head: ZkBuild;

type Ready = System & { firstId: string; headId: string; floatId: string };

async function ready(): Promise<Ready> {
  const s = await deployOn(chain);
  const register = (build: ZkBuild) => {
    const fields = zkRegistrationFields(build);
    return registerModel(s, { tiers: [Tier.ZK], weights: fields.weightsCommitment, verifyingKey: fields.verifyingKey });
  };
  const firstId = await register(first);
  const headId = await register(head);
  const floatId = await registerModel(s, { tiers: [Tier.Signature] });
  await stakeOperator(s);
  await fund(s, s.requester, 1_000n * OPG);
  await depositWithPermit(s, s.requester, 1_000n * OPG);
  return { ...s, firstId, headId, floatId };
}

async function builder(s: Ready, nonce: bigint, input: readonly number[]): Promise<OperationBuilder> {
  // What a requester computes: the values and the first model's scale, nothing else.
  return operationBuilder(s, nonce, await requestInputCommitment(quantizeValues(input, 12), 12));
}

const args = operationArgs;

describe("InferenceHub — operations chaining ZK steps by one commitment scheme", function () {
  this.timeout(900_000);

  before(async () => {
    first = await cachedBuild(FIRST, fixture(FIRST).onnx);
    head = await cachedBuild("zkchain-head-4x2", HEAD_ONNX);
  });

  it("ZK → ZK: the first proof's output commitment is the second proof's input commitment; one call verifies both", async () => {
    const s = await chain.networkHelpers.loadFixture(ready);
    const x = fixture(FIRST).inputValues;
    const op = await builder(s, 1n, x);
    const one = await op.addZkStep({ modelId: s.firstId, operator: s.operator.address, build: first, input: x });
    const hidden = flattenNested(one.bundle.output).values;
    const two = await op.addZkStep({ modelId: s.headId, operator: s.operator.address, build: head, input: hidden });
    expect(two.bundle.inputCommitment).to.equal(one.bundle.outputCommitment);
    // The same function of the same fixed-point values, whoever computes it.
    expect(one.bundle.outputCommitment).to.equal(await commitQuantized(quantizeValues(hidden, 12), 12));
    expect(one.bundle.inputCommitment).to.equal(op.context.inputCommitment);

    const operation = op.build();
    const id = operationIdOf(operation);
    const tx = s.hub.connect(s.requester).submitOperation(...args(operation, { minEach: Tier.ZK, minFinal: Tier.ZK }));
    await expect(tx).to.emit(s.hub, "OperationVerified").withArgs(id, s.requester.address, 2n, Tier.ZK | (Tier.ZK << 4), 2n * PRICES[2]);
    const receipt = await (await tx).wait();
    const proofs = receipt!.logs.filter((l) => s.hub.interface.parseLog(l)?.name === "ProofVerified");
    expect(proofs).to.have.length(2);
    const result = await s.hub.resultOf(id);
    expect(result.stepCount).to.equal(2n);
    expect(result.outputCommitment).to.equal(two.bundle.outputCommitment);
    expect(await s.hub.meetsPolicy(id, Tier.ZK, Tier.ZK)).to.equal(true);
  });

  it("refuses, charging nothing, a second ZK step fed other values than the first step's outputs", async () => {
    const s = await chain.networkHelpers.loadFixture(ready);
    const x = fixture(FIRST).inputValues;
    const op = await builder(s, 2n, x);
    const one = await op.addZkStep({ modelId: s.firstId, operator: s.operator.address, build: first, input: x });
    const shifted = flattenNested(one.bundle.output).values.map((v, i) => (i === 0 ? v + 2 ** -12 : v));
    const refused = await op.addZkStep({ modelId: s.headId, operator: s.operator.address, build: head, input: shifted }).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(refused).to.be.instanceOf(BrokenChainError);
    expect(String(refused)).to.match(/step 1 consumes 0x[0-9a-f]{64}, but the previous step produced 0x[0-9a-f]{64}/);
    expect(await s.hub.balanceOf(s.requester.address)).to.equal(1_000n * OPG);
  });

  it("signature → ZK: an operator's float runner output commitment is the ZK step's input commitment", async () => {
    const s = await chain.networkHelpers.loadFixture(ready);
    const x = fixture(FIRST).inputValues;
    const runner = await loadModelRunner(fixture(FIRST).dir, { scaleBits: 12 });
    try {
      expect(runner.kind).to.equal("float");
      const input = runner.quantizeInput(x);
      const execution = await runner.execute(input);
      const op = await builder(s, 3n, x);
      expect(execution.inputCommitment).to.equal(op.context.inputCommitment);
      await op.addSignedStep({ modelId: s.floatId, tier: Tier.Signature, operator: s.operator.address, outputCommitment: execution.outputCommitment, signer: s.operator });
      const two = await op.addZkStep({ modelId: s.headId, operator: s.operator.address, build: head, input: execution.outputValues });
      expect(two.bundle.inputCommitment).to.equal(execution.outputCommitment);
      const operation = op.build();
      const id = operationIdOf(operation);
      await expect(s.hub.connect(s.requester).submitOperation(...args(operation, { minEach: Tier.Signature, minFinal: Tier.ZK })))
        .to.emit(s.hub, "OperationVerified")
        .withArgs(id, s.requester.address, 2n, Tier.Signature | (Tier.ZK << 4), PRICES[0] + PRICES[2]);
    } finally {
      await runner.close();
    }
  });
});
