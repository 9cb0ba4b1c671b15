/**
 * Minimal strict DER / X.509 reading for the Nitro PKI profile: ECDSA P-384 keys, ecdsa-with-SHA384 signatures,
 * v3 certificates with basicConstraints and keyUsage.
 *
 * Why not node:crypto's X509Certificate: it parses the whole certificate into strings (subject, validity dates,
 * extensions) and we would then re-parse those strings; it does not expose the TBS bytes, so signature checks go
 * through its own verify() with no control over the algorithm; and it would accept any key type and any critical
 * extension. Reading the few fields we need from DER is small, lets us refuse everything outside the profile, and
 * keeps the per-certificate cost at one createPublicKey call.
 */
import { createPublicKey, type KeyObject } from "node:crypto";
import { bytesEqual, view } from "./bytes.ts";
import { NitroError } from "./errors.ts";
import { printable } from "./text.ts";

/** What the verifier needs from one certificate. Immutable once parsed, so it can be cached. */
export interface ParsedCertificate {
  readonly der: Uint8Array;
  /** The signed TBSCertificate bytes, header included. */
  readonly tbs: Uint8Array;
  /** DER-encoded ECDSA-Sig-Value from the signatureValue BIT STRING. */
  readonly signature: Uint8Array;
  /** Raw DER of the issuer and subject Names: chain links compare them byte for byte. */
  readonly issuer: Uint8Array;
  readonly subject: Uint8Array;
  /** Validity window in milliseconds since the epoch, both inclusive (RFC 5280 4.1.2.5). */
  readonly notBefore: number;
  readonly notAfter: number;
  readonly isCA: boolean;
  /** basicConstraints pathLenConstraint, undefined when absent. */
  readonly pathLen: number | undefined;
  /** keyUsage bits as a number (bit 0 = digitalSignature ... bit 8 = decipherOnly); the extension is required. */
  readonly keyUsage: number;
  readonly publicKey: KeyObject;
}

export const KEY_USAGE_DIGITAL_SIGNATURE = 1 << 0;
export const KEY_USAGE_KEY_CERT_SIGN = 1 << 5;

// Encodings compared byte for byte: the profile admits exactly one spelling of each.
// AlgorithmIdentifier { ecdsa-with-SHA384 } with absent parameters (RFC 5758 3.2).
const ECDSA_SHA384 = Uint8Array.from([0x30, 0x0a, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x03]);
// SubjectPublicKeyInfo prefix for id-ecPublicKey on secp384r1 with an uncompressed 97-byte point.
const P384_SPKI_PREFIX = Uint8Array.from([
  0x30, 0x76, 0x30, 0x10, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x22,
  0x03, 0x62, 0x00, 0x04,
]);
const OID_BASIC_CONSTRAINTS = Uint8Array.from([0x55, 0x1d, 0x13]);
const OID_KEY_USAGE = Uint8Array.from([0x55, 0x1d, 0x0f]);

interface Element {
  readonly tag: number;
  /** Offset of the tag byte. */
  readonly start: number;
  /** Offset of the content. */
  readonly content: number;
  /** Offset just after the element. */
  readonly end: number;
}

class DerReader {
  pos: number;
  constructor(
    private readonly bytes: Uint8Array,
    private readonly label: string,
    start: number,
    readonly end: number,
  ) {
    this.pos = start;
  }

  fail(message: string): never {
    throw new NitroError("NITRO_CERT_MALFORMED", `${this.label}: ${message}`, { details: { certificate: this.label } });
  }

  peekTag(): number | undefined {
    return this.pos < this.end ? this.bytes[this.pos] : undefined;
  }

