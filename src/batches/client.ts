/**
 * Batch settlement on-chain: sign an authorization (requester), sign and post a batch (operator), verify a
 * leaf (anyone). Pure functions over an ethers contract, so the CLI, the node, the demo and tests share them.
 */
import { Contract, hexlify, randomBytes, solidityPackedKeccak256, type ContractRunner, type Provider, type Signer, type TypedDataDomain } from "ethers";
import { onChain } from "../settlement/errors.ts";
import type { Hex } from "../receipts/receipt.ts";
import { Tier } from "../receipts/tier.ts";
import { BATCH_SETTLEMENT_ABI } from "./abi.ts";
import { BatchError, closingLeaves, leafHash, leafHashOf, proofOf, type Batch } from "./tree.ts";
import { AUTHORIZATION_TYPES, BATCH_TYPES, authorizationId, authorizationValue, closingsHash, type BatchHeader, type BatchLeaf, type SignedAuthorization, type SpendingAuthorization } from "./types.ts";

/** The status of a leaf as the contract reports it (ResultStatus in contracts/types/Claim.sol). */
export const LeafStatus = { None: 0, Final: 1, Pending: 2, Refuted: 3 } as const;
export type LeafStatus = (typeof LeafStatus)[keyof typeof LeafStatus];

export function batchSettlementAt(address: string, runner: ContractRunner): Contract {
  return new Contract(address, BATCH_SETTLEMENT_ABI, runner);
}

/** The requester signs a spending authorization once (a random salt unless given). */
export async function signAuthorization(
  requester: Signer,
  domain: TypedDataDomain,
  fields: { operator: string; cap: bigint; expiry: bigint; salt?: Hex },
): Promise<SignedAuthorization & { id: Hex }> {
  const authorization: SpendingAuthorization = {
    requester: await requester.getAddress(),
    operator: fields.operator,
    cap: fields.cap,
    expiry: fields.expiry,
    salt: fields.salt ?? (hexlify(randomBytes(32)) as Hex),
  };
  const signature = (await requester.signTypedData(domain, AUTHORIZATION_TYPES, authorizationValue(authorization))) as Hex;
  return { authorization, signature, id: authorizationId(domain, authorization) };
}

/**
 * The operator's signer signs a batch header and its closing leaves (per authorization and model, in posting
 * order): nobody can post the root with another choice of closing leaves.
 */
export async function signBatch(signer: Signer, domain: TypedDataDomain, batch: Batch, uri: string): Promise<{ header: BatchHeader; signature: Hex }> {
  const header: BatchHeader = { root: batch.root, leafCount: batch.leaves.length, uri };
  const closings = closingsHash(closingLeaves(batch).map((leaf) => leafHashOf(batch, leaf)));
  const signature = (await signer.signTypedData(domain, BATCH_TYPES, { ...header, closings })) as Hex;
  return { header, signature };
}

/** The `settlements` argument of postBatch: per authorization of the batch, its closing leaves and proofs. */
export function settlementsOf(batch: Batch, authorizations: ReadonlyMap<string, SignedAuthorization>): unknown[] {
  return [...batch.closing].map(([id, leaves]) => {
    const signed = authorizations.get(id) ?? authorizations.get(id.toLowerCase());
    if (signed === undefined) throw new BatchError(`no signed authorization ${id} for the batch's receipts`);
    const closings = leaves.map((leaf) => ({ leaf: { ...leaf }, proof: proofOf(batch, leaf) }));
    return { authorization: authorizationValue(signed.authorization), signature: signed.signature, closings };
  });
}

/** The arguments of `postBatch` (to send it through another transaction pipeline, e.g. the node's). */
export function postBatchArgs(
  batch: Batch,
  signed: { header: BatchHeader; signature: Hex; signer: string },
  authorizations: ReadonlyMap<string, SignedAuthorization>,
): [BatchHeader, string, Hex, unknown[]] {
  return [signed.header, signed.signer, signed.signature, settlementsOf(batch, authorizations)];
}

export interface PostedBatch {
  /** The contract's key of the batch: keccak256(abi.encode(operator, root)). */
  readonly batchId: Hex;
  /** The operator whose signer signed it (the batch is keyed by it and the root). */
  readonly operator: string;
  readonly root: Hex;
  readonly receipts: number;
  readonly gasUsed: bigint;
  readonly transactionHash: string;
  readonly finalAt: bigint;
}

