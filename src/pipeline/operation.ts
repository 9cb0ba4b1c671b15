/**
 * Multi-step operations: each step runs at its own tier, and step i's output commitment is step i+1's
 * input commitment. The builder produces each step's evidence as it goes (an operator or enclave
 * signature, or a Groth16 proof bound to the step's receipt id) and checks the chain before anything
 * reaches the chain, so a broken operation fails here with a readable error rather than as a revert.
 */
import { commitQuantized, type Commitment } from "../commitments/index.ts";
import { InvalidInputError, OpgError } from "../errors.ts";
import {
  bindingOf,
  buildReceipt,
  checkAddress,
  hubDomain,
  OPERATION_NONCE_FLAG,
  operationId,
  receiptId,
  signReceipt,
  type Hex,
  type Receipt,
  type TypedDataSigner,
} from "../receipts/receipt.ts";
import { Tier, parseTier, tierName, type TierName } from "../receipts/tier.ts";
import type { StepEvidence } from "../settlement/client.ts";
import { prove, quantizeInput, type ZkBuild, type ZkProofBundle } from "../zkml/index.ts";
import { zkEvidence } from "./zk.ts";

/** The chain of commitments is broken: a step does not consume what the previous one produced. */
export class BrokenChainError extends OpgError {
  override readonly name = "BrokenChainError";
  constructor(step: number, expected: string, actual: string) {
    super("BROKEN_CHAIN", `step ${step} consumes ${actual}, but the previous step produced ${expected}`, { details: { step, expected, actual } });
  }
}


/** Where and for whom the operation runs. */
export interface OperationContext {
  readonly chainId: bigint;
  readonly hub: string;
  readonly requester: string;
  /** The operation's nonce, below 2^255; its steps carry it with OPERATION_NONCE_FLAG set. */
  readonly nonce: bigint;
  /** Unix seconds. */
  readonly deadline: bigint;
  /** Commitment to the operation's input: what the first step must consume. */
  readonly inputCommitment: Commitment;
}

/** An operation ready to submit (and to store as JSON between the parties that build it). */
export interface Operation {
  readonly context: OperationContext;
  readonly steps: readonly Receipt[];
  readonly evidence: readonly StepEvidence[];
  /** Decoded outputs of ZK steps, by step index (what the dApp reads, in floats). */
  readonly zkOutputs: Readonly<Record<number, unknown>>;
}

const NO_PROOF: readonly bigint[] = Array(8).fill(0n);
export const MAX_STEPS = 16;

export class OperationBuilder {
  private readonly steps: Receipt[] = [];
  private readonly evidence: StepEvidence[] = [];
  private readonly zkOutputs: Record<number, unknown> = {};

  constructor(readonly context: OperationContext) {
    checkAddress(context.hub, "hub");
    checkAddress(context.requester, "requester");
    if (context.nonce < 0n || context.nonce >= OPERATION_NONCE_FLAG) {
      throw new InvalidInputError(`an operation nonce is below 2^255, got ${context.nonce}`);
    }
  }

  /** The nonce every step's receipt carries. */
  get stepNonce(): bigint {
    return this.context.nonce | OPERATION_NONCE_FLAG;
  }

  /** Resumes an operation (e.g. read from JSON) to add more steps. */
  static resume(operation: Operation): OperationBuilder {
    const builder = new OperationBuilder(operation.context);
    builder.steps.push(...operation.steps);
    builder.evidence.push(...operation.evidence);
    Object.assign(builder.zkOutputs, operation.zkOutputs);
    return builder;
  }

  /** The commitment the next step must consume. */
  get tail(): Commitment {
    return (this.steps.at(-1)?.outputCommitment ?? this.context.inputCommitment) as Commitment;
  }

  /** The receipt id of a step of this operation for `modelId` (what a ZK step's proof binds to). */
  stepId(modelId: string): Hex {
    return receiptId(this.context.chainId, this.context.hub, this.context.requester, modelId, this.stepNonce);
  }

