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
const owner = () => import("./owner.ts");
const unbond = () => import("./unbond.ts");
const devnitro = () => import("./devnitro.ts");
const receipt = () => import("./receipt.ts");
const commit = () => import("./commit.ts");
const explorer = () => import("./explorer.ts");

export const commands: readonly CliCommandEntry[] = [
  { path: ["model", "register"], summary: "Register a content-addressed model (optionally with a ZK circuit build)", load: model },
  { path: ["model", "show"], summary: "Show a model's owner, prices, tiers and versions", load: model },
  { path: ["model", "set-prices"], summary: "Change a model's per-tier prices (model owner)", load: owner },
  { path: ["model", "set-tiers"], summary: "Change the tiers a model accepts (model owner)", load: owner },
  { path: ["model", "deprecate"], summary: "Deprecate a model for good: no new receipts settle against it (model owner)", load: owner },
  { path: ["fees", "balance"], summary: "Fee earnings (and deposits) held for an account in the hub's escrow", load: owner },
  { path: ["fees", "withdraw"], summary: "Withdraw fee earnings from the hub's escrow (model owner, operator)", load: owner },
  { path: ["operator", "unbond"], summary: "Start unbonding stake (or --cancel it); withdraw after the delay (operator)", load: unbond },
  { path: ["operator", "withdraw"], summary: "Withdraw stake whose unbonding delay has passed (operator)", load: unbond },
  { path: ["nitro", "verify"], summary: "Verify an AWS Nitro Enclave attestation document", load: nitro },
  { path: ["nitro", "dev-document"], summary: "Write a DEVELOPMENT attestation document (local dev CA, not AWS) to try the TEE tier", load: devnitro },
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
  { path: ["receipt", "sign"], summary: "Sign (signature, TEE) or prove (ZK) one receipt into a receipt file (operator)", load: receipt },
  { path: ["receipt", "submit"], summary: "Submit a receipt file: verified, recorded and paid from the requester's escrow", load: receipt },
  { path: ["commit"], summary: "Compute the commitment of values, a text or a file (as receipts carry it)", load: commit },
  { path: ["result"], summary: "Read what the hub recorded for a receipt or operation id (and check a policy)", load: operation },
  { path: ["explorer"], summary: "Serve a live web page of a deployment: totals per tier, receipts, proofs, models, enclave keys", load: explorer },
  { path: ["stats"], summary: "Inferences, proofs, attestations and models of a deployment, per tier", load: stats },
];
