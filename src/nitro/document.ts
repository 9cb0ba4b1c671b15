import { createHash } from "node:crypto";
import { bytesEqual, view } from "./bytes.ts";
import { bstrHead, CborReader } from "./cbor.ts";
import { NitroError, wrapUnexpected } from "./errors.ts";
import { printable } from "./text.ts";

/**
 * Size limits. The payload, certificate, PCR and optional-field limits are the ones AWS documents
 * (aws-nitro-enclaves-nsm-api docs/attestation_process.md, sections 3 and 3.2.2.2). The others bound what the
 * documentation leaves open, generously above anything NSM emits, so a hostile input cannot make us loop or allocate.
 */
export const NITRO_LIMITS = Object.freeze({
  /** COSE_Sign1 payload bstr .size (1..16384). */
  payload: 16384,
  /** The whole document: the largest payload plus the COSE envelope (tag, headers, 96-byte signature). */
  document: 16384 + 128,
  certificate: 1024,
  /** Real bundles hold root + 3 intermediates; 8 leaves room without allowing unbounded chains. */
  cabundleEntries: 8,
  pcrs: 32,
  publicKey: 1024,
  userData: 512,
  nonce: 512,
  /** Not documented; real module ids are about 40 characters. */
  moduleId: 256,
});

/** The only protected header a Nitro document has: the CBOR map {1: -35}, i.e. alg = ES384. */
export const ES384_PROTECTED_HEADER = Uint8Array.of(0xa1, 0x01, 0x38, 0x22);

/** Length of a PCR for each digest the format names (only SHA384 is accepted, as AWS documents). */
const DIGEST_LENGTHS = { SHA384: 48 } as const;

/** The order of P-384 and its half: an ECDSA signature (r, s) is also valid as (r, n − s). */
const P384_N = 0xffffffffffffffffffffffffffffffffffffffffffffffffc7634d81f4372ddf581a0db248b0a77aecec196accc52973n;
const P384_HALF_N = P384_N >> 1n;

/** A syntactically valid Nitro attestation document. Nothing in it is authenticated yet. */
export interface ParsedAttestationDocument {
  readonly protectedHeader: Uint8Array;
  readonly payload: Uint8Array;
  /** Raw r‖s, 96 bytes. */
  readonly signature: Uint8Array;
  readonly moduleId: string;
  readonly digest: "SHA384";
  readonly timestamp: number;
  readonly pcrs: ReadonlyMap<number, Uint8Array>;
  readonly certificate: Uint8Array;
  readonly cabundle: readonly Uint8Array[];
  readonly publicKey: Uint8Array | null;
  readonly userData: Uint8Array | null;
  readonly nonce: Uint8Array | null;
}

/**
 * Parses a COSE_Sign1 Nitro attestation document strictly, without verifying anything cryptographic.
 * Byte fields are views into `document`. Throws NitroError only.
 */
export function parseAttestationDocument(document: Uint8Array): ParsedAttestationDocument {
  return wrapUnexpected("attestation parsing", () => parseUnwrapped(document));
}

function parseUnwrapped(document: Uint8Array): ParsedAttestationDocument {
  if (!(document instanceof Uint8Array)) throw new NitroError("NITRO_INPUT_INVALID", "document must be a Uint8Array");
  if (document.length > NITRO_LIMITS.document) {
    throw new NitroError("NITRO_TOO_LARGE", `document is ${document.length} bytes, at most ${NITRO_LIMITS.document} allowed`, {
      details: { field: "document", length: document.length, max: NITRO_LIMITS.document },
    });
  }
  const r = new CborReader(document, "NITRO_COSE_MALFORMED");
  r.readOptionalTag(18);
  const arity = r.readArrayStart("COSE_Sign1", 16);
  if (arity !== 4) {
    throw new NitroError("NITRO_COSE_MALFORMED", `COSE_Sign1 must be a definite array of 4 items, found ${arity < 0 ? "an indefinite array" : arity}`);
  }
  const protectedHeader = r.readBytes("protected header", 0, 64);
  if (!bytesEqual(protectedHeader, ES384_PROTECTED_HEADER)) {
    throw new NitroError("NITRO_BAD_ALGORITHM", `protected header must be exactly {1: -35} (ES384), found h'${Buffer.from(protectedHeader).toString("hex")}'`, {
      details: { field: "protected header" },
    });
  }
  // Nothing in the unprotected header is signed, and NSM always leaves it empty: anything there is refused.
  const unprotected = r.readMapStart("unprotected header", 64);
  if (unprotected !== 0) throw new NitroError("NITRO_COSE_MALFORMED", "unprotected header must be the empty map");
  const payload = r.readBytes("payload", 1, NITRO_LIMITS.payload);
  const signature = r.readBytes("signature", 0, 96);
  if (signature.length !== 96) {
    throw new NitroError("NITRO_SIGNATURE_INVALID", `ES384 signature must be 96 bytes (r‖s), found ${signature.length}`, {
      details: { field: "signature", length: signature.length },
    });
  }
  r.expectEnd("COSE_Sign1");
  return { protectedHeader, payload, signature, ...parsePayload(payload) };
}

