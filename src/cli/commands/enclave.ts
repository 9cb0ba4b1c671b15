/**
 * `opg enclave approve-image | attest | register`: the three roles of enclave registration.
 *   - the model owner (or governance) approves the enclave image that may serve its model at tier TEE;
 *   - each attester verifies the enclave's Nitro document off-chain and prints its signature of the facts;
 *   - the operator submits the document's facts with the collected signatures to the EnclaveRegistry.
 */
import { approveEnclaveImage, quorumDomainOf, registerEnclaveKey, revokeEnclaveImage } from "../../enclaves/registry.ts";
import { attest } from "../../enclaves/attester.ts";
import { EnclaveError } from "../../enclaves/errors.ts";
import { attesterSignaturesFromText, quorumEvidence, type AttestationSource } from "../../enclaves/evidence.ts";
import { documentImageId, unverifiedFactsOf } from "../../enclaves/facts.ts";
import { OpgError } from "../../errors.ts";
import { printable, safeJson } from "../../nitro/text.ts";
import { checkAddress, checkBytes32 } from "../../receipts/receipt.ts";
import { CHAIN_OPTIONS, CHAIN_USAGE, openChain } from "../chain.ts";
import { UsageError } from "../errors.ts";
import { parseOptions } from "../main.ts";
import type { CliCommand, CliIo } from "../types.ts";
import { parseAt, readBoundedFile, readDocument, readRoot, reportingFailures } from "./nitro.ts";

/** Largest attestations input read (a file or standard input): thousands of attester outputs. */
const ATTESTATIONS_LIMIT = 1024 * 1024;
const ATTESTATIONS_FILE_ERRORS = { invalid: "FILE_UNREADABLE", tooLarge: "FILE_TOO_LARGE" } as const;

/**
 * `-` reads standard input so attester outputs can be piped in (CliIo has no stdin, so this is process.stdin), at
 * most `limit` bytes.
 */
async function readStdin(limit: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of process.stdin) {
    const bytes = Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk));
    total += bytes.length;
    if (total > limit) throw new OpgError("FILE_TOO_LARGE", `standard input holds more than ${limit} bytes of attestations`, { details: { max: limit } });
    chunks.push(bytes);
  }
  return Buffer.concat(chunks);
}

function iso(seconds: bigint): string {
  return new Date(Number(seconds) * 1000).toISOString();
}

const APPROVE_USAGE = `Usage: opg enclave approve-image --model <id> (--image <0x…> | --document <doc.cose>) [--revoke] [chain options]

Approves (or with --revoke, revokes) an enclave image for a model's TEE tier. The image id is
keccak256(PCR0‖PCR1‖PCR2): give it directly, or a Nitro document whose PCRs name it. Revoking disables every
enclave key attested with that image for this model at once. Signer: the model owner to approve; the model owner or governance to revoke.

Options:
  --model <id>         the model (32-byte hex id)
  --image <0x…>        the image id (32-byte hex)
  --document <file>    read the image id from this attestation document's PCR0..2 (not verified: approve only
                       images you built)
  --revoke             revoke instead of approve
${CHAIN_USAGE}
`;

export const enclaveApproveImageCommand: CliCommand = {
  path: ["enclave", "approve-image"],
  summary: "Approve or revoke an enclave image for a model (model owner; governance revokes)",
  usage: APPROVE_USAGE,
  run: (args, io) => reportingFailures(args, io, () => approveImage(args, io)),
};

async function approveImage(args: readonly string[], io: CliIo): Promise<number> {
  const { values } = parseOptions(
    args,
    { ...CHAIN_OPTIONS, model: { type: "string" }, image: { type: "string" }, document: { type: "string" }, revoke: { type: "boolean" } },
    { min: 0, max: 0, names: "no positional arguments (see --help)" },
  );
  if (values.model === undefined) throw new UsageError("--model <id> is required");
  if ((values.image === undefined) === (values.document === undefined)) throw new UsageError("give exactly one of --image <0x…> or --document <doc.cose>");
  const modelId = checkBytes32(values.model, "--model");
  const image = values.image ?? documentImageId(await readDocument(io, values.document!));
  const chain = await openChain(values, io, { needsSigner: true });
  const revoke = values.revoke === true;
  const done = revoke ? await revokeEnclaveImage(chain.contracts, modelId, image) : await approveEnclaveImage(chain.contracts, modelId, image);
  io.stdout(`${revoke ? "revoked" : "approved"} enclave image ${printable(image.toLowerCase())} for model ${modelId} (tx ${done.transactionHash}, gas ${done.gasUsed})\n`);
  return 0;
}

const ATTEST_USAGE = `Usage: opg enclave attest <doc.cose> --operator <address> [--root <pem>] [--at <time>] [--max-age <seconds>] [chain options]

Run by a registered attester: verifies the Nitro document completely (certificate chain to the pinned root, COSE
signature, no debug enclave, age, user_data binding this chain, the deployment's EnclaveRegistry, --operator and the
document's key) and only then signs the EIP-712 statement of its facts for the deployment's AttesterQuorum.
Prints one JSON object {"attester", "signature"} on one line; the operator passes the outputs to
\`opg enclave register --attestations\` as they are (concatenated into one file, as several files, or piped).

Options:
  --operator <address> the operator the document must be bound to
  --root <pem>         trust this root certificate instead of the embedded AWS Nitro root (development documents)
  --at <time>          verification time: ISO-8601 with a zone or unix milliseconds; default now
  --max-age <seconds>  refuse older documents; default: the registry's maxAttestationAge
${CHAIN_USAGE}
`;

export const enclaveAttestCommand: CliCommand = {
  path: ["enclave", "attest"],
  summary: "Verify an enclave's attestation and sign it (attester)",
  usage: ATTEST_USAGE,
  run: (args, io) => reportingFailures(args, io, () => attestDocument(args, io)),
};

