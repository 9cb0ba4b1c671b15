/**
 * Development generator: Nitro-format attestation documents signed by a local P-384 test CA chain, for tests and the
 * demo (no enclave runs here). The documents are byte-for-byte the shape NSM produces (untagged COSE_Sign1,
 * {1: -35}, empty unprotected map, definite-length payload map in NSM's field order, 96-byte r‖s signature), so they
 * exercise the same verifier code paths as real ones.
 *
 * The dev root is a fresh self-signed certificate: it is never trusted by default. Verification succeeds only when
 * the caller pins it explicitly (`verifyAttestation(doc, { root: chain.root })`); with the default AWS root these
 * documents fail with NITRO_CHAIN_UNTRUSTED_ROOT.
 *
 * Certificates are written with a small DER encoder below rather than @peculiar/x509: that package needs a global
 * `reflect-metadata` polyfill (through tsyringe) which is not installed, and a synchronous, dependency-free generator
 * is simpler for tests. Node's own X509Certificate cross-checks the output in the tests.
 */
import { createHash, generateKeyPairSync, sign as cryptoSign, type KeyObject } from "node:crypto";
import { bytesLike } from "./bytes.ts";
import { bstrHead, CborRaw, encodeCbor, type CborValue } from "./cbor.ts";
import { ES384_PROTECTED_HEADER } from "./document.ts";
import { NitroError } from "./errors.ts";
import { trustedRoot, type TrustedRoot } from "./root.ts";

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/** Options of {@link createDevChain}. */
export interface DevChainOptions {
  /** The moment the chain is built around (ms or Date): the leaf becomes valid 3 s before it. Default: now. */
  readonly at?: number | Date;
  /** CA certificates between root and leaf, 0..3. Default 3, like AWS (regional, zonal, instance). */
  readonly intermediates?: number;
  /** Leaf validity. Default 3 hours, like AWS. */
  readonly leafValidityMs?: number;
  /**
   * Deliberate deviations from the profile, by position in [cabundle..., leaf] (0 = root, the last = leaf), so tests
   * can build the certificates a verifier must refuse. Each certificate is still correctly signed by its issuer.
   */
  readonly certificates?: Readonly<Record<number, DevCertificateOverrides>>;
}

/** How one generated certificate departs from the Nitro profile. Everything absent is written the AWS way. */
export interface DevCertificateOverrides {
  /** serialNumber INTEGER content bytes, written as given: [0] is zero, [0x80] negative, [0, 1] non-minimal. */
  readonly serial?: Uint8Array;
  /** keyUsage BIT STRING content (the unused-bits count first), written as given; null leaves the extension out. */
  readonly keyUsage?: Uint8Array | null;
  /** null leaves the basicConstraints extension out. */
  readonly basicConstraints?: null;
  /** Write both validity dates as GeneralizedTime, whatever the year. */
  readonly generalizedTime?: boolean;
  /** Make the certificate self-issued: its subject is its issuer's name (a root re-issued below itself). */
  readonly selfIssued?: boolean;
  /** The subject's CN, any text (control characters included: names are attacker-chosen). */
  readonly commonName?: string;
}

/** A generated CA chain and the leaf key that signs documents. */
export interface DevChain {
  /** Pin this to accept the chain's documents. */
  readonly root: TrustedRoot;
  readonly rootPem: string;
  /** Root first, as in the document's cabundle. */
  readonly cabundle: readonly Uint8Array[];
  /** The leaf (signing) certificate, DER. */
  readonly certificate: Uint8Array;
  readonly leafNotBefore: number;
  readonly leafNotAfter: number;
  /** The leaf's private key: documents are signed synchronously with node:crypto. */
  readonly signingKey: KeyObject;
}

/** The payload fields of a generated document; everything has a deterministic default. */
export interface DevDocumentFields {
  readonly moduleId?: string;
  /** Milliseconds since the epoch. Default: the leaf's notBefore + 3 s (the chain's `at`). */
  readonly timestamp?: number;
  /** PCR index → value (bytes or hex). Default: PCR0..2 = SHA-384 of "opg-dev-pcr<i>", PCR3..15 zero. Given entries replace defaults. */
  readonly pcrs?: Readonly<Record<number, Uint8Array | string>>;
  /** Zero PCR0..2, as NSM does for enclaves started with --debug-mode. */
  readonly debug?: boolean;
  readonly publicKey?: Uint8Array | null;
  readonly userData?: Uint8Array | null;
  readonly nonce?: Uint8Array | null;
}

