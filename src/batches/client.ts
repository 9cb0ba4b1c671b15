/**
 * Batch settlement on-chain: sign an authorization (requester), sign and post a batch (operator), verify a
 * leaf (anyone). Pure functions over an ethers contract, so the CLI, the node, the demo and tests share them.
 */
import { Contract, hexlify, randomBytes, type ContractRunner, type Signer, type TypedDataDomain } from "ethers";
import { onChain } from "../settlement/errors.ts";
import type { Hex } from "../receipts/receipt.ts";
import { Tier } from "../receipts/tier.ts";
import { BATCH_SETTLEMENT_ABI } from "./abi.ts";
import { BatchError, proofOf, type Batch } from "./tree.ts";
import { AUTHORIZATION_TYPES, BATCH_TYPES, authorizationId, authorizationValue, feesHash, type BatchHeader, type BatchLeaf, type SignedAuthorization, type SpendingAuthorization } from "./types.ts";

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

/** The operator's signer signs a batch header with its per-model fees. */
export async function signBatch(signer: Signer, domain: TypedDataDomain, batch: Batch, uri: string): Promise<{ header: BatchHeader; signature: Hex }> {
  const header: BatchHeader = { root: batch.root, leafCount: batch.leaves.length, uri };
  const signature = (await signer.signTypedData(domain, BATCH_TYPES, { ...header, fees: feesHash(batch.fees) })) as Hex;
  return { header, signature };
}

/** The `settlements` argument of postBatch: per authorization of the batch, its closing leaf and proof. */
export function settlementsOf(batch: Batch, authorizations: ReadonlyMap<string, SignedAuthorization>): unknown[] {
  return [...batch.closing].map(([id, leaf]) => {
    const signed = authorizations.get(id) ?? authorizations.get(id.toLowerCase());
    if (signed === undefined) throw new BatchError(`no signed authorization ${id} for the batch's receipts`);
    return { authorization: authorizationValue(signed.authorization), signature: signed.signature, closingLeaf: { ...leaf }, proof: proofOf(batch, leaf) };
  });
}

/** The arguments of `postBatch` (to send it through another transaction pipeline, e.g. the node's). */
export function postBatchArgs(
  batch: Batch,
  signed: { header: BatchHeader; signature: Hex; signer: string },
  authorizations: ReadonlyMap<string, SignedAuthorization>,
): [BatchHeader, string, Hex, unknown[], { modelId: Hex; amount: bigint }[]] {
  const fees = batch.fees.map((f) => ({ modelId: f.modelId, amount: f.amount }));
  return [signed.header, signed.signer, signed.signature, settlementsOf(batch, authorizations), fees];
}

export interface PostedBatch {
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
  const receipt = (await onChain(() => tx.wait())) as { gasUsed: bigint; hash: string };
  const state = await contract.getFunction("batchOf")(batch.root);
  return {
    root: batch.root,
    receipts: batch.leaves.length,
    gasUsed: receipt.gasUsed as bigint,
    transactionHash: receipt.hash as string,
    finalAt: state.finalAt as bigint,
  };
}

export interface LeafVerification {
  readonly tier: Tier;
  readonly outputCommitment: Hex;
  readonly status: LeafStatus;
  readonly finalAt: bigint;
}

/** The contract's view: the leaf is in the posted root (else a ContractRevertError), its tier, outputs and status. */
export async function verifyLeafOnChain(contract: Contract, root: string, leaf: BatchLeaf, proof: readonly string[]): Promise<LeafVerification> {
  const result = await onChain(() => contract.getFunction("verifyLeaf")(root, { ...leaf }, [...proof]));
  return { tier: Number(result[0]) as Tier, outputCommitment: result[1] as Hex, status: Number(result[2]) as LeafStatus, finalAt: result[3] as bigint };
}

/** A leaf's id and the binding a challenger's proof must carry. */
export async function challengeBinding(contract: Contract, root: string, leafHash: string, challenger: string): Promise<{ leafId: Hex; binding: bigint }> {
  const leafId = (await contract.getFunction("leafIdOf")(root, leafHash)) as Hex;
  const binding = (await contract.getFunction("bindingOf")(leafId, challenger)) as bigint;
  return { leafId, binding };
}

/** The next leaf under an authorization: nonce and running total continue the previous leaf (or start at 0). */
export function nextLeaf(
  previous: { nonce: bigint; cumulative: bigint } | undefined,
  fields: Omit<BatchLeaf, "nonce" | "cumulative">,
): BatchLeaf {
  const nonce = previous === undefined ? 0n : previous.nonce + 1n;
  const cumulative = (previous?.cumulative ?? 0n) + fields.price;
  return { ...fields, nonce, cumulative };
}
