import { expect } from "chai";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Contract, Interface } from "ethers";
import { DISPUTES_ABI, claimTuple, findAnyClaim, findClaim, inputDirectory, requestInputs, ResultCorrectError, ResultStatus, scanBlocks, challengeResult, type WatchedModel, type WatcherContext } from "../src/disputes/index.ts";
import { circuitRunner, type ModelRunner } from "../src/execution/index.ts";
import { zkRegistrationFields } from "../src/pipeline/zk.ts";
import { Tier } from "../src/receipts/tier.ts";
import { HUB_ABI, OPERATOR_REGISTRY_ABI } from "../src/settlement/abi.ts";
import { loadBuild, loadProver, releaseZkResources, type WarmProver, type ZkBuild } from "../src/zkml/index.ts";
import { MIN_STAKE, PRICES, depositWithPermit, domainOf, fund, registerModel, stakeOperator, type System } from "./helpers/actors.ts";
import { signResult } from "./helpers/lying-operator.ts";
import { OPG, deployOn, newChain } from "./helpers/system.ts";
import { builtFixture, fixture } from "./zkml/helpers.ts";
import type { Disputes, RequestingConsumer, TieredConsumer } from "../typechain-types/index.ts";
import { AbiCoder } from "ethers";
import { REQUEST_BOOK_ABI } from "../src/requests/abi.ts";
import { buildRequestParams, requestIdOf, RequestStatus, ZERO_ADDRESS } from "../src/requests/types.ts";
import { fulfilRequest, signedRequestStep } from "../src/requests/fulfil.ts";
import { commitModelInput } from "../src/zkml/index.ts";
import { expectFailure, keyOf, runOpg } from "./helpers/cli.ts";

const chain = await newChain();
const WINDOW = 3_600n;
const BOND = PRICES[0] * 10n;

let build: ZkBuild;
let runner: ModelRunner;
let prover: WarmProver;
let inputsDir: string;
let input: bigint[];

type Ready = System & { modelId: string; disputes: Disputes; challenger: string; consumer: TieredConsumer; strictConsumer: TieredConsumer };

async function ready(): Promise<Ready> {
  const s = await deployOn(chain);
  const fields = zkRegistrationFields(build);
  const modelId = await registerModel(s, { tiers: [Tier.Signature, Tier.ZK], weights: fields.weightsCommitment, verifyingKey: fields.verifyingKey });
  await stakeOperator(s);
  await fund(s, s.requester, 1_000n * OPG);
  await depositWithPermit(s, s.requester, 1_000n * OPG);
  const [, , , , , , , , , challenger] = await s.ethers.getSigners();
  const { disputes: address } = await s.hub.disputeConfig();
  const disputes = (await s.ethers.getContractAt("Disputes", address, challenger!)) as unknown as Disputes;
  // A consumer that acts only on final results of at least signature tier.
  const consumer = (await s.ethers.deployContract("TieredConsumer", [await s.hub.getAddress(), Tier.Signature, Tier.Signature, true, false])) as unknown as TieredConsumer;
  const strictConsumer = (await s.ethers.deployContract("TieredConsumer", [await s.hub.getAddress(), Tier.Signature, Tier.Signature, false, true])) as unknown as TieredConsumer;
  return { ...s, modelId, disputes, challenger: challenger!.address, consumer, strictConsumer };
}

let nonce = 1n;
/** The requester submits what `lie`-ing or honest operator signed; returns the result id. */
async function submit(s: Ready, lie: boolean): Promise<{ id: string; block: number }> {
  const signed = await signResult({
    runner,
    input,
    modelId: s.modelId,
    requester: s.requester.address,
    operator: s.operator,
    domain: await domainOf(s),
    nonce: nonce++,
    deadline: BigInt(await s.networkHelpers.time.latest()) + 600n,
    lie,
  });
  const tx = await s.hub.connect(s.requester).submitSigned(signed.receipt, s.operator.address, signed.signature, PRICES[0]);
  const mined = (await tx.wait())!;
  const id = await s.hub.receiptIdOf(s.requester.address, s.modelId, signed.receipt.nonce);
  return { id, block: mined.blockNumber };
}