  /** Reads one TLV with DER length rules (definite, minimal) and returns its bounds. */
  next(expectedTag: number, what: string): Element {
    const start = this.pos;
    if (start + 2 > this.end) this.fail(`truncated ${what}`);
    const tag = this.bytes[start]!;
    if (tag !== expectedTag) this.fail(`${what}: expected tag 0x${expectedTag.toString(16)}, found 0x${tag.toString(16)}`);
    let length = this.bytes[start + 1]!;
    let content = start + 2;
    if (length & 0x80) {
      const width = length & 0x7f;
      if (width === 0 || width > 3) this.fail(`${what}: unsupported length form`);
      if (content + width > this.end) this.fail(`truncated ${what}`);
      length = 0;
      for (let i = 0; i < width; i++) length = length * 256 + this.bytes[content + i]!;
      if (length < 0x80 || this.bytes[content] === 0) this.fail(`${what}: non-minimal length`);
      content += width;
    }
    const end = content + length;
    if (end > this.end) this.fail(`truncated ${what}`);
    this.pos = end;
    return { tag, start, content, end };
  }

  sub(el: Element, label = this.label): DerReader {
    return new DerReader(this.bytes, label, el.content, el.end);
  }

  slice(el: Element, whole = true): Uint8Array {
    return this.bytes.subarray(whole ? el.start : el.content, el.end);
  }

  done(what: string): void {
    if (this.pos !== this.end) this.fail(`unexpected data after ${what}`);
  }
}

