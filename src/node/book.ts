/**
 * What the node needs from the on-chain request book, in its own terms: find requests, tell whether one is
 * still open, sign and encode a fulfilment. The implementation over the deployed contracts lives in
 * chain.ts; keeping this seam small lets the serving logic (node.ts) be read without the ABI.
 */
import type { TransactionReceipt } from "ethers";
import type { Hex } from "../receipts/receipt.ts";
import type { Tier } from "../receipts/tier.ts";
import type { RequestParams } from "../requests/types.ts";

/** One inference request, as the node serves it (from a chain event or an HTTP authorization). */
export interface InferenceRequest {
  readonly id: Hex;
  readonly requester: string;
  /** What was asked: pipeline, input commitment, policy, operator, max fee, deadline, callback, nonce. */
  readonly params: RequestParams;
  /** The input bytes carried with the request (abi.encode(int256[])), undefined when only a URI was given. */
  readonly input: Hex | undefined;
  readonly inputUri: string | undefined;
  /** Block of the request event (0 for an HTTP authorization). */
  readonly block: number;
}

export type RequestState = "open" | "fulfilled" | "cancelled" | "unknown";

/** A model's on-chain terms. */
export interface ModelTerms {
  /** Bit t set: tier t accepted. */
  readonly acceptedTiers: number;
  /** OPG wei at signature, TEE, ZK. */
  readonly prices: readonly [bigint, bigint, bigint];
  readonly deprecated: boolean;
}

/** The result of one pipeline step, before evidence. */
export interface StepRun {
  readonly index: number;
  readonly modelId: Hex;
  readonly tier: Exclude<Tier, 0>;
  readonly inputCommitment: Hex;
  readonly outputCommitment: Hex;
  /** Quantized outputs (signed integers, scale 2^scaleBits). */
  readonly output: readonly bigint[];
  readonly scaleBits: number;
}

/** One step with its evidence, as the hub checks it. */
export interface StepEvidence extends StepRun {
  /** Who signed (operator key or enclave key); the zero address for a proof. */
  readonly signer: string;
  /** 0x for a proof. */
  readonly signature: Hex;
  /** Groth16 proof in EVM order (8 words); zeros for signed steps. */
  readonly proof: readonly bigint[];
}

/** Anything that signs EIP-712 data and has an address (the operator wallet, an enclave key). */
export interface StepSigner {
  readonly address: string;
  signTypedData(domain: import("ethers").TypedDataDomain, types: Record<string, import("ethers").TypedDataField[]>, value: Record<string, unknown>): Promise<string>;
}

export interface RequestBook {
  readonly chainId: bigint;
  /** The serving operator's address (it gets paid). */
  readonly operator: string;
  /** Address of the contract fulfilments are sent to. */
  readonly target: string;
  head(): Promise<number>;
  /** Unix seconds of the latest block. */
  now(): Promise<bigint>;
  /** Every request created in blocks [from, to]. */
  scan(from: number, to: number): Promise<InferenceRequest[]>;
  state(id: Hex): Promise<RequestState>;
  terms(modelId: Hex): Promise<ModelTerms | undefined>;
  /** The requester's free escrow balance in the hub (OPG wei). */
  escrowOf(requester: string): Promise<bigint>;
  /** Whether `operator` may be paid (active, staked). */
  isActiveOperator(operator: string): Promise<boolean>;
  /** Decodes the input bytes of a request into quantized values. */
  decodeInput(input: Hex): bigint[];
  /** The public `binding` a step's proof must carry. */
  zkBinding(request: InferenceRequest, step: StepRun): bigint;
  /** Signs a step at signature or TEE tier. */
  signStep(request: InferenceRequest, step: StepRun, signer: StepSigner): Promise<Hex>;
  /** keccak256(abi.encode(chainid, book, requester, params)): a request's (or authorization's) id. */
  requestIdOf(requester: string, params: RequestParams): Hex;
  /** The requester's address recovered from its EIP-712 authorization signature over `request`. */
  authorizationSigner(request: InferenceRequest, signature: Hex): string;
  /** The settlement call for an authorization (POST /v1/infer). */
  fulfilAuthorizedCall(request: InferenceRequest, requesterSignature: Hex, steps: readonly StepEvidence[]): { to: string; data: string };
  /** The fulfilment call for an on-chain request. */
  fulfilCall(request: InferenceRequest, steps: readonly StepEvidence[]): { to: string; data: string };
  /** Whether a mined transaction fulfilled `id` (and the callback's outcome when there was one). */
  fulfilledIn(receipt: TransactionReceipt, id: Hex): { fulfilled: boolean; callback: boolean | undefined };
}