async function attestDocument(args: readonly string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseOptions(
    args,
    { ...CHAIN_OPTIONS, operator: { type: "string" }, root: { type: "string" }, at: { type: "string" }, "max-age": { type: "string" } },
    { min: 1, max: 1, names: "one attestation document path (see --help)" },
  );
  if (values.operator === undefined) throw new UsageError("--operator <address> is required");
  const operator = checkAddress(values.operator, "--operator");
  const at = values.at === undefined ? Date.now() : parseAt(values.at);
  let maxAgeSeconds: number | undefined;
  if (values["max-age"] !== undefined) {
    if (!/^\d+$/.test(values["max-age"])) throw new UsageError(`--max-age: expected whole seconds, got "${printable(values["max-age"])}"`);
    maxAgeSeconds = Number(values["max-age"]);
  }
  const root = values.root === undefined ? undefined : await readRoot(io, values.root);
  const document = await readDocument(io, positionals[0]!);

  const chain = await openChain(values, io, { needsSigner: true });
  const me = await chain.signer!.getAddress();
  if (!((await chain.contracts.quorum.getFunction("isAttester")(me)) as boolean)) {
    throw new EnclaveError("ENCLAVE_NOT_ATTESTER", `${me} is not a registered attester of the quorum at ${chain.deployment.quorum}: its signature would not count`);
  }
  // Signing something the registry will refuse as stale helps nobody: default to the registry's own limit.
  maxAgeSeconds ??= Number((await chain.contracts.enclaves.getFunction("maxAttestationAge")()) as bigint);
  const domain = await quorumDomainOf(chain.contracts);
  const signed = await attest(
    document,
    { root, at, maxAgeMs: maxAgeSeconds * 1000, binding: { chainId: chain.chainId, registry: chain.deployment.enclaves, operator } },
    chain.signer!,
    domain,
  );
  io.stdout(JSON.stringify({ attester: signed.attester, signature: signed.signature }) + "\n");
  return 0;
}

const REGISTER_USAGE = `Usage: opg enclave register <doc.cose> --model <id> --attestations <file.json | -> [--json] [chain options]

Run by the operator (the signer): registers the enclave key in the document with the EnclaveRegistry, or renews it
with a newer document. The attestations are the attesters' \`opg enclave attest\` outputs as printed: one JSON
object per line (outputs concatenated), a JSON array of them, or one per file with --attestations repeated
(- reads standard input); each is checked to sign exactly this document's facts before anything is sent.

Options:
  --model <id>                 a model that approved the enclave's image
  --attestations <file | ->    {"attester", "signature"} objects, one per line or as a JSON array; repeatable
  --json                       print the stored registration as one JSON object (or one JSON error object)
${CHAIN_USAGE}
`;

export const enclaveRegisterCommand: CliCommand = {
  path: ["enclave", "register"],
  summary: "Register or renew an enclave key with attester signatures (operator)",
  usage: REGISTER_USAGE,
  run: (args, io) => reportingFailures(args, io, () => registerEnclave(args, io)),
};

async function readAttestations(io: CliIo, paths: readonly string[]): Promise<AttestationSource[]> {
  if (paths.filter((p) => p === "-").length > 1) throw new UsageError("--attestations -: standard input can be read only once");
  const sources: AttestationSource[] = [];
  for (const path of paths) {
    const bytes = path === "-" ? await readStdin(ATTESTATIONS_LIMIT) : await readBoundedFile(io, path, "attestations file", ATTESTATIONS_LIMIT, ATTESTATIONS_FILE_ERRORS);
    sources.push({ text: Buffer.from(bytes).toString("utf8"), source: path === "-" ? "standard input" : printable(path) });
  }
  return sources;
}

async function registerEnclave(args: readonly string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseOptions(
    args,
    { ...CHAIN_OPTIONS, model: { type: "string" }, attestations: { type: "string", multiple: true }, json: { type: "boolean" } },
    { min: 1, max: 1, names: "one attestation document path (see --help)" },
  );
  if (values.model === undefined) throw new UsageError("--model <id> is required");
  if (values.attestations === undefined) throw new UsageError("--attestations <file.json | -> is required");
  const modelId = checkBytes32(values.model, "--model");
  const facts = unverifiedFactsOf(await readDocument(io, positionals[0]!));
  const signatures = attesterSignaturesFromText(await readAttestations(io, values.attestations));

  const chain = await openChain(values, io, { needsSigner: true });
  const evidence = quorumEvidence(signatures, { facts, domain: await quorumDomainOf(chain.contracts) });
  const registered = await registerEnclaveKey(chain.contracts, facts, modelId, evidence);
  if (values.json === true) {
    io.stdout(
      safeJson({
        key: registered.key,
        operator: registered.operator,
        imageId: registered.imageId,
        attestationDigest: registered.attestationDigest,
        attestedAt: Number(registered.attestedAt),
        expiresAt: Number(registered.expiresAt),
        transactionHash: registered.transactionHash,
        gasUsed: Number(registered.gasUsed),
      }) + "\n",
    );
  } else {
    io.stdout(
      `registered enclave key ${registered.key} for operator ${registered.operator}: image ${registered.imageId}, ` +
        `attested ${iso(registered.attestedAt)}, expires ${iso(registered.expiresAt)} (tx ${registered.transactionHash}, gas ${registered.gasUsed})\n`,
    );
  }
  return 0;
}

/** Every `opg enclave ...` command, for registration in commands/index.ts. */
export const enclaveCommands: readonly CliCommand[] = [enclaveApproveImageCommand, enclaveAttestCommand, enclaveRegisterCommand];