function watcher(s: Ready): Promise<WatcherContext> {
  const model: WatchedModel = { modelId: s.modelId as `0x${string}`, runner, prover: async () => prover };
  return inputDirectory(inputsDir, [model]).then((inputs) => ({
    hub: new Contract(s.hub.target as string, HUB_ABI, s.ethers.provider),
    disputes: s.disputes as unknown as Contract,
    models: new Map([[s.modelId.toLowerCase(), model]]),
    inputs,
  }));
}

describe("Fraud proofs — a watcher refutes a wrong signature result", function () {
  this.timeout(600_000);

  before(async () => {
    build = await loadBuild((await builtFixture("gemm-relu-3x4")).dir);
    runner = circuitRunner(build);
    prover = await loadProver(build);
    inputsDir = mkdtempSync(join(tmpdir(), "opg-disputes-inputs-"));
    const json = fixture("gemm-relu-3x4").input;
    writeFileSync(join(inputsDir, "input.json"), JSON.stringify(json));
    input = runner.quantizeInput((await import("../src/execution/index.ts")).inputValues(json));
  });

  after(releaseZkResources);

  it("the hand-written ABIs match the compiled contracts", async () => {
    const { readFile } = await import("node:fs/promises");
    const artifact = async (path: string) => new Interface(JSON.parse(await readFile(path, "utf8")).abi);
    const checks: [string, readonly string[]][] = [
      ["artifacts/contracts/disputes/Disputes.sol/Disputes.json", DISPUTES_ABI.filter((f) => !f.includes("PendingResults") && !f.includes("OperatorRegistry"))],
      ["artifacts/contracts/InferenceHub.sol/InferenceHub.json", HUB_ABI.filter((f) => /statusOf|claimOf|disputeConfig|ResultPending|ResultRefuted|PendingResults/.test(f))],
      ["artifacts/contracts/OperatorRegistry.sol/OperatorRegistry.json", OPERATOR_REGISTRY_ABI.filter((f) => /locked|free|Slashed|FreeStake/i.test(f))],
    ];
    for (const [path, fragments] of checks) {
      const compiled = await artifact(path);
      for (const fragment of new Interface([...fragments]).fragments.filter((f) => f.type !== "constructor")) {
        const name = fragment.format("sighash");
        const found = compiled.fragments.find((f) => f.type === fragment.type && f.format("sighash") === name);
        expect(found, `${path}: ${name}`).to.not.equal(undefined);
      }
    }
  });

  it("end to end: the wrong result is pending, the watcher refutes it within the window, the operator is slashed, the requester refunded, the consumer never acts on it", async () => {
    const s = await chain.networkHelpers.loadFixture(ready);
    const escrowBefore = await s.hub.balanceOf(s.requester.address);
    const { id, block } = await submit(s, true);

    const [status, finalAt, challengeable] = await s.hub.statusOf(id);
    expect(Number(status)).to.equal(ResultStatus.Pending);
    expect(challengeable).to.equal(true);
    expect(finalAt).to.equal(BigInt(await s.networkHelpers.time.latest()) + WINDOW);
    expect(await s.operators.lockedOf(s.operator.address)).to.equal(BOND);
    await expect(s.consumer.accept(id)).to.be.revertedWithCustomError(s.consumer, "TieredConsumerNotFinal");

    const challenger = s.challenger;
    const ctx = await watcher(s);
    const events = await scanBlocks(ctx, block, block);
    expect(events.map((e) => e.kind)).to.deep.equal(["challenged"]);
    const report = events[0]!.kind === "challenged" ? events[0]!.report : undefined;
    expect(report?.refuted).to.equal(true);
    expect(report?.slashed).to.equal(BOND);
    expect(report?.reward).to.equal((BOND * 2_000n) / 10_000n);
    expect(report?.refund).to.equal(PRICES[0] + (BOND * 3_000n) / 10_000n);

    expect(Number((await s.hub.statusOf(id))[0])).to.equal(ResultStatus.Refuted);
    expect((await s.operators.stakeOf(s.operator.address)).bonded).to.equal(MIN_STAKE - BOND);
    expect(await s.operators.isBondSlashed(id)).to.equal(true);
    expect(await s.hub.balanceOf(s.requester.address)).to.equal(escrowBefore - PRICES[0] + report!.refund);
    expect(await s.token.balanceOf(challenger)).to.equal(report!.reward);
    await expect(s.hub.verifiedOutput(id, Tier.Signature)).to.be.revertedWithCustomError(s.hub, "PendingResultsRefuted");

    // The window passes: a refuted result never becomes final, and the consumer still refuses it.
    await s.networkHelpers.time.increase(WINDOW * 2n);
    expect(Number((await s.hub.statusOf(id))[0])).to.equal(ResultStatus.Refuted);
    await expect(s.consumer.accept(id)).to.be.revertedWithCustomError(s.consumer, "TieredConsumerInsufficientTier");
    expect(await s.consumer.isAccepted(id)).to.equal(false);
  });

  it("a correct result is left alone, cannot be refuted, and becomes final for the consumer", async () => {
    const s = await chain.networkHelpers.loadFixture(ready);
    const { id, block } = await submit(s, false);
    const ctx = await watcher(s);
    expect((await scanBlocks(ctx, block, block)).map((e) => e.kind)).to.deep.equal(["correct"]);
    // By hand: the proof of the true output carries the signed commitment.
    const pending = await findClaim(ctx.hub, id as `0x${string}`);
    let refused: unknown;
    try {
      await challengeResult(s.disputes as unknown as Contract, prover, pending, input);
    } catch (error) {
      refused = error;
    }
    expect(refused).to.be.instanceOf(ResultCorrectError);
    // Even forced on-chain, the same output is refused.
    const binding = await s.disputes.bindingOf(id, s.challenger);
    const proven = await prover.prove(input, binding);
    const { encodeProofForEvm, encodePublicSignals } = await import("../src/zkml/index.ts");
    const signals = encodePublicSignals(proven.publicSignals);
    await expect(
      s.disputes.challenge(id, [...claimTuple(pending.claim)] as never, proven.outputCommitment, signals.slice(2, -1), encodeProofForEvm(proven.proof)),
    ).to.be.revertedWithCustomError(s.disputes, "DisputesSameOutput");

    await s.networkHelpers.time.increase(WINDOW);
    expect(Number((await s.hub.statusOf(id))[0])).to.equal(ResultStatus.Final);
    await expect(s.consumer.accept(id)).to.emit(s.consumer, "ResultAccepted");
    await expect(s.strictConsumer.accept(id)).to.emit(s.strictConsumer, "ResultAccepted");
  });

  it("opg challenge <id> refutes one wrong result by hand; opg watch --to-block reports correct ones; bad input is one readable line", async () => {
    const s = await chain.networkHelpers.loadFixture(ready);
    const dir = mkdtempSync(join(tmpdir(), "opg-disputes-cli-"));
    const address = async (c: { getAddress(): Promise<string> }) => c.getAddress();
    writeFileSync(
      join(dir, "deployment.json"),
      JSON.stringify({
        token: await address(s.token),
        hub: await address(s.hub),
        models: await address(s.models),
        operators: await address(s.operators),
        enclaves: await address(s.enclaves),
        quorum: await address(s.quorum),
        verifier: await address(s.verifier),
        disputes: await s.disputes.getAddress(),
      }),
    );
    writeFileSync(join(dir, "input.json"), JSON.stringify(fixture("gemm-relu-3x4").input));
    const env = { OPG_PRIVATE_KEY: keyOf(9) };
    const model = `${s.modelId}=${build.dir}`;

    const wrong = await submit(s, true);
    const run = await runOpg(chain, dir, env, ["challenge", wrong.id, "--model", model, "--input", "input.json", "--json"]);
    expect(run.code, run.stderr).to.equal(0);
    const out = JSON.parse(run.stdout) as { id: string; refuted: boolean; slashed: string; reward: string; refund: string; gasUsed: number };
    expect(out).to.include({ id: wrong.id, refuted: true, slashed: BOND.toString() });
    expect(out.gasUsed).to.be.greaterThan(0);
    expect(Number((await s.hub.statusOf(wrong.id))[0])).to.equal(ResultStatus.Refuted);

    // Twice: the result is no longer pending.
    expectFailure(await runOpg(chain, dir, env, ["challenge", wrong.id, "--model", model, "--input", "input.json"]), "refuted");

    // The slash took the operator below the minimum stake: it serves nothing until it tops up.
    expect(await s.operators.isActive(s.operator.address)).to.equal(false);
    await fund(s, s.operator, BOND);
    await (await s.token.connect(s.operator).approve(await s.operators.getAddress(), BOND)).wait();
    await (await s.operators.connect(s.operator).stake(BOND)).wait();
    const right = await submit(s, false);
    const watched = await runOpg(chain, dir, env, ["watch", "--model", model, "--inputs", ".", "--from-block", String(right.block), "--to-block", String(right.block), "--json"]);
    expect(watched.code, watched.stderr).to.equal(0);
    expect(JSON.parse(watched.stdout)).to.deep.include({ kind: "correct", id: right.id });
    const refused = await runOpg(chain, dir, env, ["challenge", right.id, "--model", model, "--input", "input.json"]);
    expect(refused.code).to.equal(1);
    expect(refused.stdout).to.contain(`correct ${right.id}`);
    expectFailure(await runOpg(chain, dir, env, ["challenge", "0x1234", "--model", model, "--input", "input.json"]), "result id");
  });

  it("a challenge after the window fails, and the late result stays final", async () => {
    const s = await chain.networkHelpers.loadFixture(ready);
    const { id } = await submit(s, true);
    const ctx = await watcher(s);
    const pending = await findClaim(ctx.hub, id as `0x${string}`);
    await s.networkHelpers.time.increase(WINDOW);
    let late: unknown;
    try {
      await challengeResult(s.disputes as unknown as Contract, prover, pending, input);
    } catch (error) {
      late = error;
    }
    expect(String((late as Error | undefined)?.message)).to.match(/DisputesWindowClosed/);
    expect(Number((await s.hub.statusOf(id))[0])).to.equal(ResultStatus.Final);
  });

  it("results of a model without a circuit are final at once and not challengeable; a consumer can refuse them", async () => {
    const s = await chain.networkHelpers.loadFixture(ready);
    const plain = await registerModel(s, { tiers: [Tier.Signature] });
    const signed = await signResult({
      runner,
      input,
      modelId: plain,
      requester: s.requester.address,
      operator: s.operator,
      domain: await domainOf(s),
      nonce: nonce++,
      deadline: BigInt(await s.networkHelpers.time.latest()) + 600n,
      lie: true,
    });
    await (await s.hub.connect(s.requester).submitSigned(signed.receipt, s.operator.address, signed.signature, PRICES[0])).wait();
    const id = await s.hub.receiptIdOf(s.requester.address, plain, signed.receipt.nonce);
    const [status, , challengeable] = await s.hub.statusOf(id);
    expect(Number(status)).to.equal(ResultStatus.Final);
    expect(challengeable).to.equal(false);
    await expect(s.strictConsumer.accept(id)).to.be.revertedWithCustomError(s.strictConsumer, "TieredConsumerNotChallengeable");
  });

  it("a wrong request fulfilment: the consumer's callback waits, a watcher following the book refutes it in the window, the consumer never acts", async () => {
    const s = await chain.networkHelpers.loadFixture(ready);
    const book = await s.requests.getAddress();
    const consumer = (await s.ethers.deployContract("RequestingConsumer", [book, [s.modelId], Tier.Signature, Tier.Signature])) as unknown as RequestingConsumer;
    await fund(s, s.requester, 10n * OPG);
    await (await s.token.connect(s.requester).approve(await s.hub.getAddress(), 10n * OPG)).wait();
    await (await s.hub.connect(s.requester).deposit(await consumer.getAddress(), 10n * OPG)).wait();
    const escrowBefore = await s.hub.balanceOf(await consumer.getAddress());

    const inputCommitment = await commitModelInput(build.model, input);
    const deadline = BigInt(await s.networkHelpers.time.latest()) + 600n;
    await (await consumer.classify(inputCommitment, AbiCoder.defaultAbiCoder().encode(["int256[]"], [input]), PRICES[0], deadline, 300_000)).wait();
    const params = buildRequestParams({ pipeline: [s.modelId], inputCommitment, operator: ZERO_ADDRESS, maxFee: PRICES[0], deadline, callback: await consumer.getAddress(), callbackGasLimit: 300_000, nonce: 1n });
    const { chainId } = await s.ethers.provider.getNetwork();
    const requestId = requestIdOf(chainId, book, await consumer.getAddress(), params);
    expect(await consumer.pending(requestId)).to.equal(inputCommitment);

    // The operator signs outputs off by one in their first value: the smallest lie.
    const truth = await runner.execute(input);
    const lie = truth.output.map((v, i) => (i === 0 ? v + 1n : v));
    const ctx = { chainId, book, requester: await consumer.getAddress(), params, operator: s.operator.address };
    const evidence = await signedRequestStep(ctx, { index: 0, inputCommitment, tier: Tier.Signature, outputs: lie, scaleBits: truth.scaleBits, signer: s.operator });
    const bookContract = new Contract(book, REQUEST_BOOK_ABI, s.ethers.provider);
    const fulfilled = await fulfilRequest(bookContract.connect(s.operator) as Contract, s.operator, ctx, [evidence], lie);
    const [status, finalAt, challengeable] = await s.requests.statusOf(requestId);
    expect(Number(status)).to.equal(ResultStatus.Pending);
    expect(challengeable).to.equal(true);
    expect(finalAt).to.equal(BigInt(await s.networkHelpers.time.latest()) + WINDOW);
    expect(await s.operators.lockedOf(s.operator.address)).to.equal(BOND);
    expect(await consumer.awaiting(requestId)).to.not.equal(0n);
    await expect(consumer.act(requestId)).to.be.revertedWithCustomError(consumer, "RequestingConsumerNotFinal");

    // A watcher following the book finds the claim and the input on-chain, recomputes and challenges.
    const model: WatchedModel = { modelId: s.modelId as `0x${string}`, runner, prover: async () => prover };
    const watcherCtx: WatcherContext = {
      hub: new Contract(s.hub.target as string, HUB_ABI, s.ethers.provider),
      book: bookContract,
      disputes: s.disputes as unknown as Contract,
      models: new Map([[s.modelId.toLowerCase(), model]]),
      inputs: requestInputs(bookContract),
    };
    const block = Number(fulfilled.blockNumber);
    expect((await findAnyClaim(watcherCtx.hub, bookContract, requestId as `0x${string}`)).source).to.equal("requests");
    const events = await scanBlocks(watcherCtx, block, block);
    expect(events.map((e) => e.kind)).to.deep.equal(["challenged"]);
    const report = events[0]!.kind === "challenged" ? events[0]!.report : undefined;
    expect(report?.slashed).to.equal(BOND);
    expect(report?.refund).to.equal(PRICES[0] + (BOND * 3_000n) / 10_000n);

    expect(Number((await s.requests.statusOf(requestId))[0])).to.equal(ResultStatus.Refuted);
    expect(Number((await s.requests.resultOf(requestId))[0])).to.equal(RequestStatus.Refuted);
    expect(await s.hub.balanceOf(await consumer.getAddress())).to.equal(escrowBefore - PRICES[0] + report!.refund);
    expect((await s.operators.stakeOf(s.operator.address)).bonded).to.equal(MIN_STAKE - BOND);

    await s.networkHelpers.time.increase(WINDOW * 2n);
    await expect(consumer.act(requestId)).to.be.revertedWithCustomError(consumer, "RequestingConsumerNotFinal");
    await (await consumer.discard(requestId)).wait();
    expect(await consumer.labelOf(requestId)).to.equal(0n);
    expect(await consumer.awaiting(requestId)).to.equal(0n);
  });
});
