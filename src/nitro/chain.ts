import { verify as cryptoVerify } from "node:crypto";
import { view } from "./bytes.ts";
import { NitroError, type NitroErrorCode } from "./errors.ts";
import { isRoot, sha256Hex, type TrustedRoot } from "./root.ts";
import { describeName, KEY_USAGE_DIGITAL_SIGNATURE, KEY_USAGE_KEY_CERT_SIGN, parseCertificate, type ParsedCertificate } from "./x509.ts";

/**
 * Counters a caller can pass to see what a verification cost. Mutable on purpose: one object can accumulate over
 * many documents (tests use it to show that a cached chain costs exactly one signature check).
 */
export interface NitroVerifyMetrics {
  /** ECDSA verifications performed (certificate links plus the COSE signature). */
  signatureChecks: number;
  /** Certificates parsed from DER (cache misses). */
  certificatesParsed: number;
  /** Certificates found already parsed in the cache. */
  cacheHits: number;
}

interface CacheEntry {
  readonly cert: ParsedCertificate;
  /** SHA-256 (hex) of every issuer certificate whose signature over this one has been verified. */
  readonly verifiedBy: Set<string>;
}

/**
 * Parsed certificates and verified chain links, keyed by the SHA-256 of the certificate DER.
 *
 * What is cached is only what cannot change: the parse of a DER, and "issuer X's key signed certificate Y" for
 * exact DERs. Validity windows, CA flags and the trusted root are checked again on every document, so a cached
 * certificate still expires and a cache shared between roots cannot widen trust. Bounded: the least recently used
 * entry goes first when `maxEntries` is reached.
 */
export class CertificateCache {
  readonly maxEntries: number;
  readonly #entries = new Map<string, CacheEntry>();

  constructor(options: { maxEntries?: number } = {}) {
    const max = options.maxEntries ?? 1024;
    if (!Number.isSafeInteger(max) || max < 1) throw new NitroError("NITRO_INPUT_INVALID", "maxEntries must be a positive integer");
    this.maxEntries = max;
  }

  /** Number of certificates held. */
  get size(): number {
    return this.#entries.size;
  }

  clear(): void {
    this.#entries.clear();
  }

  /** @internal Returns the entry for `der`, parsing and inserting it on a miss. */
  entry(der: Uint8Array, hash: string, label: string, metrics: NitroVerifyMetrics | undefined): CacheEntry {
    const found = this.#entries.get(hash);
    if (found !== undefined) {
      // Refresh recency so roots and intermediates shared by many documents are the last to be evicted.
      this.#entries.delete(hash);
      this.#entries.set(hash, found);
      if (metrics !== undefined) metrics.cacheHits++;
      return found;
    }
    const cert = parseCertificate(der.slice(), label);
    if (metrics !== undefined) metrics.certificatesParsed++;
    const created: CacheEntry = { cert, verifiedBy: new Set() };
    if (this.#entries.size >= this.maxEntries) {
      const oldest = this.#entries.keys().next();
      if (oldest.done !== true) this.#entries.delete(oldest.value);
    }
    this.#entries.set(hash, created);
    return created;
  }
}

function certError(code: NitroErrorCode, index: number, label: string, cert: ParsedCertificate | undefined, message: string, extra: Record<string, unknown> = {}): NitroError {
  const subject = cert === undefined ? undefined : describeName(cert.subject);
  return new NitroError(code, `${label}${subject === undefined ? "" : ` (${subject})`}: ${message}`, {
    details: { certificate: label, index, subject, ...extra },
  });
}

function checkTime(cert: ParsedCertificate, index: number, label: string, time: number, what: string): void {
  if (time < cert.notBefore) {
    throw certError("NITRO_CERT_NOT_YET_VALID", index, label, cert, `not valid until ${new Date(cert.notBefore).toISOString()} (${what} ${new Date(time).toISOString()})`, {
      notBefore: cert.notBefore,
      time,
    });
  }
  if (time > cert.notAfter) {
    throw certError("NITRO_CERT_EXPIRED", index, label, cert, `expired at ${new Date(cert.notAfter).toISOString()} (${what} ${new Date(time).toISOString()})`, {
      notAfter: cert.notAfter,
      time,
    });
  }
}

/**
 * Validates [cabundle..., certificate] as a path from the pinned root to the leaf and returns the parsed leaf.
 *
 * The root is trusted because its bytes match the pin, so its self-signature is not checked (RFC 5280 6.1 treats
 * the anchor as input, not as a certificate to validate); every other link costs one ECDSA check unless the cache
 * has seen that exact (issuer, subject) pair verified. Cheap checks (names, flags, dates) run before signatures.
 */