  /**
   * Adds a Signature- or TEE-tier step: `signer` (the operator's key, or the enclave's) signs the
   * step's receipt. The step consumes the current tail and produces `outputCommitment`.
   */
  async addSignedStep(step: {
    modelId: string;
    tier: typeof Tier.Signature | typeof Tier.TEE;
    operator: string;
    outputCommitment: Commitment;
    signer: TypedDataSigner & { getAddress(): Promise<string> };
  }): Promise<Receipt> {
    this.checkRoom();
    this.checkNewModel(step.modelId);
    const receipt = this.receiptFor(step.modelId, step.tier, step.operator, this.tail, step.outputCommitment);
    const signature = await signReceipt(receipt, hubDomain(this.context.chainId, this.context.hub), step.signer);
    this.push(receipt, { signer: await step.signer.getAddress(), signature, proof: NO_PROOF, outputs: [] });
    return receipt;
  }

  /**
   * Adds a ZK step: proves `build`'s model on `input` with the proof bound to this step's receipt id.
   * The proven input commitment must be the current tail, so the previous step must have committed
   * to exactly these quantized values (at this model's scale).
   */
  async addZkStep(step: { modelId: string; operator: string; build: ZkBuild; input: unknown }): Promise<{ receipt: Receipt; bundle: ZkProofBundle }> {
    this.checkRoom();
    this.checkNewModel(step.modelId);
    const id = this.stepId(step.modelId);
    const bundle = await prove(step.build, step.input, { binding: bindingOf(id, step.operator) });
    if (bundle.inputCommitment !== this.tail) throw new BrokenChainError(this.steps.length, this.tail, bundle.inputCommitment);
    const receipt = this.receiptFor(step.modelId, Tier.ZK, step.operator, bundle.inputCommitment, bundle.outputCommitment);
    const { proof, outputs } = zkEvidence(bundle, receipt, id);
    this.zkOutputs[this.steps.length] = bundle.output;
    this.push(receipt, { signer: `0x${"00".repeat(20)}`, signature: "0x", proof, outputs });
    return { receipt, bundle };
  }

  /** The operation, checked: at least one step, chained commitments, distinct step ids. */
  build(): Operation {
    if (this.steps.length === 0) throw new InvalidInputError("an operation needs at least one step");
    this.steps.forEach((step, i) => {
      const expected = i === 0 ? this.context.inputCommitment : this.steps[i - 1]!.outputCommitment;
      if (step.inputCommitment !== expected) throw new BrokenChainError(i, expected, step.inputCommitment);
    });
    return { context: this.context, steps: [...this.steps], evidence: [...this.evidence], zkOutputs: { ...this.zkOutputs } };
  }

  private receiptFor(modelId: string, tier: Exclude<Tier, 0>, operator: string, input: string, output: string): Receipt {
    return buildReceipt({
      modelId,
      inputCommitment: input,
      outputCommitment: output,
      requester: this.context.requester,
      operator,
      nonce: this.stepNonce,
      deadline: this.context.deadline,
      tier,
    });
  }

  private push(receipt: Receipt, evidence: StepEvidence): void {
    this.steps.push(receipt);
    this.evidence.push(evidence);
  }

  /** Two steps of one operation with the same model would share a receipt id: the hub refuses it. */
  private checkNewModel(modelId: string): void {
    if (this.steps.some((s) => s.modelId === modelId.toLowerCase())) {
      throw new InvalidInputError(`model ${modelId} already runs a step of this operation`);
    }
  }

  private checkRoom(): void {
    if (this.steps.length >= MAX_STEPS) throw new InvalidInputError(`an operation has at most ${MAX_STEPS} steps`);
  }
}

/** The id the hub records the operation under (one per requester and nonce). */
export function operationIdOf(operation: Operation): Hex {
  const { chainId, hub, requester, nonce } = operation.context;
  return operationId(chainId, hub, requester, nonce | OPERATION_NONCE_FLAG);
}

/**
 * The output commitment a step must publish to hand `values` to the ZK model of `next`: the values
 * quantized exactly as that circuit quantizes its input (its scale, and its input range checked), then
 * committed with commitQuantized like every step's input and output.
 */