type PayloadFields = Omit<ParsedAttestationDocument, "protectedHeader" | "payload" | "signature">;

const FIELDS = ["module_id", "digest", "timestamp", "pcrs", "certificate", "cabundle", "public_key", "user_data", "nonce"] as const;
type FieldName = (typeof FIELDS)[number];
const FIELD_SET: ReadonlySet<string> = new Set(FIELDS);

function duplicate(field: string, offset: number): never {
  throw new NitroError("NITRO_CBOR_DUPLICATE_KEY", `duplicate map key ${field}`, { details: { field, offset } });
}

function parsePayload(payload: Uint8Array): PayloadFields {
  const r = new CborReader(payload, "NITRO_FIELD_INVALID");
  const count = r.readMapStart("payload", FIELDS.length);
  const seen = new Set<FieldName>();
  let moduleId: string | undefined;
  let digest: "SHA384" | undefined;
  let timestamp: number | undefined;
  let pcrs: Map<number, Uint8Array> | undefined;
  let certificate: Uint8Array | undefined;
  let cabundle: Uint8Array[] | undefined;
  let publicKey: Uint8Array | null = null;
  let userData: Uint8Array | null = null;
  let nonce: Uint8Array | null = null;

  for (let i = 0; !r.atEnd(count, i, "payload", FIELDS.length); i++) {
    const keyAt = r.pos;
    const key = r.readText("payload key", 1, 16);
    if (!FIELD_SET.has(key)) {
      throw new NitroError("NITRO_FIELD_INVALID", `unknown field "${printable(key)}"`, { details: { field: key, offset: keyAt } });
    }
    const field = key as FieldName;
    if (seen.has(field)) duplicate(field, keyAt);
    seen.add(field);
    switch (field) {
      case "module_id":
        moduleId = r.readText("module_id", 1, NITRO_LIMITS.moduleId);
        break;
      case "digest": {
        const value = r.readText("digest", 1, 16);
        if (value !== "SHA384") throw new NitroError("NITRO_FIELD_INVALID", `digest must be "SHA384", found "${printable(value)}"`, { details: { field } });
        digest = value;
        break;
      }
      case "timestamp":
        timestamp = r.readUint("timestamp");
        if (timestamp === 0) throw new NitroError("NITRO_FIELD_INVALID", "timestamp must be greater than 0", { details: { field } });
        break;
      case "pcrs":
        pcrs = readPcrs(r);
        break;
      case "certificate":
        certificate = r.readBytes("certificate", 1, NITRO_LIMITS.certificate);
        break;
      case "cabundle": {
        const n = r.readArrayStart("cabundle", NITRO_LIMITS.cabundleEntries);
        cabundle = [];
        for (let j = 0; !r.atEnd(n, j, "cabundle", NITRO_LIMITS.cabundleEntries); j++) {
          cabundle.push(r.readBytes(`cabundle[${j}]`, 1, NITRO_LIMITS.certificate));
        }
        if (cabundle.length === 0) throw new NitroError("NITRO_FIELD_INVALID", "cabundle is empty", { details: { field } });
        break;
      }
      case "public_key":
        publicKey = r.readBytesOrNull("public_key", 1, NITRO_LIMITS.publicKey);
        break;
      case "user_data":
        userData = r.readBytesOrNull("user_data", 0, NITRO_LIMITS.userData);
        break;
      case "nonce":
        nonce = r.readBytesOrNull("nonce", 0, NITRO_LIMITS.nonce);
        break;
    }
  }
  r.expectEnd("payload");

  const missing = (name: string): never => {
    throw new NitroError("NITRO_FIELD_MISSING", `payload lacks ${name}`, { details: { field: name } });
  };
  if (moduleId === undefined) missing("module_id");
  if (digest === undefined) missing("digest");
  if (timestamp === undefined) missing("timestamp");
  if (pcrs === undefined) missing("pcrs");
  if (certificate === undefined) missing("certificate");
  if (cabundle === undefined) missing("cabundle");
  // PCRs are digests: their length is the one `digest` names, not any length NSM could have used.
  const pcrLength = DIGEST_LENGTHS[digest!];
  for (const [index, value] of pcrs!) {
    if (value.length !== pcrLength) {
      throw new NitroError("NITRO_FIELD_INVALID", `PCR${index} is ${value.length} bytes, but digest ${digest} makes every PCR ${pcrLength} bytes`, {
        details: { field: `pcrs[${index}]`, length: value.length, expected: pcrLength },
      });
    }
  }
  return { moduleId: moduleId!, digest: digest!, timestamp: timestamp!, pcrs: pcrs!, certificate: certificate!, cabundle: cabundle!, publicKey, userData, nonce };
}

