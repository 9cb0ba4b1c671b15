/**
 * Inference requests (contracts/requests/RequestBook.sol, interface IRequestBook): the shapes both
 * requesters and operator nodes handle, their ids, the EIP-712 types and how a request's step
 * receipts are formed. Described for operators in docs/requests.md.
 */
import { AbiCoder, TypedDataEncoder, keccak256, type TypedDataDomain, type TypedDataField } from "ethers";
import { InvalidInputError } from "../errors.ts";
import { bindingOf, buildReceipt, checkAddress, checkBytes32, receiptId, type Hex, type Receipt } from "../receipts/receipt.ts";
import { Tier } from "../receipts/tier.ts";
import { flattenNested } from "../zkml/tensor.ts";

/** Pipelines take 1 to 16 models (their tiers pack 4 bits each into a uint64). */
export const MAX_PIPELINE = 16;
export const ZERO_ADDRESS = "0x0000000000000000000000000000000000000000";

/** What a requester asks (IRequestBook.RequestParams), field for field. */
export interface RequestParams {
  readonly pipeline: readonly Hex[];
  readonly inputCommitment: Hex;
  readonly minEachStep: Tier;
  readonly minFinalStep: Tier;
  /** Zero address: any active operator (authorizations must name one). */
  readonly operator: string;
  readonly maxFee: bigint;
  readonly deadline: bigint;
  /** Zero address: no callback. */
  readonly callback: string;
  readonly callbackGasLimit: bigint;
  readonly nonce: bigint;
}

/** One step's evidence (IRequestBook.StepEvidence). */
export interface RequestStepEvidence {
  readonly tier: Exclude<Tier, 0>;
  readonly outputCommitment: Hex;
  readonly outputDigest: Hex;
  readonly signer: string;
  readonly signature: string;
  readonly proof: readonly bigint[];
  readonly outputs: readonly bigint[];
}

/** Request status as the book reports it. */
/** `Refuted`: fulfilled, then proven wrong by a fraud proof within its challenge window (never final). */
export const RequestStatus = { None: 0, Open: 1, Fulfilled: 2, Cancelled: 3, Refuted: 4 } as const;
export type RequestStatus = (typeof RequestStatus)[keyof typeof RequestStatus];

/** Solidity tuple type of RequestParams (for ABI encoding and human-readable ABIs). */
export const REQUEST_PARAMS_TUPLE =
  "(bytes32[] pipeline, bytes32 inputCommitment, uint8 minEachStep, uint8 minFinalStep, address operator, uint256 maxFee, uint64 deadline, address callback, uint32 callbackGasLimit, uint256 nonce)";
export const STEP_EVIDENCE_TUPLE =
  "(uint8 tier, bytes32 outputCommitment, bytes32 outputDigest, address signer, bytes signature, uint256[8] proof, uint256[] outputs)";

/** The book's EIP-712 domain: step receipts and authorizations are bound to one chain and one book. */
export function bookDomain(chainId: bigint | number, book: string): TypedDataDomain {
  return { name: "OPG RequestBook", version: "1", chainId: BigInt(chainId), verifyingContract: checkAddress(book, "request book") };
}

/**
 * EIP-712 type a requester signs to let exactly one operator settle exactly one inference off-chain
 * (RequestBook.fulfilAuthorized). The callback fields of RequestParams are zero for authorizations
 * and are not part of the signed type.
 */
export const AUTHORIZATION_TYPES: Record<string, TypedDataField[]> = {
  InferenceAuthorization: [
    { name: "requester", type: "address" },
    { name: "operator", type: "address" },
    { name: "pipeline", type: "bytes32[]" },
    { name: "inputCommitment", type: "bytes32" },
    { name: "minEachStep", type: "uint8" },
    { name: "minFinalStep", type: "uint8" },
    { name: "maxFee", type: "uint256" },
    { name: "deadline", type: "uint64" },
    { name: "nonce", type: "uint256" },
  ],
};