/**
 * Posts `batch` (signed by `signer`, whose key is a staked operator's registered signer) and settles each of
 * its authorizations. `contract` must be connected to the account that sends the transaction (any account).
 */
export async function postBatch(
  contract: Contract,
  batch: Batch,
  signed: { header: BatchHeader; signature: Hex; signer: string },
  authorizations: ReadonlyMap<string, SignedAuthorization>,
): Promise<PostedBatch> {
  const tx = await onChain(() => contract.getFunction("postBatch")(...postBatchArgs(batch, signed, authorizations)));
  const receipt = (await onChain(() => tx.wait())) as { gasUsed: bigint; hash: string; logs: readonly { topics: readonly string[]; data: string }[] };
  const posted = receipt.logs.map((log) => contract.interface.parseLog(log)).find((event) => event?.name === "BatchPosted");
  if (posted === undefined || posted === null) throw new BatchError(`the post ${receipt.hash} emitted no BatchPosted event`);
  return {
    batchId: posted.args["batchId"] as Hex,
    operator: posted.args["operator"] as string,
    root: batch.root,
    receipts: batch.leaves.length,
    gasUsed: receipt.gasUsed,
    transactionHash: receipt.hash,
    finalAt: posted.args["finalAt"] as bigint,
  };
}

export interface LeafVerification {
  readonly tier: Tier;
  readonly outputCommitment: Hex;
  readonly status: LeafStatus;
  readonly finalAt: bigint;
}

/**
 * The contract's view: the leaf is in the root `operator` posted (else a ContractRevertError), its tier, outputs
 * and status.
 */
export async function verifyLeafOnChain(contract: Contract, operator: string, root: string, leaf: BatchLeaf, proof: readonly string[]): Promise<LeafVerification> {
  const result = await onChain(() => contract.getFunction("verifyLeaf")(operator, root, { ...leaf }, [...proof]));
  return { tier: Number(result[0]) as Tier, outputCommitment: result[1] as Hex, status: Number(result[2]) as LeafStatus, finalAt: result[3] as bigint };
}

/** The operators that posted a batch over `root` (usually one; batches are keyed by operator and root). */
export async function operatorsOfRoot(contract: Contract, root: string): Promise<string[]> {
  const logs = await onChain(() => contract.queryFilter(contract.filters["BatchPosted"]!(null, root), 0));
  return [...new Set(logs.map((log) => ("args" in log ? (log.args["operator"] as string) : undefined)).filter((a): a is string => a !== undefined))];
}

/** What one authorization's requester was charged in a batch (the contract's `Charge`). */
export interface Charge {
  readonly requester: string;
  readonly amount: bigint;
}

/**
 * A posted batch as refutations name it: its operator, root, the charges it made, `closings` (the hash of its
 * closing leaves) and `starts` (the hash of the nonces their ranges start at); the contract checks them against
 * the ledger it stored.
 */
export interface BatchRef {
  readonly operator: string;
  readonly root: Hex;
  readonly charges: readonly Charge[];
  readonly closings: Hex;
  readonly starts: Hex;
}

/**
 * A posted batch with its closing leaves in posting order and where each one's range starts (the contract's
 * `ClosedBatch`): closing leaf i charged the receipts of its authorization and model with nonces `starts[i]`…
 * `closings[i].nonce`.
 */
export interface ClosedBatch {
  readonly batch: BatchRef;
  readonly closings: readonly BatchLeaf[];
  readonly starts: readonly bigint[];
}

/** A leaf with its Merkle proof in `root` (the contract's `LeafProof`). */
export interface LeafProof {
  readonly root: Hex;
  readonly leaf: BatchLeaf;
  readonly proof: readonly string[];
}

interface DecodedLog {
  readonly args: { readonly [key: string]: unknown };
  readonly transactionHash: string;
  readonly blockNumber: number;
  readonly index: number;
}

async function postedLog(contract: Contract, operator: string, root: Hex): Promise<{ batchId: Hex; log: DecodedLog }> {
  const batchId = (await contract.getFunction("batchIdOf")(operator, root)) as Hex;
  const logs = await onChain(() => contract.queryFilter(contract.filters["BatchPosted"]!(batchId), 0));
  const log = logs.find((l): l is typeof l & DecodedLog => "args" in l);
  if (log === undefined) throw new BatchError(`operator ${operator} posted no batch with root ${root}`);
  return { batchId, log };
}