/** How {@link signDevPayload} frames the payload; overrides exist so tests can sign deliberately wrong envelopes. */
export interface DevSignOptions {
  /** Protected header bytes (default {1: -35}); the signature covers whatever is given. */
  readonly protectedHeader?: Uint8Array;
  /** Prefix COSE tag 18. Default false (NSM emits untagged documents). */
  readonly tagged?: boolean;
}

// ---------------------------------------------------------------------------------------------------------------
// DER writer: just what a Nitro-profile certificate needs.

function tlv(tag: number, ...content: Uint8Array[]): Uint8Array {
  const body = Buffer.concat(content);
  const n = body.length;
  const length = n < 0x80 ? [n] : n < 0x100 ? [0x81, n] : [0x82, n >> 8, n & 0xff];
  return new Uint8Array(Buffer.concat([Uint8Array.of(tag, ...length), body]));
}
const seq = (...items: Uint8Array[]): Uint8Array => tlv(0x30, ...items);
const oid = (...bytes: number[]): Uint8Array => tlv(0x06, Uint8Array.from(bytes));
const ECDSA_SHA384 = seq(oid(0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x03));

function derInteger(value: number): Uint8Array {
  return tlv(0x02, integerContent(value));
}

function integerContent(value: number): Uint8Array {
  const bytes: number[] = [];
  for (let v = value; bytes.length === 0 || v > 0; v = Math.floor(v / 256)) bytes.unshift(v % 256);
  if (bytes[0]! & 0x80) bytes.unshift(0);
  return Uint8Array.from(bytes);
}

function derTime(ms: number, generalized = false): Uint8Array {
  const iso = new Date(ms).toISOString(); // YYYY-MM-DDTHH:MM:SS.sssZ
  const digits = iso.slice(0, 19).replace(/[-T:]/g, "") + "Z";
  const year = Number(iso.slice(0, 4));
  // RFC 5280 4.1.2.5: UTCTime through 2049, GeneralizedTime from 2050.
  return year < 2050 && !generalized ? tlv(0x17, Buffer.from(digits.slice(2), "latin1")) : tlv(0x18, Buffer.from(digits, "latin1"));
}

const ATTRIBUTES: Record<string, [number, number]> = { C: [0x06, 0x13], O: [0x0a, 0x0c], OU: [0x0b, 0x0c], CN: [0x03, 0x0c] };

function derName(parts: readonly (readonly [string, string])[]): Uint8Array {
  return seq(
    ...parts.map(([key, value]) => {
      const [type, stringTag] = ATTRIBUTES[key]!;
      return tlv(0x31, seq(oid(0x55, 0x04, type), tlv(stringTag, Buffer.from(value, "utf8"))));
    }),
  );
}

function extension(id: Uint8Array, critical: boolean, value: Uint8Array): Uint8Array {
  return seq(id, ...(critical ? [Uint8Array.of(0x01, 0x01, 0xff)] : []), tlv(0x04, value));
}

/** keyUsage BIT STRING from bit numbers (0 = digitalSignature, 5 = keyCertSign ...), with DER's unused-bit count. */
function keyUsage(bits: readonly number[]): Uint8Array {
  let byte = 0;
  for (const b of bits) byte |= 0x80 >> b;
  const unused = Math.min(7, 7 - Math.max(...bits));
  return tlv(0x03, Uint8Array.of(unused, byte));
}

interface CertSpec {
  readonly serial: number;
  readonly issuer: Uint8Array;
  readonly subject: Uint8Array;
  readonly notBefore: number;
  readonly notAfter: number;
  readonly publicKey: KeyObject;
  readonly signingKey: KeyObject;
  /** undefined: leaf (cA false); otherwise a CA, with pathLen when a number is given (null = unlimited). */
  readonly pathLen?: number | null;
  readonly overrides?: DevCertificateOverrides | undefined;
}

