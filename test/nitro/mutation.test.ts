import { expect } from "chai";
import { CborRaw, CborTag, encodeCbor, type CborValue } from "../../src/nitro/cbor.ts";
import { createDevChain, devPcrs, signDevPayload, type DevChain } from "../../src/nitro/dev.ts";
import { CertificateCache, NITRO_LIMITS, parseAttestationDocument, verifyAttestation, type NitroErrorCode } from "../../src/nitro/index.ts";
import { expectNitroError, expectRefused, fixture, MINUTE, rawMap } from "./helpers.ts";

const T0 = Date.UTC(2025, 5, 1, 12, 0, 0);

/** The payload fields of a dev document as editable entries, in NSM order. */
function entries(chain: DevChain, overrides: Partial<Record<string, CborValue>> = {}): [CborValue, CborValue][] {
  const base: [string, CborValue][] = [
    ["module_id", "i-0123456789abcdef0-enc0123456789abcdef"],
    ["digest", "SHA384"],
    ["timestamp", T0],
    ["pcrs", new Map<CborValue, CborValue>(devPcrs())],
    ["certificate", chain.certificate],
    ["cabundle", [...chain.cabundle]],
    ["public_key", null],
    ["user_data", null],
    ["nonce", null],
  ];
  return base.map(([k, v]) => [k, k in overrides ? overrides[k]! : v]);
}