/**
 * `operator`'s batch `root` as a challenger names it: the charges come from the posting transaction's
 * AuthorizationSettled events, in order, and the ledger's hashes from its BatchPosted event.
 */
export async function batchRefOf(contract: Contract, operator: string, root: Hex): Promise<BatchRef> {
  return (await postedRef(contract, operator, root)).batch;
}

/** batchRefOf, with the BatchPosted event it was read from. */
async function postedRef(contract: Contract, operator: string, root: Hex): Promise<{ batch: BatchRef; log: DecodedLog }> {
  const { batchId, log } = await postedLog(contract, operator, root);
  const logs = await onChain(() => contract.queryFilter(contract.filters["AuthorizationSettled"]!(null, batchId), 0));
  const charges = logs.map((entry) => {
    if (!("args" in entry)) throw new BatchError(`an AuthorizationSettled event of batch ${batchId} could not be decoded`);
    return { requester: entry.args["requester"] as string, amount: entry.args["amount"] as bigint };
  });
  return { batch: { operator, root, charges, closings: log.args["closings"] as Hex, starts: log.args["starts"] as Hex }, log };
}

/** The closing leaves a postBatch transaction settled, in posting order (read from its calldata). */
async function closingsOfPost(contract: Contract, txHash: string): Promise<BatchLeaf[]> {
  const runner = contract.runner;
  const provider = runner?.provider ?? (runner as unknown as Provider | null);
  const tx = provider === null || provider === undefined ? null : await onChain(() => provider.getTransaction(txHash));
  const parsed = tx === null ? null : contract.interface.parseTransaction({ data: tx.data });
  if (parsed === null || parsed.name !== "postBatch") {
    throw new BatchError(`the post ${txHash} was not a direct postBatch call: its closing leaves cannot be read from it`);
  }
  const settlements = parsed.args[3] as readonly { closings: readonly { leaf: Record<string, unknown> }[] }[];
  // Plain arrays (ethers' Result is read-only, and would be passed back to the contract).
  return [...settlements].flatMap((s) => [...s.closings].map((c) => leafFromResult(c.leaf)));
}

const before = (a: { blockNumber: number; index: number }, b: { blockNumber: number; index: number }) =>
  a.blockNumber < b.blockNumber || (a.blockNumber === b.blockNumber && a.index < b.index);

/**
 * `operator`'s batch `root` with its closing leaves (from the posting calldata) and where each one's range starts:
 * one past the running total's previous closing leaf, found in the earlier posts that settled its authorization
 * (its AuthorizationSettled events). Both are checked against the hashes the batch posted. A post sent through
 * another contract cannot be read this way: a BatchError says so.
 */
export async function closedBatchOf(contract: Contract, operator: string, root: Hex): Promise<ClosedBatch> {
  const { batch, log } = await postedRef(contract, operator, root);
  const closings = await closingsOfPost(contract, log.transactionHash);
  if (closingsHash(closings.map(leafHash)).toLowerCase() !== batch.closings.toLowerCase()) {
    throw new BatchError(`the closing leaves read from ${log.transactionHash} do not hash to the posted ${batch.closings}`);
  }
  const posts = new Map<string, Promise<BatchLeaf[]>>();
  const settlements = new Map<string, Promise<readonly { transactionHash: string }[]>>();
  const last = new Map<string, bigint>();
  const starts: bigint[] = [];
  for (const c of closings) {
    const key = `${c.authorization.toLowerCase()}:${c.modelId.toLowerCase()}`;
    let previous = last.get(key);
    if (previous === undefined) {
      const id = c.authorization.toLowerCase();
      const query = settlements.get(id) ?? onChain(() => contract.queryFilter(contract.filters["AuthorizationSettled"]!(c.authorization), 0));
      settlements.set(id, query);
      for (const entry of await query) {
        // Earlier posts only: this post's own earlier closings are `last`'s.
        if (entry.transactionHash === log.transactionHash || !before(entry as unknown as DecodedLog, log)) continue;
        const posted = posts.get(entry.transactionHash) ?? closingsOfPost(contract, entry.transactionHash);
        posts.set(entry.transactionHash, posted);
        for (const earlier of await posted) {
          if (`${earlier.authorization.toLowerCase()}:${earlier.modelId.toLowerCase()}` !== key) continue;
          if (previous === undefined || earlier.nonce > previous) previous = earlier.nonce;
        }
      }
    }
    starts.push(previous === undefined ? 0n : previous + 1n);
    last.set(key, c.nonce);
  }
  if (startsHash(starts).toLowerCase() !== batch.starts.toLowerCase()) {
    throw new BatchError(`the ranges rebuilt for batch ${root} do not hash to the posted ${batch.starts}`);
  }
  return { batch, closings, starts };
}

