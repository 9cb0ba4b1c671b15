/**
 * `opg nitro dev-document`: try the TEE tier without an enclave. Writes a Nitro-format attestation
 * document signed by a freshly generated DEVELOPMENT certificate authority (subject O=OPG Development,
 * never the AWS root), the development root to pin, and the generated enclave key. Everything it writes
 * or prints says DEVELOPMENT: such a document proves nothing about a real enclave, and neither the AWS
 * root nor any default configuration trusts it.
 */
import { chmod, writeFile } from "node:fs/promises";
import { resolve } from "node:path";
import { Wallet, getBytes } from "ethers";
import { enclaveBinding, enclaveKeyAddress, imageId } from "../../nitro/binding.ts";
import { toHex } from "../../nitro/bytes.ts";
import { createDevAttestation, createDevChain, devPcrs } from "../../nitro/dev.ts";
import { checkAddress } from "../../receipts/receipt.ts";
import { CHAIN_OPTIONS, CHAIN_USAGE, openChain } from "../chain.ts";
import { UsageError } from "../errors.ts";
import { parseOptions } from "../main.ts";
import type { CliCommand } from "../types.ts";
import { parseAt } from "./nitro.ts";

export const DEV_MODULE_ID = "opg-development-enclave";

export const nitroDevDocumentCommand: CliCommand = {
  path: ["nitro", "dev-document"],
  summary: "Write a DEVELOPMENT attestation document (local dev CA, not AWS) to try the TEE tier",
  usage: `Usage: opg nitro dev-document --out <doc.cose> [--root-out <pem>] [--key-out <file>] [--operator <addr> [chain options]] [--debug] [--at <time>]

DEVELOPMENT ONLY. Generates an enclave key (secp256k1) and a Nitro-format attestation document carrying it,
signed by a freshly generated development certificate authority (O=OPG Development): no enclave runs, and
the AWS Nitro root does not trust it. Pin the development root to verify it:
  opg nitro verify <doc.cose> --root <dev-root.pem>
and have attesters do the same to register the key on a local chain.

Options:
  --out <file>        the document (raw COSE_Sign1 bytes)
  --root-out <file>   the development root certificate, PEM (default: opg-dev-root.pem)
  --key-out <file>    the generated enclave key, JSON {address, privateKey} written 0600 (default: opg-dev-enclave-key.json)
  --operator <addr>   bind the document to this operator on the connected chain: user_data =
                      keccak256(chainId, enclave registry, operator, enclave key) (needs the chain options)
  --debug             zero PCR0..2, as a debug-mode enclave would (the registry refuses those)
  --at <time>         the document's time (ISO-8601 with a zone or unix ms; default now)
${CHAIN_USAGE}
`,
  async run(args, io) {
    const { values } = parseOptions(
      args,
      { ...CHAIN_OPTIONS, out: { type: "string" }, "root-out": { type: "string" }, "key-out": { type: "string" }, operator: { type: "string" }, debug: { type: "boolean" }, at: { type: "string" } },
      { min: 0, max: 0, names: "no positional arguments" },
    );
    if (values.out === undefined) throw new UsageError("--out <doc.cose> is required");
    const at = values.at === undefined ? Date.now() : parseAt(values.at);
    const enclave = Wallet.createRandom();
    const publicKey = getBytes(enclave.signingKey.publicKey);
    let userData: Uint8Array | null = null;
    let bound = "";
    if (values.operator !== undefined) {
      const operator = checkAddress(values.operator, "--operator");
      const chain = await openChain(values, io, { needsSigner: false });
      const registry = chain.deployment.enclaves;
      userData = enclaveBinding({ chainId: chain.chainId, registry, operator, enclaveKey: enclave.address });
      bound = `, bound to operator ${operator} on chain ${chain.chainId}`;
    }
    const chain = createDevChain({ at });
    const pcrs = devPcrs(values.debug === true);
    const document = createDevAttestation(chain, { moduleId: DEV_MODULE_ID, timestamp: at, publicKey, userData, debug: values.debug === true });
    const rootPath = resolve(io.cwd, values["root-out"] ?? "opg-dev-root.pem");
    const keyPath = resolve(io.cwd, values["key-out"] ?? "opg-dev-enclave-key.json");
    await writeFile(resolve(io.cwd, values.out), document);
    await writeFile(rootPath, chain.rootPem);
    await writeFile(keyPath, JSON.stringify({ development: true, address: enclave.address, privateKey: enclave.privateKey }, null, 2) + "\n", { mode: 0o600 });
    await chmod(keyPath, 0o600);
    if (enclaveKeyAddress(publicKey).toLowerCase() !== enclave.address.toLowerCase()) throw new Error("internal: enclave key address mismatch");
    io.stdout(
      [
        `DEVELOPMENT attestation document written to ${resolve(io.cwd, values.out)}${bound}`,
        `  signed by        a local DEVELOPMENT CA (O=OPG Development), not AWS: verify with --root ${rootPath}`,
        `  enclave key      ${enclave.address} (private key in ${keyPath})`,
        `  image id         ${imageId(pcrs)}${values.debug ? " (DEBUG MODE)" : ""}`,
        `  root sha256      ${chain.root.sha256}`,
        `  user data        ${userData === null ? "none" : toHex(userData)}`,
        "",
      ].join("\n"),
    );
    return 0;
  },
};

export const devNitroCommands: readonly CliCommand[] = [nitroDevDocumentCommand];
