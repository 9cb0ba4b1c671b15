/**
 * Talking to a deployment: register models, stake, deposit with a permit, submit receipts, read results.
 * Every function takes ethers contracts (see `connect`) and returns plain data; reverts come back as
 * ContractRevertError naming the contract's custom error.
 */
import { Signature, type Contract, type Log, type Signer, type TransactionReceipt } from "ethers";
import { InvalidInputError, OpgError } from "../errors.ts";
import { checkAddress, type Hex, type Receipt } from "../receipts/receipt.ts";
import { fromField } from "../commitments/index.ts";
import { Tier, resultTierName, tierMask, tierName } from "../receipts/tier.ts";
import type { Contracts } from "./deployment.ts";
import { onChain } from "./errors.ts";
import { send } from "./transactions.ts";

export const BPS = 10_000n;

/** The three parts of a fee, as the hub splits it: shares round down, the treasury takes the rest. */
export interface FeeParts {
  readonly fee: bigint;
  readonly operator: bigint;
  readonly modelOwner: bigint;
  readonly treasury: bigint;
}

export function splitFee(fee: bigint, operatorBps: bigint, modelOwnerBps: bigint): FeeParts {
  const operator = (fee * operatorBps) / BPS;
  const modelOwner = (fee * modelOwnerBps) / BPS;
  return { fee, operator, modelOwner, treasury: fee - operator - modelOwner };
}

/** What one submission cost and settled. */
export interface Settlement {
  readonly id: Hex;
  readonly gasUsed: bigint;
  /** The whole fee: for an operation, the sum over its steps. */
  readonly fee: FeeParts;
  /** Each verified receipt's (or operation step's) fee, in order. */
  readonly steps: readonly FeeParts[];
  readonly transactionHash: string;
}

/** Waits for a sent transaction to be mined (a dropped one is an error, not a null). */
export async function mined(tx: Promise<{ wait(): Promise<TransactionReceipt | null> }>): Promise<TransactionReceipt> {
  const receipt = await (await tx).wait();
  if (receipt === null) throw new OpgError("TX_DROPPED", "the transaction was dropped before it was mined");
  return receipt;
}

function eventsOf(contract: Contract, logs: readonly Log[], name: string) {
  const address = (contract.target as string).toLowerCase();
  return logs
    .filter((log) => log.address.toLowerCase() === address)
    .map((log) => contract.interface.parseLog(log))
    .filter((parsed) => parsed !== null && parsed.name === name);
}

/** The fee parts of every ReceiptVerified event in `logs`, in order. */
function feesOf(hub: Contract, logs: readonly Log[]): FeeParts[] {
  return eventsOf(hub, logs, "ReceiptVerified").map((event) => ({
    fee: event!.args.getValue("fee") as bigint,
    operator: event!.args.getValue("operatorShare") as bigint,
    modelOwner: event!.args.getValue("modelOwnerShare") as bigint,
    treasury: event!.args.getValue("treasuryShare") as bigint,
  }));
}

function sumFees(parts: readonly FeeParts[]): FeeParts {
  return parts.reduce(
    (a, b) => ({ fee: a.fee + b.fee, operator: a.operator + b.operator, modelOwner: a.modelOwner + b.modelOwner, treasury: a.treasury + b.treasury }),
    { fee: 0n, operator: 0n, modelOwner: 0n, treasury: 0n },
  );
}

export interface ModelRegistration {
  readonly weightsCommitment: Hex;
  readonly metadataURI: string;
  /** OPG wei per inference at Signature, TEE, ZK. */
  readonly prices: readonly [bigint, bigint, bigint];
  readonly tiers: readonly Exclude<Tier, 0>[];
  readonly previousVersion?: Hex;
  /** Verifying key words (src/zkml encodeVerifyingKey), required when ZK is accepted. */
  readonly verifyingKey?: Hex;
}

/** Registers a model owned by the contracts' signer; returns its id and the gas used. */
export async function registerModel(c: Contracts, registration: ModelRegistration): Promise<{ modelId: Hex; gasUsed: bigint }> {
  const args = {
    weightsCommitment: registration.weightsCommitment,
    metadataURI: registration.metadataURI,
    prices: [...registration.prices],
    acceptedTiers: tierMask(registration.tiers),
    previousVersion: registration.previousVersion ?? `0x${"00".repeat(32)}`,
    verifyingKey: registration.verifyingKey ?? "0x",
  };
  const receipt = await onChain(() => mined(send(c.models, "registerModel", args)));
  const [event] = eventsOf(c.models, receipt.logs, "ModelRegistered");
  if (event === undefined || event === null) throw new OpgError("EVENT_MISSING", "ModelRegistered was not emitted");
  return { modelId: event.args.getValue("modelId") as Hex, gasUsed: receipt.gasUsed };
}