export function handOffCommitment(values: readonly number[], next: ZkBuild): Promise<Commitment> {
  return commitQuantized(quantizeInput(next.model, values), next.model.scaleBits);
}

// ------------------------------------------------------------------ JSON (the file parties pass along)

interface OperationJson {
  format: "opg-operation/1";
  context: Record<string, string>;
  steps: { receipt: Record<string, string>; tier: TierName; evidence: { signer: string; signature: string; proof: string[]; outputs: string[] } }[];
  zkOutputs: Record<string, unknown>;
}

export function operationToJson(operation: Operation): OperationJson {
  const c = operation.context;
  return {
    format: "opg-operation/1",
    context: { chainId: c.chainId.toString(), hub: c.hub, requester: c.requester, nonce: c.nonce.toString(), deadline: c.deadline.toString(), inputCommitment: c.inputCommitment },
    steps: operation.steps.map((r, i) => {
      const e = operation.evidence[i]!;
      return {
        receipt: { modelId: r.modelId, inputCommitment: r.inputCommitment, outputCommitment: r.outputCommitment, requester: r.requester, operator: r.operator, nonce: r.nonce.toString(), deadline: r.deadline.toString() },
        tier: tierName(r.tier) as TierName,
        evidence: { signer: e.signer, signature: e.signature, proof: e.proof.map(String), outputs: e.outputs.map(String) },
      };
    }),
    zkOutputs: Object.fromEntries(Object.entries(operation.zkOutputs)),
  };
}

export function operationFromJson(json: unknown): Operation {
  try {
    return parseOperation(json);
  } catch (error) {
    if (error instanceof OpgError) throw error;
    // A field of the wrong shape (a missing object, a non-array) surfaces as a TypeError while reading.
    throw new InvalidInputError(`not an opg-operation/1 file: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
}

function parseOperation(json: unknown): Operation {
  const fail = (what: string): never => {
    throw new InvalidInputError(`not an opg-operation/1 file: ${what}`);
  };
  if (typeof json !== "object" || json === null) fail("not an object");
  const o = json as Partial<OperationJson>;
  if (o.format !== "opg-operation/1") fail(`format is ${String(o.format)}`);
  const c = o.context ?? fail("no context");
  const big = (value: unknown, what: string): bigint => {
    if (typeof value !== "string" || !/^[0-9]+$/.test(value)) fail(`${what} is not a decimal string`);
    return BigInt(value as string);
  };
  const context: OperationContext = {
    chainId: big(c.chainId, "chainId"),
    hub: checkAddress(c.hub ?? "", "hub"),
    requester: checkAddress(c.requester ?? "", "requester"),
    nonce: big(c.nonce, "nonce"),
    deadline: big(c.deadline, "deadline"),
    inputCommitment: (c.inputCommitment ?? fail("no inputCommitment")) as Commitment,
  };
  const steps = (Array.isArray(o.steps) ? o.steps : fail("no steps")).map((step, i) => {
    const r = step.receipt;
    const receipt = buildReceipt({
      modelId: r.modelId ?? "",
      inputCommitment: r.inputCommitment ?? "",
      outputCommitment: r.outputCommitment ?? "",
      requester: r.requester ?? "",
      operator: r.operator ?? "",
      nonce: big(r.nonce, `step ${i} nonce`),
      deadline: big(r.deadline, `step ${i} deadline`),
      tier: parseTier(String(step.tier)),
    });
    const e = step.evidence;
    const evidence: StepEvidence = {
      signer: checkAddress(e.signer, `step ${i} signer`),
      signature: e.signature,
      proof: e.proof.map((p, j) => big(p, `step ${i} proof[${j}]`)),
      outputs: e.outputs.map((p, j) => big(p, `step ${i} outputs[${j}]`)),
    };
    return { receipt, evidence };
  });
  const zkOutputs: Record<number, unknown> = {};
  for (const [k, v] of Object.entries(o.zkOutputs ?? {})) zkOutputs[Number(k)] = v;
  return { context, steps: steps.map((s) => s.receipt), evidence: steps.map((s) => s.evidence), zkOutputs };
}
