import { expect } from "chai";
import { Wallet } from "ethers";
import { InvalidInputError } from "../src/errors.ts";
import { OperationBuilder, operationFromJson, operationToJson } from "../src/pipeline/index.ts";
import { OPERATION_NONCE_FLAG } from "../src/receipts/index.ts";
import { Tier } from "../src/receipts/tier.ts";

const context = {
  chainId: 31337n,
  hub: Wallet.createRandom().address,
  requester: Wallet.createRandom().address,
  nonce: 5n,
  deadline: 2_000_000_000n,
  inputCommitment: `0x${"00".repeat(31)}01` as const,
};

describe("pipeline: operation files", () => {
  it("refuses malformed operation files with a typed error, never a TypeError", () => {
    for (const bad of [null, 7, {}, { format: "opg-operation/1" }, { format: "opg-operation/1", context: {}, steps: [] }]) {
      expect(() => operationFromJson(bad), JSON.stringify(bad)).to.throw(InvalidInputError, /not an opg-operation\/1 file/);
    }
    const good = operationToJson({ context, steps: [], evidence: [], zkOutputs: {} });
    expect(operationFromJson(JSON.parse(JSON.stringify(good))).context).to.deep.equal(context);
    const noEvidence = { ...good, steps: [{ receipt: {}, tier: "tee" }] };
    expect(() => operationFromJson(noEvidence)).to.throw(InvalidInputError, /not an opg-operation\/1 file/);
  });

  it("puts every step in the operation nonce namespace and refuses nonces that are already in it", async () => {
    const builder = new OperationBuilder(context);
    const operator = Wallet.createRandom();
    const receipt = await builder.addSignedStep({ modelId: `0x${"ab".repeat(32)}`, tier: Tier.TEE, operator: operator.address, outputCommitment: `0x${"00".repeat(31)}02`, signer: operator });
    expect(receipt.nonce).to.equal(OPERATION_NONCE_FLAG | 5n);
    expect(() => new OperationBuilder({ ...context, nonce: OPERATION_NONCE_FLAG })).to.throw(InvalidInputError, /below 2\^255/);
    expect(() => builder.build()).to.not.throw();
    expect(() => new OperationBuilder(context).build()).to.throw(InvalidInputError, /at least one step/);
  });
});
