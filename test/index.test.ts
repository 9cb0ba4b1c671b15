import { expect } from "chai";
import * as opg from "../src/index.ts";

describe("public API (src/index.ts)", () => {
  it("exports the shared core at the top level and each tier under its namespace", () => {
    for (const name of ["buildReceipt", "signReceipt", "receiptId", "commitQuantized", "connect", "submitSigned", "submitProven", "submitOperation", "readResult", "OperationBuilder", "zkEvidence", "OpgError", "infer", "requestIdOf", "fulfilRequest", "provenRequestStep"] as const) {
      expect(typeof opg[name], name).to.equal("function");
    }
    expect(typeof opg.nitro.verifyAttestation).to.equal("function");
    expect(typeof opg.enclaves.attest).to.equal("function");
    expect(typeof opg.zkml.buildCircuit).to.equal("function");
    for (const name of ["buildBatch", "signAuthorization", "signBatch", "postBatch", "proofOf", "verifyLeafOffChain", "verifyLeafOnChain", "loadBatch", "batchRefOf", "batchIdOf"] as const) {
      expect(typeof opg.batches[name], `batches.${name}`).to.equal("function");
    }
    expect(opg.Tier.ZK).to.equal(3);
  });
});
