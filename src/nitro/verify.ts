import { verify as cryptoVerify } from "node:crypto";
import { imageId } from "./binding.ts";
import { bytesEqual, bytesLike, toHex, view } from "./bytes.ts";
import { bstrHead } from "./cbor.ts";
import { CertificateCache, verifyChain, type NitroVerifyMetrics } from "./chain.ts";
import { attestationDigestOf, parseAttestationDocument, type ParsedAttestationDocument } from "./document.ts";
import { NitroError, wrapUnexpected } from "./errors.ts";
import { awsNitroRoot, trustedRoot, type TrustedRoot } from "./root.ts";

/**
 * An approved enclave image: either its image id (0x keccak256(PCR0‖PCR1‖PCR2), as the registry stores it) or the
 * PCR values themselves (hex or bytes). In the PCR form every PCR given must match; at least one must be given.
 */
export type AllowedImage = string | { readonly pcr0?: string | Uint8Array; readonly pcr1?: string | Uint8Array; readonly pcr2?: string | Uint8Array };

/** Options of {@link verifyAttestation}. Every policy check is off unless asked for, except debug refusal. */
export interface NitroVerifyOptions {
  /**
   * The trust anchor: PEM text, DER bytes, or a {@link TrustedRoot} (which can carry a fingerprint pin).
   * Default: the embedded AWS Nitro root, checked against its pinned SHA-256.
   */
  readonly root?: string | Uint8Array | TrustedRoot;
  /** Verification time (Date or ms since the epoch). Default: now. Every certificate must be valid then. */
  readonly at?: Date | number;
  /** Reuse parsed certificates and verified links across documents. Default: a fresh cache per call. */
  readonly cache?: CertificateCache;
  /** Accept documents from enclaves started in debug mode (PCR0..2 all zero). Default false. */
  readonly allowDebug?: boolean;
  /** Refuse documents whose timestamp is more than this many ms before `at`. Default: no limit beyond the leaf certificate's 3-hour validity. */
  readonly maxAgeMs?: number;
  /** How far the document's timestamp may lie after `at` (clocks differ). Default 60 000 ms. */
  readonly clockSkewMs?: number;
  /** If given, PCR0..2 must match one entry. An empty list refuses every document. */
  readonly allowedImages?: readonly AllowedImage[];
  /** If given, user_data must be exactly these bytes (e.g. {@link enclaveBinding}); a null user_data never matches. */
  readonly expectedUserData?: Uint8Array;
  /** If given, nonce must be exactly these bytes (a challenge the verifier issued). */
  readonly expectedNonce?: Uint8Array;
  /** Counters to increment (signature checks, certificates parsed, cache hits). */
  readonly metrics?: NitroVerifyMetrics;
}

/** What a valid document proves. Byte fields are copies, safe to keep after the input buffer is reused. */
export interface NitroAttestationFacts {
  readonly moduleId: string;
  /** Milliseconds since the epoch, as NSM wrote it. */
  readonly timestamp: number;
  readonly digest: "SHA384";
  readonly pcrs: Readonly<Record<number, Uint8Array>>;
  /** The leaf (signing) certificate, DER. */
  readonly certificate: Uint8Array;
  readonly publicKey: Uint8Array | null;
  readonly userData: Uint8Array | null;
  readonly nonce: Uint8Array | null;
  /**
   * 0x SHA-256 of the document's canonical form (untagged COSE_Sign1, low-S signature): the same for every spelling
   * of one signed payload, so it is safe to deduplicate on. Equal to the SHA-256 of the bytes for an untagged low-S
   * document. See {@link attestationDigestOf}.
   */
  readonly attestationDigest: string;
}

/** The JSON form printed by `opg nitro verify --json`: every byte field as 0x lowercase hex, absent ones null. */
export interface NitroFactsJson {
  readonly moduleId: string;
  readonly timestamp: number;
  readonly digest: string;
  readonly pcrs: Readonly<Record<string, string>>;
  readonly publicKey: string | null;
  readonly userData: string | null;
  readonly nonce: string | null;
  readonly attestationDigest: string;
}

const SIG_STRUCTURE_PREFIX = Uint8Array.of(
  0x84, // array(4)
  0x6a, ...Buffer.from("Signature1"), // context
  0x44, 0xa1, 0x01, 0x38, 0x22, // protected: bstr {1: -35}
  0x40, // external_aad: h''
);

