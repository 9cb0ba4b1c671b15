/**
 * A prover kept warm between proofs: the build's proving key is read, checked and parsed once and held in
 * memory (with its QAP coefficients sorted for the workers, groth16-prover.ts), and its witness generator
 * compiled and instantiated once, so each proof costs the witness and the Groth16 prover only (no file
 * reads, no wasm compilation, no re-verification of the key). The curve's worker threads are shared by every prover of the process
 * (snarkjs caches them); `releaseZkResources` stops them.
 */
import { readFile } from "node:fs/promises";
import { WitnessCalculatorBuilder, type WitnessCalculator } from "circom_runtime";
import type { Groth16Proof } from "snarkjs";
import { loadGroth16ProvingKey, witnessValues, type Groth16ProvingKey } from "./groth16-prover.ts";
import { commitQuantized, toCommitment, type Commitment } from "../commitments/index.ts";
import type { ZkBuild } from "./build.ts";
import { ZkArtifactError, ZkProveError } from "./errors.ts";
import { loadZkeyVerificationKey, verifyingKeyHash } from "./evm.ts";
import { fieldString, inferQuantized } from "./quantize.ts";
import { circuitInput } from "./witness.ts";

/** One proven inference, in the circuit's own terms (quantized integers, field elements). */
export interface ProvenInference {
  readonly proof: Groth16Proof;
  /** [inputCommitment, outputCommitment, out_0 … out_{n-1}, binding] as decimal strings. */
  readonly publicSignals: string[];
  /** The quantized outputs (scale 2^s), equal to inferQuantized's. */
  readonly output: bigint[];
  readonly inputCommitment: Commitment;
  readonly outputCommitment: Commitment;
  readonly binding: Commitment;
  /** Milliseconds spent on the witness and on the Groth16 prover. */
  readonly timings: { readonly witness: number; readonly prove: number };
}

export interface WarmProver {
  readonly build: ZkBuild;
  /** Proves the model on an already quantized input (checked against the circuit's input range). */
  prove(quantizedInput: readonly bigint[], binding: bigint): Promise<ProvenInference>;
}

/**
 * Loads `build`'s proving key and witness generator into memory, after checking that the key belongs to
 * the build's (non-forgeable) verifying key.
 */
export async function loadProver(build: ZkBuild): Promise<WarmProver> {
  const zkeyVk = await loadZkeyVerificationKey(build.paths.zkey);
  if (verifyingKeyHash(zkeyVk) !== verifyingKeyHash(build.verificationKey)) {
    throw new ZkArtifactError(`${build.paths.zkey} does not belong to ${build.paths.verificationKey}`);
  }
  let zkey: Groth16ProvingKey;
  let calculator: WitnessCalculator;
  try {
    const [key, wasm] = await Promise.all([readFile(build.paths.zkey), readFile(build.paths.wasm)]);
    // Parsed once, its witness-independent work done once (groth16-prover.ts).
    zkey = await loadGroth16ProvingKey(key);
    // Compiled and instantiated once; snarkjs's wtns.calculate would compile the wasm for every proof.
    calculator = await WitnessCalculatorBuilder(wasm);
  } catch (error) {
    throw new ZkArtifactError(`cannot read the proving key or witness generator of ${build.dir}`, { cause: error });
  }
  // One instance has one memory: a witness is written and read back across an await, so one at a time.
  let witnessLock: Promise<unknown> = Promise.resolve();
  const witnessOf = (input: Record<string, unknown>): Promise<Uint8Array> => {
    const run = witnessLock.then(() => calculator.calculateWTNSBin(input, true));
    witnessLock = run.catch(() => undefined);
    return run.catch((error: unknown) => {
      const message = error instanceof Error ? (error.message.split("\n")[0] ?? "") : String(error);
      throw new ZkProveError(`witness generation failed: ${message}`, { cause: error });
    });
  };
  const { model } = build;
  return {
    build,
    async prove(quantizedInput, binding) {
      // The reference inference checks the input range and gives the values the circuit must reproduce.
      const reference = inferQuantized(model, quantizedInput);
      const witnessStart = Date.now();
      const witness = await witnessOf(circuitInput(quantizedInput, binding));
      const witnessMs = Date.now() - witnessStart;
      const proveStart = Date.now();
      let result: { proof: Groth16Proof; publicSignals: string[] };
      try {
        result = await zkey.prove(witnessValues(witness));
      } catch (error) {
        throw error instanceof ZkProveError ? error : new ZkProveError("Groth16 proving failed", { cause: error });
      }
      const proveMs = Date.now() - proveStart;
      const inputCommitment = await commitQuantized(quantizedInput, model.scaleBits);
      const outputCommitment = await commitQuantized(reference.output, model.scaleBits);
      const expected = [BigInt(inputCommitment).toString(), BigInt(outputCommitment).toString(), ...reference.output.map(fieldString), binding.toString()];
      if (expected.length !== result.publicSignals.length || expected.some((v, i) => v !== result.publicSignals[i])) {
        throw new ZkProveError("the circuit's public signals differ from the TypeScript reference inference");
      }
      return {
        proof: result.proof,
        publicSignals: result.publicSignals,
        output: reference.output,
        inputCommitment,
        outputCommitment,
        binding: toCommitment(binding),
        timings: { witness: witnessMs, prove: proveMs },
      };
    },
  };
}
