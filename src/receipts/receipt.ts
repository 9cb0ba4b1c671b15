/**
 * Receipts off-chain: build, hash, sign and verify them with the same EIP-712 types as the
 * InferenceHub (contracts/libraries/ReceiptHashing.sol). A test proves both sides agree on the digest.
 */
import { AbiCoder, TypedDataEncoder, getAddress, isAddress, keccak256, verifyTypedData } from "ethers";
import type { TypedDataDomain, TypedDataField } from "ethers";
import { SNARK_SCALAR_FIELD } from "../commitments/index.ts";
import { InvalidInputError } from "../errors.ts";
import { Tier } from "./tier.ts";

export type Hex = `0x${string}`;

/** One inference claim: which model, on which input, gave which output, for whom, by whom, at which tier. */
export interface Receipt {
  readonly modelId: Hex;
  readonly inputCommitment: Hex;
  readonly outputCommitment: Hex;
  /**
   * keccak256(abi.encode(int256[] outputs)) of the quantized output values the signer vouches for
   * (zero when the receipt claims no values). Request fulfilments check it against the values they
   * deliver to a consumer; see outputDigestOf.
   */
  readonly outputDigest: Hex;
  readonly requester: string;
  readonly operator: string;
  readonly nonce: bigint;
  /** Unix seconds after which the hub refuses the receipt. */
  readonly deadline: bigint;
  readonly tier: Exclude<Tier, 0>;
}

/** The EIP-712 `Receipt` type, field for field as in Solidity. */
export const RECEIPT_TYPES: Record<string, TypedDataField[]> = {
  Receipt: [
    { name: "modelId", type: "bytes32" },
    { name: "inputCommitment", type: "bytes32" },
    { name: "outputCommitment", type: "bytes32" },
    { name: "outputDigest", type: "bytes32" },
    { name: "requester", type: "address" },
    { name: "operator", type: "address" },
    { name: "nonce", type: "uint256" },
    { name: "deadline", type: "uint64" },
    { name: "tier", type: "uint8" },
  ],
};

/** The hub's EIP-712 domain: binds signatures to one chain and one hub contract. */
export function hubDomain(chainId: bigint | number, hub: string): TypedDataDomain {
  return { name: "OPG InferenceHub", version: "1", chainId: BigInt(chainId), verifyingContract: checkAddress(hub, "hub") };
}

/** Validates and normalises a receipt; every field error is an InvalidInputError naming the field. */
export function buildReceipt(fields: {
  modelId: string;
  inputCommitment: string;
  outputCommitment: string;
  /** Defaults to zero (no output values claimed). */
  outputDigest?: string;
  requester: string;
  operator: string;
  nonce: bigint | number;
  deadline: bigint | number;
  tier: Tier;
}): Receipt {
  const nonce = BigInt(fields.nonce);
  const deadline = BigInt(fields.deadline);
  if (nonce < 0n || nonce >= 2n ** 256n) throw new InvalidInputError(`nonce must fit in uint256, got ${nonce}`);
  if (deadline < 0n || deadline >= 2n ** 64n) throw new InvalidInputError(`deadline must fit in uint64, got ${deadline}`);
  if (fields.tier === Tier.None) throw new InvalidInputError("a receipt needs a tier (signature, tee or zk)");
  return {
    modelId: checkBytes32(fields.modelId, "modelId"),
    inputCommitment: checkBytes32(fields.inputCommitment, "inputCommitment"),
    outputCommitment: checkBytes32(fields.outputCommitment, "outputCommitment"),
    outputDigest: checkBytes32(fields.outputDigest ?? ZERO_DIGEST, "outputDigest"),
    requester: checkAddress(fields.requester, "requester"),
    operator: checkAddress(fields.operator, "operator"),
    nonce,
    deadline,
    tier: fields.tier,
  };
}

/** The EIP-712 digest the operator (or enclave key) signs. */
export function receiptDigest(receipt: Receipt, domain: TypedDataDomain): Hex {
  return TypedDataEncoder.hash(domain, RECEIPT_TYPES, receipt) as Hex;
}