function readPcrs(r: CborReader): Map<number, Uint8Array> {
  const n = r.readMapStart("pcrs", NITRO_LIMITS.pcrs);
  const pcrs = new Map<number, Uint8Array>();
  for (let i = 0; !r.atEnd(n, i, "pcrs", NITRO_LIMITS.pcrs); i++) {
    const keyAt = r.pos;
    const index = r.readUint("pcrs key");
    if (index >= NITRO_LIMITS.pcrs) {
      throw new NitroError("NITRO_FIELD_INVALID", `PCR index ${index} outside 0..31`, { details: { field: "pcrs", index } });
    }
    if (pcrs.has(index)) duplicate(`pcrs[${index}]`, keyAt);
    const value = r.readBytes(`pcrs[${index}]`, 32, 64);
    if (value.length !== 32 && value.length !== 48 && value.length !== 64) {
      throw new NitroError("NITRO_FIELD_INVALID", `PCR${index} is ${value.length} bytes, expected 32, 48 or 64`, {
        details: { field: `pcrs[${index}]`, length: value.length },
      });
    }
    pcrs.set(index, value);
  }
  // PCR0..2 identify the image (and reveal debug mode); a document without them cannot be judged.
  for (const index of [0, 1, 2]) {
    if (!pcrs.has(index)) throw new NitroError("NITRO_FIELD_MISSING", `pcrs lacks PCR${index}`, { details: { field: `pcrs[${index}]` } });
  }
  return pcrs;
}

/**
 * 0x SHA-256 of the document's canonical form: the untagged COSE_Sign1 with the low-S signature (s ≤ n/2). One signed
 * payload has four valid spellings (COSE tag 18 or not, s or n − s) but one digest, so deduplicating by this digest
 * is sound. The strict parser admits no other variation (shortest CBOR heads, exact protected header, empty
 * unprotected map), and for an untagged low-S document the digest is simply the SHA-256 of its bytes.
 */
export function attestationDigestOf(doc: ParsedAttestationDocument): string {
  const r = doc.signature.subarray(0, 48);
  const s = doc.signature.subarray(48, 96);
  let canonicalS: Uint8Array = s;
  const value = BigInt("0x" + view(s).toString("hex"));
  if (value > P384_HALF_N && value < P384_N) canonicalS = Buffer.from((P384_N - value).toString(16).padStart(96, "0"), "hex");
  return (
    "0x" +
    createHash("sha256")
      .update(COSE_SIGN1_HEAD)
      .update(bstrHead(doc.protectedHeader.length))
      .update(view(doc.protectedHeader))
      .update(EMPTY_MAP)
      .update(bstrHead(doc.payload.length))
      .update(view(doc.payload))
      .update(SIGNATURE_HEAD)
      .update(view(r))
      .update(view(canonicalS))
      .digest("hex")
  );
}

const COSE_SIGN1_HEAD = Uint8Array.of(0x84);
const EMPTY_MAP = Uint8Array.of(0xa0);
const SIGNATURE_HEAD = bstrHead(96);