/** Signs an ERC-2612 permit for `spender` and returns its parts. */
export async function signPermit(token: Contract, owner: Signer, spender: string, value: bigint, deadline: bigint) {
  const ownerAddress = await owner.getAddress();
  const [, name, version, chainId, verifyingContract] = (await token.getFunction("eip712Domain")()) as [string, string, string, bigint, string];
  const nonce = (await token.getFunction("nonces")(ownerAddress)) as bigint;
  const signature = await owner.signTypedData(
    { name, version, chainId, verifyingContract },
    {
      Permit: [
        { name: "owner", type: "address" },
        { name: "spender", type: "address" },
        { name: "value", type: "uint256" },
        { name: "nonce", type: "uint256" },
        { name: "deadline", type: "uint256" },
      ],
    },
    { owner: ownerAddress, spender, value, nonce, deadline },
  );
  const { v, r, s } = Signature.from(signature);
  return { v, r, s, deadline };
}

/** Deposits into the signer's escrow with a permit: one transaction, no approve. */
export async function depositWithPermit(c: Contracts, requester: Signer, amount: bigint, deadline: bigint): Promise<bigint> {
  const permit = await signPermit(c.token, requester, c.hub.target as string, amount, deadline);
  const hub = c.hub.connect(requester) as Contract;
  const receipt = await onChain(() =>
    mined(send(hub, "depositWithPermit", requester.getAddress(), amount, permit.deadline, permit.v, permit.r, permit.s)),
  );
  return receipt.gasUsed;
}

/** The EIP-712 types of the consent a signer key gives to serve an operator (OperatorRegistry.SIGNER_CONSENT_TYPEHASH). */
export const SIGNER_CONSENT_TYPES = {
  SignerConsent: [
    { name: "operator", type: "address" },
    { name: "signer", type: "address" },
    { name: "nonce", type: "uint256" },
    { name: "deadline", type: "uint256" },
  ],
};

/**
 * `signer` signs its consent to serve `operator` until `deadline` (unix seconds), for the registry of `c` (its
 * chain id, address and the signer's current nonce come from the contract). Single use: the nonce advances.
 */
export async function signSignerConsent(c: Contracts, signer: Signer, operator: string, deadline: bigint): Promise<Hex> {
  const [, name, version, chainId, verifyingContract] = (await c.operators.getFunction("eip712Domain")()) as [string, string, string, bigint, string];
  const signerAddress = await signer.getAddress();
  const nonce = (await c.operators.getFunction("nonces")(signerAddress)) as bigint;
  const value = { operator: checkAddress(operator, "operator"), signer: signerAddress, nonce, deadline };
  return (await signer.signTypedData({ name, version, chainId, verifyingContract }, SIGNER_CONSENT_TYPES, value)) as Hex;
}

/**
 * The key to bind and its consent: a Signer signs a consent unless it is the operator itself; an address needs none
 * only when it is the operator's own (the registry binds a key only with its holder's agreement).
 */
async function consentOf(c: Contracts, operator: Signer, signer: Signer | string, deadline: bigint): Promise<{ address: string; consent: Hex }> {
  const operatorAddress = await operator.getAddress();
  const address = typeof signer === "string" ? checkAddress(signer, "signer") : await signer.getAddress();
  if (address.toLowerCase() === operatorAddress.toLowerCase()) return { address, consent: "0x" };
  if (typeof signer === "string") {
    throw new InvalidInputError(`binding ${address} to operator ${operatorAddress} needs the key's consent: pass its Signer, not its address`);
  }
  return { address, consent: await signSignerConsent(c, signer, operatorAddress, deadline) };
}

/**
 * Binds `signer` to `operator` (the transaction's sender): the operator's own address binds as is, another key signs
 * its EIP-712 consent (valid until `deadline`, unix seconds).
 */
export async function registerSigner(c: Contracts, operator: Signer, signer: Signer | string, deadline: bigint): Promise<{ signer: string; gasUsed: bigint; transactionHash: string }> {
  const { address, consent } = await consentOf(c, operator, signer, deadline);
  const registry = c.operators.connect(operator) as Contract;
  const receipt = await onChain(() => mined(send(registry, "registerSigner", address, deadline, consent)));
  return { signer: address, gasUsed: receipt.gasUsed, transactionHash: receipt.hash };
}