/** Validates and normalises request parameters (readable errors before anything reaches the chain). */
export function buildRequestParams(fields: {
  pipeline: readonly string[];
  inputCommitment: string;
  minEachStep?: Tier;
  minFinalStep?: Tier;
  operator?: string;
  maxFee: bigint;
  deadline: bigint;
  callback?: string;
  callbackGasLimit?: bigint | number;
  nonce: bigint;
}): RequestParams {
  if (fields.pipeline.length === 0 || fields.pipeline.length > MAX_PIPELINE) {
    throw new InvalidInputError(`a pipeline has 1 to ${MAX_PIPELINE} models, got ${fields.pipeline.length}`);
  }
  const pipeline = fields.pipeline.map((m, i) => checkBytes32(m, `pipeline[${i}]`));
  pipeline.forEach((m, i) => {
    if (pipeline.indexOf(m) !== i) throw new InvalidInputError(`model ${m} appears twice in the pipeline`);
  });
  const minEachStep = fields.minEachStep ?? Tier.Signature;
  const minFinalStep = fields.minFinalStep ?? minEachStep;
  for (const t of [minEachStep, minFinalStep]) {
    if (t === Tier.None) throw new InvalidInputError("a policy tier is signature, tee or zk");
  }
  const uint = (v: bigint, bits: bigint, what: string) => {
    if (v < 0n || v >= 1n << bits) throw new InvalidInputError(`${what} must fit in uint${bits}, got ${v}`);
    return v;
  };
  return {
    pipeline,
    inputCommitment: checkBytes32(fields.inputCommitment, "inputCommitment"),
    minEachStep,
    minFinalStep,
    operator: checkAddress(fields.operator ?? ZERO_ADDRESS, "operator"),
    maxFee: uint(fields.maxFee, 256n, "maxFee"),
    deadline: uint(fields.deadline, 64n, "deadline"),
    callback: checkAddress(fields.callback ?? ZERO_ADDRESS, "callback"),
    callbackGasLimit: uint(BigInt(fields.callbackGasLimit ?? 0), 32n, "callbackGasLimit"),
    nonce: uint(fields.nonce, 256n, "nonce"),
  };
}

/** The params as an ethers tuple value (arrays copied, enums as numbers). */
export function paramsArg(p: RequestParams) {
  return { ...p, pipeline: [...p.pipeline] };
}

/** keccak256(abi.encode(chainId, book, requester, params)): the request's id (RequestBook.requestIdOf). */
export function requestIdOf(chainId: bigint | number, book: string, requester: string, params: RequestParams): Hex {
  const encoded = AbiCoder.defaultAbiCoder().encode(
    ["uint256", "address", "address", REQUEST_PARAMS_TUPLE],
    [BigInt(chainId), checkAddress(book, "request book"), checkAddress(requester, "requester"), paramsArg(params)],
  );
  return keccak256(encoded) as Hex;
}

/** The EIP-712 value a requester signs for an authorization. */
export function authorizationValue(requester: string, p: RequestParams): Record<string, unknown> {
  if (p.operator === ZERO_ADDRESS) throw new InvalidInputError("an authorization names the operator it lets settle");
  if (p.callback !== ZERO_ADDRESS || p.callbackGasLimit !== 0n) throw new InvalidInputError("an authorization carries no callback");
  return {
    requester: checkAddress(requester, "requester"),
    operator: p.operator,
    pipeline: [...p.pipeline],
    inputCommitment: p.inputCommitment,
    minEachStep: p.minEachStep,
    minFinalStep: p.minFinalStep,
    maxFee: p.maxFee,
    deadline: p.deadline,
    nonce: p.nonce,
  };
}

/** The EIP-712 digest of an authorization. */
export function authorizationDigest(domain: TypedDataDomain, requester: string, p: RequestParams): Hex {
  return TypedDataEncoder.hash(domain, AUTHORIZATION_TYPES, authorizationValue(requester, p)) as Hex;
}

/** A step receipt's nonce: the request id as a number. */
export function stepNonce(requestId: string): bigint {
  return BigInt(checkBytes32(requestId, "request id"));
}

/**
 * The Receipt a step of request `requestId` is signed (or proven) as. The book rebuilds exactly this
 * from the request and the step's evidence: model = pipeline[index], input = the previous step's output
 * commitment (the request's input commitment for step 0), nonce = uint256(requestId), deadline = the
 * request's.
 */
export function stepReceipt(fields: {
  requestId: string;
  requester: string;
  params: RequestParams;
  index: number;
  inputCommitment: string;
  operator: string;
  tier: Exclude<Tier, 0>;
  outputCommitment: string;
  outputDigest?: string;
}): Receipt {
  const modelId = fields.params.pipeline[fields.index];
  if (modelId === undefined) throw new InvalidInputError(`the pipeline has no step ${fields.index}`);
  return buildReceipt({
    modelId,
    inputCommitment: fields.inputCommitment,
    outputCommitment: fields.outputCommitment,
    ...(fields.outputDigest === undefined ? {} : { outputDigest: fields.outputDigest }),
    requester: fields.requester,
    operator: fields.operator,
    nonce: stepNonce(fields.requestId),
    deadline: fields.params.deadline,
    tier: fields.tier,
  });
}