/**
 * Verifies an AWS Nitro attestation document end to end: strict COSE/CBOR parse, certificate chain from the pinned
 * root to the leaf (signatures, names, CA flags, path lengths, validity at the document time and at `at`), the
 * ES384 COSE signature, then policy (debug mode, age, image allow-list, user_data and nonce bindings).
 *
 * @returns the attested facts.
 * @throws NitroError, and nothing else: unexpected failures are wrapped as NITRO_INTERNAL.
 */
export function verifyAttestation(document: Uint8Array, options: NitroVerifyOptions = {}): NitroAttestationFacts {
  return wrapUnexpected("nitro verification", () => verifyUnwrapped(document, options));
}

function verifyUnwrapped(document: Uint8Array, options: NitroVerifyOptions): NitroAttestationFacts {
  if (!(document instanceof Uint8Array)) throw new NitroError("NITRO_INPUT_INVALID", "document must be a Uint8Array");
  const at = resolveTime(options.at);
  const root = resolveRoot(options.root);
  const doc = parseAttestationDocument(document);

  const skew = nonNegative(options.clockSkewMs, "clockSkewMs") ?? 60_000;
  const maxAge = nonNegative(options.maxAgeMs, "maxAgeMs");
  if (doc.timestamp > at + skew) {
    throw new NitroError("NITRO_TIMESTAMP_IN_FUTURE", `document timestamp ${iso(doc.timestamp)} is after the verification time ${iso(at)}`, {
      details: { field: "timestamp", timestamp: doc.timestamp, at },
    });
  }
  if (maxAge !== undefined && at - doc.timestamp > maxAge) {
    throw new NitroError("NITRO_TOO_OLD", `document is ${Math.round((at - doc.timestamp) / 1000)} s old, at most ${Math.round(maxAge / 1000)} s allowed`, {
      details: { field: "timestamp", timestamp: doc.timestamp, at, maxAgeMs: maxAge },
    });
  }

  const cache = options.cache ?? new CertificateCache();
  const leaf = verifyChain(doc.cabundle, doc.certificate, root, doc.timestamp, at, cache, options.metrics);

  if (options.metrics !== undefined) options.metrics.signatureChecks++;
  const signed = Buffer.concat([SIG_STRUCTURE_PREFIX, bstrHead(doc.payload.length), doc.payload]);
  if (!cryptoVerify("sha384", signed, { key: leaf.publicKey, dsaEncoding: "ieee-p1363" }, view(doc.signature))) {
    throw new NitroError("NITRO_SIGNATURE_INVALID", "COSE signature does not verify under the leaf certificate's key", { details: { field: "signature" } });
  }

  checkPolicy(doc, options);
  return facts(doc);
}

function checkPolicy(doc: ParsedAttestationDocument, options: NitroVerifyOptions): void {
  const pcr = (i: number): Uint8Array => doc.pcrs.get(i)!;
  const debug = [0, 1, 2].every((i) => pcr(i).every((b) => b === 0));
  if (debug && options.allowDebug !== true) {
    throw new NitroError("NITRO_DEBUG_MODE", "enclave ran in debug mode (PCR0, PCR1 and PCR2 are all zero)", { details: { field: "pcrs" } });
  }
  if (options.allowedImages !== undefined) {
    const id = imageId(doc.pcrs);
    const allowed = options.allowedImages.some((entry, n) => imageMatches(entry, n, id, pcr));
    if (!allowed) {
      throw new NitroError("NITRO_PCR_NOT_ALLOWED", `enclave image ${id} is not in the allow-list`, {
        details: { field: "pcrs", imageId: id, pcr0: toHex(pcr(0)) },
      });
    }
  }
  if (options.expectedUserData !== undefined) {
    if (!(options.expectedUserData instanceof Uint8Array)) throw new NitroError("NITRO_INPUT_INVALID", "expectedUserData must be a Uint8Array");
    if (doc.userData === null || !bytesEqual(doc.userData, options.expectedUserData)) {
      throw new NitroError("NITRO_USER_DATA_MISMATCH", `user_data ${doc.userData === null ? "is absent" : toHex(doc.userData)}, expected ${toHex(options.expectedUserData)}`, {
        details: { field: "user_data" },
      });
    }
  }
  if (options.expectedNonce !== undefined) {
    if (!(options.expectedNonce instanceof Uint8Array)) throw new NitroError("NITRO_INPUT_INVALID", "expectedNonce must be a Uint8Array");
    if (doc.nonce === null || !bytesEqual(doc.nonce, options.expectedNonce)) {
      throw new NitroError("NITRO_NONCE_MISMATCH", `nonce ${doc.nonce === null ? "is absent" : toHex(doc.nonce)}, expected ${toHex(options.expectedNonce)}`, {
        details: { field: "nonce" },
      });
    }
  }
}

