/**
 * Deterministic execution: run a model folder on a fixed-point input and get the quantized outputs and
 * their commitments, exactly as the model's circuit computes them (see runner.ts).
 */
export { ExecutionError } from "./errors.ts";
export type { ExecutionErrorCode } from "./errors.ts";
export { loadModelRunner, circuitRunner, floatRunner, inputValues, readInputFile, rescaleQuantized } from "./runner.ts";
export type { Execution, ModelRunner, FloatRunnerOptions } from "./runner.ts";