function certificate(spec: CertSpec): Uint8Array {
  const isCA = spec.pathLen !== undefined;
  const basic = seq(...(isCA ? [Uint8Array.of(0x01, 0x01, 0xff)] : []), ...(typeof spec.pathLen === "number" ? [derInteger(spec.pathLen)] : []));
  const o = spec.overrides ?? {};
  const usage = o.keyUsage !== undefined ? (o.keyUsage === null ? null : tlv(0x03, o.keyUsage)) : isCA ? keyUsage([0, 5, 6]) : keyUsage([0, 1]);
  const extensions = [
    ...(o.basicConstraints === null ? [] : [extension(oid(0x55, 0x1d, 0x13), true, basic)]),
    ...(usage === null ? [] : [extension(oid(0x55, 0x1d, 0x0f), isCA, usage)]),
  ];
  const generalized = o.generalizedTime === true;
  const tbs = seq(
    tlv(0xa0, derInteger(2)),
    tlv(0x02, o.serial ?? integerContent(spec.serial)),
    ECDSA_SHA384,
    spec.issuer,
    seq(derTime(spec.notBefore, generalized), derTime(spec.notAfter, generalized)),
    o.selfIssued === true ? spec.issuer : spec.subject,
    new Uint8Array(spec.publicKey.export({ type: "spki", format: "der" })),
    tlv(0xa3, seq(...extensions)),
  );
  const signature = cryptoSign("sha384", tbs, spec.signingKey);
  return seq(tbs, ECDSA_SHA384, tlv(0x03, Uint8Array.of(0), signature));
}

function seconds(ms: number): number {
  return Math.floor(ms / 1000) * 1000;
}

function p384(): { publicKey: KeyObject; privateKey: KeyObject } {
  return generateKeyPairSync("ec", { namedCurve: "secp384r1" });
}

/**
 * Builds root → `intermediates` CAs → leaf, all ECDSA P-384 / SHA-384, with the extensions AWS uses (critical
 * basicConstraints with decreasing pathLen and critical keyUsage keyCertSign on CAs, digitalSignature on the leaf).
 * Windows nest like AWS's: root for years, intermediates for days, the leaf for 3 hours starting 3 s before `at`.
 */
export function createDevChain(options: DevChainOptions = {}): DevChain {
  const at = options.at === undefined ? Date.now() : options.at instanceof Date ? options.at.getTime() : options.at;
  const count = options.intermediates ?? 3;
  if (!Number.isSafeInteger(count) || count < 0 || count > 3) throw new NitroError("NITRO_INPUT_INVALID", "intermediates must be 0..3");
  const leafValidity = options.leafValidityMs ?? 3 * HOUR;
  if (!Number.isFinite(at) || at < 30 * DAY || !(leafValidity > 0)) throw new NitroError("NITRO_INPUT_INVALID", "at and leafValidityMs must be valid times");

  const overrides = (position: number): DevCertificateOverrides | undefined => options.certificates?.[position];
  const base = [["C", "US"], ["O", "OPG Development"], ["OU", "Nitro"]] as const;
  const rootKeys = p384();
  const rootName = derName([...base, ["CN", overrides(0)?.commonName ?? "dev.nitro-enclaves"]]);
  const cabundle: Uint8Array[] = [
    certificate({ serial: 1, issuer: rootName, subject: rootName, notBefore: seconds(at - 30 * DAY), notAfter: seconds(at + 3650 * DAY), publicKey: rootKeys.publicKey, signingKey: rootKeys.privateKey, pathLen: null, overrides: overrides(0) }),
  ];
  const labels = ["regional", "zonal", "instance"];
  let issuer = rootName;
  let issuerKey = rootKeys.privateKey;
  for (let i = 0; i < count; i++) {
    const keys = p384();
    const tweaks = overrides(i + 1);
    const subject = tweaks?.selfIssued === true ? issuer : derName([...base, ["CN", tweaks?.commonName ?? `${labels[i]}.dev.nitro-enclaves`]]);
    cabundle.push(
      certificate({
        serial: i + 2,
        issuer,
        subject,
        notBefore: seconds(at - (count - i) * DAY),
        notAfter: seconds(at + (count - i) * 5 * DAY),
        publicKey: keys.publicKey,
        signingKey: issuerKey,
        pathLen: count - i - 1,
        overrides: tweaks,
      }),
    );
    issuer = subject;
    issuerKey = keys.privateKey;
  }
  const leafKeys = p384();
  const leafNotBefore = seconds(at - 3000);
  const leafNotAfter = seconds(leafNotBefore + leafValidity);
  const leaf = certificate({
    serial: 0x7f,
    issuer,
    subject: derName([...base, ["CN", overrides(count + 1)?.commonName ?? "i-0000000000000000-enc0000000000000000.dev"]]),
    notBefore: leafNotBefore,
    notAfter: leafNotAfter,
    publicKey: leafKeys.publicKey,
    signingKey: issuerKey,
    overrides: overrides(count + 1),
  });
  const root = cabundle[0]!;
  const body = Buffer.from(root).toString("base64").replace(/.{64}/g, "$&\n").replace(/\n$/, "");
  return {
    root: trustedRoot(root),
    rootPem: `-----BEGIN CERTIFICATE-----\n${body}\n-----END CERTIFICATE-----\n`,
    cabundle,
    certificate: leaf,
    leafNotBefore,
    leafNotAfter,
    signingKey: leafKeys.privateKey,
  };
}

