import { X509Certificate } from "node:crypto";
import { readFileSync } from "node:fs";
import { expect } from "chai";
import { solidityPackedKeccak256 } from "ethers";
import {
  AWS_NITRO_ROOT_PEM,
  AWS_NITRO_ROOT_SHA256,
  attestationDigestOf,
  CertificateCache,
  enclaveKeyAddress,
  imageId,
  parseAttestationDocument,
  trustedRoot,
  verifyAttestation,
  type NitroVerifyMetrics,
} from "../../src/nitro/index.ts";
import { parseCertificate } from "../../src/nitro/x509.ts";
import { expectNitroError, fixture, FIXTURES, HOUR, loadFixtures, MINUTE } from "./helpers.ts";

const fixtures = loadFixtures();
const metrics = (): NitroVerifyMetrics => ({ signatureChecks: 0, certificatesParsed: 0, cacheHits: 0 });

describe("nitro: real AWS documents", () => {
  it("has the whole corpus (8 documents, one debug)", () => {
    expect(fixtures).to.have.length(8);
    expect(fixtures.filter((f) => f.debug)).to.have.length(1);
  });

  it("embeds the AWS root byte-identical to the fixture and pinned to 641a0321…", () => {
    expect(trustedRoot(readFileSync(FIXTURES + "aws-nitro-root.pem", "utf8")).sha256).to.equal(AWS_NITRO_ROOT_SHA256);
    expect(trustedRoot(AWS_NITRO_ROOT_PEM).sha256).to.equal("641a0321a3e244efe456463195d606317ed7cdcc3c1756e09893f3c68f79bb5b");
    expectNitroError(() => trustedRoot(AWS_NITRO_ROOT_PEM, "00".repeat(32)), "NITRO_ROOT_PIN_MISMATCH");
  });

  for (const f of fixtures) {
    describe(f.name, () => {
      const at = f.timestamp + MINUTE;

      if (f.debug) {
        it("is refused by default as a debug-mode enclave", () => {
          expectNitroError(() => verifyAttestation(f.bytes, { at }), "NITRO_DEBUG_MODE");
        });
      }

      it(`verifies at its timestamp + 60 s${f.debug ? " with allowDebug" : ""}`, () => {
        const m = metrics();
        const facts = verifyAttestation(f.bytes, { at, allowDebug: f.debug, metrics: m });
        expect(facts.timestamp).to.equal(f.timestamp);
        expect(facts.digest).to.equal("SHA384");
        expect(facts.moduleId).to.match(/^i-[0-9a-f]{17}-enc[0-9a-f]{16}$/);
        expect(Object.keys(facts.pcrs)).to.have.length(16);
        // the canonical (untagged, low-S) digest: the plain SHA-256 for low-S documents, see strict.test.ts
        expect(facts.attestationDigest).to.equal(attestationDigestOf(parseAttestationDocument(f.bytes)));
        expect(m).to.deep.equal({ signatureChecks: 5, certificatesParsed: 5, cacheHits: 0 });
        const zero = [0, 1, 2].every((i) => facts.pcrs[i]!.every((b) => b === 0));
        expect(zero).to.equal(f.debug);
      });

      it("is refused three hours later (the leaf has expired)", () => {
        const e = expectNitroError(() => verifyAttestation(f.bytes, { at: f.timestamp + 3 * HOUR, allowDebug: true }), "NITRO_CERT_EXPIRED");
        expect(e.details).to.have.property("certificate");
        expect(e.details).to.have.property("subject").that.is.a("string");
      });

      it("is refused before it was issued", () => {
        expectNitroError(() => verifyAttestation(f.bytes, { at: f.timestamp - HOUR, allowDebug: true }), "NITRO_TIMESTAMP_IN_FUTURE");
      });

      it("is refused when another root is pinned", () => {
        const other = parseAttestationDocument(f.bytes).cabundle[1]!;
        expectNitroError(() => verifyAttestation(f.bytes, { at, allowDebug: true, root: other }), "NITRO_CHAIN_UNTRUSTED_ROOT");
      });

      it("parses every certificate like node:crypto's X509Certificate does", () => {
        const doc = parseAttestationDocument(f.bytes);
        expect(Buffer.from(doc.cabundle[0]!).equals(Buffer.from(trustedRoot(AWS_NITRO_ROOT_PEM).der))).to.equal(true);
        [...doc.cabundle, doc.certificate].forEach((der, i) => {
          const ours = parseCertificate(der, `#${i}`);
          const node = new X509Certificate(der);
          expect(ours.notBefore).to.equal(Date.parse(node.validFrom));
          expect(ours.notAfter).to.equal(Date.parse(node.validTo));
          expect(ours.isCA).to.equal(node.ca);
          expect(ours.publicKey.equals(node.publicKey)).to.equal(true);
        });
      });
    });
  }

  it("refuses the corrupt published document (three bytes missing) with a CBOR-level error", () => {
    const bad = new Uint8Array(readFileSync(FIXTURES + "bad/base-nitro-validator-2026-01-as-published-corrupt.cose"));
    const good = fixture("base-nitro-validator-2026-01.cose");
    expectNitroError(() => verifyAttestation(bad, { at: good.timestamp + MINUTE }), "NITRO_COSE_MALFORMED");
    expectNitroError(() => parseAttestationDocument(bad), "NITRO_COSE_MALFORMED");
  });

  it("decodes the indefinite-length payload maps of newer NSM versions", () => {
    const indefinite = fixtures.filter((f) => parseAttestationDocument(f.bytes).payload[0] === 0xbf);
    expect(indefinite.map((f) => f.name)).to.deep.equal(["base-nitro-validator-2026-01.cose", "turnkey-2025-09.cose"]);
  });

  describe("certificate cache (marlin-oav a/b share the enclave's leaf and bundle)", () => {
    const a = fixture("marlin-oav-2024-08-a.cose");
    const b = fixture("marlin-oav-2024-08-b.cose");

    it("a second document from the same enclave costs one signature check", () => {
      const cache = new CertificateCache();
      const m = metrics();
      verifyAttestation(a.bytes, { at: b.timestamp + MINUTE, cache, metrics: m });
      expect(m).to.deep.equal({ signatureChecks: 5, certificatesParsed: 5, cacheHits: 0 });
      verifyAttestation(b.bytes, { at: b.timestamp + MINUTE, cache, metrics: m });
      expect(m).to.deep.equal({ signatureChecks: 6, certificatesParsed: 5, cacheHits: 5 });
      expect(cache.size).to.equal(5);
    });

    it("still enforces validity windows on cached certificates", () => {
      const cache = new CertificateCache();
      verifyAttestation(a.bytes, { at: a.timestamp + MINUTE, cache });
      expectNitroError(() => verifyAttestation(b.bytes, { at: b.timestamp + 3 * HOUR, cache }), "NITRO_CERT_EXPIRED");
      // weeks later, with the age limit out of the way: the cached regional CA (notAfter 2024-08-24) has expired
      expectNitroError(() => verifyAttestation(a.bytes, { at: Date.parse("2024-08-25T00:00:00Z"), cache, maxAgeMs: 365 * 24 * HOUR }), "NITRO_CERT_EXPIRED");
    });

    it("does not let a cache filled under one root vouch for documents under another", () => {
      const cache = new CertificateCache();
      verifyAttestation(a.bytes, { at: a.timestamp + MINUTE, cache });
      const regional = parseAttestationDocument(a.bytes).cabundle[1]!;
      expectNitroError(() => verifyAttestation(b.bytes, { at: b.timestamp + MINUTE, cache, root: regional }), "NITRO_CHAIN_UNTRUSTED_ROOT");
    });

    it("stays bounded", () => {
      const cache = new CertificateCache({ maxEntries: 3 });
      verifyAttestation(a.bytes, { at: a.timestamp + MINUTE, cache });
      expect(cache.size).to.equal(3);
      verifyAttestation(b.bytes, { at: b.timestamp + MINUTE, cache });
      expect(cache.size).to.equal(3);
    });
  });

  it("derives image ids and enclave key addresses from real documents", () => {
    const facts = verifyAttestation(fixture("marlin-oav-2024-08-a.cose").bytes, { at: fixture("marlin-oav-2024-08-a.cose").timestamp + MINUTE });
    expect(imageId(facts.pcrs)).to.equal(solidityPackedKeccak256(["bytes", "bytes", "bytes"], [facts.pcrs[0], facts.pcrs[1], facts.pcrs[2]]));
    // 64-byte raw secp256k1 x‖y
    expect(enclaveKeyAddress(facts.publicKey)).to.equal("0xf5dd597379a8455fd2CF13f9eb1F73A30cEeEC1b");
    // 65-byte 0x04‖x‖y
    const base = fixture("base-nitro-validator-2024-11.cose");
    expect(enclaveKeyAddress(verifyAttestation(base.bytes, { at: base.timestamp + MINUTE }).publicKey)).to.match(/^0x[0-9a-fA-F]{40}$/);
    // two P-256 keys (130 bytes), raw 32 bytes, null: not a secp256k1 key
    for (const name of ["turnkey-2025-09.cose", "marlin-nitroprover-2024-02.cose", "automata-2023-09.cose"]) {
      const f = fixture(name);
      const key = verifyAttestation(f.bytes, { at: f.timestamp + MINUTE }).publicKey;
      expectNitroError(() => enclaveKeyAddress(key), "NITRO_PUBLIC_KEY_INVALID");
    }
  });
});
