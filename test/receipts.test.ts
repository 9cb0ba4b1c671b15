import { expect } from "chai";
import { AbiCoder, Wallet, keccak256 } from "ethers";
import { commitBytes, commitQuantized, SNARK_SCALAR_FIELD } from "../src/commitments/index.ts";
import { InvalidInputError } from "../src/errors.ts";
import {
  bindingOf,
  buildReceipt,
  hubDomain,
  OPERATION_NONCE_FLAG,
  operationId,
  receiptDigest,
  receiptId,
  recoverReceiptSigner,
  signReceipt,
} from "../src/receipts/index.ts";
import { Tier, parseTier, tierMask, tierName } from "../src/receipts/tier.ts";
import { makeReceipt, registerModel } from "./helpers/actors.ts";
import { deployOn, newChain } from "./helpers/system.ts";

const chain = await newChain();
const deployed = () => deployOn(chain);

describe("receipts (TypeScript ↔ Solidity)", () => {
  it("computes the same EIP-712 digest and receipt id as the hub", async () => {
    const s = await chain.networkHelpers.loadFixture(deployed);
    const modelId = await registerModel(s);
    const { chainId } = await s.ethers.provider.getNetwork();
    const hub = await s.hub.getAddress();
    for (const tier of [Tier.Signature, Tier.TEE, Tier.ZK] as const) {
      const receipt = await makeReceipt(s, modelId, { tier, nonce: 2n ** 255n + BigInt(tier), deadline: 2n ** 64n - 1n });
      expect(await s.hub.receiptDigest(receipt)).to.equal(receiptDigest(receipt, hubDomain(chainId, hub)));
      expect(await s.hub.receiptIdOf(receipt.requester, receipt.modelId, receipt.nonce)).to.equal(
        receiptId(chainId, hub, receipt.requester, receipt.modelId, receipt.nonce),
      );
    }
  });

  it("signs and recovers the signer off-chain", async () => {
    const wallet = Wallet.createRandom();
    const receipt = buildReceipt({
      modelId: "0x" + "01".repeat(32),
      inputCommitment: "0x" + "02".repeat(32),
      outputCommitment: "0x" + "03".repeat(32),
      requester: Wallet.createRandom().address,
      operator: wallet.address,
      nonce: 7n,
      deadline: 1_900_000_000n,
      tier: Tier.Signature,
    });
    const domain = hubDomain(31337n, Wallet.createRandom().address);
    const signature = await signReceipt(receipt, domain, wallet);
    expect(recoverReceiptSigner(receipt, domain, signature)).to.equal(wallet.address);
    expect(recoverReceiptSigner({ ...receipt, nonce: 8n }, domain, signature)).to.not.equal(wallet.address);
    expect(() => recoverReceiptSigner(receipt, domain, "0x1234")).to.throw(InvalidInputError);
  });

  it("refuses malformed fields with an error naming the field", () => {
    const base = {
      modelId: "0x" + "01".repeat(32),
      inputCommitment: "0x" + "02".repeat(32),
      outputCommitment: "0x" + "03".repeat(32),
      requester: Wallet.createRandom().address,
      operator: Wallet.createRandom().address,
      nonce: 1n,
      deadline: 1n,
      tier: Tier.Signature,
    } as const;
    expect(() => buildReceipt({ ...base, modelId: "0x12" })).to.throw(InvalidInputError, /modelId/);
    expect(() => buildReceipt({ ...base, requester: "0xnothex" })).to.throw(InvalidInputError, /requester/);
    expect(() => buildReceipt({ ...base, deadline: 2n ** 64n })).to.throw(InvalidInputError, /deadline/);
    expect(() => buildReceipt({ ...base, nonce: -1n })).to.throw(InvalidInputError, /nonce/);
    expect(() => buildReceipt({ ...base, tier: Tier.None })).to.throw(InvalidInputError, /tier/);
  });

  it("derives ZK binding values below the field and operation ids from step ids", () => {
    const id = "0x" + "ff".repeat(32);
    const operatorA = Wallet.createRandom().address;
    const operatorB = Wallet.createRandom().address;
    const encoded = AbiCoder.defaultAbiCoder().encode(["bytes32", "address"], [id, operatorA]);
    expect(bindingOf(id, operatorA)).to.equal(BigInt(keccak256(encoded)) % SNARK_SCALAR_FIELD);
    expect(bindingOf(id, operatorA) < SNARK_SCALAR_FIELD).to.equal(true);
    expect(bindingOf(id, operatorA)).to.not.equal(bindingOf(id, operatorB));
    const hub = Wallet.createRandom().address;
    const requester = Wallet.createRandom().address;
    expect(operationId(1n, hub, requester, OPERATION_NONCE_FLAG | 1n)).to.not.equal(operationId(1n, hub, requester, OPERATION_NONCE_FLAG | 2n));
    expect(() => operationId(1n, hub, requester, 1n)).to.throw(InvalidInputError, /OPERATION_NONCE_FLAG/);
  });

  it("names, parses and masks tiers", () => {
    expect(tierName(Tier.TEE)).to.equal("tee");
    expect(parseTier("ZK")).to.equal(Tier.ZK);
    expect(() => parseTier("gold")).to.throw(RangeError);
    expect(tierMask([Tier.Signature, Tier.ZK])).to.equal(0b1010);
  });
});

describe("commitments", () => {
  it("separates scale, length, kind and sign", async () => {
    const values = [1n, -2n, 3n];
    const a = await commitQuantized(values, 8);
    expect(a).to.match(/^0x[0-9a-f]{64}$/);
    expect(await commitQuantized(values, 8)).to.equal(a);
    expect(await commitQuantized(values, 9)).to.not.equal(a);
    expect(await commitQuantized([1n, -2n, 3n, 0n], 8)).to.not.equal(a);
    expect(await commitQuantized([1n, 2n, 3n], 8)).to.not.equal(a);
    expect(await commitBytes(new Uint8Array([]))).to.not.equal(await commitBytes(new Uint8Array([0])));
    expect(await commitBytes(new Uint8Array([0]))).to.not.equal(await commitBytes(new Uint8Array([0, 0])));
    const long = Array.from({ length: 40 }, (_, i) => BigInt(i - 20));
    expect(BigInt(await commitQuantized(long, 12)) < SNARK_SCALAR_FIELD).to.equal(true);
    await commitQuantized([], 8).then(
      () => expect.fail("empty vectors have no commitment"),
      (error: unknown) => expect(error).to.be.instanceOf(InvalidInputError),
    );
  });
});
