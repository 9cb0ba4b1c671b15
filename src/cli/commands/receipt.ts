/**
 * `opg receipt sign | submit`: one receipt at any tier, without an operation file. The operator (or the
 * enclave, for TEE) signs — or, for ZK, proves — a receipt file (opg-receipt/1); the requester (or a
 * submitter it approved) submits it and pays the model's price from its escrow.
 */
import { resolve } from "node:path";
import { Wallet, formatUnits } from "ethers";
import { zkEvidence } from "../../pipeline/zk.ts";
import { buildReceipt, checkAddress, checkBytes32, hubDomain, receiptId, signReceipt, type Hex, type Receipt } from "../../receipts/receipt.ts";
import { Tier, parseTier, tierName } from "../../receipts/tier.ts";
import { readResult, submitProven, submitSigned } from "../../settlement/client.ts";
import { loadBuild } from "../../zkml/build.ts";
import { prove, releaseZkResources } from "../../zkml/prove.ts";
import { CHAIN_OPTIONS, CHAIN_USAGE, openChain } from "../chain.ts";
import { UsageError } from "../errors.ts";
import { readJson, writeJson } from "../files.ts";
import { parseOptions } from "../main.ts";
import type { CliCommand, CliIo } from "../types.ts";
import { commitValues, parseScaleBits, parseValues } from "./commit.ts";
import { maxFeeOption } from "./operation.ts";

export const RECEIPT_FORMAT = "opg-receipt/1";

/** The receipt file: everything `submit` needs, decimal strings for integers. */
export interface ReceiptFile {
  readonly format: typeof RECEIPT_FORMAT;
  readonly chainId: string;
  readonly hub: string;
  readonly id: Hex;
  readonly tier: "signature" | "tee" | "zk";
  readonly receipt: Record<keyof Receipt, string>;
  readonly evidence: { readonly signer: string; readonly signature: string } | { readonly proof: string[]; readonly outputs: string[] };
  /** ZK: the decoded outputs the proof carries. */
  readonly output?: unknown;
}

function integer(text: string | undefined, what: string): bigint {
  if (text === undefined || !/^[0-9]+$/.test(text)) throw new UsageError(`${what} must be a non-negative integer`);
  return BigInt(text);
}

function stepKey(io: CliIo): Wallet {
  const key = io.env["OPG_STEP_KEY"];
  if (key === undefined || key === "") throw new UsageError("set $OPG_STEP_KEY to the signing key (the operator's signer, or the enclave key for TEE)");
  try {
    return new Wallet(key);
  } catch {
    throw new UsageError("$OPG_STEP_KEY does not hold a valid private key");
  }
}

async function commitmentOption(io: CliIo, hex: string | undefined, values: string | undefined, scaleBits: number, what: string): Promise<string> {
  if ((hex === undefined) === (values === undefined)) throw new UsageError(`give exactly one of --${what} <0x…> or --${what}-values <json>`);
  if (hex !== undefined) return checkBytes32(hex, `--${what}`);
  return commitValues(io, parseValues(values!, `--${what}-values`), scaleBits);
}

const SIGN_USAGE = `Usage: opg receipt sign --model <id> --tier <signature|tee|zk> --operator <addr> --requester <addr> --nonce <n> --out <receipt.json> [options] [chain options]

Signature / TEE: signs with the key in $OPG_STEP_KEY (the operator's registered signer, or the enclave key).
  --input <0x…> | --input-values <json>     the input commitment, or values to commit (opg commit --values)
  --output <0x…> | --output-values <json>   the output commitment, or values to commit
  --scale-bits <N>                          scale of --*-values (default 12)
ZK: proves the built model on an input, bound to this receipt's id (no key needed).
  --zk <build-dir> --input-file <input.json>
Common:
  --deadline <unix seconds>                 default: one day from now
The chain options name the hub the receipt is for (its EIP-712 domain and the receipt id).
${CHAIN_USAGE}
`;

