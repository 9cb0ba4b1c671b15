/**
 * Every subcommand of `opg`, as a light descriptor: the module behind a command is imported only when
 * that command runs, so `opg --help` loads none of them (nor ethers, snarkjs, circomlibjs or onnxruntime).
 *
 * Adding a command (e.g. `opg batch submit`):
 *   1. write its module here, `batch.ts`, exporting the `CliCommand` (or an array of them) whose `path`
 *      is the words that select it: `{ path: ["batch", "submit"], summary, usage, run }`;
 *   2. add one line per command to `commands` below, with the same path and summary:
 *        { path: ["batch", "submit"], summary: "…", load: batch },
 *      where `const batch = () => import("./batch.ts");` sits with the other loaders.
 * The loader (loadCommand in ../main.ts) finds the exported command with the entry's path;
 * test/cli.registry.test.ts checks every entry resolves and that its summary matches the module's.
 * Import heavy libraries inside command modules only, never in this file, ../main.ts or ../types.ts.
 */
import type { CliCommandEntry } from "../types.ts";

const model = () => import("./model.ts");
const owner = () => import("./owner.ts");
const nitro = () => import("./nitro.ts");
const devnitro = () => import("./devnitro.ts");
const enclave = () => import("./enclave.ts");
const zk = () => import("./zk.ts");
const operator = () => import("./operator.ts");
const unbond = () => import("./unbond.ts");
const operation = () => import("./operation.ts");
const request = () => import("./request.ts");
const receipt = () => import("./receipt.ts");
const commit = () => import("./commit.ts");
const stats = () => import("./stats.ts");
const explorer = () => import("./explorer.ts");
const node = () => import("./node.ts");
const disputes = () => import("./disputes.ts");
const batch = () => import("./batch.ts");

export const commands: readonly CliCommandEntry[] = [
  { path: ["model", "register"], summary: "Register a content-addressed model (optionally with a ZK circuit build)", load: model },
  { path: ["model", "show"], summary: "Show a model's owner, prices, tiers and versions", load: model },
  { path: ["model", "set-prices"], summary: "Change a model's per-tier prices (model owner)", load: owner },
  { path: ["model", "set-tiers"], summary: "Change the tiers a model accepts (model owner)", load: owner },
  { path: ["model", "deprecate"], summary: "Deprecate a model for good: no new receipts settle against it (model owner)", load: owner },
  { path: ["nitro", "verify"], summary: "Verify an AWS Nitro Enclave attestation document", load: nitro },
  { path: ["nitro", "dev-document"], summary: "Write a DEVELOPMENT attestation document (local dev CA, not AWS) to try the TEE tier", load: devnitro },
  { path: ["enclave", "approve-image"], summary: "Approve or revoke an enclave image for a model (model owner; governance revokes)", load: enclave },
  { path: ["enclave", "attest"], summary: "Verify an enclave's attestation and sign it (attester)", load: enclave },
  { path: ["enclave", "register"], summary: "Register or renew an enclave key with attester signatures (operator)", load: enclave },
  { path: ["zk", "build"], summary: "Compile an ONNX model into a Groth16 circuit and keys", load: zk },
  { path: ["zk", "prove"], summary: "Prove one inference of a built model", load: zk },
  { path: ["zk", "verify"], summary: "Verify a proof.json against a built model", load: zk },
  { path: ["token", "transfer"], summary: "Send OPG to an address", load: request },
  { path: ["operator", "stake"], summary: "Stake OPG as an operator and bind your own key as a signer", load: request },
  { path: ["operator", "register-signer"], summary: "Bind a receipt-signing key to the operator, with the key's consent (operator)", load: operator },
  { path: ["operator", "rotate-signer"], summary: "Replace one of the operator's signing keys in one transaction (operator)", load: operator },
  { path: ["operator", "unbond"], summary: "Start unbonding stake (or --cancel it); withdraw after the delay (operator)", load: unbond },
  { path: ["operator", "withdraw"], summary: "Withdraw stake whose unbonding delay has passed (operator)", load: unbond },
  { path: ["escrow", "deposit"], summary: "Deposit OPG into the hub's escrow (yours, or --for an account such as a consumer contract)", load: request },
  { path: ["escrow", "withdraw"], summary: "Withdraw OPG from your escrow or earnings (an amount, or all)", load: request },
  { path: ["escrow", "balance"], summary: "Show an account's OPG in escrow (or earnings) and in its wallet", load: request },
  { path: ["infer"], summary: "Request an inference on-chain, wait for an operator, print the verified outputs", load: request },
  { path: ["request", "authorize"], summary: "Sign an off-chain EIP-712 authorization for one operator to settle one inference", load: request },
  { path: ["request", "show"], summary: "Show a request: what it asked, its status and its result", load: request },
  { path: ["request", "cancel"], summary: "Cancel your expired request and get its reservation back", load: request },
  { path: ["operation", "new"], summary: "Start a multi-step operation file", load: operation },
  { path: ["operation", "add-signed"], summary: "Add a signature- or TEE-tier step (signed with the key in $OPG_STEP_KEY)", load: operation },
  { path: ["operation", "add-zk"], summary: "Add a ZK step: prove a built model on an input, bound to the step", load: operation },
  { path: ["operation", "submit"], summary: "Submit an operation: every step verified in one transaction", load: operation },
  { path: ["receipt", "sign"], summary: "Sign (signature, TEE) or prove (ZK) one receipt into a receipt file (operator)", load: receipt },
  { path: ["receipt", "submit"], summary: "Submit a receipt file: verified, recorded and paid from the requester's escrow", load: receipt },
  { path: ["result"], summary: "Read what the hub recorded for a receipt or operation id (and check a policy)", load: operation },
  { path: ["commit"], summary: "Compute the commitment of values, a text or a file (as receipts carry it)", load: commit },
  { path: ["node"], summary: "Run an operator node: serve inference requests from the chain and over HTTP", load: node },
  { path: ["watch"], summary: "Watch pending results and refute wrong ones with a Groth16 proof", load: disputes },
  { path: ["challenge"], summary: "Refute one pending result with a Groth16 proof of its true output", load: disputes },
  { path: ["stats"], summary: "Inferences, proofs, attestations and models of a deployment, per tier", load: stats },
  { path: ["explorer"], summary: "Serve a live web page of a deployment: totals per tier, receipts, requests, proofs, models, enclave keys", load: explorer },
  { path: ["batch", "deposit"], summary: "Deposit OPG that your spending authorizations draw on (requester)", load: batch },
  { path: ["batch", "authorize"], summary: "Sign a capped, expiring spending authorization for an operator (requester, no transaction)", load: batch },
  { path: ["batch", "revoke"], summary: "Revoke a spending authorization you signed, in effect after the withdrawal notice (requester)", load: batch },
  { path: ["batch", "post"], summary: "Sign one root over served receipts and settle each authorization (operator)", load: batch },
  { path: ["batch", "verify-leaf"], summary: "Verify one receipt of a posted batch with its Merkle proof (anyone)", load: batch },
  { path: ["batch", "refund"], summary: "Credit a requester its share of a refuted batch's refund (anyone)", load: batch },
  { path: ["batch", "claim"], summary: "Withdraw what batches earned you (operator, model owner, treasury)", load: batch },
];
