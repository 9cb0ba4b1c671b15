/**
 * The in-memory Groth16 prover (src/zkml/groth16-prover.ts) behind the warm prover: its proofs verify
 * under snarkjs's verifier and ours, its public signals are snarkjs's for the same witness, a witness that
 * does not satisfy the circuit gives no valid proof, and malformed keys or witnesses are typed errors.
 */
import { readFileSync } from "node:fs";
import { expect } from "chai";
import * as snarkjs from "snarkjs";
import { WitnessCalculatorBuilder } from "circom_runtime";
import { cachedBuild } from "../../scripts/demo/zk.ts";
import { loadGroth16ProvingKey, witnessValues } from "../../src/zkml/groth16-prover.ts";
import { ZkArtifactError, ZkProveError, loadProver, releaseZkResources, verifyGroth16, type ZkBuild } from "../../src/zkml/index.ts";
import { quantizeInput } from "../../src/zkml/quantize.ts";
import { circuitInput } from "../../src/zkml/witness.ts";
import { fixture } from "./helpers.ts";

after(releaseZkResources);

async function expectError(work: () => Promise<unknown>, type: new (...args: never[]) => Error, text: string): Promise<void> {
  try {
    await work();
  } catch (error) {
    expect(error).to.be.instanceOf(type);
    expect((error as Error).message).to.contain(text);
    return;
  }
  expect.fail(`expected ${type.name}`);
}

describe("zkml: the in-memory Groth16 prover", function () {
  this.timeout(600_000);

  for (const name of ["gemm-relu-3x4", "mlp-41-82-82-1"] as const) {
    describe(name, () => {
      let build: ZkBuild;
      let wtns: Uint8Array;
      let zkey: Uint8Array;

      before(async () => {
        const f = fixture(name);
        build = (await cachedBuild(readFileSync(`${f.dir}/model.onnx`), name)).build;
        const calculator = await WitnessCalculatorBuilder(readFileSync(build.paths.wasm));
        wtns = await calculator.calculateWTNSBin(circuitInput(quantizeInput(build.model, f.inputValues), 11n), true);
        zkey = readFileSync(build.paths.zkey);
      });

      it("proves what snarkjs proves: same public signals, proofs valid under both verifiers", async () => {
        const key = await loadGroth16ProvingKey(zkey);
        const ours = await key.prove(witnessValues(wtns));
        const theirs = await snarkjs.groth16.prove({ type: "mem", data: zkey }, { type: "mem", data: wtns });
        expect(ours.publicSignals).to.deep.equal(theirs.publicSignals);
        expect(await snarkjs.groth16.verify(build.verificationKey, ours.publicSignals, ours.proof)).to.equal(true);
        expect(await verifyGroth16(build.verificationKey, ours.publicSignals, ours.proof)).to.equal(true);
        // Randomized like snarkjs's (r, s fresh per proof): two proofs of one witness differ, both valid.
        const again = await key.prove(witnessValues(wtns));
        expect(again.proof.pi_a).to.not.deep.equal(ours.proof.pi_a);
        expect(await verifyGroth16(build.verificationKey, again.publicSignals, again.proof)).to.equal(true);
      });

      it("a witness that breaks a constraint gives no valid proof, whatever signals it claims", async () => {
        const key = await loadGroth16ProvingKey(zkey);
        const values = new Uint8Array(witnessValues(wtns));
        // Wire 2 is the output commitment (public): claim another one.
        values[2 * 32] = (values[2 * 32]! + 1) % 256;
        const forged = await key.prove(values);
        expect(forged.publicSignals[1]).to.not.equal((await key.prove(witnessValues(wtns))).publicSignals[1]);
        expect(await verifyGroth16(build.verificationKey, forged.publicSignals, forged.proof)).to.equal(false);
        expect(await snarkjs.groth16.verify(build.verificationKey, forged.publicSignals, forged.proof)).to.equal(false);
      });

      it("the warm prover uses it: valid proofs from memory, also after the curve's workers were stopped", async () => {
        const prover = await loadProver(build);
        const proven = await prover.prove(quantizeInput(build.model, fixture(name).inputValues), 5n);
        expect(proven.publicSignals.at(-1)).to.equal("5");
        expect(await verifyGroth16(build.verificationKey, proven.publicSignals, proven.proof)).to.equal(true);
        // A process may stop the curve's workers between proofs (a CLI command run in-process does): the
        // warm prover then proves with the new ones instead of waiting forever on the stopped ones.
        await releaseZkResources();
        const after = await prover.prove(quantizeInput(build.model, fixture(name).inputValues), 6n);
        expect(await verifyGroth16(build.verificationKey, after.publicSignals, after.proof)).to.equal(true);
      });

      it("malformed keys and witnesses are typed errors", async () => {
        await expectError(() => loadGroth16ProvingKey(new Uint8Array([1, 2, 3])), ZkArtifactError, "not a zkey file");
        await expectError(() => loadGroth16ProvingKey(wtns), ZkArtifactError, "not a zkey file");
        await expectError(() => loadGroth16ProvingKey(zkey.subarray(0, zkey.length - 100)), ZkArtifactError, "truncated");
        const key = await loadGroth16ProvingKey(zkey);
        await expectError(() => key.prove(witnessValues(wtns).subarray(32)), ZkProveError, "the witness has");
      });
    });
  }
});