/** Replaces `oldSigner` with `newSigner` in one transaction; the new key consents as in `registerSigner`. */
export async function rotateSigner(c: Contracts, operator: Signer, oldSigner: string, newSigner: Signer | string, deadline: bigint): Promise<{ signer: string; gasUsed: bigint; transactionHash: string }> {
  const { address, consent } = await consentOf(c, operator, newSigner, deadline);
  const registry = c.operators.connect(operator) as Contract;
  const receipt = await onChain(() => mined(send(registry, "rotateSigner", checkAddress(oldSigner, "oldSigner"), address, deadline, consent)));
  return { signer: address, gasUsed: receipt.gasUsed, transactionHash: receipt.hash };
}

/**
 * Stakes with a permit and binds `signer`: the operator itself (its Signer or address), or another key's Signer,
 * which signs its consent. `deadline` bounds both the permit and the consent.
 */
export async function stakeOperator(c: Contracts, operator: Signer, amount: bigint, signer: Signer | string, deadline: bigint): Promise<bigint> {
  const permit = await signPermit(c.token, operator, c.operators.target as string, amount, deadline);
  const registry = c.operators.connect(operator) as Contract;
  const staked = await onChain(() => mined(send(registry, "stakeWithPermit", amount, permit.deadline, permit.v, permit.r, permit.s)));
  const bound = await registerSigner(c, operator, signer, deadline);
  return staked.gasUsed + bound.gasUsed;
}

async function settlementOf(hub: Contract, receipt: TransactionReceipt, eventName: string, idField: string): Promise<Settlement> {
  const [event] = eventsOf(hub, receipt.logs, eventName);
  if (event === undefined || event === null) throw new OpgError("EVENT_MISSING", `${eventName} was not emitted`);
  const steps = feesOf(hub, receipt.logs);
  return { id: event.args.getValue(idField) as Hex, gasUsed: receipt.gasUsed, fee: sumFees(steps), steps, transactionHash: receipt.hash };
}

/** Submits a Signature- or TEE-tier receipt signed by `signer`. */
export async function submitSigned(hub: Contract, receipt: Receipt, signer: string, signature: string, maxFee: bigint): Promise<Settlement> {
  const mined_ = await onChain(() => mined(send(hub, "submitSigned", receipt, signer, signature, maxFee)));
  return settlementOf(hub, mined_, "ReceiptVerified", "id");
}

/** Submits a ZK-tier receipt with its Groth16 proof (EVM order) and quantized outputs (field elements). */
export async function submitProven(
  hub: Contract,
  receipt: Receipt,
  proof: readonly bigint[],
  outputs: readonly bigint[],
  maxFee: bigint,
): Promise<Settlement> {
  const mined_ = await onChain(() => mined(send(hub, "submitProven", receipt, [...proof], [...outputs], maxFee)));
  return settlementOf(hub, mined_, "ReceiptVerified", "id");
}

/** One step's evidence in an operation (see IInferenceHub.Evidence). */
export interface StepEvidence {
  readonly signer: string;
  readonly signature: string;
  readonly proof: readonly bigint[];
  readonly outputs: readonly bigint[];
}

/** Submits a multi-step operation; the policy is the requester's minimum tiers. */
export async function submitOperation(
  hub: Contract,
  steps: readonly Receipt[],
  evidence: readonly StepEvidence[],
  policy: { minEachStep: Tier; minFinalStep: Tier },
  maxFee: bigint,
): Promise<Settlement> {
  const first = steps[0];
  if (first === undefined) throw new OpgError("INVALID_INPUT", "an operation needs at least one step");
  const args = evidence.map((e) => ({ signer: e.signer, signature: e.signature, proof: [...e.proof], outputs: [...e.outputs] }));
  const request = { inputCommitment: first.inputCommitment, minEachStep: policy.minEachStep, minFinalStep: policy.minFinalStep, maxFee };
  const mined_ = await onChain(() => mined(send(hub, "submitOperation", [...steps], args, request)));
  return settlementOf(hub, mined_, "OperationVerified", "operationId");
}

/** What the hub recorded for a receipt or operation id. */
export interface VerifiedResult {
  readonly tier: Tier;
  readonly stepTiers: readonly Tier[];
  readonly outputCommitment: Hex;
}

export async function readResult(hub: Contract, id: string): Promise<VerifiedResult> {
  const [tier, stepCount, stepTiers, outputCommitment] = (await hub.getFunction("resultOf")(id)) as [bigint, bigint, bigint, string];
  const steps = Array.from({ length: Number(stepCount) }, (_, i) => Number((stepTiers >> BigInt(4 * i)) & 0xfn) as Tier);
  return { tier: Number(tier) as Tier, stepTiers: steps, outputCommitment: outputCommitment as Hex };
}

