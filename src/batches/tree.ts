/**
 * A batch's Merkle tree (@openzeppelin/merkle-tree StandardMerkleTree: double-keccak leaves, sorted pairs, as
 * OpenZeppelin's MerkleProof checks them), the per-authorization closing leaves and the per-model fees the
 * contract settles.
 */
import { StandardMerkleTree } from "@openzeppelin/merkle-tree";
import { AbiCoder, keccak256 } from "ethers";
import { InvalidInputError, OpgError } from "../errors.ts";
import type { Hex } from "../receipts/receipt.ts";
import { LEAF_ENCODING, leafFromValues, leafValues, type BatchLeaf, type LeafValues, type ModelFee } from "./types.ts";

/** The batch has no leaf, or its leaves do not chain (nonce and cumulative) under an authorization. */
export class BatchError extends OpgError {
  override readonly name = "BatchError";
  constructor(message: string, options: { cause?: unknown; details?: Record<string, unknown> } = {}) {
    super("BATCH", message, options);
  }
}

/** A built batch: its tree, root, the closing leaves of each authorization and what each model earned. */
export interface Batch {
  readonly tree: StandardMerkleTree<LeafValues>;
  readonly root: Hex;
  readonly leaves: readonly BatchLeaf[];
  /**
   * Per authorization id, its closing leaves: per model it used in this batch, the leaf with the highest
   * running total. The order (authorizations, then models, by first appearance) is the posting order the
   * operator's signature commits to.
   */
  readonly closing: ReadonlyMap<Hex, readonly BatchLeaf[]>;
  readonly fees: readonly ModelFee[];
  /** Σ prices = Σ over (authorization, model) of (closing cumulative − what was settled before this batch). */
  readonly total: bigint;
}

/**
 * Builds the tree over `leaves`. Per (authorization, model) the leaves of one batch must continue each other:
 * nonces consecutive, each cumulative = the previous one + its price (what the contract then charges for that
 * model is the closing cumulative minus the amount already settled for it, which is the first leaf's cumulative
 * minus its price).
 */
export function buildBatch(leaves: readonly BatchLeaf[]): Batch {
  if (leaves.length === 0) throw new BatchError("a batch needs at least one receipt");
  const chains = new Map<Hex, Map<Hex, BatchLeaf[]>>();
  for (const leaf of leaves) {
    const byModel = chains.get(leaf.authorization) ?? new Map<Hex, BatchLeaf[]>();
    const list = byModel.get(leaf.modelId) ?? [];
    list.push(leaf);
    byModel.set(leaf.modelId, list);
    chains.set(leaf.authorization, byModel);
  }
  const closing = new Map<Hex, BatchLeaf[]>();
  for (const [id, byModel] of chains) {
    const requester = byModel.values().next().value![0]!.requester.toLowerCase();
    const closings: BatchLeaf[] = [];
    for (const [modelId, list] of byModel) {
      const sorted = [...list].sort((a, b) => (a.nonce < b.nonce ? -1 : a.nonce > b.nonce ? 1 : 0));
      for (let i = 0; i < sorted.length; i++) {
        const leaf = sorted[i]!;
        const prev = sorted[i - 1];
        if (leaf.requester.toLowerCase() !== requester) throw new BatchError(`the receipts of authorization ${id} name two requesters`);
        if (prev !== undefined && (leaf.nonce !== prev.nonce + 1n || leaf.cumulative !== prev.cumulative + leaf.price)) {
          throw new BatchError(`the receipts of authorization ${id} for model ${modelId} do not chain at nonce ${leaf.nonce}`);
        }
      }
      const first = sorted[0]!;
      if (first.cumulative < first.price) throw new BatchError(`authorization ${id}, model ${modelId}: cumulative below price at nonce ${first.nonce}`);
      closings.push(sorted[sorted.length - 1]!);
    }
    closing.set(id, closings);
  }
  const perModel = new Map<Hex, bigint>();
  let total = 0n;
  for (const leaf of leaves) {
    perModel.set(leaf.modelId, (perModel.get(leaf.modelId) ?? 0n) + leaf.price);
    total += leaf.price;
  }
  const fees = [...perModel].map(([modelId, amount]) => ({ modelId, amount }));
  const tree = StandardMerkleTree.of(leaves.map(leafValues), LEAF_ENCODING);
  return { tree, root: tree.root as Hex, leaves, closing, fees, total };
}

/** The closing leaves of `batch` in posting order (what the operator's signature commits to). */
export function closingLeaves(batch: Batch): BatchLeaf[] {
  return [...batch.closing.values()].flat();
}

/** The Merkle leaf hash of `leaf` (standard double-keccak encoding, as the contract hashes it). */
export function leafHashOf(batch: Batch, leaf: BatchLeaf): Hex {
  return batch.tree.leafHash(leafValues(leaf)) as Hex;
}

/** The standard Merkle leaf hash of `leaf` on its own: keccak256(keccak256(abi.encode(leaf))), as the contract. */
export function leafHash(leaf: BatchLeaf): Hex {
  return keccak256(keccak256(AbiCoder.defaultAbiCoder().encode(LEAF_ENCODING, leafValues(leaf)))) as Hex;
}

/** The Merkle proof of `leaf` in `batch`. */
export function proofOf(batch: Batch, leaf: BatchLeaf): Hex[] {
  try {
    return batch.tree.getProof(leafValues(leaf)) as Hex[];
  } catch (cause) {
    throw new BatchError("the leaf is not in this batch", { cause });
  }
}

/** Whether `leaf` with `proof` leads to `root` (off-chain, same encoding as the contract). */
export function verifyLeafOffChain(root: string, leaf: BatchLeaf, proof: readonly string[]): boolean {
  return StandardMerkleTree.verify(root, LEAF_ENCODING, leafValues(leaf), [...proof]);
}

/** The published form of a batch (StandardMerkleTree's dump): anyone rebuilds the tree and checks its root. */
export function dumpBatch(batch: Batch): string {
  return JSON.stringify(batch.tree.dump(), (_key, value: unknown) => (typeof value === "bigint" ? value.toString() : value));
}

/** Loads a published batch and checks it rebuilds `expectedRoot` (when given). */
export function loadBatch(json: string, expectedRoot?: string): Batch {
  let data: { values?: { value?: unknown[] }[] };
  try {
    data = JSON.parse(json) as typeof data;
  } catch (cause) {
    throw new InvalidInputError("the batch file is not JSON", { cause });
  }
  if (!Array.isArray(data.values)) throw new InvalidInputError("the batch file has no leaf values");
  const leaves = data.values.map((entry) => leafFromValues(entry.value ?? []));
  const batch = buildBatch(leaves);
  if (expectedRoot !== undefined && batch.root.toLowerCase() !== expectedRoot.toLowerCase()) {
    throw new BatchError(`the published leaves rebuild root ${batch.root}, not ${expectedRoot}`);
  }
  return batch;
}
