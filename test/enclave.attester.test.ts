/**
 * The attester's side, off-chain: `attest` verifies completely before it signs, and the facts it derives are exactly
 * what the registry needs; plus evidence assembly. No chain is involved: the domain is a fixed quorum address.
 */
import { generateKeyPairSync } from "node:crypto";
import { expect } from "chai";
import { AbiCoder, Wallet, getBytes, type TypedDataDomain, type TypedDataField } from "ethers";
import {
  EnclaveError,
  attest,
  attestationFactsOf,
  documentImageId,
  parseAttesterSignatures,
  quorumDomain,
  quorumEvidence,
  recoverAttester,
  statementDigest,
  unverifiedFactsOf,
  type AttestPolicy,
  type StatementSigner,
} from "../src/enclaves/index.ts";
import { enclaveBinding, enclaveKeyAddress, imageId } from "../src/nitro/binding.ts";
import { createDevAttestation, createDevChain, type DevDocumentFields } from "../src/nitro/dev.ts";
import { NitroError } from "../src/nitro/errors.ts";
import { verifyAttestation } from "../src/nitro/verify.ts";
import { HOUR, MINUTE, fixture } from "./nitro/helpers.ts";

const T0 = Date.UTC(2025, 5, 1, 12);
const QUORUM = "0x5fbdb2315678afecb367f032d93f642f64180aa3";
const REGISTRY = "0xe7f1725e7734ce288f8367e1bb143e90bb3f0512";
const OPERATOR = "0x3c44cdddb6a900fa2b585dd299e03d12fa4293bc";
const domain: TypedDataDomain = quorumDomain(31337n, QUORUM);
const nsm = createDevChain({ at: T0 });
const enclaveWallet = Wallet.createRandom();
const attesterWallet = new Wallet("0x" + "0a".repeat(32));
const binding = { chainId: 31337n, registry: REGISTRY, operator: OPERATOR };

function document(fields: DevDocumentFields = {}): Uint8Array {
  return createDevAttestation(nsm, {
    timestamp: T0,
    publicKey: getBytes(enclaveWallet.signingKey.publicKey),
    userData: enclaveBinding({ ...binding, enclaveKey: enclaveWallet.address }),
    ...fields,
  });
}

/** A signer that counts signatures: refusals must happen before anything is signed. */
function spy(wallet: Wallet = attesterWallet): StatementSigner & { signed: number } {
  const s = {
    signed: 0,
    getAddress: () => Promise.resolve(wallet.address),
    signTypedData: (d: TypedDataDomain, types: Record<string, TypedDataField[]>, value: Record<string, unknown>) => {
      s.signed++;
      return wallet.signTypedData(d, types, value);
    },
  };
  return s;
}

const policy: AttestPolicy = { root: nsm.root, at: T0 + MINUTE, maxAgeMs: HOUR, binding };

async function refused(doc: Uint8Array, p: AttestPolicy, type: typeof NitroError | typeof EnclaveError, code: string): Promise<void> {
  const signer = spy();
  try {
    await attest(doc, p, signer, domain);
  } catch (error) {
    expect(error, String(error)).to.be.instanceOf(type);
    expect((error as NitroError).code, (error as Error).message).to.equal(code);
    expect(signer.signed, "signed before refusing").to.equal(0);
    return;
  }
  expect.fail(`attested; expected ${code}`);
}

