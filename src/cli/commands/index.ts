/**
 * Every subcommand of `opg`, as a light descriptor: the module behind a command is imported only when
 * that command runs, so `opg --help` loads none of them (nor ethers, snarkjs or circomlibjs).
 *
 * Adding a command:
 *   1. write it in a module here (`foo.ts` exporting a `CliCommand` — or an array of them — whose
 *      `path` is the words that select it);
 *   2. add one line below: `{ path: ["foo", "bar"], summary: "…", load: () => import("./foo.ts") }`.
 *      The loader finds the exported CliCommand with the same path (test/cli.registry.test.ts checks
 *      every entry resolves and that summaries match).
 * Keep imports of heavy libraries inside the command modules, never in this file, main.ts or chain.ts's
 * callers at the top level of the CLI.
 */
import type { CliCommandEntry } from "../types.ts";

const model = () => import("./model.ts");
const nitro = () => import("./nitro.ts");
const enclave = () => import("./enclave.ts");
const zk = () => import("./zk.ts");
const operation = () => import("./operation.ts");
const stats = () => import("./stats.ts");

export const commands: readonly CliCommandEntry[] = [
  { path: ["model", "register"], summary: "Register a content-addressed model (optionally with a ZK circuit build)", load: model },
  { path: ["model", "show"], summary: "Show a model's owner, prices, tiers and versions", load: model },
  { path: ["nitro", "verify"], summary: "Verify an AWS Nitro Enclave attestation document", load: nitro },
  { path: ["enclave", "approve-image"], summary: "Approve or revoke an enclave image for a model (model owner)", load: enclave },
  { path: ["enclave", "attest"], summary: "Verify an enclave's attestation and sign it (attester)", load: enclave },
  { path: ["enclave", "register"], summary: "Register or renew an enclave key with attester signatures (operator)", load: enclave },
  { path: ["zk", "build"], summary: "Compile an ONNX model into a Groth16 circuit and keys", load: zk },
  { path: ["zk", "prove"], summary: "Prove one inference of a built model", load: zk },
  { path: ["zk", "verify"], summary: "Verify a proof.json against a built model", load: zk },
  { path: ["operation", "new"], summary: "Start a multi-step operation file", load: operation },
  { path: ["operation", "add-signed"], summary: "Add a signature- or TEE-tier step (signed with the key in $OPG_STEP_KEY)", load: operation },
  { path: ["operation", "add-zk"], summary: "Add a ZK step: prove a built model on an input, bound to the step", load: operation },
  { path: ["operation", "submit"], summary: "Submit an operation: every step verified in one transaction", load: operation },
  { path: ["result"], summary: "Read what the hub recorded for a receipt or operation id (and check a policy)", load: operation },
  { path: ["stats"], summary: "Inferences, proofs, attestations and models of a deployment, per tier", load: stats },
];