export const receiptSignCommand: CliCommand = {
  path: ["receipt", "sign"],
  summary: "Sign (signature, TEE) or prove (ZK) one receipt into a receipt file (operator)",
  usage: SIGN_USAGE,
  async run(args, io) {
    const { values } = parseOptions(
      args,
      {
        ...CHAIN_OPTIONS,
        model: { type: "string" }, tier: { type: "string" }, operator: { type: "string" }, requester: { type: "string" }, nonce: { type: "string" }, deadline: { type: "string" },
        input: { type: "string" }, "input-values": { type: "string" }, output: { type: "string" }, "output-values": { type: "string" }, "scale-bits": { type: "string" },
        zk: { type: "string" }, "input-file": { type: "string" }, out: { type: "string" },
      },
      { min: 0, max: 0, names: "no positional arguments" },
    );
    for (const name of ["model", "tier", "operator", "requester", "nonce", "out"] as const) {
      if (values[name] === undefined) throw new UsageError(`--${name} is required`);
    }
    let tier: Exclude<Tier, 0>;
    try {
      tier = parseTier(values.tier!);
    } catch (error) {
      throw new UsageError(`--tier: ${error instanceof Error ? error.message : String(error)}`);
    }
    const modelId = checkBytes32(values.model!, "--model");
    const operator = checkAddress(values.operator!, "--operator");
    const requester = checkAddress(values.requester!, "--requester");
    const nonce = integer(values.nonce, "--nonce");
    const deadline = values.deadline === undefined ? BigInt(Math.floor(Date.now() / 1000) + 86_400) : integer(values.deadline, "--deadline");
    const chain = await openChain(values, io, { needsSigner: false });
    const hub = chain.deployment.hub;
    const id = receiptId(chain.chainId, hub, requester, modelId, nonce);
    let file: ReceiptFile;
    if (tier === Tier.ZK) {
      if (values.zk === undefined || values["input-file"] === undefined) throw new UsageError("a zk receipt needs --zk <build-dir> and --input-file <input.json>");
      if (values.input !== undefined || values["input-values"] !== undefined || values.output !== undefined || values["output-values"] !== undefined) {
        throw new UsageError("a zk receipt's commitments come from the proof: drop --input/--output");
      }
      const build = await loadBuild(resolve(io.cwd, values.zk));
      const input = await readJson(io, values["input-file"], "input file");
      try {
        const bundle = await prove(build, input, { binding: id });
        const receipt = buildReceipt({ modelId, inputCommitment: bundle.inputCommitment, outputCommitment: bundle.outputCommitment, requester, operator, nonce, deadline, tier });
        const evidence = zkEvidence(bundle, receipt, id);
        file = { format: RECEIPT_FORMAT, chainId: chain.chainId.toString(), hub, id, tier: "zk", receipt: receiptJson(receipt), evidence: { proof: evidence.proof.map(String), outputs: evidence.outputs.map(String) }, output: bundle.output };
      } finally {
        await releaseZkResources();
      }
    } else {
      if (values.zk !== undefined || values["input-file"] !== undefined) throw new UsageError("--zk and --input-file are for --tier zk");
      const bits = parseScaleBits(values["scale-bits"]);
      const inputCommitment = await commitmentOption(io, values.input, values["input-values"], bits, "input");
      const outputCommitment = await commitmentOption(io, values.output, values["output-values"], bits, "output");
      const signer = stepKey(io);
      const receipt = buildReceipt({ modelId, inputCommitment, outputCommitment, requester, operator, nonce, deadline, tier });
      const signature = await signReceipt(receipt, hubDomain(chain.chainId, hub), signer);
      file = { format: RECEIPT_FORMAT, chainId: chain.chainId.toString(), hub, id, tier: tierName(tier) as "signature" | "tee", receipt: receiptJson(receipt), evidence: { signer: signer.address, signature } };
    }
    await writeJson(io, values.out!, file);
    io.stdout(`${file.tier} receipt ${id} written to ${values.out} (submit with opg receipt submit ${values.out} --max-fee <OPG>)\n`);
    return 0;
  },
};

function receiptJson(r: Receipt): Record<keyof Receipt, string> {
  return { modelId: r.modelId, inputCommitment: r.inputCommitment, outputCommitment: r.outputCommitment, outputDigest: r.outputDigest, requester: r.requester, operator: r.operator, nonce: r.nonce.toString(), deadline: r.deadline.toString(), tier: String(r.tier) };
}

/** Parses and checks a receipt file. */
export function receiptFromJson(json: unknown): { file: ReceiptFile; receipt: Receipt } {
  if (typeof json !== "object" || json === null || (json as { format?: unknown }).format !== RECEIPT_FORMAT) throw new UsageError(`not a receipt file (${RECEIPT_FORMAT})`);
  const file = json as ReceiptFile;
  const r = file.receipt;
  if (typeof r !== "object" || r === null) throw new UsageError("the receipt file has no receipt");
  const receipt = buildReceipt({
    modelId: r.modelId, inputCommitment: r.inputCommitment, outputCommitment: r.outputCommitment, outputDigest: r.outputDigest, requester: r.requester, operator: r.operator,
    nonce: integer(r.nonce, "receipt.nonce"), deadline: integer(r.deadline, "receipt.deadline"), tier: Number(r.tier) as Tier,
  });
  return { file, receipt };
}

export const receiptSubmitCommand: CliCommand = {
  path: ["receipt", "submit"],
  summary: "Submit a receipt file: verified, recorded and paid from the requester's escrow",
  usage: `Usage: opg receipt submit <receipt.json> --max-fee <OPG> [--json] [chain options]

Signer: the requester, or a submitter it approved. The fee (the model's price for the tier, at most
--max-fee) comes from the requester's escrow (opg escrow deposit).
${CHAIN_USAGE}
`,
  async run(args, io) {
    const { values, positionals } = parseOptions(args, { ...CHAIN_OPTIONS, "max-fee": { type: "string" }, json: { type: "boolean" } }, { min: 1, max: 1, names: "a receipt file" });
    const maxFee = maxFeeOption(values["max-fee"]);
    const { file, receipt } = receiptFromJson(await readJson(io, positionals[0]!, "receipt file"));
    const chain = await openChain(values, io, { needsSigner: true });
    if (BigInt(file.chainId) !== chain.chainId || file.hub.toLowerCase() !== chain.deployment.hub.toLowerCase()) {
      throw new UsageError(`the receipt is for hub ${file.hub} on chain ${file.chainId}, not ${chain.deployment.hub} on chain ${chain.chainId}`);
    }
    const evidence = file.evidence;
    const settled =
      "signature" in evidence
        ? await submitSigned(chain.contracts.hub, receipt, evidence.signer, evidence.signature, maxFee)
        : await submitProven(chain.contracts.hub, receipt, evidence.proof.map(BigInt), evidence.outputs.map(BigInt), maxFee);
    const result = await readResult(chain.contracts.hub, settled.id);
    const summary = { id: settled.id, tier: tierName(result.tier), verified: result.tier !== Tier.None, gasUsed: Number(settled.gasUsed), fee: settled.fee.fee.toString() };
    io.stdout(values.json ? JSON.stringify(summary) + "\n" : `verified ${summary.tier} receipt ${settled.id}: fee ${formatUnits(settled.fee.fee, 18)} OPG, gas ${settled.gasUsed}\n`);
    return 0;
  },
};

export const receiptCommands: readonly CliCommand[] = [receiptSignCommand, receiptSubmitCommand];