describe("enclaves: attest (verify, then sign)", () => {
  it("signs the statement of exactly the facts the verifier accepted", async () => {
    const doc = document();
    const signer = spy();
    const result = await attest(doc, policy, signer, domain);
    expect(signer.signed).to.equal(1);
    const expected = attestationFactsOf(doc, verifyAttestation(doc, { root: nsm.root, at: T0 + MINUTE }));
    expect(result.facts).to.deep.equal(expected);
    expect(result.facts).to.deep.equal(unverifiedFactsOf(doc));
    expect(result.facts.enclaveKey).to.equal(enclaveWallet.address);
    expect(result.facts.timestamp).to.equal(BigInt(T0));
    expect(result.facts.pcrs).to.have.length(2 + 2 * 144);
    expect(result.attester).to.equal(attesterWallet.address);
    expect(recoverAttester(result.facts, domain, result.signature)).to.equal(attesterWallet.address);
    // Bound to the quorum's chain and address: the same signature means nothing elsewhere.
    expect(recoverAttester(result.facts, quorumDomain(1n, QUORUM), result.signature)).to.not.equal(attesterWallet.address);
    expect(recoverAttester(result.facts, quorumDomain(31337n, REGISTRY), result.signature)).to.not.equal(attesterWallet.address);
    expect(documentImageId(doc)).to.equal(imageId(verifyAttestation(doc, { root: nsm.root, at: T0 }).pcrs));
  });

  it("refuses a document whose chain does not lead to the pinned root (another CA, or the default AWS root)", async () => {
    const doc = document();
    await refused(doc, { ...policy, root: createDevChain({ at: T0 }).root }, NitroError, "NITRO_CHAIN_UNTRUSTED_ROOT");
    await refused(doc, { ...policy, root: undefined }, NitroError, "NITRO_CHAIN_UNTRUSTED_ROOT");
  });

  it("refuses a debug-mode enclave unless explicitly allowed", async () => {
    const doc = document({ debug: true });
    await refused(doc, policy, NitroError, "NITRO_DEBUG_MODE");
    await refused(doc, { ...policy, allowDebug: false }, NitroError, "NITRO_DEBUG_MODE");
    expect((await attest(doc, { ...policy, allowDebug: true }, spy(), domain)).facts.pcrs).to.equal("0x" + "00".repeat(144));
  });

  it("refuses a stale document: beyond maxAgeMs, and beyond the leaf certificate once it expires", async () => {
    const doc = document();
    await refused(doc, { ...policy, at: T0 + HOUR + 1 }, NitroError, "NITRO_TOO_OLD");
    await refused(doc, { ...policy, at: T0 + 3 * HOUR, maxAgeMs: undefined }, NitroError, "NITRO_CERT_EXPIRED");
  });

  it("refuses a document bound to another operator, chain or registry when it checks the binding", async () => {
    const doc = document();
    await refused(doc, { ...policy, binding: { ...binding, operator: REGISTRY } }, NitroError, "NITRO_USER_DATA_MISMATCH");
    await refused(doc, { ...policy, binding: { ...binding, chainId: 1n } }, NitroError, "NITRO_USER_DATA_MISMATCH");
    await refused(doc, { ...policy, binding: { ...binding, registry: QUORUM } }, NitroError, "NITRO_USER_DATA_MISMATCH");
  });

  it("refuses an image outside its allow-list and a tampered document", async () => {
    await refused(document(), { ...policy, allowedImages: ["0x" + "11".repeat(32)] }, NitroError, "NITRO_PCR_NOT_ALLOWED");
    const tampered = document();
    tampered[tampered.length - 1]! ^= 1;
    await refused(tampered, policy, NitroError, "NITRO_SIGNATURE_INVALID");
  });

  it("refuses facts the registry could not take: short PCRs, missing or non-32-byte user_data, a non-secp256k1 key", async () => {
    // a SHA384 document cannot carry 32-byte PCRs at all: the parser refuses them before the facts are formed
    await refused(document({ pcrs: { 0: "0x" + "11".repeat(32) } }), policy, NitroError, "NITRO_FIELD_INVALID");
    await refused(document({ userData: null }), { ...policy, binding: undefined }, EnclaveError, "ENCLAVE_USER_DATA_INVALID");
    await refused(document({ userData: new Uint8Array(20) }), { ...policy, binding: undefined }, EnclaveError, "ENCLAVE_USER_DATA_INVALID");
    await refused(document({ publicKey: null }), policy, NitroError, "NITRO_PUBLIC_KEY_INVALID");
    const p256 = generateKeyPairSync("ec", { namedCurve: "prime256v1" }).publicKey.export({ type: "spki", format: "der" }).subarray(-65);
    await refused(document({ publicKey: new Uint8Array(p256) }), policy, NitroError, "NITRO_PUBLIC_KEY_INVALID");
  });

  it("accepts the 64-byte x‖y public key form as the same enclave key", async () => {
    const doc = document({ publicKey: getBytes(enclaveWallet.signingKey.publicKey).subarray(1) });
    expect((await attest(doc, policy, spy(), domain)).facts.enclaveKey).to.equal(enclaveWallet.address);
  });

  it("attestationFactsOf refuses facts that belong to another document", () => {
    const a = document();
    const b = document({ timestamp: T0 + 1000 });
    const factsOfB = verifyAttestation(b, { root: nsm.root, at: T0 + MINUTE });
    expect(() => attestationFactsOf(a, factsOfB)).to.throw(EnclaveError).with.property("code", "ENCLAVE_DIGEST_MISMATCH");
  });

  describe("real AWS documents (embedded AWS root)", () => {
    it("verify, but one lacks the 32-byte binding and another a secp256k1 key: nothing is signed", async () => {
      const base = fixture("base-nitro-validator-2024-11.cose");
      const at = base.timestamp + MINUTE;
      await refused(base.bytes, { at }, EnclaveError, "ENCLAVE_USER_DATA_INVALID");
      const turnkey = fixture("turnkey-2025-09.cose");
      // 32 bytes of user_data, but its public_key is not an uncompressed secp256k1 point.
      expect(verifyAttestation(turnkey.bytes, { at: turnkey.timestamp + MINUTE }).userData).to.have.length(32);
      await refused(turnkey.bytes, { at: turnkey.timestamp + MINUTE }, NitroError, "NITRO_PUBLIC_KEY_INVALID");
    });

    it("the debug document is refused, and every document three hours later", async () => {
      const debug = fixture("automata-2024-08-debug.cose");
      await refused(debug.bytes, { at: debug.timestamp + MINUTE }, NitroError, "NITRO_DEBUG_MODE");
      const oav = fixture("marlin-oav-2024-08-a.cose");
      await refused(oav.bytes, { at: oav.timestamp + 3 * HOUR }, NitroError, "NITRO_CERT_EXPIRED");
      await refused(oav.bytes, { at: oav.timestamp + MINUTE, maxAgeMs: 30_000 }, NitroError, "NITRO_TOO_OLD");
    });
  });
});

