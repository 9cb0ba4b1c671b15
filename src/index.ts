/**
 * opg-verifier: prove what AI model ran, on what input, with what output — at the tier each result
 * deserves (operator signature, AWS Nitro enclave, Groth16 proof, or a hybrid of them).
 *
 * Shared core at the top level (receipts, commitments, settlement, multi-step pipelines); each tier's
 * machinery under its own namespace: `nitro` (attestation verification), `enclaves` (enclave key
 * registration), `zkml` (ONNX → circuit → proof), `execution` (run a model folder deterministically: the
 * circuit's fixed-point outputs and their commitments, what an operator signs and a watcher re-checks).
 */
export * from "./errors.ts";
export * from "./receipts/index.ts";
export * from "./commitments/index.ts";
export * from "./settlement/index.ts";
export * from "./pipeline/index.ts";
export * from "./requests/index.ts";
export * as nitro from "./nitro/index.ts";
export * as enclaves from "./enclaves/index.ts";
export * as zkml from "./zkml/index.ts";
export * as disputes from "./disputes/index.ts";
export * as execution from "./execution/index.ts";
export * as batches from "./batches/index.ts";
