import { NitroError } from "./errors.ts";

/** Lowercase hex with a 0x prefix: the one hex convention of this module (facts, JSON, image ids). */
export function toHex(bytes: Uint8Array): string {
  return "0x" + Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("hex");
}

/** Accepts hex with or without 0x (callers paste PCRs from nitro-cli, which prints them bare). */
export function fromHex(hex: string, what: string): Uint8Array {
  const body = hex.startsWith("0x") || hex.startsWith("0X") ? hex.slice(2) : hex;
  if (body.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(body)) {
    throw new NitroError("NITRO_INPUT_INVALID", `${what} is not valid hex`, { details: { field: what } });
  }
  return new Uint8Array(Buffer.from(body, "hex"));
}

/** Bytes as given, or decoded from hex. */
export function bytesLike(value: Uint8Array | string, what: string): Uint8Array {
  if (value instanceof Uint8Array) return value;
  if (typeof value === "string") return fromHex(value, what);
  throw new NitroError("NITRO_INPUT_INVALID", `${what} must be bytes or hex`, { details: { field: what } });
}

/** Length and content equality (Buffer.equals, without copying either side). */
export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
}

/** A Buffer view without copying: node:crypto wants Buffers or ArrayBufferViews, and views are free. */
export function view(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
