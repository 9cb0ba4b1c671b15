/**
 * Batch settlement off-chain: the EIP-712 types of spending authorizations and batch headers, and the receipt
 * leaf of a batch's Merkle tree, field for field as in contracts/interfaces/IBatchSettlement.sol.
 */
import { AbiCoder, TypedDataEncoder, concat, keccak256 } from "ethers";
import type { TypedDataDomain, TypedDataField } from "ethers";
import { InvalidInputError } from "../errors.ts";
import { checkAddress, type Hex } from "../receipts/receipt.ts";
import { Tier } from "../receipts/tier.ts";

/** A requester lets `operator` charge up to `cap` OPG wei in total before `expiry` (x402 "upto" spirit). */
export interface SpendingAuthorization {
  readonly requester: string;
  readonly operator: string;
  readonly cap: bigint;
  /** Unix seconds: no settlement under it after this. */
  readonly expiry: bigint;
  readonly salt: Hex;
}

/** An authorization with its requester's signature (ECDSA or ERC-1271). */
export interface SignedAuthorization {
  readonly authorization: SpendingAuthorization;
  readonly signature: Hex;
}

/** One receipt of a batch (a Merkle leaf). */
export interface BatchLeaf {
  readonly modelId: Hex;
  readonly inputCommitment: Hex;
  readonly outputCommitment: Hex;
  readonly outputDigest: Hex;
  readonly requester: string;
  readonly tier: Tier;
  /** What this inference cost, in OPG wei. */
  readonly price: bigint;
  /** Sequence number under its authorization for its model (0, 1, 2…). */
  readonly nonce: bigint;
  /** What the requester owes for this model under the authorization after this receipt. */
  readonly cumulative: bigint;
  /** The authorization's id (its EIP-712 digest). */
  readonly authorization: Hex;
}

/** What one model earned in a batch (what its closing leaves charge; informative: the contract derives it). */
export interface ModelFee {
  readonly modelId: Hex;
  readonly amount: bigint;
}

/** The part of a batch its operator's signer signs, besides its closing leaves. */
export interface BatchHeader {
  readonly root: Hex;
  readonly leafCount: number;
  readonly uri: string;
}

/** The leaf encoding of @openzeppelin/merkle-tree's StandardMerkleTree: abi.encode(Leaf) field by field. */
export const LEAF_ENCODING = ["bytes32", "bytes32", "bytes32", "bytes32", "address", "uint8", "uint256", "uint256", "uint256", "bytes32"];

export type LeafValues = [string, string, string, string, string, number, bigint, bigint, bigint, string];

export const AUTHORIZATION_TYPES: Record<string, TypedDataField[]> = {
  SpendingAuthorization: [
    { name: "requester", type: "address" },
    { name: "operator", type: "address" },
    { name: "cap", type: "uint256" },
    { name: "expiry", type: "uint64" },
    { name: "salt", type: "bytes32" },
  ],
};

export const BATCH_TYPES: Record<string, TypedDataField[]> = {
  Batch: [
    { name: "root", type: "bytes32" },
    { name: "leafCount", type: "uint32" },
    { name: "uri", type: "string" },
    { name: "closings", type: "bytes32" },
  ],
};

/** The BatchSettlement contract's EIP-712 domain. */
export function batchDomain(chainId: bigint | number, contract: string): TypedDataDomain {
  return { name: "OPG BatchSettlement", version: "1", chainId: BigInt(chainId), verifyingContract: checkAddress(contract, "batch settlement") };
}

/** An authorization's id: the EIP-712 digest its requester signs (what leaves and the contract name it by). */
export function authorizationId(domain: TypedDataDomain, authorization: SpendingAuthorization): Hex {
  return TypedDataEncoder.hash(domain, AUTHORIZATION_TYPES, authorizationValue(authorization)) as Hex;
}

export function authorizationValue(a: SpendingAuthorization): Record<string, unknown> {
  return { requester: a.requester, operator: a.operator, cap: a.cap, expiry: a.expiry, salt: a.salt };
}

/** keccak256 of the closing leaves' hashes concatenated in posting order, as the signed batch commits to them. */
export function closingsHash(leafHashes: readonly string[]): Hex {
  return keccak256(leafHashes.length === 0 ? "0x" : concat([...leafHashes])) as Hex;
}

/** The EIP-712 digest an operator's signer signs for a batch, given its closing leaves' hashes in posting order. */
export function batchDigest(domain: TypedDataDomain, header: BatchHeader, closingLeafHashes: readonly string[]): Hex {
  return TypedDataEncoder.hash(domain, BATCH_TYPES, { ...header, closings: closingsHash(closingLeafHashes) }) as Hex;
}

/** A batch's id in the contract: its operator and root (keccak256(abi.encode(operator, root))). */
export function batchIdOf(operator: string, root: string): Hex {
  return keccak256(AbiCoder.defaultAbiCoder().encode(["address", "bytes32"], [operator, root])) as Hex;
}

export function leafValues(leaf: BatchLeaf): LeafValues {
  return [
    leaf.modelId,
    leaf.inputCommitment,
    leaf.outputCommitment,
    leaf.outputDigest,
    leaf.requester,
    leaf.tier,
    leaf.price,
    leaf.nonce,
    leaf.cumulative,
    leaf.authorization,
  ];
}

export function leafFromValues(v: readonly unknown[]): BatchLeaf {
  if (v.length !== LEAF_ENCODING.length) throw new InvalidInputError(`a batch leaf has ${LEAF_ENCODING.length} fields, not ${v.length}`);
  const hex = (x: unknown, name: string): Hex => {
    if (typeof x !== "string" || !/^0x[0-9a-fA-F]{64}$/.test(x)) throw new InvalidInputError(`leaf ${name} must be a 32-byte hex string`);
    return x.toLowerCase() as Hex;
  };
  const uint = (x: unknown, name: string): bigint => {
    try {
      const n = BigInt(x as string | number | bigint);
      if (n < 0n) throw new Error("negative");
      return n;
    } catch (cause) {
      throw new InvalidInputError(`leaf ${name} must be a non-negative integer`, { cause });
    }
  };
  const modelId = hex(v[0], "modelId");
  const inputCommitment = hex(v[1], "inputCommitment");
  const outputCommitment = hex(v[2], "outputCommitment");
  const outputDigest = hex(v[3], "outputDigest");
  const requester = checkAddress(String(v[4]), "leaf requester");
  const tier = Number(uint(v[5], "tier"));
  if (tier !== Tier.Signature && tier !== Tier.TEE && tier !== Tier.ZK) throw new InvalidInputError(`leaf tier ${tier} is not a tier`);
  return {
    modelId,
    inputCommitment,
    outputCommitment,
    outputDigest,
    requester,
    tier: tier as Tier,
    price: uint(v[6], "price"),
    nonce: uint(v[7], "nonce"),
    cumulative: uint(v[8], "cumulative"),
    authorization: hex(v[9], "authorization"),
  };
}

/** A leaf as the contract's tuple argument. */
export function leafTuple(leaf: BatchLeaf): Record<string, unknown> {
  return { ...leaf };
}