/** Anything that can sign EIP-712 data: an ethers Wallet or a JSON-RPC signer. */
export interface TypedDataSigner {
  signTypedData(domain: TypedDataDomain, types: Record<string, TypedDataField[]>, value: Record<string, unknown>): Promise<string>;
}

export async function signReceipt(receipt: Receipt, domain: TypedDataDomain, signer: TypedDataSigner): Promise<Hex> {
  return (await signer.signTypedData(domain, RECEIPT_TYPES, { ...receipt })) as Hex;
}

/** The address that signed `receipt` (ECDSA only; ERC-1271 signers are checked on-chain). */
export function recoverReceiptSigner(receipt: Receipt, domain: TypedDataDomain, signature: string): string {
  try {
    return verifyTypedData(domain, RECEIPT_TYPES, receipt, signature);
  } catch (cause) {
    throw new InvalidInputError("malformed receipt signature", { cause });
  }
}

/** keccak256(abi.encode(chainId, hub, requester, modelId, nonce)): the id dApps query. */
export function receiptId(chainId: bigint | number, hub: string, requester: string, modelId: string, nonce: bigint): Hex {
  return keccak256(
    AbiCoder.defaultAbiCoder().encode(
      ["uint256", "address", "address", "bytes32", "uint256"],
      [BigInt(chainId), checkAddress(hub, "hub"), checkAddress(requester, "requester"), checkBytes32(modelId, "modelId"), nonce],
    ),
  ) as Hex;
}

/**
 * The public `binding` input a ZK proof for receipt `id` paid to `operator` must carry:
 * keccak256(abi.encode(id, operator)) reduced into the field (ReceiptHashing.bindingOf). Binding the
 * operator means a proof can only ever pay the operator it was made for.
 */
export function bindingOf(id: string, operator: string): bigint {
  const encoded = AbiCoder.defaultAbiCoder().encode(["bytes32", "address"], [checkBytes32(id, "receipt id"), checkAddress(operator, "operator")]);
  return BigInt(keccak256(encoded)) % SNARK_SCALAR_FIELD;
}

/** A zero output digest: the receipt claims no output values. */
export const ZERO_DIGEST: Hex = `0x${"00".repeat(32)}`;

/** keccak256(abi.encode(int256[] outputs)): what a Signature/TEE receipt signs about its output values. */
export function outputDigestOf(outputs: readonly bigint[]): Hex {
  return keccak256(AbiCoder.defaultAbiCoder().encode(["int256[]"], [[...outputs]])) as Hex;
}

/**
 * Nonces with this bit set belong to operation steps (ReceiptHashing.OPERATION_NONCE_FLAG): a step's
 * signature or proof can never be submitted as a single receipt, nor the reverse.
 */
export const OPERATION_NONCE_FLAG = 1n << 255n;
const OPERATION_TAG = keccak256(new TextEncoder().encode("OPG.operation"));

/** An operation's id: keccak256(abi.encode(chainId, hub, requester, OPERATION_TAG, stepNonce)). */
export function operationId(chainId: bigint | number, hub: string, requester: string, stepNonce: bigint): Hex {
  if ((stepNonce & OPERATION_NONCE_FLAG) === 0n) throw new InvalidInputError("an operation's nonce carries OPERATION_NONCE_FLAG");
  return keccak256(
    AbiCoder.defaultAbiCoder().encode(
      ["uint256", "address", "address", "bytes32", "uint256"],
      [BigInt(chainId), checkAddress(hub, "hub"), checkAddress(requester, "requester"), OPERATION_TAG, stepNonce],
    ),
  ) as Hex;
}

export function checkBytes32(value: string, field: string): Hex {
  if (typeof value !== "string" || !/^0x[0-9a-fA-F]{64}$/.test(value)) {
    throw new InvalidInputError(`${field} must be 32 bytes of 0x-prefixed hex, got "${String(value)}"`);
  }
  return value.toLowerCase() as Hex;
}

export function checkAddress(value: string, field: string): string {
  if (typeof value !== "string" || !isAddress(value)) {
    throw new InvalidInputError(`${field} must be an address, got "${String(value)}"`);
  }
  return getAddress(value);
}