describe("nitro: mutations and strictness", function () {
  this.timeout(30_000);
  let chain: DevChain;
  const at = T0 + MINUTE;
  const verifyDev = (doc: Uint8Array, cache?: CertificateCache) => verifyAttestation(doc, { root: chain.root, at, cache });
  const signed = (payload: CborValue): Uint8Array => signDevPayload(chain, encodeCbor(payload));
  const expectDev = (payload: CborValue, code: NitroErrorCode) => expectNitroError(() => verifyDev(signed(payload)), code);

  before(() => {
    chain = createDevChain({ at: T0 });
  });

  it("the untouched dev baseline verifies (so every refusal below is caused by the change)", () => {
    expect(verifyDev(signed(rawMap(entries(chain)))).timestamp).to.equal(T0);
  });

  describe("real document byte mutations", () => {
    const f = fixture("marlin-oav-2024-08-a.cose");
    const doc = f.bytes;
    const opts = { at: f.timestamp + MINUTE };

    it("refuses a change of every 7th byte, with a typed error", () => {
      let count = 0;
      for (let i = 0; i < doc.length; i += 7) {
        for (const delta of [0x01, 0x80]) {
          const copy = doc.slice();
          copy[i] = copy[i]! ^ delta;
          expectRefused(() => verifyAttestation(copy, opts), `byte ${i} ^ ${delta}`);
          count++;
        }
      }
      expect(count).to.be.greaterThan(1200);
    });

    it("refuses any change to the envelope, protected header and signature bytes", () => {
      const parsed = parseAttestationDocument(doc);
      const sigStart = doc.length - 96;
      const positions = [...Array(10).keys(), ...Array.from({ length: 98 }, (_, k) => sigStart - 2 + k)];
      for (const i of positions) {
        for (const delta of [0x01, 0x10, 0xff]) {
          const copy = doc.slice();
          copy[i] = copy[i]! ^ delta;
          const e = expectRefused(() => verifyAttestation(copy, opts), `byte ${i} ^ ${delta}`);
          if (i >= 2 && i < 6) expect(e.code, `protected header byte ${i}`).to.equal("NITRO_BAD_ALGORITHM");
          if (i >= sigStart) expect(e.code, `signature byte ${i}`).to.equal("NITRO_SIGNATURE_INVALID");
        }
      }
      expect(parsed.signature.length).to.equal(96);
    });

    it("refuses every truncation", () => {
      for (let n = 0; n < doc.length; n++) {
        expectRefused(() => verifyAttestation(doc.subarray(0, n), opts), `length ${n}`);
      }
    });

    it("refuses trailing bytes after the COSE_Sign1", () => {
      for (const tail of [[0x00], [0xf6], [0x84, 0x40, 0xa0, 0x40, 0x40]]) {
        expectNitroError(() => verifyAttestation(Uint8Array.from([...doc, ...tail]), opts), "NITRO_CBOR_TRAILING_BYTES");
      }
    });

    it("refuses a reordered cabundle (chain checks run before the COSE signature)", () => {
      const p = parseAttestationDocument(doc);
      const payload = (bundle: Uint8Array[]) =>
        encodeCbor(
          new Map<CborValue, CborValue>([
            ["module_id", p.moduleId],
            ["digest", p.digest],
            ["timestamp", p.timestamp],
            ["pcrs", new Map<CborValue, CborValue>(p.pcrs)],
            ["certificate", p.certificate],
            ["cabundle", bundle],
            ["public_key", p.publicKey],
            ["user_data", p.userData],
            ["nonce", p.nonce],
          ]),
        );
      const envelope = (pl: Uint8Array) => encodeCbor([p.protectedHeader, new Map(), pl, p.signature]);
      const [r, a, b, c] = p.cabundle as [Uint8Array, Uint8Array, Uint8Array, Uint8Array];
      // re-encoding the same fields in the same order reproduces the signed bytes exactly: the control case
      expect(verifyAttestation(envelope(payload([r, a, b, c])), opts).moduleId).to.equal(p.moduleId);
      expectNitroError(() => verifyAttestation(envelope(payload([r, b, a, c])), opts), "NITRO_CHAIN_BROKEN");
      expectNitroError(() => verifyAttestation(envelope(payload([r, a, c, b])), opts), "NITRO_CHAIN_BROKEN");
      expectNitroError(() => verifyAttestation(envelope(payload([a, r, b, c])), opts), "NITRO_CHAIN_UNTRUSTED_ROOT");
      expectNitroError(() => verifyAttestation(envelope(payload([r, a, b])), opts), "NITRO_CHAIN_BROKEN");
      // one CA too many: the regional CA's pathLenConstraint (2) is exceeded before the names are even compared
      expectNitroError(() => verifyAttestation(envelope(payload([r, a, b, c, c])), opts), "NITRO_CERT_CONSTRAINTS");
    });
  });

  describe("chains", () => {
    it("refuses a dev document under the default AWS root (a foreign chain is never trusted by default)", () => {
      expectNitroError(() => verifyAttestation(signed(rawMap(entries(chain))), { at }), "NITRO_CHAIN_UNTRUSTED_ROOT");
    });

    it("refuses a bundle spliced under the AWS root", () => {
      const aws = parseAttestationDocument(fixture("marlin-oav-2024-08-a.cose").bytes).cabundle[0]!;
      const doc = signed(rawMap(entries(chain, { cabundle: [aws, ...chain.cabundle.slice(1)] })));
      expectNitroError(() => verifyAttestation(doc, { at }), "NITRO_CHAIN_BROKEN");
    });

    it("refuses intermediates from another chain with identical names (the link signature catches it)", () => {
      const other = createDevChain({ at: T0 });
      const doc = signDevPayload(other, encodeCbor(rawMap(entries(other, { cabundle: [chain.cabundle[0]!, ...other.cabundle.slice(1)] }))));
      const e = expectNitroError(() => verifyDev(doc), "NITRO_CERT_SIGNATURE_INVALID");
      expect(e.details).to.include({ certificate: "cabundle[1]", index: 1 });
      expect(e.message).to.contain("regional.dev.nitro-enclaves");
    });

    it("refuses a leaf that did not sign the document", () => {
      const other = createDevChain({ at: T0 });
      const doc = signDevPayload(other, encodeCbor(rawMap(entries(chain))));
      expectNitroError(() => verifyDev(doc), "NITRO_SIGNATURE_INVALID");
    });

    it("refuses a leaf used as an issuer, a CA used as the leaf, and paths longer than pathLen allows", () => {
      const flat = createDevChain({ at: T0, intermediates: 0 });
      const leafAsCa = signDevPayload(flat, encodeCbor(rawMap(entries(flat, { cabundle: [flat.cabundle[0]!, flat.certificate] }))));
      expect(expectNitroError(() => verifyAttestation(leafAsCa, { root: flat.root, at }), "NITRO_CERT_CONSTRAINTS").message).to.contain("not a CA");
      const tooLong = signed(rawMap(entries(chain, { cabundle: [...chain.cabundle, chain.cabundle[3]!] })));
      expect(expectNitroError(() => verifyDev(tooLong), "NITRO_CERT_CONSTRAINTS").message).to.contain("pathLenConstraint");
      const caAsLeaf = signed(rawMap(entries(chain, { certificate: chain.cabundle[3]!, cabundle: chain.cabundle.slice(0, 3) })));
      expectNitroError(() => verifyDev(caAsLeaf), "NITRO_CERT_CONSTRAINTS");
    });

    it("refuses a tampered intermediate, cached or not", () => {
      const cache = new CertificateCache();
      verifyDev(signed(rawMap(entries(chain))), cache);
      const tampered = chain.cabundle[2]!.slice();
      const z = Buffer.from(tampered).indexOf("zonal");
      expect(z).to.be.greaterThan(0);
      tampered[z] = 0x5a; // "zonal" -> "Zonal" in the signed subject
      const doc = signed(rawMap(entries(chain, { cabundle: [...chain.cabundle.slice(0, 2), tampered, chain.cabundle[3]!] })));
      expectNitroError(() => verifyDev(doc, cache), "NITRO_CERT_SIGNATURE_INVALID");
      expectNitroError(() => verifyDev(doc), "NITRO_CERT_SIGNATURE_INVALID");
    });

    it("refuses certificates that are not DER P-384 certificates", () => {
      for (const cert of [Uint8Array.of(0x30, 0x00), Uint8Array.of(1, 2, 3), chain.certificate.subarray(0, 200)]) {
        expectNitroError(() => verifyDev(signed(rawMap(entries(chain, { certificate: cert })))), "NITRO_CERT_MALFORMED");
      }
    });
  });

  describe("COSE envelope", () => {
    const payload = () => encodeCbor(rawMap(entries(chain)));

    it("accepts the optional tag 18 and nothing else", () => {
      expect(verifyDev(signDevPayload(chain, payload(), { tagged: true })).timestamp).to.equal(T0);
      const tag98 = encodeCbor(new CborTag(98, new CborRaw(signDevPayload(chain, payload()))));
      expectNitroError(() => verifyDev(tag98), "NITRO_COSE_MALFORMED");
    });

    it("refuses any protected header other than exactly {1: -35}, even when the signature covers it", () => {
      const headers: CborValue[] = [
        new Map([[1, -7]]), // ES256
        new Map([[1, -36]]), // ES512
        new Map([[1, "ES384"]]),
        new Map<CborValue, CborValue>([[1, -35], [4, Uint8Array.of(1)]]), // extra kid
        rawMap([[1, -35]], true), // indefinite-length spelling
        new Map(),
      ];
      for (const h of headers) {
        expectNitroError(() => verifyDev(signDevPayload(chain, payload(), { protectedHeader: encodeCbor(h) })), "NITRO_BAD_ALGORITHM");
      }
      expectNitroError(() => verifyDev(signDevPayload(chain, payload(), { protectedHeader: new Uint8Array(0) })), "NITRO_BAD_ALGORITHM");
    });

    it("refuses a non-empty unprotected header, wrong arity and wrong signature sizes", () => {
      const good = parseAttestationDocument(signDevPayload(chain, payload()));
      const env = (...items: CborValue[]) => encodeCbor(items);
      expectNitroError(() => verifyDev(env(good.protectedHeader, new Map([[4, Uint8Array.of(1)]]), good.payload, good.signature)), "NITRO_COSE_MALFORMED");
      expectNitroError(() => verifyDev(env(good.protectedHeader, new Map(), good.payload)), "NITRO_COSE_MALFORMED");
      expectNitroError(() => verifyDev(env(good.protectedHeader, new Map(), good.payload, good.signature, null)), "NITRO_COSE_MALFORMED");
      expectNitroError(() => verifyDev(env(good.protectedHeader, new Map(), good.payload, good.signature.subarray(0, 64))), "NITRO_SIGNATURE_INVALID");
      expectNitroError(() => verifyDev(env(good.protectedHeader, new Map(), good.payload, new Uint8Array(104))), "NITRO_TOO_LARGE");
      expectNitroError(() => verifyDev(env(good.protectedHeader, new Map(), new Uint8Array(0), good.signature)), "NITRO_COSE_MALFORMED");
      expectNitroError(() => verifyDev(env(good.protectedHeader, new Map(), null, good.signature)), "NITRO_COSE_MALFORMED");
    });
  });

  describe("payload fields", () => {
    it("refuses duplicate keys (top level and PCR indices)", () => {
      const e = entries(chain);
      expectDev(rawMap([...e.slice(0, 8), ["user_data", null]]), "NITRO_CBOR_DUPLICATE_KEY");
      expectDev(rawMap([...e.slice(0, 2), ["digest", "SHA384"], ...e.slice(3)]), "NITRO_CBOR_DUPLICATE_KEY");
      const pcrs = rawMap([...devPcrs()].map(([k, v]) => [k, v] as const).concat([[0, new Uint8Array(48)]]));
      expectDev(rawMap(entries(chain, { pcrs })), "NITRO_CBOR_DUPLICATE_KEY");
    });

    it("refuses trailing bytes inside the signed payload", () => {
      const payload = encodeCbor(rawMap(entries(chain)));
      expectNitroError(() => verifyDev(signDevPayload(chain, Uint8Array.from([...payload, 0x00]))), "NITRO_CBOR_TRAILING_BYTES");
    });

    it("accepts the indefinite-length payload map some NSM versions emit", () => {
      expect(verifyDev(signed(rawMap(entries(chain), true))).timestamp).to.equal(T0);
    });

    it("accepts optional fields absent or null, and refuses missing required ones", () => {
      expect(verifyDev(signed(rawMap(entries(chain).slice(0, 6)))).publicKey).to.equal(null);
      for (let i = 0; i < 6; i++) {
        const e = entries(chain);
        e.splice(i, 1);
        expectDev(rawMap(e), "NITRO_FIELD_MISSING");
      }
      const noPcr1 = new Map<CborValue, CborValue>(devPcrs());
      noPcr1.delete(1);
      expectDev(rawMap(entries(chain, { pcrs: noPcr1 })), "NITRO_FIELD_MISSING");
    });

    it("refuses mistyped and out-of-range fields", () => {
      const cases: [string, CborValue][] = [
        ["module_id", Uint8Array.of(0x69)],
        ["module_id", ""],
        ["digest", "SHA256"],
        ["digest", null],
        ["timestamp", String(T0)],
        ["timestamp", -1],
        ["timestamp", 0],
        ["pcrs", [new Uint8Array(48)]],
        ["pcrs", new Map<CborValue, CborValue>([[0, new Uint8Array(48)], [1, new Uint8Array(48)], [2, new Uint8Array(40)]])],
        ["pcrs", new Map<CborValue, CborValue>([[0, new Uint8Array(48)], [1, new Uint8Array(48)], [2, new Uint8Array(48)], [-1, new Uint8Array(48)]])],
        ["pcrs", new Map<CborValue, CborValue>([[0, new Uint8Array(48)], [1, new Uint8Array(48)], [2, new Uint8Array(48)], [32, new Uint8Array(48)]])],
        ["pcrs", new Map<CborValue, CborValue>([[0, new Uint8Array(48)], [1, new Uint8Array(48)], ["2", new Uint8Array(48)]])],
        ["certificate", null],
        ["cabundle", []],
        ["cabundle", chain.cabundle[0]!],
        ["public_key", new Uint8Array(0)],
        ["public_key", "04ab"],
        ["user_data", 5],
        ["nonce", false],
      ];
      for (const [field, value] of cases) {
        const e = expectRefused(() => verifyDev(signed(rawMap(entries(chain, { [field]: value })))), `${field} = ${String(value)}`);
        expect(e.code, `${field} = ${String(value)}: ${e.message}`).to.equal("NITRO_FIELD_INVALID");
      }
      const withExtra: [CborValue, CborValue][] = [...entries(chain).slice(1), ["extra", 1]];
      expect(expectNitroError(() => verifyDev(signed(rawMap(withExtra))), "NITRO_FIELD_INVALID").message).to.contain('unknown field "extra"');
    });

    it("refuses oversized fields by their length header, before reading them", () => {
      const oversized: [string, number][] = [
        ["user_data", NITRO_LIMITS.userData + 1],
        ["nonce", NITRO_LIMITS.nonce + 1],
        ["public_key", NITRO_LIMITS.publicKey + 1],
        ["certificate", NITRO_LIMITS.certificate + 1],
      ];
      for (const [field, size] of oversized) {
        const e = expectNitroError(() => verifyDev(signed(rawMap(entries(chain, { [field]: new Uint8Array(size) })))), "NITRO_TOO_LARGE");
        expect(e.details).to.include({ field, length: size });
      }
      // exactly at the limits is fine
      const max = { public_key: new Uint8Array(1024), user_data: new Uint8Array(512), nonce: new Uint8Array(512) };
      expect(verifyDev(signed(rawMap(entries(chain, max)))).userData).to.have.length(512);
    });

    it("refuses oversized containers and documents, even when the length header lies", () => {
      const manyPcrs = new Map<CborValue, CborValue>(Array.from({ length: 33 }, (_, i) => [i, new Uint8Array(32)] as [CborValue, CborValue]));
      expectDev(rawMap(entries(chain, { pcrs: manyPcrs })), "NITRO_TOO_LARGE");
      expectDev(rawMap(entries(chain, { cabundle: Array(9).fill(chain.cabundle[0]!) })), "NITRO_TOO_LARGE");
      expectDev(rawMap(entries(chain, { cabundle: new CborRaw(Uint8Array.of(0x9f, ...Array(9).fill([0x41, 0x00]).flat(), 0xff)) })), "NITRO_TOO_LARGE");
      expectNitroError(() => verifyDev(new Uint8Array(NITRO_LIMITS.document + 1)), "NITRO_TOO_LARGE");
      // a user_data header claiming 4 GiB in a small document: refused from the header alone
      const lying = Uint8Array.of(0xa1, 0x69, ...Buffer.from("user_data"), 0x5a, 0xff, 0xff, 0xff, 0xff, 0x00);
      expectNitroError(() => verifyDev(signDevPayload(chain, lying)), "NITRO_TOO_LARGE");
      const payloadTooBig = encodeCbor([Uint8Array.of(0xa1, 0x01, 0x38, 0x22), new Map(), new Uint8Array(NITRO_LIMITS.payload + 1), new Uint8Array(96)]);
      expectNitroError(() => verifyAttestation(payloadTooBig.subarray(0, NITRO_LIMITS.document), { root: chain.root, at }), "NITRO_TOO_LARGE");
    });
  });

  describe("strict CBOR", () => {
    it("refuses non-shortest heads, chunked strings, reserved values, stray breaks and bad UTF-8", () => {
      const good = encodeCbor(rawMap(entries(chain)));
      // 0xa9 (map of 9) spelled 0xb8 0x09
      expectNitroError(() => verifyDev(signDevPayload(chain, Uint8Array.from([0xb8, 0x09, ...good.subarray(1)]))), "NITRO_CBOR_MALFORMED");
      const cases: Uint8Array[] = [
        Uint8Array.of(0xa1, 0x7f, 0x61, 0x61, 0xff, 0x01), // chunked text key
        Uint8Array.of(0xa1, 0x7c), // reserved additional info 28
        Uint8Array.of(0xa1, 0xff), // break in a definite map
        Uint8Array.of(0xa1, 0x69, ...Buffer.from("module_id"), 0x62, 0xc3, 0x28), // invalid UTF-8
        Uint8Array.of(0xa1, 0x69, ...Buffer.from("timestamp"), 0x1b, 0x00, 0x20, 0, 0, 0, 0, 0, 0), // 2^53
        Uint8Array.of(0xbf, 0x69, ...Buffer.from("timestamp"), 0x01), // indefinite map without break
      ];
      for (const payload of cases) expectNitroError(() => verifyDev(signDevPayload(chain, payload)), "NITRO_CBOR_MALFORMED");
      // a float where the timestamp should be: well-formed, wrong type
      expectDev(rawMap(entries(chain, { timestamp: new CborRaw(Uint8Array.of(0xfb, 0x42, 0x79, 0, 0, 0, 0, 0, 0)) })), "NITRO_FIELD_INVALID");
    });

    it("never lets a non-NitroError escape, whatever the input", () => {
      const random = (n: number, seed: number) => {
        const out = new Uint8Array(n);
        let x = seed;
        for (let i = 0; i < n; i++) out[i] = (x = (x * 1103515245 + 12345) >>> 0) >>> 24;
        return out;
      };
      for (let seed = 1; seed < 400; seed++) {
        expectRefused(() => verifyAttestation(random(seed % 97, seed)), `random ${seed}`);
        expectRefused(() => verifyAttestation(Uint8Array.of(0x84, 0x44, 0xa1, 0x01, 0x38, 0x22, 0xa0, ...random(seed % 61, seed))), `prefixed random ${seed}`);
      }
      expectNitroError(() => verifyAttestation("not bytes" as unknown as Uint8Array), "NITRO_INPUT_INVALID");
    });
  });
});