/** One verified step (a single receipt is one step) as its events describe it. */
export interface VerifiedStep {
  readonly id: Hex;
  readonly modelId: Hex;
  readonly tier: Tier;
  readonly operator: string;
  readonly inputCommitment: Hex;
  readonly outputCommitment: Hex;
  readonly fee: bigint;
  /** The outputs a ZK step proved (ProofVerified), as signed fixed-point integers; undefined for other tiers. */
  readonly outputs?: readonly bigint[];
}

/** The events of the transaction that verified `id` (a receipt or an operation), step by step. */
export interface ResultDetails {
  readonly transactionHash: string;
  readonly blockNumber: number;
  readonly steps: readonly VerifiedStep[];
}

/**
 * Reads how `id` was verified from the hub's events: its ReceiptVerified (or, for an operation, the ReceiptVerified of
 * each step before its OperationVerified) and the outputs of every ZK step (ProofVerified). Undefined when no event
 * since `fromBlock` names it.
 */
export async function readResultDetails(hub: Contract, id: string, fromBlock = 0): Promise<ResultDetails | undefined> {
  const [single] = await hub.queryFilter(hub.filters["ReceiptVerified"]!(id), fromBlock);
  const [operation] = single === undefined ? await hub.queryFilter(hub.filters["OperationVerified"]!(id), fromBlock) : [];
  const anchor = single ?? operation;
  if (anchor === undefined) return undefined;
  const receipt = await hub.runner!.provider!.getTransactionReceipt(anchor.transactionHash);
  if (receipt === null) return undefined;
  const address = (hub.target as string).toLowerCase();
  const logs = receipt.logs.filter((log) => log.address.toLowerCase() === address && log.index <= anchor.index);
  const parsed = logs.map((log) => hub.interface.parseLog(log)).filter((p) => p !== null);
  const proofs = new Map<string, bigint[]>();
  for (const p of parsed) {
    if (p.name === "ProofVerified") proofs.set(String(p.args.getValue("id")), (p.args.getValue("outputs") as bigint[]).map((v) => fromField(v)));
  }
  const verified = parsed.filter((p) => p.name === "ReceiptVerified");
  const count = single !== undefined ? 1 : Number(parsed.at(-1)!.args.getValue("steps") as bigint);
  const mine = single !== undefined ? verified.filter((p) => p.args.getValue("id") === id) : verified.slice(-count);
  const steps = mine.map((p): VerifiedStep => {
    const stepId = p.args.getValue("id") as Hex;
    const outputs = proofs.get(stepId);
    return {
      id: stepId,
      modelId: p.args.getValue("modelId") as Hex,
      tier: Number(p.args.getValue("tier")) as Tier,
      operator: p.args.getValue("operator") as string,
      inputCommitment: p.args.getValue("inputCommitment") as Hex,
      outputCommitment: p.args.getValue("outputCommitment") as Hex,
      fee: p.args.getValue("fee") as bigint,
      ...(outputs === undefined ? {} : { outputs }),
    };
  });
  return { transactionHash: receipt.hash, blockNumber: receipt.blockNumber, steps };
}

/** One result as the CLI prints it (`operation submit --json`, `result --json`): the same fields either way. */
export interface ResultView {
  readonly id: Hex;
  readonly verified: boolean;
  /** "hybrid" when the steps mix tiers, else their one tier ("none" when not verified). */
  readonly tier: string;
  /** The weakest step's tier: what the hub records and `verifiedOutput(id, minTier)` checks. */
  readonly weakestTier: string;
  readonly steps: readonly string[];
  readonly outputCommitment: Hex | null;
  /** Per step, when events were read: its receipt id, model, tier, output commitment and proven outputs. */
  readonly stepDetails?: readonly { id: Hex; modelId: Hex; tier: string; outputCommitment: Hex; outputs?: string[] }[];
}

export function resultView(id: Hex, result: VerifiedResult, details?: ResultDetails): ResultView {
  const verified = result.tier !== Tier.None;
  return {
    id,
    verified,
    tier: resultTierName(result.stepTiers),
    weakestTier: tierName(result.tier),
    steps: result.stepTiers.map(tierName),
    outputCommitment: verified ? result.outputCommitment : null,
    ...(details === undefined
      ? {}
      : {
          stepDetails: details.steps.map((s) => ({
            id: s.id,
            modelId: s.modelId,
            tier: tierName(s.tier),
            outputCommitment: s.outputCommitment,
            ...(s.outputs === undefined ? {} : { outputs: s.outputs.map(String) }),
          })),
        }),
  };
}
