/**
 * Review findings (issue 8, items 7, 11, 12, 13): encodings and chains that real verifiers refuse, and one digest per
 * signed payload. Every case is built by the development generator with one deliberate deviation, and every case has
 * a control that differs only in that deviation and verifies.
 */
import { createHash } from "node:crypto";
import { expect } from "chai";
import { getBytes, Wallet } from "ethers";
import { attestationFactsOf, unverifiedFactsOf } from "../../src/enclaves/facts.ts";
import { encodeCbor, type CborValue } from "../../src/nitro/cbor.ts";
import { createDevAttestation, createDevChain, encodeDevPayload, signDevPayload, type DevChainOptions, type DevDocumentFields } from "../../src/nitro/dev.ts";
import { attestationDigestOf, parseAttestationDocument, verifyAttestation, type NitroErrorCode } from "../../src/nitro/index.ts";
import { expectNitroError, loadFixtures, MINUTE } from "./helpers.ts";

const T0 = Date.UTC(2025, 5, 1, 12, 0, 0);
const LEAF = 4; // position of the leaf in [root, regional, zonal, instance, leaf]
const P384_N = 0xffffffffffffffffffffffffffffffffffffffffffffffffc7634d81f4372ddf581a0db248b0a77aecec196accc52973n;

function devDocument(options: DevChainOptions = {}, fields: DevDocumentFields = {}) {
  const chain = createDevChain({ at: T0, ...options });
  return { chain, doc: createDevAttestation(chain, fields) };
}

function verifyDev(options: DevChainOptions = {}, fields: DevDocumentFields = {}) {
  const { chain, doc } = devDocument(options, fields);
  return verifyAttestation(doc, { root: chain.root, at: ((options.at as number | undefined) ?? T0) + MINUTE });
}

function refused(options: DevChainOptions, code: NitroErrorCode, text: string, fields: DevDocumentFields = {}) {
  const e = expectNitroError(() => verifyDev(options, fields), code);
  expect(e.message).to.contain(text);
  return e;
}

/** The same document with s replaced by n − s (still a valid signature) and/or COSE tag 18 added. */
function respell(doc: Uint8Array, flipS: boolean, tagged: boolean): Uint8Array {
  const p = parseAttestationDocument(doc);
  let s = p.signature.subarray(48);
  if (flipS) s = Buffer.from((P384_N - BigInt("0x" + Buffer.from(s).toString("hex"))).toString(16).padStart(96, "0"), "hex");
  const body = encodeCbor([p.protectedHeader, new Map(), p.payload, Uint8Array.from([...p.signature.subarray(0, 48), ...s])]);
  return tagged ? Uint8Array.of(0xd2, ...body) : body;
}

const sha256 = (b: Uint8Array) => "0x" + createHash("sha256").update(b).digest("hex");