function imageMatches(entry: AllowedImage, n: number, id: string, pcr: (i: number) => Uint8Array): boolean {
  if (typeof entry === "string") {
    const wanted = bytesLike(entry, `allowedImages[${n}]`);
    if (wanted.length !== 32) badEntry(n);
    return toHex(wanted) === id;
  }
  if (typeof entry !== "object" || entry === null) return badEntry(n);
  const given = [entry.pcr0, entry.pcr1, entry.pcr2];
  if (given.every((v) => v === undefined)) return badEntry(n);
  return given.every((v, i) => v === undefined || bytesEqual(bytesLike(v, `allowedImages[${n}].pcr${i}`), pcr(i)));
}

function badEntry(n: number): never {
  throw new NitroError("NITRO_INPUT_INVALID", `allowedImages[${n}] must be a 32-byte image id or {pcr0?, pcr1?, pcr2?} with at least one PCR`);
}

function facts(doc: ParsedAttestationDocument): NitroAttestationFacts {
  const pcrs: Record<number, Uint8Array> = {};
  for (const [index, value] of doc.pcrs) pcrs[index] = value.slice();
  return {
    moduleId: doc.moduleId,
    timestamp: doc.timestamp,
    digest: doc.digest,
    pcrs,
    certificate: doc.certificate.slice(),
    publicKey: doc.publicKey === null ? null : doc.publicKey.slice(),
    userData: doc.userData === null ? null : doc.userData.slice(),
    nonce: doc.nonce === null ? null : doc.nonce.slice(),
    attestationDigest: attestationDigestOf(doc),
  };
}

/** The JSON shape of the CLI (and of what attesters sign off on): 0x hex everywhere, PCRs keyed by decimal index. */
export function factsToJson(f: NitroAttestationFacts): NitroFactsJson {
  const pcrs: Record<string, string> = {};
  for (const index of Object.keys(f.pcrs).map(Number).sort((a, b) => a - b)) pcrs[String(index)] = toHex(f.pcrs[index]!);
  const hex = (b: Uint8Array | null): string | null => (b === null ? null : toHex(b));
  return {
    moduleId: f.moduleId,
    timestamp: f.timestamp,
    digest: f.digest,
    pcrs,
    publicKey: hex(f.publicKey),
    userData: hex(f.userData),
    nonce: hex(f.nonce),
    attestationDigest: f.attestationDigest,
  };
}

function nonNegative(value: number | undefined, name: string): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== "number" || !(value >= 0)) throw new NitroError("NITRO_INPUT_INVALID", `${name} must be a non-negative number of milliseconds`);
  return value;
}

function resolveTime(at: Date | number | undefined): number {
  const ms = at === undefined ? Date.now() : at instanceof Date ? at.getTime() : at;
  if (typeof ms !== "number" || !Number.isFinite(ms) || ms < 0) throw new NitroError("NITRO_INPUT_INVALID", "at must be a valid Date or a non-negative number of milliseconds");
  return ms;
}

function resolveRoot(root: NitroVerifyOptions["root"]): TrustedRoot {
  if (root === undefined) return awsNitroRoot();
  if (typeof root === "string" || root instanceof Uint8Array) return trustedRoot(root);
  if (typeof root === "object" && root !== null && root.der instanceof Uint8Array && typeof root.sha256 === "string") return root;
  throw new NitroError("NITRO_INPUT_INVALID", "root must be PEM text, DER bytes or a TrustedRoot");
}

function iso(ms: number): string {
  const d = new Date(ms);
  return Number.isNaN(d.getTime()) ? String(ms) : d.toISOString();
}