export function verifyChain(
  cabundle: readonly Uint8Array[],
  leaf: Uint8Array,
  root: TrustedRoot,
  documentTime: number,
  verificationTime: number,
  cache: CertificateCache,
  metrics: NitroVerifyMetrics | undefined,
): ParsedCertificate {
  const ders = [...cabundle, leaf];
  const last = ders.length - 1;
  let parent: CacheEntry | undefined;
  let parentHash = "";
  const seen = new Map<string, number>();
  for (let i = 0; i <= last; i++) {
    const der = ders[i]!;
    const label = i === last ? "certificate" : `cabundle[${i}]`;
    const hash = sha256Hex(der);
    // One certificate, one place: a repeated root or intermediate is a path with a loop in it, however well it chains.
    const earlier = seen.get(hash);
    if (earlier !== undefined) {
      throw new NitroError("NITRO_CHAIN_BROKEN", `${label} repeats cabundle[${earlier}]`, { details: { certificate: label, index: i, repeats: earlier } });
    }
    seen.set(hash, i);
    if (i === 0 && !isRoot(root, der, hash)) {
      throw new NitroError("NITRO_CHAIN_UNTRUSTED_ROOT", `cabundle[0] is not the pinned root (SHA-256 ${hash}, expected ${root.sha256})`, {
        details: { certificate: "cabundle[0]", index: 0, sha256: hash, expected: root.sha256 },
      });
    }
    const entry = cache.entry(der, hash, label, metrics);
    const cert = entry.cert;

    if (i === 0) {
      if (!equalBytes(cert.issuer, cert.subject)) throw certError("NITRO_CHAIN_BROKEN", i, label, cert, "root is not self-issued");
    } else if (!equalBytes(cert.issuer, parent!.cert.subject)) {
      throw certError("NITRO_CHAIN_BROKEN", i, label, cert, `issuer ${describeName(cert.issuer)} is not the subject of the certificate before it`);
    } else if (equalBytes(cert.issuer, cert.subject)) {
      // Only the anchor may be self-issued: a re-issued root (same name, another serial or key) further down would
      // not count against pathLen (RFC 5280 6.1.4 (l)) and has no place in an AWS chain.
      throw certError("NITRO_CHAIN_BROKEN", i, label, cert, "is self-issued but is not the root");
    }

    if (i < last) {
      if (!cert.isCA) throw certError("NITRO_CERT_CONSTRAINTS", i, label, cert, "issues a certificate but is not a CA");
      if ((cert.keyUsage & KEY_USAGE_KEY_CERT_SIGN) === 0) {
        throw certError("NITRO_CERT_CONSTRAINTS", i, label, cert, "key usage lacks keyCertSign");
      }
      // CA certificates below this one, not counting the leaf (RFC 5280 4.2.1.9).
      const below = last - i - 1;
      if (cert.pathLen !== undefined && cert.pathLen < below) {
        throw certError("NITRO_CERT_CONSTRAINTS", i, label, cert, `pathLenConstraint ${cert.pathLen} but ${below} CA certificates follow`);
      }
    } else {
      if (cert.isCA) throw certError("NITRO_CERT_CONSTRAINTS", i, label, cert, "the signing certificate must not be a CA");
      if ((cert.keyUsage & KEY_USAGE_DIGITAL_SIGNATURE) === 0) {
        throw certError("NITRO_CERT_CONSTRAINTS", i, label, cert, "key usage lacks digitalSignature");
      }
    }

    checkTime(cert, i, label, documentTime, "document time");
    checkTime(cert, i, label, verificationTime, "verification time");

    if (i > 0 && !entry.verifiedBy.has(parentHash)) {
      if (metrics !== undefined) metrics.signatureChecks++;
      let ok: boolean;
      try {
        ok = cryptoVerify("sha384", view(cert.tbs), parent!.cert.publicKey, view(cert.signature));
      } catch {
        ok = false; // an undecodable ECDSA-Sig-Value is just a signature that does not verify
      }
      if (!ok) throw certError("NITRO_CERT_SIGNATURE_INVALID", i, label, cert, "signature does not verify under the issuer's key");
      entry.verifiedBy.add(parentHash);
    }
    parent = entry;
    parentHash = hash;
  }
  return parent!.cert;
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && view(a).equals(view(b));
}