/** Parses and profile-checks one certificate. `label` ("cabundle[2]", "certificate") goes into every error. */
export function parseCertificate(der: Uint8Array, label: string): ParsedCertificate {
  const outer = new DerReader(der, label, 0, der.length);
  const certEl = outer.next(0x30, "Certificate");
  outer.done("Certificate");
  const cert = outer.sub(certEl);
  const tbsEl = cert.next(0x30, "TBSCertificate");
  const sigAlg = cert.slice(cert.next(0x30, "signatureAlgorithm"));
  const sigBits = cert.next(0x03, "signatureValue");
  cert.done("signatureValue");
  if (!bytesEqual(sigAlg, ECDSA_SHA384)) cert.fail("signature algorithm is not ecdsa-with-SHA384");
  if (sigBits.end - sigBits.content < 2 || der[sigBits.content] !== 0) cert.fail("signatureValue has unused bits");
  const signature = der.subarray(sigBits.content + 1, sigBits.end);

  const tbs = cert.sub(tbsEl);
  const versionEl = tbs.next(0xa0, "version");
  const version = tbs.sub(versionEl);
  const v = version.next(0x02, "version");
  version.done("version");
  if (v.end - v.content !== 1 || der[v.content] !== 2) tbs.fail("not an X.509 v3 certificate");
  const serial = tbs.next(0x02, "serialNumber");
  // RFC 5280 caps the serial at 20 octets of value; AWS intermediates use all 20 plus a 0x00 sign byte, hence 21.
  if (serial.end === serial.content || serial.end - serial.content > 21) tbs.fail("serialNumber length outside 1..21 bytes");
  checkSerial(tbs, der, serial);
  if (!bytesEqual(tbs.slice(tbs.next(0x30, "signature")), ECDSA_SHA384)) tbs.fail("TBS signature algorithm is not ecdsa-with-SHA384");
  const issuer = tbs.slice(tbs.next(0x30, "issuer"));
  const validity = tbs.sub(tbs.next(0x30, "validity"));
  const notBefore = readTime(validity, "notBefore");
  const notAfter = readTime(validity, "notAfter");
  validity.done("validity");
  if (notAfter < notBefore) tbs.fail("notAfter precedes notBefore");
  const subject = tbs.slice(tbs.next(0x30, "subject"));
  const spki = tbs.slice(tbs.next(0x30, "subjectPublicKeyInfo"));
  if (spki.length !== P384_SPKI_PREFIX.length + 96 || !bytesEqual(spki.subarray(0, P384_SPKI_PREFIX.length), P384_SPKI_PREFIX)) {
    tbs.fail("public key is not an uncompressed ECDSA P-384 key");
  }
  // Unique identifiers ([1], [2]) are deprecated and never used by Nitro: refusing them keeps the profile closed.
  const extsWrapper = tbs.next(0xa3, "extensions");
  tbs.done("extensions");
  const extsOuter = tbs.sub(extsWrapper);
  const exts = extsOuter.sub(extsOuter.next(0x30, "extensions"));
  extsOuter.done("extensions");

  let isCA = false;
  let pathLen: number | undefined;
  let keyUsage: number | undefined;
  let sawBasic = false;
  const seen = new Set<string>();
  while (exts.peekTag() !== undefined) {
    const ext = exts.sub(exts.next(0x30, "extension"));
    const oid = ext.slice(ext.next(0x06, "extnID"), false);
    const oidKey = Buffer.from(oid).toString("hex");
    if (seen.has(oidKey)) ext.fail(`extension ${oidKey} appears twice`);
    seen.add(oidKey);
    let critical = false;
    if (ext.peekTag() === 0x01) {
      const b = ext.next(0x01, "critical");
      if (b.end - b.content !== 1 || der[b.content] !== 0xff) ext.fail("critical flag must be DER TRUE when present");
      critical = true;
    }
    const valueEl = ext.next(0x04, "extnValue");
    ext.done("extension");
    const value = ext.sub(valueEl);
    if (bytesEqual(oid, OID_BASIC_CONSTRAINTS)) {
      sawBasic = true;
      const bc = value.sub(value.next(0x30, "basicConstraints"));
      value.done("basicConstraints");
      if (bc.peekTag() === 0x01) {
        const b = bc.next(0x01, "cA");
        const byte = b.end - b.content === 1 ? der[b.content] : undefined;
        if (byte !== 0xff && byte !== 0x00) bc.fail("cA is not a DER BOOLEAN");
        isCA = byte === 0xff;
      }
      if (bc.peekTag() === 0x02) {
        const n = bc.next(0x02, "pathLenConstraint");
        const len = n.end - n.content;
        // One content byte covers 0..127, far beyond any real chain; longer encodings are refused rather than parsed.
        if (len !== 1 || (der[n.content]! & 0x80) !== 0) bc.fail("pathLenConstraint out of range");
        pathLen = der[n.content]!;
        if (!isCA) bc.fail("pathLenConstraint on a non-CA certificate");
      }
      bc.done("basicConstraints");
      // RFC 5280 4.2.1.9: CA certificates must mark basicConstraints critical.
      if (isCA && !critical) ext.fail("basicConstraints of a CA certificate is not critical");
    } else if (bytesEqual(oid, OID_KEY_USAGE)) {
      const bits = value.next(0x03, "keyUsage");
      value.done("keyUsage");
      const len = bits.end - bits.content;
      const unused = der[bits.content] ?? 8;
      if (len < 2 || len > 3 || unused > 7) ext.fail("keyUsage is not a valid BIT STRING");
      // X.690 11.2: the unused (padding) bits are zero, and a named bit list drops trailing zero bits, so the last
      // declared bit is set. Without this, keyCertSign could hide in the padding: OpenSSL ignores it, we would not.
      const last = der[bits.end - 1]!;
      if ((last & ((1 << unused) - 1)) !== 0) ext.fail("keyUsage has non-zero unused (padding) bits");
      if (((last >> unused) & 1) === 0) ext.fail("keyUsage BIT STRING is not minimally encoded (trailing zero bits)");
      keyUsage = 0;
      for (let i = 1; i < len; i++) {
        const byte = der[bits.content + i]!;
        for (let b = 0; b < 8; b++) if (byte & (0x80 >> b)) keyUsage |= 1 << ((i - 1) * 8 + b);
      }
    } else if (critical) {
      // RFC 5280 6.1.4: a critical extension we do not understand makes the certificate unusable.
      ext.fail(`unsupported critical extension ${formatOid(oid)}`);
    }
  }
  // Every certificate of the Nitro profile (root, intermediates and leaf) carries both; RFC 5280 verifiers refuse a
  // signing leaf whose role is left implicit.
  if (!sawBasic) tbs.fail("certificate lacks basicConstraints");
  if (keyUsage === undefined) return tbs.fail("certificate lacks keyUsage");

  let publicKey: KeyObject;
  try {
    publicKey = createPublicKey({ key: view(spki), format: "der", type: "spki" });
  } catch (error) {
    throw new NitroError("NITRO_CERT_MALFORMED", `${label}: public key is not a valid P-384 point`, {
      cause: error,
      details: { certificate: label },
    });
  }
  return { der, tbs: cert.slice(tbsEl), signature, issuer, subject, notBefore, notAfter, isCA, pathLen, keyUsage, publicKey };
}

