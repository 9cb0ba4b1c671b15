/**
 * The body of POST /v1/infer: a requester's EIP-712 InferenceAuthorization (docs/requests.md) and the input.
 *
 *   {
 *     "requester": "0x…",
 *     "params": { "pipeline": ["0x…"], "inputCommitment": "0x…", "minEachStep": "signature",
 *                 "minFinalStep": "zk", "operator": "0x…", "maxFee": "<wei>", "deadline": <unix s>, "nonce": "<n>" },
 *     "signature": "0x…",                       the requester's signature of the authorization
 *     "input": [[…]] | {"input": [[…]]}         real values (quantized by the first model), or
 *     "input": ["1120", …]                      quantized values as decimal strings (`opg request authorize`), or
 *     "inputBytes": "0x…"                       abi.encode(int256[]) of the quantized values
 *   `opg request authorize --out auth.json` writes exactly such a body: `curl -d @auth.json …/v1/infer`.
 *   }
 */
import { isHexString } from "ethers";
import type { ModelRunner } from "../execution/index.ts";
import { inputValues } from "../execution/index.ts";
import { OpgError } from "../errors.ts";
import { checkAddress, checkBytes32, type Hex } from "../receipts/receipt.ts";
import { parseTier, type Tier } from "../receipts/tier.ts";
import { buildRequestParams, encodeRequestInput } from "../requests/types.ts";
import type { InferenceRequest, RequestBook } from "./book.ts";
import { HttpError } from "./http.ts";

function field(record: Record<string, unknown>, name: string): unknown {
  const value = record[name];
  if (value === undefined || value === null) throw new HttpError(400, "BAD_REQUEST", `"${name}" is missing`);
  return value;
}

function bigintOf(value: unknown, name: string): bigint {
  if ((typeof value === "string" && /^\d+$/.test(value)) || (typeof value === "number" && Number.isSafeInteger(value) && value >= 0)) return BigInt(value);
  throw new HttpError(400, "BAD_REQUEST", `"${name}" must be a non-negative integer (a decimal string for large values)`);
}

function tierOf(value: unknown, name: string): Tier {
  if (typeof value === "number" && [1, 2, 3].includes(value)) return value as Tier;
  if (typeof value === "string") {
    try {
      return parseTier(value);
    } catch {
      // fall through
    }
  }
  throw new HttpError(400, "BAD_REQUEST", `"${name}" must be signature, tee or zk`);
}

/** Validates the body; quantizes a real-valued input with the first model's runner. */
export function parseAuthorizedRequest(
  body: unknown,
  runnerOf: (modelId: Hex) => ModelRunner | undefined,
  book: Pick<RequestBook, "requestIdOf">,
): { request: InferenceRequest; authorization: Hex } {
  if (typeof body !== "object" || body === null || Array.isArray(body)) throw new HttpError(400, "BAD_REQUEST", "the body is a JSON object");
  const b = body as Record<string, unknown>;
  try {
    const requester = checkAddress(field(b, "requester") as string, "requester");
    const signature = field(b, "signature");
    if (typeof signature !== "string" || !isHexString(signature) || signature.length < 4) throw new HttpError(400, "BAD_REQUEST", '"signature" must be 0x hex');
    const p = field(b, "params");
    if (typeof p !== "object" || p === null) throw new HttpError(400, "BAD_REQUEST", '"params" must be an object');
    const q = p as Record<string, unknown>;
    const pipeline = field(q, "pipeline");
    if (!Array.isArray(pipeline) || !pipeline.every((m) => typeof m === "string")) throw new HttpError(400, "BAD_REQUEST", '"params.pipeline" must be an array of model ids');
    const minEachStep = tierOf(q["minEachStep"] ?? "signature", "params.minEachStep");
    const params = buildRequestParams({
      pipeline: pipeline as string[],
      inputCommitment: checkBytes32(field(q, "inputCommitment") as string, "params.inputCommitment"),
      minEachStep,
      minFinalStep: tierOf(q["minFinalStep"] ?? minEachStep, "params.minFinalStep"),
      operator: checkAddress(field(q, "operator") as string, "params.operator"),
      maxFee: bigintOf(field(q, "maxFee"), "params.maxFee"),
      deadline: bigintOf(field(q, "deadline"), "params.deadline"),
      nonce: bigintOf(field(q, "nonce"), "params.nonce"),
    });
    let input: Hex;
    if (b["inputBytes"] !== undefined) {
      if (typeof b["inputBytes"] !== "string" || !isHexString(b["inputBytes"])) throw new HttpError(400, "BAD_REQUEST", '"inputBytes" must be 0x hex');
      input = b["inputBytes"] as Hex;
    } else if (Array.isArray(b["input"]) && b["input"].length > 0 && b["input"].every((v) => typeof v === "string")) {
      // `opg request authorize` writes the quantized values as decimal strings.
      const strings = b["input"] as string[];
      if (!strings.every((v) => /^-?\d{1,78}$/.test(v))) throw new HttpError(400, "BAD_REQUEST", '"input" strings must be decimal integers (quantized values)');
      input = encodeRequestInput(strings.map((v) => BigInt(v)));
    } else {
      const first = runnerOf(params.pipeline[0]!);
      if (first === undefined) throw new HttpError(422, "UNSERVABLE", `model ${params.pipeline[0]} is not served by this node`);
      input = encodeRequestInput(first.quantizeInput(inputValues(field(b, "input"))));
    }
    const request: InferenceRequest = { id: book.requestIdOf(requester, params), requester, params, input, inputUri: undefined, block: 0 };
    return { request, authorization: signature as Hex };
  } catch (error) {
    if (error instanceof HttpError) throw error;
    if (error instanceof OpgError) throw new HttpError(400, "BAD_REQUEST", error.message, { cause: error });
    throw error;
  }
}
