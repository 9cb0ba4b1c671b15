/**
 * ZK tier: ONNX model → fixed-point circuit → Groth16 proof of an inference.
 *
 *   importOnnx(bytes)                 ONNX → float IR (opset ≥ 7; Gemm, MatMul, Add, Relu, Flatten, Reshape, …)
 *   quantize(graph, {scaleBits})      float IR → fixed-point model (value = round(x · 2^s))
 *   inferQuantized(model, input)      integer reference inference, equal to the circuit's witness
 *   buildCircuit(onnx, {outDir, …})   circom circuit, Groth16 keys (with phase-2 contribution), model.json
 *   prove(dir, input, {binding})      proof + public signals + decoded outputs
 *   loadProver(build)                 a prover holding the proving key and witness generator in memory
 *   verify(dir, proofJson)            { valid, reason }
 *   verifyBatch(vk, proofs)           k proofs of one key in k + 3 pairings (as the chain); findInvalidProofs
 *   encodeProofForEvm / encodeVerifyingKey / assertNotForgeable   for the on-chain verifier
 */
export * from "./errors.ts";
export { importOnnx, evaluateFloat, MIN_OPSET } from "./onnx.ts";
export type { FloatGraph, FloatOp, LinearOp, ReluOp, AddOp, AddConstOp, TensorInfo } from "./onnx.ts";
export {
  quantize,
  quantizeInput,
  quantizeValue,
  inferQuantized,
  dequantize,
  rescale,
  signedBits,
  modelConstants,
  neuronCount,
  quantizedModelToJson,
  quantizedModelFromJson,
  DEFAULT_SCALE_BITS,
  DEFAULT_INPUT_INT_BITS,
  QUANTIZATION_TOLERANCE,
} from "./quantize.ts";
export type { QuantizedModel, QuantizedLayer, QuantizedDense, QuantizedRelu, QuantizedAdd, QuantizedAddConst, QuantizedTensor, QuantizeOptions, QuantizedInference } from "./quantize.ts";
export { generateCircom, compileCircuit, publicSignalNames, readSymbols, CIRCUIT_NAME } from "./circuit.ts";
export { buildCircuit, loadBuild, checkBuildArtifacts, verifyBuildSetup, fileSha256, readR1csInfo, weightsCommitment, BUILD_FILES, METADATA_FORMAT } from "./build.ts";
export type { BuildOptions, BuildResult, BuildArtifact, ZkBuild, ZkModelMetadata, R1csInfo } from "./build.ts";
export type { ProgressEvent, ProgressListener } from "./progress.ts";
export { prove, verify, verifyGroth16, parseBinding, readInputValues, decodeOutputs, releaseZkResources, PROOF_FORMAT } from "./prove.ts";
export type { ZkProofBundle, ProveOptions, VerifyOptions, VerifyResult } from "./prove.ts";
export { batchCoefficients, verifyBatch, findInvalidProofs, GROTH16_BATCH_DOMAIN } from "./batch.ts";
export type { BatchProof, EvmProof } from "./batch.ts";
export { loadProver } from "./prover.ts";
export type { WarmProver, ProvenInference } from "./prover.ts";
export {
  encodeProofForEvm,
  canonicalProof,
  isOnG1,
  isOnG2,
  encodeVerifyingKey,
  encodePublicSignals,
  verifyingKeyWords,
  verifyingKeyHash,
  assertNotForgeable,
  checkVerificationKey,
  loadVerificationKey,
  loadZkeyVerificationKey,
  BN254_BASE_FIELD,
} from "./evm.ts";
export type { Groth16Proof, Groth16VerificationKey } from "./evm.ts";
export { ensureDevPtau, findCachedPtau, opgCacheDir, ptauCacheDir, readPtauInfo, requiredPtauPower, MAX_LOCAL_PTAU_POWER } from "./ptau.ts";
export { calculateWitness, readWitness, encodeWitness, checkWitness, circuitInput } from "./witness.ts";
export { flattenNested, nestValues } from "./tensor.ts";
export {
  checkCircuitFits,
  estimateConstraints,
  MAX_ACTIVATION_ELEMENTS,
  MAX_CONSTANT_ELEMENTS,
  MAX_LINEAR_WEIGHTS,
  MAX_FOLD_OPERATIONS,
  MAX_CONSTANT_MAGNITUDE,
  MAX_PTAU_POWER,
} from "./limits.ts";
export { commitModelInput, commitModelOutput } from "./commit.ts";
export type { NestedNumbers } from "./tensor.ts";
