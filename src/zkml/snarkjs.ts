/// <reference path="../types/snarkjs.d.ts" preserve="true" />
/**
 * snarkjs takes a fifth of a second to import: it is loaded on first use, so that reading a build,
 * verifying a proof (src/zkml/groth16.ts) or printing the CLI's help does not pay for it.
 */
export type Snarkjs = typeof import("snarkjs");

let loaded: Promise<Snarkjs> | undefined;

export function snarkjs(): Promise<Snarkjs> {
  // Every copy of ffjavascript (snarkjs, circomlibjs and circom_runtime each have their own) sets
  // globalThis.curve_bn128 = null when it loads. Loaded after snarkjs built its curve, a copy would orphan
  // that curve's worker threads, which releaseZkResources could no longer stop (the process would never
  // exit): load them all before snarkjs can build one. Proving and building need circomlibjs anyway.
  loaded ??= Promise.all([import("circomlibjs"), import("circom_runtime")]).then(() => import("snarkjs"));
  return loaded;
}

/** Stops snarkjs's worker threads so the process can exit (call when done proving/verifying). */
export async function releaseZkResources(): Promise<void> {
  const holder = globalThis as { curve_bn128?: { terminate(): Promise<void> } | null };
  const curve = holder.curve_bn128;
  if (curve !== null && curve !== undefined) await curve.terminate();
}
