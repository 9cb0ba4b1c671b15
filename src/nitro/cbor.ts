/**
 * A strict CBOR (RFC 8949) reader and writer for exactly the subset Nitro attestations use.
 *
 * Why not cbor-x: it decodes leniently (a repeated map key silently overwrites, trailing bytes and non-shortest heads
 * pass), it copies every byte string before we could check its size, and it tags Uint8Array with tag 64 when encoding.
 * A strict verifier needs the opposite on every point, and the subset is small, so this file reads the document
 * schema-first: the caller says what it expects next (a bstr of at most N bytes, a map, ...), and the reader checks
 * the head against that expectation before touching the content. Byte strings come back as views into the input,
 * so nothing is allocated for content we have not bounded.
 *
 * Accepted: unsigned/negative integers up to 2^53-1, definite-length byte and text strings, definite and
 * indefinite-length arrays and maps (real NSM documents use indefinite maps), tags (the caller decides which), null.
 * Refused as malformed: truncation, reserved additional-information values 28..30, non-shortest heads (so one value
 * has one encoding, which keeps the document digest from being malleable through re-encoding), chunked strings,
 * a break outside an indefinite container, invalid UTF-8.
 */
import { NitroError, type NitroErrorCode } from "./errors.ts";

const MAJOR_NAMES = ["unsigned integer", "negative integer", "byte string", "text string", "array", "map", "tag", "simple/float"];
const BREAK = 0xff;
const NULL = 0xf6;
const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

interface Head {
  readonly major: number;
  /** The argument; -1 for an indefinite length. */
  readonly value: number;
  /** Offset of the head's first byte, for error details. */
  readonly at: number;
}

/**
 * Cursor over one CBOR region. `typeError` is the code used when a well-formed item has the wrong type for the
 * schema: a wrong type inside the COSE envelope is a COSE problem, inside the payload it is a field problem.
 */
export class CborReader {
  pos: number;

  constructor(
    readonly bytes: Uint8Array,
    private readonly typeError: NitroErrorCode,
    start = 0,
    readonly end = bytes.length,
  ) {
    this.pos = start;
  }

  malformed(message: string, at = this.pos): never {
    throw new NitroError("NITRO_CBOR_MALFORMED", `malformed CBOR at offset ${at}: ${message}`, { details: { offset: at } });
  }

  private wrongType(field: string, expected: string, head: Head): never {
    const got = head.major === 7 && this.bytes[head.at] === NULL ? "null" : MAJOR_NAMES[head.major];
    throw new NitroError(this.typeError, `${field}: expected ${expected}, found ${got}`, {
      details: { field, offset: head.at },
    });
  }

  /** Reads one head, enforcing shortest form; never reads past `end`. */
  private head(): Head {
    const at = this.pos;
    if (at >= this.end) this.malformed("unexpected end of data");
    const initial = this.bytes[at]!;
    const major = initial >> 5;
    const info = initial & 0x1f;
    this.pos = at + 1;
    if (info < 24) return { major, value: info, at };
    if (info === 31) {
      // Indefinite length is only meaningful for strings and containers; break (0xff) is handled by the callers.
      if (major === 4 || major === 5) return { major, value: -1, at };
      if (major === 2 || major === 3) this.malformed("chunked (indefinite-length) strings are not accepted", at);
      this.malformed(major === 7 ? "unexpected break" : "indefinite length on a non-container", at);
    }
    if (info > 27) this.malformed(`reserved additional information ${info}`, at);
    const size = 1 << (info - 24);
    if (this.pos + size > this.end) this.malformed("unexpected end of data", at);
    if (major === 7) {
      // Floats and extended simple values: never valid here, but well-formed, so report them as a type problem.
      this.pos += size;
      return { major, value: 0, at };
    }
    let value = 0;
    for (let i = 0; i < size; i++) value = value * 256 + this.bytes[this.pos + i]!;
    this.pos += size;
    if (value > Number.MAX_SAFE_INTEGER) this.malformed("integer beyond 2^53-1", at);
    const minimum = info === 24 ? 24 : info === 25 ? 0x100 : info === 26 ? 0x10000 : 0x100000000;
    if (value < minimum) this.malformed("non-shortest integer encoding", at);
    return { major, value, at };
  }

