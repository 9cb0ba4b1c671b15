import { createHash, X509Certificate } from "node:crypto";
import { expect } from "chai";
import { AbiCoder, getBytes, keccak256, SigningKey, Wallet } from "ethers";
import { encodeCbor } from "../../src/nitro/cbor.ts";
import { createDevAttestation, createDevChain, encodeDevPayload, type DevChain } from "../../src/nitro/dev.ts";
import {
  CertificateCache,
  enclaveBinding,
  enclaveKeyAddress,
  imageId,
  parseAttestationDocument,
  toHex,
  trustedRoot,
  verifyAttestation,
  type AllowedImage,
} from "../../src/nitro/index.ts";
import { expectNitroError, HOUR, MINUTE } from "./helpers.ts";

const T0 = Date.UTC(2025, 8, 1, 8, 30, 0);
const wallet = new Wallet("0x" + "11".repeat(32));
const operator = "0x00000000000000000000000000000000000000aa";
const registry = "0x5FbDB2315678afecb367f032d93F642f64180aa3";

describe("nitro: development generator and policy", () => {
  let chain: DevChain;
  const at = T0 + MINUTE;
  before(() => {
    chain = createDevChain({ at: T0 });
  });

  it("builds an AWS-shaped chain that node:crypto also accepts", () => {
    const certs = [...chain.cabundle, chain.certificate].map((der) => new X509Certificate(der));
    expect(certs.map((c) => c.ca)).to.deep.equal([true, true, true, true, false]);
    certs.slice(1).forEach((c, i) => {
      expect(c.checkIssued(certs[i]!)).to.equal(true);
      expect(c.verify(certs[i]!.publicKey)).to.equal(true);
    });
    expect(Date.parse(certs[4]!.validTo) - Date.parse(certs[4]!.validFrom)).to.equal(3 * HOUR);
    expect(certs[0]!.publicKey.asymmetricKeyDetails?.namedCurve).to.equal("secp384r1");
    expect(trustedRoot(chain.rootPem).sha256).to.equal(chain.root.sha256);
  });

  it("round-trips every field through the full verifier when its root is pinned", () => {
    const publicKey = getBytes(wallet.signingKey.publicKey);
    const userData = Uint8Array.from({ length: 32 }, (_, i) => i);
    const nonce = Uint8Array.of(9, 8, 7);
    const doc = createDevAttestation(chain, { moduleId: "i-dev-enc1", timestamp: T0 + 1000, publicKey, userData, nonce, pcrs: { 4: "ab".repeat(48) } });
    const facts = verifyAttestation(doc, { root: chain.root, at });
    expect(facts.moduleId).to.equal("i-dev-enc1");
    expect(facts.timestamp).to.equal(T0 + 1000);
    expect(facts.publicKey).to.deep.equal(publicKey);
    expect(facts.userData).to.deep.equal(userData);
    expect(facts.nonce).to.deep.equal(nonce);
    expect(toHex(facts.pcrs[4]!)).to.equal("0x" + "ab".repeat(48));
    expect(Buffer.from(facts.certificate).equals(Buffer.from(chain.certificate))).to.equal(true);
    expect(enclaveKeyAddress(facts.publicKey)).to.equal(wallet.address);
    // the PEM form of the root works the same way
    expect(verifyAttestation(doc, { root: chain.rootPem, at }).moduleId).to.equal("i-dev-enc1");
  });

  it("is refused under the default (AWS) root", () => {
    expectNitroError(() => verifyAttestation(createDevAttestation(chain), { at }), "NITRO_CHAIN_UNTRUSTED_ROOT");
  });

  it("supports 0..3 intermediates and refuses documents outside the 3-hour leaf window", () => {
    for (const intermediates of [0, 1, 2, 3]) {
      const c = createDevChain({ at: T0, intermediates });
      const doc = createDevAttestation(c);
      expect(parseAttestationDocument(doc).cabundle).to.have.length(intermediates + 1);
      verifyAttestation(doc, { root: c.root, at });
      expectNitroError(() => verifyAttestation(doc, { root: c.root, at: T0 + 3 * HOUR }), "NITRO_CERT_EXPIRED");
    }
    expectNitroError(() => createDevChain({ intermediates: 4 }), "NITRO_INPUT_INVALID");
  });

  it("writes definite-length CBOR without tag 64, deterministically", () => {
    const payload = encodeDevPayload(chain, { userData: Uint8Array.of(1, 2, 3) });
    expect(payload[0]).to.equal(0xa9); // definite map of 9
    expect(Buffer.from(payload).indexOf(Uint8Array.of(0xd8, 0x40))).to.equal(-1);
    expect(Buffer.from(payload).equals(Buffer.from(encodeDevPayload(chain, { userData: Uint8Array.of(1, 2, 3) })))).to.equal(true);
    expect(encodeCbor(Uint8Array.of(1, 2))).to.deep.equal(Uint8Array.of(0x42, 1, 2));
    const doc = createDevAttestation(chain);
    expect(Array.from(doc.subarray(0, 7))).to.deep.equal([0x84, 0x44, 0xa1, 0x01, 0x38, 0x22, 0xa0]);
  });

  describe("policy", () => {
    it("refuses debug-mode documents unless allowDebug", () => {
      const doc = createDevAttestation(chain, { debug: true });
      expectNitroError(() => verifyAttestation(doc, { root: chain.root, at }), "NITRO_DEBUG_MODE");
      const facts = verifyAttestation(doc, { root: chain.root, at, allowDebug: true });
      expect([0, 1, 2].every((i) => facts.pcrs[i]!.every((b) => b === 0))).to.equal(true);
      // only PCR0..2 all zero means debug: a zero PCR0 alone does not
      verifyAttestation(createDevAttestation(chain, { pcrs: { 0: new Uint8Array(48) } }), { root: chain.root, at });
    });

    it("enforces maxAgeMs against the verification time", () => {
      const doc = createDevAttestation(chain, { timestamp: T0 });
      verifyAttestation(doc, { root: chain.root, at: T0 + 10 * MINUTE, maxAgeMs: 10 * MINUTE });
      expectNitroError(() => verifyAttestation(doc, { root: chain.root, at: T0 + 10 * MINUTE + 1, maxAgeMs: 10 * MINUTE }), "NITRO_TOO_OLD");
      expectNitroError(() => verifyAttestation(doc, { root: chain.root, at: T0 - 2 * MINUTE }), "NITRO_TIMESTAMP_IN_FUTURE");
      verifyAttestation(doc, { root: chain.root, at: T0 - 1000, clockSkewMs: 2000 });
    });

    it("checks the PCR allow-list by image id or by PCR values", () => {
      const doc = createDevAttestation(chain);
      const facts = verifyAttestation(doc, { root: chain.root, at });
      const id = imageId(facts.pcrs);
      expect(id).to.equal(keccak256(Buffer.concat([facts.pcrs[0]!, facts.pcrs[1]!, facts.pcrs[2]!])));
      const ok = (allowedImages: readonly AllowedImage[]) => verifyAttestation(doc, { root: chain.root, at, allowedImages });
      ok([id]);
      ok(["0x" + "00".repeat(32), id.slice(2).toUpperCase()]);
      ok([{ pcr0: toHex(facts.pcrs[0]!) }]);
      ok([{ pcr0: facts.pcrs[0]!, pcr1: facts.pcrs[1]!, pcr2: facts.pcrs[2]! }]);
      const other = createDevAttestation(chain, { pcrs: { 2: "cd".repeat(48) } });
      for (const list of [[id], [{ pcr2: facts.pcrs[2]! }], []]) {
        expectNitroError(() => verifyAttestation(other, { root: chain.root, at, allowedImages: list }), "NITRO_PCR_NOT_ALLOWED");
      }
      expectNitroError(() => ok([{}]), "NITRO_INPUT_INVALID");
      expectNitroError(() => ok(["0x1234"]), "NITRO_INPUT_INVALID");
    });

    it("binds user_data to (chain id, registry, operator, enclave key)", () => {
      const enclaveKey = wallet.address;
      const binding = enclaveBinding({ chainId: 31337n, registry, operator, enclaveKey });
      // independent encoding: four left-padded 32-byte words
      const word = (hex: string) => hex.replace(/^0x/, "").toLowerCase().padStart(64, "0");
      const manual = keccak256("0x" + word((31337).toString(16)) + word(registry) + word(operator) + word(enclaveKey));
      expect(toHex(binding)).to.equal(manual);
      expect(toHex(binding)).to.equal(keccak256(AbiCoder.defaultAbiCoder().encode(["uint256", "address", "address", "address"], [31337, registry, operator, enclaveKey])));

      const doc = createDevAttestation(chain, { publicKey: getBytes(wallet.signingKey.publicKey), userData: binding });
      const facts = verifyAttestation(doc, { root: chain.root, at, expectedUserData: binding });
      expect(enclaveKeyAddress(facts.publicKey)).to.equal(enclaveKey);
      const replays = [
        { chainId: 1, registry, operator, enclaveKey },
        { chainId: 31337, registry: operator, operator, enclaveKey },
        { chainId: 31337, registry, operator: registry, enclaveKey },
        { chainId: 31337, registry, operator, enclaveKey: operator },
      ];
      for (const r of replays) {
        expectNitroError(() => verifyAttestation(doc, { root: chain.root, at, expectedUserData: enclaveBinding(r) }), "NITRO_USER_DATA_MISMATCH");
      }
      expectNitroError(() => verifyAttestation(createDevAttestation(chain), { root: chain.root, at, expectedUserData: binding }), "NITRO_USER_DATA_MISMATCH");
      expectNitroError(() => enclaveBinding({ chainId: 1, registry: "0x1234", operator, enclaveKey }), "NITRO_INPUT_INVALID");
      expectNitroError(() => enclaveBinding({ chainId: -1, registry, operator, enclaveKey }), "NITRO_INPUT_INVALID");
    });

    it("refuses unusable options instead of silently ignoring them", () => {
      const doc = createDevAttestation(chain);
      const bad: Parameters<typeof verifyAttestation>[1][] = [
        { root: chain.root, at: Number.NaN },
        { root: chain.root, at, maxAgeMs: -1 },
        { root: chain.root, at, maxAgeMs: Number.NaN },
        { root: chain.root, at, clockSkewMs: -5 },
        { root: "not a pem", at },
        { root: chain.root, at, expectedUserData: "0x01" as unknown as Uint8Array },
      ];
      for (const options of bad) expectNitroError(() => verifyAttestation(doc, options), "NITRO_INPUT_INVALID");
      expectNitroError(() => parseAttestationDocument([1, 2] as unknown as Uint8Array), "NITRO_INPUT_INVALID");
    });

    it("checks an expected nonce", () => {
      const doc = createDevAttestation(chain, { nonce: Uint8Array.of(1, 2, 3, 4) });
      verifyAttestation(doc, { root: chain.root, at, expectedNonce: Uint8Array.of(1, 2, 3, 4) });
      expectNitroError(() => verifyAttestation(doc, { root: chain.root, at, expectedNonce: Uint8Array.of(1, 2, 3) }), "NITRO_NONCE_MISMATCH");
    });

    it("derives enclave key addresses only from secp256k1 points", () => {
      const compressed = getBytes(wallet.signingKey.compressedPublicKey);
      const uncompressed = getBytes(SigningKey.computePublicKey(compressed, false));
      expect(enclaveKeyAddress(uncompressed)).to.equal(wallet.address);
      expect(enclaveKeyAddress(uncompressed.subarray(1))).to.equal(wallet.address);
      const offCurve = uncompressed.slice();
      offCurve[64] = offCurve[64]! ^ 1;
      for (const bad of [compressed, offCurve, offCurve.subarray(1), new Uint8Array(65), null]) {
        expectNitroError(() => enclaveKeyAddress(bad), "NITRO_PUBLIC_KEY_INVALID");
      }
    });
  });

  it("verifies repeated documents from one dev enclave at one signature check each", () => {
    const cache = new CertificateCache();
    const metrics = { signatureChecks: 0, certificatesParsed: 0, cacheHits: 0 };
    for (let i = 0; i < 5; i++) {
      verifyAttestation(createDevAttestation(chain, { nonce: createHash("sha256").update(String(i)).digest() }), { root: chain.root, at, cache, metrics });
    }
    expect(metrics).to.deep.equal({ signatureChecks: 5 + 4, certificatesParsed: 5, cacheHits: 20 });
  });
});
