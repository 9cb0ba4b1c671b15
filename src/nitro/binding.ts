import { AbiCoder, computeAddress, getAddress, getBytes, keccak256, SigningKey } from "ethers";
import { NitroError } from "./errors.ts";

/** Who a registration is for: the values the enclave commits to in user_data. */
export interface EnclaveBindingInput {
  readonly chainId: bigint | number;
  /** The EnclaveRegistry contract the document is meant for. */
  readonly registry: string;
  /** The node operator registering the enclave. */
  readonly operator: string;
  /** The enclave's signing key address (derived from public_key). */
  readonly enclaveKey: string;
}

function address(value: string, field: string): string {
  try {
    return getAddress(value);
  } catch (error) {
    throw new NitroError("NITRO_INPUT_INVALID", `${field} is not an Ethereum address`, { cause: error, details: { field } });
  }
}

/**
 * keccak256(abi.encode(uint256 chainId, address registry, address operator, address enclaveKey)): the 32 bytes an
 * enclave puts in user_data so its document cannot be replayed for another chain, registry, operator or key.
 * The contract recomputes the same value, hence abi.encode rather than a packed or CBOR form.
 */
export function enclaveBinding(input: EnclaveBindingInput): Uint8Array {
  const chainId = typeof input.chainId === "bigint" ? input.chainId : Number.isSafeInteger(input.chainId) ? BigInt(input.chainId) : -1n;
  if (chainId < 0n || chainId >= 1n << 256n) throw new NitroError("NITRO_INPUT_INVALID", "chainId must be a uint256", { details: { field: "chainId" } });
  const encoded = AbiCoder.defaultAbiCoder().encode(
    ["uint256", "address", "address", "address"],
    [chainId, address(input.registry, "registry"), address(input.operator, "operator"), address(input.enclaveKey, "enclaveKey")],
  );
  return getBytes(keccak256(encoded));
}

/**
 * The Ethereum address of the enclave's secp256k1 key carried in public_key: 65 bytes 0x04‖x‖y or 64 bytes x‖y.
 * The point is checked to be on the curve, so a P-256 key or random bytes of the right length are refused
 * (NITRO_PUBLIC_KEY_INVALID) instead of yielding an address nobody controls.
 */
export function enclaveKeyAddress(publicKey: Uint8Array | null): string {
  if (publicKey === null) throw new NitroError("NITRO_PUBLIC_KEY_INVALID", "the document carries no public_key", { details: { field: "public_key" } });
  let uncompressed: Uint8Array;
  if (publicKey.length === 65 && publicKey[0] === 0x04) uncompressed = publicKey;
  else if (publicKey.length === 64) uncompressed = Uint8Array.of(0x04, ...publicKey);
  else {
    throw new NitroError("NITRO_PUBLIC_KEY_INVALID", `public_key is ${publicKey.length} bytes, expected a 65-byte 0x04‖x‖y or 64-byte x‖y secp256k1 key`, {
      details: { field: "public_key", length: publicKey.length },
    });
  }
  try {
    // computePublicKey decodes the point and rejects it when it is not on secp256k1.
    return computeAddress(SigningKey.computePublicKey(uncompressed, false));
  } catch (error) {
    throw new NitroError("NITRO_PUBLIC_KEY_INVALID", "public_key is not a point on secp256k1", { cause: error, details: { field: "public_key" } });
  }
}

/**
 * keccak256(PCR0‖PCR1‖PCR2) as 0x hex: the enclave image identifier the on-chain registry approves. PCR0..2 cover
 * the image, kernel/boot and application, so together they name exactly what runs.
 */
export function imageId(pcrs: Readonly<Record<number, Uint8Array>> | ReadonlyMap<number, Uint8Array>): string {
  const get = (i: number): Uint8Array => {
    const value = pcrs instanceof Map ? (pcrs as ReadonlyMap<number, Uint8Array>).get(i) : (pcrs as Readonly<Record<number, Uint8Array>>)[i];
    if (!(value instanceof Uint8Array)) throw new NitroError("NITRO_FIELD_MISSING", `PCR${i} is missing`, { details: { field: `pcrs[${i}]` } });
    return value;
  };
  return keccak256(Buffer.concat([get(0), get(1), get(2)]));
}