describe("nitro: profile strictness (issue 8)", function () {
  this.timeout(60_000);

  it("control: a generated chain with the overrides spelled the AWS way verifies", () => {
    const facts = verifyDev({ certificates: { 3: { keyUsage: Uint8Array.of(0x01, 0x86) }, [LEAF]: { keyUsage: Uint8Array.of(0x06, 0xc0), serial: Uint8Array.of(0x00, 0x80) } } });
    expect(facts.timestamp).to.equal(T0);
  });

  describe("keyUsage BIT STRING (item 7)", () => {
    it("refuses keyCertSign hidden in the declared unused (padding) bits of an intermediate", () => {
      // 0x84 = digitalSignature | keyCertSign, but 7 unused bits leave only digitalSignature: OpenSSL reads no keyCertSign
      const e = refused({ certificates: { 3: { keyUsage: Uint8Array.of(0x07, 0x84) } } }, "NITRO_CERT_MALFORMED", "padding");
      expect(e.details).to.include({ certificate: "cabundle[3]" });
    });

    it("refuses padding bits on the leaf and non-minimal encodings (trailing zero bits or bytes)", () => {
      refused({ certificates: { [LEAF]: { keyUsage: Uint8Array.of(0x06, 0xc1) } } }, "NITRO_CERT_MALFORMED", "padding");
      refused({ certificates: { 3: { keyUsage: Uint8Array.of(0x00, 0x86) } } }, "NITRO_CERT_MALFORMED", "minimally");
      refused({ certificates: { 3: { keyUsage: Uint8Array.of(0x01, 0x86, 0x00) } } }, "NITRO_CERT_MALFORMED", "minimally");
      refused({ certificates: { [LEAF]: { keyUsage: Uint8Array.of(0x00, 0x80) } } }, "NITRO_CERT_MALFORMED", "minimally");
    });
  });

  describe("cabundle (item 11)", () => {
    it("refuses the root repeated after index 0, once or four times", () => {
      const chain = createDevChain({ at: T0 });
      const [root, ...rest] = chain.cabundle as [Uint8Array, ...Uint8Array[]];
      for (const bundle of [[root, root, ...rest], [root, root, root, root, root, ...rest]]) {
        const doc = signDevPayload(chain, encodeDevPayload({ ...chain, cabundle: bundle }));
        const e = expectNitroError(() => verifyAttestation(doc, { root: chain.root, at: T0 + MINUTE }), "NITRO_CHAIN_BROKEN");
        expect(e.message).to.equal("cabundle[1] repeats cabundle[0]");
      }
    });

    it("refuses a distinct self-issued CA below the root (a re-issued root that chains correctly)", () => {
      const e = refused({ certificates: { 1: { selfIssued: true } } }, "NITRO_CHAIN_BROKEN", "self-issued but is not the root");
      expect(e.details).to.include({ certificate: "cabundle[1]", index: 1 });
    });
  });

  describe("certificate fields (item 13)", () => {
    it("refuses a leaf without basicConstraints or without keyUsage", () => {
      refused({ certificates: { [LEAF]: { basicConstraints: null } } }, "NITRO_CERT_MALFORMED", "lacks basicConstraints");
      refused({ certificates: { [LEAF]: { keyUsage: null } } }, "NITRO_CERT_MALFORMED", "lacks keyUsage");
    });

    it("refuses GeneralizedTime before 2050 and accepts it from 2050 (where UTCTime cannot go)", () => {
      refused({ certificates: { [LEAF]: { generalizedTime: true } } }, "NITRO_CERT_MALFORMED", "GeneralizedTime for a year before 2050");
      refused({ certificates: { 2: { generalizedTime: true } } }, "NITRO_CERT_MALFORMED", "GeneralizedTime for a year before 2050");
      const at = Date.UTC(2051, 0, 10);
      expect(verifyDev({ at, certificates: { [LEAF]: { generalizedTime: true } } }).timestamp).to.be.greaterThan(at - MINUTE);
    });

    it("refuses serial numbers that are zero, negative or not minimally encoded", () => {
      refused({ certificates: { [LEAF]: { serial: Uint8Array.of(0x00) } } }, "NITRO_CERT_MALFORMED", "serialNumber is zero");
      refused({ certificates: { [LEAF]: { serial: Uint8Array.of(0x80) } } }, "NITRO_CERT_MALFORMED", "serialNumber is negative");
      refused({ certificates: { 1: { serial: Uint8Array.of(0xff, 0x01) } } }, "NITRO_CERT_MALFORMED", "serialNumber is negative");
      refused({ certificates: { [LEAF]: { serial: Uint8Array.of(0x00, 0x01) } } }, "NITRO_CERT_MALFORMED", "not minimally encoded");
      refused({ certificates: { 0: { serial: Uint8Array.of(0x00, 0x00, 0x7f) } } }, "NITRO_CERT_MALFORMED", "not minimally encoded");
    });

    it("ties PCR lengths to the digest: SHA384 means 48 bytes, for every PCR", () => {
      refused({}, "NITRO_FIELD_INVALID", "PCR4 is 32 bytes, but digest SHA384 makes every PCR 48 bytes", { pcrs: { 4: new Uint8Array(32) } });
      refused({}, "NITRO_FIELD_INVALID", "PCR0 is 64 bytes", { pcrs: { 0: new Uint8Array(64).fill(1), 1: new Uint8Array(64).fill(2), 2: new Uint8Array(64).fill(3) } });
      expect(verifyDev({}, { pcrs: { 4: new Uint8Array(48).fill(4) } }).pcrs[4]).to.have.length(48);
    });
  });

  describe("document content in messages (item 8)", () => {
    const CONTROL = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;

    it("escapes control and bidi characters of certificate names and payload keys in error messages", () => {
      const evil = "\u001b[2J\u001b[Hvalid\n\u009b\u202e";
      const named = refused({ certificates: { 2: { commonName: evil }, 3: { selfIssued: true } } }, "NITRO_CHAIN_BROKEN", "self-issued");
      expect(named.message).to.contain("CN=\\x1b[2J");
      expect(named.message).to.not.match(CONTROL);
      const chain = createDevChain({ at: T0, certificates: { [LEAF]: { commonName: evil } } });
      const expired = expectNitroError(() => verifyAttestation(createDevAttestation(chain), { root: chain.root, at: T0 + 4 * 3_600_000 }), "NITRO_CERT_EXPIRED");
      expect(expired.message).to.contain("CN=\\x1b[2J\\x1b[Hvalid\\x0a\\x9b\\u202e");
      expect(expired.message).to.not.match(CONTROL);
      const payload = encodeCbor(new Map<CborValue, CborValue>([["\u001b[2J\u009b", 1]]));
      const unknown = expectNitroError(() => verifyAttestation(signDevPayload(chain, payload), { root: chain.root, at: T0 + MINUTE }), "NITRO_FIELD_INVALID");
      expect(unknown.message).to.equal('unknown field "\\x1b[2J\\x9b"');
    });
  });

  describe("attestation digest (item 12)", () => {
    it("gives the four spellings of one signed payload (tag 18 or not, s or n − s) one digest", () => {
      const enclaveKey = getBytes(new Wallet("0x" + "22".repeat(32)).signingKey.publicKey);
      const { chain, doc } = devDocument({}, { publicKey: enclaveKey, userData: new Uint8Array(32).fill(7) });
      const at = T0 + MINUTE;
      const spellings = [respell(doc, false, false), respell(doc, true, false), respell(doc, false, true), respell(doc, true, true)];
      expect(new Set(spellings.map(sha256)).size).to.equal(4);
      const digests = spellings.map((d) => verifyAttestation(d, { root: chain.root, at }).attestationDigest);
      expect(new Set(digests).size, digests.join(" ")).to.equal(1);
      // the canonical spelling is the untagged low-S one, whose digest is the plain SHA-256 of its bytes
      const lowS = spellings.find((d) => BigInt("0x" + Buffer.from(parseAttestationDocument(d).signature.subarray(48)).toString("hex")) <= P384_N >> 1n && d[0] === 0x84)!;
      expect(digests[0]).to.equal(sha256(lowS));
      // the on-chain facts agree, verified or not
      for (const d of spellings) {
        expect(unverifiedFactsOf(d).attestationDigest).to.equal(digests[0]);
        expect(attestationDigestOf(parseAttestationDocument(d))).to.equal(digests[0]);
      }
    });

    it("the facts of one spelling travel with another spelling of the same payload, never with another payload", () => {
      const { chain, doc } = devDocument({}, { publicKey: null });
      const verified = verifyAttestation(doc, { root: chain.root, at: T0 + MINUTE });
      expect(attestationDigestOf(parseAttestationDocument(respell(doc, true, true)))).to.equal(verified.attestationDigest);
      const other = createDevAttestation(chain, { nonce: Uint8Array.of(1) });
      expect(() => attestationFactsOf(other, verified)).to.throw(/not of the one given/);
    });

    it("real AWS documents: digest is the SHA-256 of the bytes exactly when the document is already canonical", () => {
      const kinds = new Set<boolean>();
      for (const f of loadFixtures()) {
        const p = parseAttestationDocument(f.bytes);
        const canonical = f.bytes[0] === 0x84 && BigInt("0x" + Buffer.from(p.signature.subarray(48)).toString("hex")) <= P384_N >> 1n;
        kinds.add(canonical);
        expect(attestationDigestOf(p) === sha256(f.bytes), f.name).to.equal(canonical);
        expect(attestationDigestOf(parseAttestationDocument(respell(f.bytes, true, !canonical))), f.name).to.equal(attestationDigestOf(p));
      }
      expect([...kinds].sort(), "the corpus has canonical and high-S documents").to.deep.equal([false, true]);
    });
  });
});