/** The keccak256 of `starts` as uint256 words, concatenated (a batch's `starts` hash). */
export function startsHash(starts: readonly bigint[]): Hex {
  return solidityPackedKeccak256(starts.map(() => "uint256"), [...starts]) as Hex;
}

/** Credits `requester` its share of refuted batch `ref`'s refund pool (anyone may send it); returns the amount. */
export async function claimRefund(contract: Contract, ref: BatchRef, requester: string): Promise<{ amount: bigint; transactionHash: string }> {
  const tx = await onChain(() => contract.getFunction("claimRefund")(refArg(ref), requester));
  const receipt = (await onChain(() => tx.wait())) as { hash: string; logs: readonly { topics: readonly string[]; data: string }[] };
  const event = receipt.logs.map((l) => contract.interface.parseLog(l)).find((e) => e?.name === "RefundClaimed");
  return { amount: (event?.args["amount"] as bigint | undefined) ?? 0n, transactionHash: receipt.hash };
}

/** A BatchRef as the contract's tuple argument. */
export function refArg(ref: BatchRef): unknown {
  return { operator: ref.operator, root: ref.root, charges: ref.charges.map((c) => ({ requester: c.requester, amount: c.amount })), closings: ref.closings, starts: ref.starts };
}

/**
 * A ClosedBatch as the contract's tuple argument; a BatchRef alone gives empty ranges (enough where the leaf is in
 * the batch's own root).
 */
export function closedArg(batch: ClosedBatch | BatchRef): unknown {
  const closed: ClosedBatch = "batch" in batch ? batch : { batch, closings: [], starts: [] };
  return { batch: refArg(closed.batch), closings: closed.closings.map((leaf) => ({ ...leaf })), starts: [...closed.starts] };
}

/** A LeafProof as the contract's tuple argument. */
export function leafProofArg(p: LeafProof): unknown {
  return { root: p.root, leaf: { ...p.leaf }, proof: [...p.proof] };
}

function leafFromResult(r: Record<string, unknown>): BatchLeaf {
  return {
    modelId: r["modelId"] as Hex,
    inputCommitment: r["inputCommitment"] as Hex,
    outputCommitment: r["outputCommitment"] as Hex,
    outputDigest: r["outputDigest"] as Hex,
    requester: r["requester"] as string,
    tier: Number(r["tier"]) as Tier,
    price: r["price"] as bigint,
    nonce: r["nonce"] as bigint,
    cumulative: r["cumulative"] as bigint,
    authorization: r["authorization"] as Hex,
  };
}

/** A leaf's id and the binding a challenger's proof must carry. */
export async function challengeBinding(contract: Contract, operator: string, root: string, leafHash: string, challenger: string): Promise<{ leafId: Hex; binding: bigint }> {
  const batchId = (await contract.getFunction("batchIdOf")(operator, root)) as Hex;
  const leafId = (await contract.getFunction("leafIdOf")(batchId, leafHash)) as Hex;
  const binding = (await contract.getFunction("bindingOf")(leafId, challenger)) as bigint;
  return { leafId, binding };
}

/**
 * The next leaf under an authorization for a model: nonce and running total continue `previous`, the last leaf
 * of the same authorization and model (or start at 0).
 */
export function nextLeaf(
  previous: { nonce: bigint; cumulative: bigint } | undefined,
  fields: Omit<BatchLeaf, "nonce" | "cumulative">,
): BatchLeaf {
  const nonce = previous === undefined ? 0n : previous.nonce + 1n;
  const cumulative = (previous?.cumulative ?? 0n) + fields.price;
  return { ...fields, nonce, cumulative };
}