/**
 * RFC 5280 4.1.2.2: the serial is a positive integer; DER (X.690 8.3.2) makes its encoding minimal. Zero, negative
 * and padded serials are refused rather than normalised, so each certificate has one reading.
 */
function checkSerial(r: DerReader, der: Uint8Array, serial: Element): void {
  const first = der[serial.content]!;
  const len = serial.end - serial.content;
  if (first & 0x80) r.fail("serialNumber is negative");
  if (len > 1 && first === 0 && (der[serial.content + 1]! & 0x80) === 0) r.fail("serialNumber is not minimally encoded");
  if (len === 1 && first === 0) r.fail("serialNumber is zero");
}

/** RFC 5280 4.1.2.5: UTCTime YYMMDDHHMMSSZ (years 1950..2049) or GeneralizedTime YYYYMMDDHHMMSSZ, seconds, UTC. */
function readTime(r: DerReader, what: string): number {
  const tag = r.peekTag();
  if (tag !== 0x17 && tag !== 0x18) r.fail(`${what} is not a UTCTime or GeneralizedTime`);
  const el = r.next(tag, what);
  const text = Buffer.from(r.slice(el, false)).toString("latin1");
  const m = tag === 0x17 ? /^(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/.exec(text) : /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/.exec(text);
  if (m === null) r.fail(`${what} is not in the DER time format`);
  let year = Number(m[1]);
  if (tag === 0x17) year += year >= 50 ? 1900 : 2000;
  // RFC 5280 4.1.2.5: dates through 2049 MUST be UTCTime; GeneralizedTime only from 2050 (one encoding per date).
  else if (year < 2050) r.fail(`${what} uses GeneralizedTime for a year before 2050`);
  const [month, day, hour, minute, second] = [m[2], m[3], m[4], m[5], m[6]].map(Number) as [number, number, number, number, number];
  const ms = Date.UTC(year, month - 1, day, hour, minute, second);
  const check = new Date(ms);
  // Date.UTC rolls 31 February over into March; a real calendar date round-trips.
  if (check.getUTCMonth() !== month - 1 || check.getUTCDate() !== day || hour > 23 || minute > 59 || second > 59) {
    r.fail(`${what} is not a valid date`);
  }
  return ms;
}

function formatOid(oid: Uint8Array): string {
  if (oid.length === 0) return "(empty)";
  const first = oid[0]!;
  const parts = [Math.min(2, Math.floor(first / 40)), first - 40 * Math.min(2, Math.floor(first / 40))];
  let acc = 0;
  for (let i = 1; i < oid.length; i++) {
    acc = acc * 128 + (oid[i]! & 0x7f);
    if (!(oid[i]! & 0x80)) {
      parts.push(acc);
      acc = 0;
    }
  }
  return parts.join(".");
}

const NAME_KEYS: Record<string, string> = { "2.5.4.3": "CN", "2.5.4.6": "C", "2.5.4.7": "L", "2.5.4.8": "ST", "2.5.4.10": "O", "2.5.4.11": "OU" };

/**
 * Human-readable form of a DER Name for error messages ("CN=...,O=..."), control characters escaped (the name is
 * attacker-chosen). Best effort and only called on failure paths, so it never throws: an undecodable name prints as hex.
 */
export function describeName(name: Uint8Array): string {
  try {
    const outer = new DerReader(name, "name", 0, name.length);
    const seq = outer.sub(outer.next(0x30, "Name"));
    const parts: string[] = [];
    while (seq.peekTag() !== undefined) {
      const set = seq.sub(seq.next(0x31, "RDN"));
      while (set.peekTag() !== undefined) {
        const atv = set.sub(set.next(0x30, "AttributeTypeAndValue"));
        const oid = formatOid(atv.slice(atv.next(0x06, "type"), false));
        const tag = atv.peekTag() ?? 0;
        const value = Buffer.from(atv.slice(atv.next(tag, "value"), false)).toString(tag === 0x1e ? "utf16le" : "utf8");
        parts.push(`${NAME_KEYS[oid] ?? oid}=${printable(value)}`);
      }
    }
    return parts.join(",");
  } catch {
    return Buffer.from(name).toString("hex");
  }
}
