/**
 * The RequestBook seam over the deployed contracts: InferenceRequested events, request status, model terms,
 * step receipts signed under the book's EIP-712 domain, and the `fulfil` call.
 */
import { Contract, ZeroAddress, getAddress, verifyTypedData, type Provider, type TransactionReceipt } from "ethers";
import { OpgError } from "../errors.ts";
import type { Hex } from "../receipts/receipt.ts";
import type { Tier } from "../receipts/tier.ts";
import { REQUEST_BOOK_ABI } from "../requests/abi.ts";
import { fulfilArgs, fulfilAuthorizedArgs, requestStepEvidence, signRequestStep, type RequestContext } from "../requests/fulfil.ts";
import {
  AUTHORIZATION_TYPES,
  authorizationValue,
  bookDomain,
  decodeRequestInput,
  requestIdOf,
  stepBinding,
  type RequestParams,
} from "../requests/types.ts";
import type { Contracts } from "../settlement/deployment.ts";
import type { InferenceRequest, ModelTerms, RequestBook, RequestState, StepEvidence, StepRun, StepSigner } from "./book.ts";

/** The deployment's request book address (the `requests` entry). */
function bookAddress(c: Contracts): string {
  if (c.requests === undefined) throw new OpgError("NO_REQUEST_BOOK", "the deployment has no request book (redeploy with the current Ignition module)");
  return c.requests.target as string;
}

export async function createChainBook(c: Contracts, provider: Provider, operator: string, chainId: bigint): Promise<RequestBook> {
  const address = bookAddress(c);
  const book = new Contract(address, REQUEST_BOOK_ABI, provider);
  const domain = bookDomain(chainId, address);
  const terms = new Map<Hex, ModelTerms>();

  const contextOf = (request: InferenceRequest): RequestContext => ({ chainId, book: address, requester: request.requester, params: request.params, operator, requestId: request.id });
  const evidenceOf = (steps: readonly StepEvidence[]) => steps.map((s) => requestStepEvidence({ ...s, outputs: s.output }));
  const outputsOf = (steps: readonly StepEvidence[]) => steps.at(-1)!.output;

  return {
    chainId,
    operator,
    target: address,
    head: () => provider.getBlockNumber(),
    async now() {
      const block = await provider.getBlock("latest");
      if (block === null) throw new OpgError("RPC_NO_BLOCK", "the chain has no latest block");
      return BigInt(block.timestamp);
    },
    async scan(from, to) {
      const logs = await book.queryFilter(book.filters["InferenceRequested"]!(), from, to);
      return logs.map((log) => {
        const parsed = book.interface.parseLog(log)!;
        const p = parsed.args.getValue("params") as {
          pipeline: string[];
          inputCommitment: string;
          minEachStep: bigint;
          minFinalStep: bigint;
          operator: string;
          maxFee: bigint;
          deadline: bigint;
          callback: string;
          callbackGasLimit: bigint;
          nonce: bigint;
        };
        const input = parsed.args.getValue("input") as string;
        const uri = parsed.args.getValue("inputURI") as string;
        const params: RequestParams = {
          pipeline: p.pipeline.map((m) => m.toLowerCase() as Hex),
          inputCommitment: p.inputCommitment.toLowerCase() as Hex,
          minEachStep: Number(p.minEachStep) as Tier,
          minFinalStep: Number(p.minFinalStep) as Tier,
          operator: getAddress(p.operator),
          maxFee: p.maxFee,
          deadline: p.deadline,
          callback: getAddress(p.callback),
          callbackGasLimit: p.callbackGasLimit,
          nonce: p.nonce,
        };
        return {
          id: (parsed.args.getValue("requestId") as string).toLowerCase() as Hex,
          requester: getAddress(parsed.args.getValue("requester") as string),
          params,
          input: input === "0x" ? undefined : (input as Hex),
          inputUri: uri === "" ? undefined : uri,
          block: log.blockNumber,
        } satisfies InferenceRequest;
      });
    },
    async state(id): Promise<RequestState> {
      const [status] = (await book.getFunction("resultOf")(id)) as [bigint, bigint, string];
      return (["unknown", "open", "fulfilled", "cancelled"] as const)[Number(status)] ?? "unknown";
    },
    async terms(modelId) {
      const cached = terms.get(modelId);
      if (cached !== undefined) return cached;
      const model = (await c.models.getFunction("modelOf")(modelId)) as { owner: string; acceptedTiers: bigint; deprecated: boolean; signaturePrice: bigint; teePrice: bigint; zkPrice: bigint };
      if (model.owner === ZeroAddress) return undefined;
      const found: ModelTerms = { acceptedTiers: Number(model.acceptedTiers), deprecated: model.deprecated, prices: [model.signaturePrice, model.teePrice, model.zkPrice] };
      // Prices are fixed per model id (new terms are a new version); deprecation is read again each time.
      if (!found.deprecated) terms.set(modelId, found);
      return found;
    },
    async escrowOf(requester) {
      return (await c.hub.getFunction("balanceOf")(requester)) as bigint;
    },
    async isActiveOperator(who) {
      return (await c.operators.getFunction("isActive")(who)) as boolean;
    },
    decodeInput: decodeRequestInput,
    requestIdOf: (requester, params) => requestIdOf(chainId, address, requester, params),
    authorizationSigner: (request, signature) => verifyTypedData(domain, AUTHORIZATION_TYPES, authorizationValue(request.requester, request.params), signature),
    zkBinding(request, step) {
      return stepBinding(chainId, address, request.id, request.requester, step.modelId, operator);
    },
    signStep(request, step, signer: StepSigner) {
      return signRequestStep(contextOf(request), { ...step, outputs: step.output }, signer);
    },
    fulfilCall(request, steps) {
      return { to: address, data: book.interface.encodeFunctionData("fulfil", fulfilArgs(contextOf(request), evidenceOf(steps), outputsOf(steps))) };
    },
    fulfilAuthorizedCall(request, requesterSignature, steps) {
      return { to: address, data: book.interface.encodeFunctionData("fulfilAuthorized", fulfilAuthorizedArgs(contextOf(request), requesterSignature, evidenceOf(steps), outputsOf(steps))) };
    },
    fulfilledIn(receipt: TransactionReceipt, id) {
      let fulfilled = false;
      let callback: boolean | undefined;
      for (const log of receipt.logs) {
        if (log.address.toLowerCase() !== address.toLowerCase()) continue;
        const parsed = book.interface.parseLog(log);
        if (parsed === null || !parsed.fragment.inputs.some((i) => i.name === "requestId")) continue;
        if ((parsed.args.getValue("requestId") as string).toLowerCase() !== id.toLowerCase()) continue;
        if (parsed.name === "InferenceFulfilled") fulfilled = true;
        if (parsed.name === "CallbackDelivered") callback = true;
        if (parsed.name === "CallbackFailed") callback = false;
      }
      return { fulfilled, callback };
    },
  };
}