/** The `binding` public input of a ZK step proof: keccak256(abi.encode(stepReceiptId, operator)) mod p. */
export function stepBinding(chainId: bigint | number, book: string, requestId: string, requester: string, modelId: string, operator: string): bigint {
  return bindingOf(receiptId(chainId, book, requester, modelId, stepNonce(requestId)), operator);
}

/** Encodes quantized input values the way a request carries them: abi.encode(int256[]). */
export function encodeRequestInput(values: readonly bigint[]): Hex {
  return AbiCoder.defaultAbiCoder().encode(["int256[]"], [[...values]]) as Hex;
}

/** Decodes a request's input bytes; malformed bytes are an InvalidInputError. */
export function decodeRequestInput(data: string): bigint[] {
  try {
    const [values] = AbiCoder.defaultAbiCoder().decode(["int256[]"], data);
    return (values as bigint[]).map((v) => BigInt(v));
  } catch (cause) {
    throw new InvalidInputError("request input is not abi.encode(int256[])", { cause });
  }
}

/**
 * The content a request's input URI serves, quantized: `{"input": ["<int>", …]}`, the values as decimal
 * strings (docs/requests.md). The node fetches it and checks it against the request's input commitment.
 */
export function requestInputDocument(values: readonly bigint[]): string {
  return JSON.stringify({ input: values.map(String) });
}

/** What an input URI served: quantized values, or real values the first model quantizes. */
export type RequestInputContent = { readonly quantized: bigint[] } | { readonly values: number[] };

/**
 * Reads the content of an input URI: `{"input": [decimal strings]}` (requestInputDocument: quantized
 * values); `{"input": nested numbers}` or a bare nested array (real values, the same file `opg infer
 * --input` reads); or the raw bytes of abi.encode(int256[]) (quantized). Anything else is an
 * InvalidInputError.
 */
export function parseRequestInputDocument(content: Uint8Array): RequestInputContent {
  const text = Buffer.from(content).toString("utf8").trimStart();
  if (!text.startsWith("{") && !text.startsWith("[")) return { quantized: decodeRequestInput("0x" + Buffer.from(content).toString("hex")) };
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (cause) {
    throw new InvalidInputError("the input document is not valid JSON", { cause });
  }
  const list = Array.isArray(json) ? json : typeof json === "object" && json !== null ? (json as { input?: unknown }).input : undefined;
  if (!Array.isArray(list) || list.length === 0) throw new InvalidInputError('the input document holds no {"input": [...]}');
  if (list.every((v) => typeof v === "string")) {
    return {
      quantized: list.map((v: string, i) => {
        if (!/^-?[0-9]{1,78}$/.test(v)) throw new InvalidInputError(`input[${i}] is not a decimal integer`);
        return BigInt(v);
      }),
    };
  }
  try {
    return { values: flattenNested(list).values };
  } catch (cause) {
    throw new InvalidInputError(`the input document holds neither decimal strings nor nested numbers: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
  }
}

/** Unpacks 4-bit step tiers (step 0 lowest). */
export function unpackStepTiers(packed: bigint, count: number): Tier[] {
  return Array.from({ length: count }, (_, i) => Number((packed >> BigInt(4 * i)) & 0xfn) as Tier);
}

/** RequestParams from a decoded `InferenceRequested` event (or any ethers Result of the tuple). */
export function paramsFromResult(result: unknown): RequestParams {
  const r = result as Record<string, unknown> & ArrayLike<unknown>;
  const get = (name: string, index: number): unknown => r[name] ?? r[index];
  const pipeline = get("pipeline", 0) as ArrayLike<string>;
  return buildRequestParams({
    pipeline: Array.from(pipeline, String),
    inputCommitment: String(get("inputCommitment", 1)),
    minEachStep: Number(get("minEachStep", 2)) as Tier,
    minFinalStep: Number(get("minFinalStep", 3)) as Tier,
    operator: String(get("operator", 4)),
    maxFee: BigInt(get("maxFee", 5) as bigint),
    deadline: BigInt(get("deadline", 6) as bigint),
    callback: String(get("callback", 7)),
    callbackGasLimit: BigInt(get("callbackGasLimit", 8) as bigint),
    nonce: BigInt(get("nonce", 9) as bigint),
  });
}