  /** Unsigned integer. */
  readUint(field: string): number {
    const h = this.head();
    if (h.major !== 0) this.wrongType(field, "an unsigned integer", h);
    return h.value;
  }

  /** Signed integer (major type 0 or 1). */
  readInt(field: string): number {
    const h = this.head();
    if (h.major === 0) return h.value;
    if (h.major === 1) return -1 - h.value;
    return this.wrongType(field, "an integer", h);
  }

  /** Byte string view of `min..max` bytes; the length is checked against `max` before anything is sliced. */
  readBytes(field: string, min: number, max: number): Uint8Array {
    const h = this.head();
    if (h.major !== 2) this.wrongType(field, "a byte string", h);
    this.checkLength(field, h, min, max);
    const start = this.pos;
    this.pos += h.value;
    return this.bytes.subarray(start, this.pos);
  }

  /** Byte string, or null (real documents carry absent optional fields as CBOR null). */
  readBytesOrNull(field: string, min: number, max: number): Uint8Array | null {
    if (this.pos < this.end && this.bytes[this.pos] === NULL) {
      this.pos++;
      return null;
    }
    return this.readBytes(field, min, max);
  }

  readText(field: string, min: number, max: number): string {
    const h = this.head();
    if (h.major !== 3) this.wrongType(field, "a text string", h);
    this.checkLength(field, h, min, max);
    const start = this.pos;
    this.pos += h.value;
    try {
      return utf8.decode(this.bytes.subarray(start, this.pos));
    } catch {
      return this.malformed(`${field}: invalid UTF-8`, h.at);
    }
  }

  private checkLength(field: string, h: Head, min: number, max: number): void {
    if (h.value > max) {
      throw new NitroError("NITRO_TOO_LARGE", `${field}: ${h.value} bytes, at most ${max} allowed`, {
        details: { field, length: h.value, max, offset: h.at },
      });
    }
    if (h.value > this.end - this.pos) this.malformed(`${field}: length ${h.value} runs past the end of data`, h.at);
    if (h.value < min) {
      throw new NitroError(this.typeError, `${field}: ${h.value} bytes, at least ${min} required`, {
        details: { field, length: h.value, min, offset: h.at },
      });
    }
  }

  /** Array head: the element count, or -1 for an indefinite array (end it with `atBreak`). */
  readArrayStart(field: string, maxItems: number): number {
    const h = this.head();
    if (h.major !== 4) this.wrongType(field, "an array", h);
    this.checkCount(field, h, maxItems, 1);
    return h.value;
  }

  /** Map head: the pair count, or -1 for an indefinite map (end it with `atBreak`). */
  readMapStart(field: string, maxPairs: number): number {
    const h = this.head();
    if (h.major !== 5) this.wrongType(field, "a map", h);
    this.checkCount(field, h, maxPairs, 2);
    return h.value;
  }

  private checkCount(field: string, h: Head, max: number, minBytesPerItem: number): void {
    if (h.value > max) {
      throw new NitroError("NITRO_TOO_LARGE", `${field}: ${h.value} entries, at most ${max} allowed`, {
        details: { field, count: h.value, max, offset: h.at },
      });
    }
    // Every item needs at least one byte: a count the remaining data cannot hold is truncation, caught before looping.
    if (h.value * minBytesPerItem > this.end - this.pos) this.malformed(`${field}: ${h.value} entries cannot fit in the data`, h.at);
  }

  /**
   * Loop control for containers: for a definite container, true once `index` reached `count`; for an indefinite one,
   * consumes the break byte when it is next. Refuses more than `max` items in an indefinite container.
   */
  atEnd(count: number, index: number, field: string, max: number): boolean {
    if (count >= 0) return index >= count;
    if (this.pos >= this.end) this.malformed(`${field}: missing break of indefinite container`);
    if (this.bytes[this.pos] === BREAK) {
      this.pos++;
      return true;
    }
    if (index >= max) {
      throw new NitroError("NITRO_TOO_LARGE", `${field}: more than ${max} entries`, { details: { field, max, offset: this.pos } });
    }
    return false;
  }