/** The default PCR set: deterministic image PCRs so image ids are stable across runs. */
export function devPcrs(debug = false): Map<number, Uint8Array> {
  const pcrs = new Map<number, Uint8Array>();
  for (let i = 0; i < 16; i++) {
    pcrs.set(i, i < 3 && !debug ? new Uint8Array(createHash("sha384").update(`opg-dev-pcr${i}`).digest()) : new Uint8Array(48));
  }
  return pcrs;
}

/** Encodes the payload map (definite length, NSM field order, absent optional fields as null, never tag 64). */
export function encodeDevPayload(chain: DevChain, fields: DevDocumentFields = {}): Uint8Array {
  const pcrs = devPcrs(fields.debug === true);
  for (const [key, value] of Object.entries(fields.pcrs ?? {})) pcrs.set(Number(key), bytesLike(value, `pcrs[${key}]`));
  if (fields.debug === true) for (const i of [0, 1, 2]) pcrs.set(i, new Uint8Array(pcrs.get(i)?.length ?? 48));
  const sorted = new Map<CborValue, CborValue>([...pcrs.entries()].sort((a, b) => a[0] - b[0]));
  const payload = new Map<CborValue, CborValue>([
    ["module_id", fields.moduleId ?? "i-0000000000000000-enc0000000000000000"],
    ["digest", "SHA384"],
    ["timestamp", fields.timestamp ?? chain.leafNotBefore + 3000],
    ["pcrs", sorted],
    ["certificate", chain.certificate],
    ["cabundle", [...chain.cabundle]],
    ["public_key", fields.publicKey ?? null],
    ["user_data", fields.userData ?? null],
    ["nonce", fields.nonce ?? null],
  ]);
  return encodeCbor(payload);
}

/**
 * Wraps any payload bytes into a COSE_Sign1 signed by the chain's leaf key. The payload is not validated, so tests can
 * sign malformed payloads and see the parser (not the signature) refuse them.
 */
export function signDevPayload(chain: DevChain, payload: Uint8Array, options: DevSignOptions = {}): Uint8Array {
  const protectedHeader = options.protectedHeader ?? ES384_PROTECTED_HEADER;
  const sigStructure = encodeCbor(["Signature1", protectedHeader, new Uint8Array(0), new CborRaw(Buffer.concat([bstrHead(payload.length), payload]))]);
  const signature = cryptoSign("sha384", sigStructure, { key: chain.signingKey, dsaEncoding: "ieee-p1363" });
  const body = encodeCbor([protectedHeader, new Map(), payload, new Uint8Array(signature)]);
  return options.tagged === true ? Uint8Array.of(0xd2, ...body) : body;
}

/** A complete signed document: {@link encodeDevPayload} + {@link signDevPayload}. */
export function createDevAttestation(chain: DevChain, fields: DevDocumentFields = {}): Uint8Array {
  return signDevPayload(chain, encodeDevPayload(chain, fields));
}