describe("enclaves: quorum evidence", () => {
  const doc = document();
  const facts = unverifiedFactsOf(doc);
  const wallets = ["0x" + "01".repeat(32), "0x" + "02".repeat(32), "0x" + "03".repeat(32)].map((k) => new Wallet(k));

  async function signatures() {
    return Promise.all(wallets.map(async (w) => ({ attester: w.address, signature: (await attest(doc, policy, w, domain)).signature })));
  }

  it("sorts by attester address and encodes bytes[] as the quorum decodes it", async () => {
    const signed = await signatures();
    const evidence = quorumEvidence(signed, { facts, domain });
    const [decoded] = AbiCoder.defaultAbiCoder().decode(["bytes[]"], evidence) as unknown as [string[]];
    const order = [...signed].sort((a, b) => (BigInt(a.attester) < BigInt(b.attester) ? -1 : 1));
    expect(decoded).to.deep.equal(order.map((s) => s.signature));
    expect(quorumEvidence([...signed].reverse())).to.equal(evidence);
  });

  it("names a signature that is not its attester's over these facts, and a repeated attester", async () => {
    const [a, b] = await signatures();
    const swapped = { attester: a!.attester, signature: b!.signature };
    expect(() => quorumEvidence([swapped, b!], { facts, domain })).to.throw(EnclaveError).with.property("code", "ENCLAVE_ATTESTATION_MISMATCH");
    expect(() => quorumEvidence([a!], { facts: { ...facts, timestamp: facts.timestamp + 1n }, domain })).to.throw(EnclaveError).with.property("code", "ENCLAVE_ATTESTATION_MISMATCH");
    expect(() => quorumEvidence([a!, { ...a!, attester: a!.attester.toLowerCase() }])).to.throw(EnclaveError).with.property("code", "ENCLAVE_DUPLICATE_ATTESTER");
    expect(() => quorumEvidence([{ attester: a!.attester, signature: "0x1234" }], { facts, domain })).to.throw(EnclaveError).with.property("code", "ENCLAVE_ATTESTATION_MISMATCH");
    expect(statementDigest(facts, domain)).to.match(/^0x[0-9a-f]{64}$/);
  });

  it("parses the operator's JSON file of attester outputs strictly", async () => {
    const [a] = await signatures();
    expect(parseAttesterSignatures([{ attester: a!.attester.toLowerCase(), signature: a!.signature }])).to.deep.equal([a]);
    for (const bad of [[], {}, "x", [null], [{ attester: a!.attester }], [{ attester: "0x12", signature: a!.signature }], [{ attester: a!.attester, signature: "0xabcd" }]]) {
      expect(() => parseAttesterSignatures(bad), JSON.stringify(bad)).to.throw(EnclaveError).with.property("code", "ENCLAVE_ATTESTATIONS_MALFORMED");
    }
  });

  it("derives the enclave key address the same way as the binding helper", () => {
    expect(enclaveKeyAddress(getBytes(enclaveWallet.signingKey.publicKey))).to.equal(facts.enclaveKey);
  });
});