  /** If the next item is tag `tag`, consumes its head and returns true. */
  readOptionalTag(tag: number): boolean {
    if (this.pos >= this.end || this.bytes[this.pos]! >> 5 !== 6) return false;
    const h = this.head();
    if (h.value !== tag) {
      throw new NitroError(this.typeError, `unexpected CBOR tag ${h.value}`, { details: { tag: h.value, offset: h.at } });
    }
    return true;
  }

  /** Asserts the region is fully consumed. */
  expectEnd(what: string): void {
    if (this.pos !== this.end) {
      throw new NitroError("NITRO_CBOR_TRAILING_BYTES", `${this.end - this.pos} trailing bytes after ${what}`, {
        details: { offset: this.pos, trailing: this.end - this.pos },
      });
    }
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Writer

/** Bytes inserted verbatim: lets tests and the dev generator build deliberately odd encodings. */
export class CborRaw {
  constructor(readonly bytes: Uint8Array) {}
}

/** A tagged item. */
export class CborTag {
  constructor(
    readonly tag: number,
    readonly value: CborValue,
  ) {}
}

/** What `encodeCbor` accepts. Maps keep insertion order; Uint8Array is always a plain bstr (never tag 64). */
export type CborValue =
  | number
  | bigint
  | string
  | boolean
  | null
  | Uint8Array
  | readonly CborValue[]
  | ReadonlyMap<CborValue, CborValue>
  | CborTag
  | CborRaw;

function headBytes(major: number, value: number | bigint): Uint8Array {
  const v = BigInt(value);
  if (v < 0n || v > 0xffffffffffffffffn) throw new NitroError("NITRO_INPUT_INVALID", `CBOR argument out of range: ${v}`);
  const m = major << 5;
  if (v < 24n) return Uint8Array.of(m | Number(v));
  if (v < 0x100n) return Uint8Array.of(m | 24, Number(v));
  if (v < 0x10000n) return Uint8Array.of(m | 25, Number(v >> 8n), Number(v & 0xffn));
  const width = v < 0x100000000n ? 4 : 8;
  const out = new Uint8Array(1 + width);
  out[0] = m | (width === 4 ? 26 : 27);
  for (let i = 0; i < width; i++) out[width - i] = Number((v >> BigInt(8 * i)) & 0xffn);
  return out;
}

/** The head of a byte string of `length` bytes (used to frame the payload without copying it twice). */
export function bstrHead(length: number): Uint8Array {
  return headBytes(2, length);
}

/** Encodes definite-length CBOR with shortest heads. Throws NITRO_INPUT_INVALID for values outside the subset. */
export function encodeCbor(value: CborValue): Uint8Array {
  const parts: Uint8Array[] = [];
  const text = new TextEncoder();
  const walk = (v: CborValue): void => {
    if (v === null) parts.push(Uint8Array.of(NULL));
    else if (v === true) parts.push(Uint8Array.of(0xf5));
    else if (v === false) parts.push(Uint8Array.of(0xf4));
    else if (typeof v === "number" || typeof v === "bigint") {
      if (typeof v === "number" && !Number.isSafeInteger(v)) throw new NitroError("NITRO_INPUT_INVALID", `not a safe integer: ${v}`);
      const b = BigInt(v);
      parts.push(b >= 0n ? headBytes(0, b) : headBytes(1, -1n - b));
    } else if (typeof v === "string") {
      const bytes = text.encode(v);
      parts.push(headBytes(3, bytes.length), bytes);
    } else if (v instanceof Uint8Array) parts.push(headBytes(2, v.length), v);
    else if (v instanceof CborRaw) parts.push(v.bytes);
    else if (v instanceof CborTag) {
      parts.push(headBytes(6, v.tag));
      walk(v.value);
    } else if (v instanceof Map) {
      parts.push(headBytes(5, v.size));
      for (const [k, item] of v) {
        walk(k);
        walk(item);
      }
    } else if (Array.isArray(v)) {
      parts.push(headBytes(4, v.length));
      for (const item of v as readonly CborValue[]) walk(item);
    } else throw new NitroError("NITRO_INPUT_INVALID", "value outside the CBOR subset");
  };
  walk(value);
  return new Uint8Array(Buffer.concat(parts));
}
