/**
 * Nitro verifier throughput next to its own limit, measured in one run so machine speed cancels out.
 *
 * The limit: a document with an uncached chain needs 5 ECDSA P-384 verifications (4 certificate links + the COSE
 * signature), a document from an enclave whose chain is cached needs 1. So with R raw node:crypto verifications per
 * second, the ceilings are R/5 and R documents per second; the ratios report how close the verifier gets (target
 * ≥ 0.8). Documents come from the development generator (AWS-shaped: root + 3 intermediates + leaf), so nothing is
 * read from disk. The main bench script calls benchNitro() and owns bench/results.json.
 */
import { verify as cryptoVerify } from "node:crypto";
import { encodeCbor } from "../../src/nitro/cbor.ts";
import { createDevAttestation, createDevChain } from "../../src/nitro/dev.ts";
import { CertificateCache, parseAttestationDocument, verifyAttestation } from "../../src/nitro/index.ts";
import { parseCertificate } from "../../src/nitro/x509.ts";

/** Runs fn repeatedly for about `ms` milliseconds (after a short warm-up) and returns calls per second. */
function rate(fn: () => void, ms: number): number {
  for (let i = 0; i < 20; i++) fn();
  let calls = 0;
  const start = process.hrtime.bigint();
  const budget = BigInt(ms) * 1_000_000n;
  let elapsed = 0n;
  while (elapsed < budget) {
    for (let i = 0; i < 10; i++) fn();
    calls += 10;
    elapsed = process.hrtime.bigint() - start;
  }
  return (calls * 1e9) / Number(elapsed);
}

/** Rounds each measurement to something readable in results.json. */
function round(value: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

/**
 * Measures raw P-384 verifications/s, full-chain documents/s (fresh cache per document) and cached-chain
 * documents/s, and their ratios to R/5 and R.
 */
export async function benchNitro(options: { durationMs?: number } = {}): Promise<Record<string, number>> {
  const ms = options.durationMs ?? 1500;
  const timestamp = Date.UTC(2025, 0, 1);
  const at = timestamp + 60_000;
  const chain = createDevChain({ at: timestamp });
  const document = createDevAttestation(chain, { userData: new Uint8Array(32).fill(7), publicKey: new Uint8Array(65).fill(4) });
  const parsed = parseAttestationDocument(document);
  const leafKey = parseCertificate(parsed.certificate, "certificate").publicKey;
  // The exact bytes the COSE check verifies, so the raw figure carries the same hashing work as the real check.
  const signed = Buffer.from(encodeCbor(["Signature1", parsed.protectedHeader, new Uint8Array(0), parsed.payload]));
  const signature = Buffer.from(parsed.signature);
  if (!cryptoVerify("sha384", signed, { key: leafKey, dsaEncoding: "ieee-p1363" }, signature)) throw new Error("bench setup: raw signature does not verify");

  const root = chain.root;
  const shared = new CertificateCache();
  verifyAttestation(document, { root, at, cache: shared });
  const raw = () => {
    cryptoVerify("sha384", signed, { key: leafKey, dsaEncoding: "ieee-p1363" }, signature);
  };
  const full = () => {
    verifyAttestation(document, { root, at, cache: new CertificateCache() });
  };
  const cached = () => {
    verifyAttestation(document, { root, at, cache: shared });
  };

  // Interleave two rounds so a frequency change mid-run affects all three figures alike; keep the best of each.
  let rawRate = 0;
  let fullRate = 0;
  let cachedRate = 0;
  for (let pass = 0; pass < 2; pass++) {
    rawRate = Math.max(rawRate, rate(raw, ms / 2));
    fullRate = Math.max(fullRate, rate(full, ms / 2));
    cachedRate = Math.max(cachedRate, rate(cached, ms / 2));
  }
  return {
    nitroRawP384VerifyPerSec: round(rawRate, 0),
    nitroFullChainDocsPerSec: round(fullRate, 0),
    nitroCachedChainDocsPerSec: round(cachedRate, 0),
    nitroFullChainRatio: round(fullRate / (rawRate / 5), 3),
    nitroCachedChainRatio: round(cachedRate / rawRate, 3),
  };
}
