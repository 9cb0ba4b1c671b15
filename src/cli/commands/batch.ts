/**
 * `opg batch deposit | authorize | revoke | post | verify-leaf | refund | claim`: batch settlement from the command
 * line. A requester deposits and signs one capped, expiring spending authorization for an operator (and may revoke
 * it, in effect after the withdrawal notice); the operator posts one signed root over the receipts it served and
 * settles every authorization in the same transaction; anyone verifies a leaf, and claims a requester's share of a
 * refuted batch's refund.
 */
import { NonceManager, formatUnits, getAddress, isAddress, parseUnits, type Signer } from "ethers";
import {
  authorizationFromJson,
  authorizationToJson,
  authorizationValue,
  batchDomain,
  batchRefOf,
  batchSettlementAt,
  claimRefund,
  buildBatch,
  dumpBatch,
  leafFromJson,
  leafToJson,
  loadBatch,
  operatorsOfRoot,
  postBatch,
  proofOf,
  signAuthorization,
  signBatch,
  verifyLeafOffChain,
  verifyLeafOnChain,
  LeafStatus,
  type BatchLeaf,
  type SignedAuthorization,
} from "../../batches/index.ts";
import { OpgError } from "../../errors.ts";
import { mined, onChain } from "../../settlement/index.ts";
import { CHAIN_OPTIONS, CHAIN_USAGE, openChain, type ChainContext } from "../chain.ts";
import { UsageError } from "../errors.ts";
import { readInput, readJson, writeJson } from "../files.ts";
import { parseOptions } from "../main.ts";
import type { CliCommand, CliIo } from "../types.ts";

const opg = (wei: bigint) => `${formatUnits(wei, 18)} OPG`;
const STATUS_NAMES: Record<number, string> = { [LeafStatus.None]: "none", [LeafStatus.Final]: "final", [LeafStatus.Pending]: "pending", [LeafStatus.Refuted]: "refuted" };

function amount(text: string | undefined, what: string): bigint {
  if (text === undefined || !/^[0-9]+(\.[0-9]{1,18})?$/.test(text)) throw new UsageError(`${what} must be an amount in OPG, like 10 or 0.5`);
  return parseUnits(text, 18);
}

function batchesOf(chain: ChainContext): string {
  const address = chain.deployment.batches;
  if (address === undefined) throw new OpgError("NO_BATCH_SETTLEMENT", "the deployment has no BatchSettlement contract (redeploy with the current Ignition module)");
  return address;
}

async function withSigner(values: Record<string, unknown>, io: CliIo): Promise<{ chain: ChainContext; signer: Signer; address: string }> {
  const chain = await openChain(values as Parameters<typeof openChain>[0], io, { needsSigner: true });
  return { chain, signer: new NonceManager(chain.signer!), address: await chain.signer!.getAddress() };
}

const depositCommand: CliCommand = {
  path: ["batch", "deposit"],
  summary: "Deposit OPG that your spending authorizations draw on (requester)",
  usage: `Usage: opg batch deposit <OPG> [--for <address>] [chain options]

The deposit pays the operators you authorize. A withdrawal leaves after a notice during which it still pays them.
${CHAIN_USAGE}
`,
  async run(args, io) {
    const { values, positionals } = parseOptions(args, { ...CHAIN_OPTIONS, for: { type: "string" } }, { min: 1, max: 1, names: "<OPG>" });
    const value = amount(positionals[0], "<OPG>");
    if (value === 0n) throw new UsageError("<OPG> must be more than zero");
    if (values.for !== undefined && !isAddress(values.for)) throw new UsageError("--for must be an address");
    const { chain, signer, address } = await withSigner(values, io);
    const account = values.for === undefined ? address : getAddress(values.for);
    const contract = batchSettlementAt(batchesOf(chain), signer);
    const token = chain.contracts.token.connect(signer) as typeof chain.contracts.token;
    let gas = (await onChain(() => mined(token.getFunction("approve")(contract.target, value)))).gasUsed;
    gas += (await onChain(() => mined(contract.getFunction("deposit")(account, value)))).gasUsed;
    const [balance] = (await contract.getFunction("depositOf")(account)) as [bigint];
    io.stdout(`deposited ${opg(value)} for ${account}; batch deposit ${opg(balance)} (gas ${gas})\n`);
    return 0;
  },
};

const authorizeCommand: CliCommand = {
  path: ["batch", "authorize"],
  summary: "Sign a capped, expiring spending authorization for an operator (requester, no transaction)",
  usage: `Usage: opg batch authorize --operator <address> --cap <OPG> [--expires-in <seconds>] [--out <file>] [chain options]

Signs (EIP-712, this chain and BatchSettlement) that --operator may charge up to --cap in total from your deposit,
in batches posted before the expiry. Prints (or writes to --out) {"id", "authorization", "signature"}: give it to
the operator (its node accepts it in the X-OPG-Authorization header or the request body).
  --operator <address>     the operator allowed to charge
  --cap <OPG>              the most it may charge in total
  --expires-in <seconds>   validity from the latest block (default 86400)
  --out <file>             write the signed authorization there instead of stdout
${CHAIN_USAGE}
`,
  async run(args, io) {
    const options = { ...CHAIN_OPTIONS, operator: { type: "string" }, cap: { type: "string" }, "expires-in": { type: "string" }, out: { type: "string" } } as const;
    const { values } = parseOptions(args, options, { min: 0, max: 0, names: "no positional arguments (see --help)" });
    if (values.operator === undefined || !isAddress(values.operator)) throw new UsageError("--operator <address> is required");
    const cap = amount(values.cap, "--cap");
    const expiresIn = values["expires-in"] ?? "86400";
    if (!/^[0-9]+$/.test(expiresIn)) throw new UsageError("--expires-in must be seconds");
    const { chain, signer } = await withSigner(values, io);
    const latest = await chain.provider.getBlock("latest");
    const expiry = BigInt(latest?.timestamp ?? Math.floor(Date.now() / 1000)) + BigInt(expiresIn);
    const signed = await signAuthorization(signer, batchDomain(chain.chainId, batchesOf(chain)), { operator: getAddress(values.operator), cap, expiry });
    const json = authorizationToJson(signed);
    if (values.out !== undefined) {
      await writeJson(io, values.out, json);
      io.stdout(`authorization ${signed.id}: ${values.operator} may charge up to ${opg(cap)} until ${expiry}; written to ${values.out}\n`);
    } else {
      io.stdout(JSON.stringify(json) + "\n");
    }
    return 0;
  },
};

const revokeCommand: CliCommand = {
  path: ["batch", "revoke"],
  summary: "Revoke a spending authorization you signed, in effect after the withdrawal notice (requester)",
  usage: `Usage: opg batch revoke --authorization <file> [chain options]

Revokes the signed authorization in --authorization (from 'opg batch authorize'; you must be its requester). It
takes effect after the withdrawal notice: a batch posted before then still settles what you were served, so
the operator is paid; its node serves nothing more under it at once.
${CHAIN_USAGE}
`,
  async run(args, io) {
    const { values } = parseOptions(args, { ...CHAIN_OPTIONS, authorization: { type: "string" } }, { min: 0, max: 0, names: "no positional arguments (see --help)" });
    if (values.authorization === undefined) throw new UsageError("--authorization <file> is required");
    const signed = authorizationFromJson(await readJson(io, values.authorization, "authorization"));
    const { chain, signer } = await withSigner(values, io);
    const contract = batchSettlementAt(batchesOf(chain), signer);
    const receipt = await onChain(() => mined(contract.getFunction("revokeAuthorization")(authorizationValue(signed.authorization))));
    const id = (await contract.getFunction("authorizationId")(authorizationValue(signed.authorization))) as string;
    const { revokedAt } = (await contract.getFunction("authorizationStateOf")(id)) as { revokedAt: bigint };
    io.stdout(`revoked authorization ${id}: batches posted from ${revokedAt} on cannot settle it (gas ${receipt.gasUsed})\n`);
    return 0;
  },
};

async function readLeaves(io: CliIo, path: string): Promise<BatchLeaf[]> {
  const parsed = await readJson(io, path, "leaves file");
  const list = Array.isArray(parsed) ? parsed : (parsed as { leaves?: unknown }).leaves;
  if (!Array.isArray(list)) throw new UsageError(`${path} must hold a JSON array of leaves (or {"leaves": [...]})`);
  return list.map(leafFromJson);
}

const postCommand: CliCommand = {
  path: ["batch", "post"],
  summary: "Sign one root over served receipts and settle each authorization (operator)",
  usage: `Usage: opg batch post --leaves <file> --authorization <file> [--authorization <file>…] [--uri <uri>] [--publish <file>] [--json] [chain options]

Builds the Merkle tree of the receipts in --leaves, signs its root and closing leaves with $OPG_PRIVATE_KEY (a
staked operator's registered signer) and posts it: per authorization and model, the requester is charged its last
receipt's running total minus what was already settled for that model, that model's owner gets its share, and
'bond multiple' × the batch's fees of the operator's stake stays locked until the challenge window closes.
  --leaves <file>          JSON array of leaves (what 'opg node' records), or {"leaves": [...]}
  --authorization <file>   a signed authorization (from 'opg batch authorize'); one per requester in the batch
  --uri <uri>              where the leaves are published (default: opg-batch:<root>)
  --publish <file>         write the published form (the tree dump anyone rebuilds the root from)
  --json                   print {"root", "batchId", "operator", "receipts", "gasUsed", "gasPerReceipt", "transactionHash", "finalAt"}
${CHAIN_USAGE}
`,
  async run(args, io) {
    const options = { ...CHAIN_OPTIONS, leaves: { type: "string" }, authorization: { type: "string", multiple: true }, uri: { type: "string" }, publish: { type: "string" }, json: { type: "boolean" } } as const;
    const { values } = parseOptions(args, options, { min: 0, max: 0, names: "no positional arguments (see --help)" });
    if (values.leaves === undefined) throw new UsageError("--leaves <file> is required");
    const batch = buildBatch(await readLeaves(io, values.leaves));
    const authorizations = new Map<string, SignedAuthorization>();
    for (const file of values.authorization ?? []) {
      const signed = authorizationFromJson(await readJson(io, file, "authorization"));
      authorizations.set(signed.id.toLowerCase(), signed);
    }
    const { chain, signer, address } = await withSigner(values, io);
    const contract = batchSettlementAt(batchesOf(chain), signer);
    const signed = await signBatch(signer, batchDomain(chain.chainId, batchesOf(chain)), batch, values.uri ?? `opg-batch:${batch.root}`);
    const posted = await postBatch(contract, batch, { ...signed, signer: address }, authorizations);
    if (values.publish !== undefined) await writeJson(io, values.publish, JSON.parse(dumpBatch(batch)));
    const gasPerReceipt = Math.round(Number(posted.gasUsed) / posted.receipts);
    io.stdout(
      values.json === true
        ? JSON.stringify({ root: posted.root, batchId: posted.batchId, operator: posted.operator, receipts: posted.receipts, gasUsed: Number(posted.gasUsed), gasPerReceipt, transactionHash: posted.transactionHash, finalAt: Number(posted.finalAt) }) + "\n"
        : `posted root ${posted.root} (operator ${posted.operator}): ${posted.receipts} receipts, ${opg(batch.total)} settled, gas ${posted.gasUsed} (${gasPerReceipt} per receipt), final at ${posted.finalAt}\n`,
    );
    return 0;
  },
};

const verifyLeafCommand: CliCommand = {
  path: ["batch", "verify-leaf"],
  summary: "Verify one receipt of a posted batch with its Merkle proof (anyone)",
  usage: `Usage: opg batch verify-leaf --batch <file> --index <n> [--operator <address>] [--json] [chain options]

Rebuilds the tree from the published batch (--batch, as 'opg batch post --publish' writes it), proves leaf --index
off-chain, then asks the contract: it must be in the root --operator posted (batches are keyed by operator and
root; without --operator, the one operator that posted this root); prints its tier, outputs' commitment and
status (pending until the window closes, final, or refuted). Exits 1 unless the leaf verifies.
${CHAIN_USAGE}
`,
  async run(args, io) {
    const options = { ...CHAIN_OPTIONS, batch: { type: "string" }, index: { type: "string" }, operator: { type: "string" }, json: { type: "boolean" } } as const;
    const { values } = parseOptions(args, options, { min: 0, max: 0, names: "no positional arguments (see --help)" });
    if (values.batch === undefined) throw new UsageError("--batch <file> is required");
    if (values.index === undefined || !/^[0-9]+$/.test(values.index)) throw new UsageError("--index <n> is required");
    if (values.operator !== undefined && !isAddress(values.operator)) throw new UsageError("--operator must be an address");
    const batch = loadBatch((await readInput(io, values.batch, "batch file")).toString("utf8"));
    const leaf = batch.leaves[Number(values.index)];
    if (leaf === undefined) throw new UsageError(`--index must be below ${batch.leaves.length}`);
    const proof = proofOf(batch, leaf);
    const offChain = verifyLeafOffChain(batch.root, leaf, proof);
    const chain = await openChain(values, io, { needsSigner: false });
    const contract = batchSettlementAt(batchesOf(chain), chain.provider);
    const operator = await operatorOf(contract, batch.root, values.operator);
    const result = await verifyLeafOnChain(contract, operator, batch.root, leaf, proof);
    const status = STATUS_NAMES[result.status] ?? "unknown";
    const report = { root: batch.root, operator, index: Number(values.index), leaf: leafToJson(leaf), proof, verified: offChain, tier: result.tier, outputCommitment: result.outputCommitment, status, finalAt: Number(result.finalAt) };
    io.stdout(values.json === true ? JSON.stringify(report) + "\n" : `leaf ${values.index} of ${batch.root} (operator ${operator}): tier ${result.tier}, outputs ${result.outputCommitment}, ${status} (final at ${result.finalAt})\n`);
    return offChain ? 0 : 1;
  },
};

/** The one operator that posted `root` (or `--operator`). */
async function operatorOf(contract: ReturnType<typeof batchSettlementAt>, root: string, given: string | undefined): Promise<string> {
  if (given !== undefined) return getAddress(given);
  const posters = await operatorsOfRoot(contract, root);
  if (posters.length !== 1) {
    throw new OpgError("BATCH_OPERATOR", posters.length === 0 ? `no operator posted root ${root}` : `${posters.length} operators posted root ${root} (${posters.join(", ")}): choose one with --operator`);
  }
  return posters[0]!;
}

const refundCommand: CliCommand = {
  path: ["batch", "refund"],
  summary: "Credit a requester its share of a refuted batch's refund (anyone)",
  usage: `Usage: opg batch refund <root> [--for <requester>] [--operator <address>] [--json] [chain options]

A refuted batch's requesters share its refund pool (their charges back plus compensation from the slashed bond) in
proportion to what the batch charged each. This credits the share of --for (default: your address) to its deposit
in BatchSettlement, once. The batch is --operator's root (default: the one operator that posted it).
${CHAIN_USAGE}
`,
  async run(args, io) {
    const options = { ...CHAIN_OPTIONS, for: { type: "string" }, operator: { type: "string" }, json: { type: "boolean" } } as const;
    const { values, positionals } = parseOptions(args, options, { min: 1, max: 1, names: "<root>" });
    const root = positionals[0]!;
    if (!/^0x[0-9a-fA-F]{64}$/.test(root)) throw new UsageError("<root> must be a 32-byte hex string (0x + 64 hex digits)");
    if (values.for !== undefined && !isAddress(values.for)) throw new UsageError("--for must be an address");
    if (values.operator !== undefined && !isAddress(values.operator)) throw new UsageError("--operator must be an address");
    const { chain, signer, address } = await withSigner(values, io);
    const contract = batchSettlementAt(batchesOf(chain), signer);
    const operator = await operatorOf(contract, root, values.operator);
    const requester = values.for === undefined ? address : getAddress(values.for);
    const ref = await batchRefOf(contract, operator, root.toLowerCase() as `0x${string}`);
    const { amount, transactionHash } = await claimRefund(contract, ref, requester);
    const report = { root: root.toLowerCase(), operator, requester, refund: amount.toString(), transactionHash };
    io.stdout(values.json === true ? JSON.stringify(report) + "\n" : `refunded ${opg(amount)} into ${requester}'s deposit from batch ${root.toLowerCase()} (operator ${operator})\n`);
    return 0;
  },
};

const claimCommand: CliCommand = {
  path: ["batch", "claim"],
  summary: "Withdraw what batches earned you (operator, model owner, treasury)",
  usage: `Usage: opg batch claim [--to <address>] [chain options]\n${CHAIN_USAGE}\n`,
  async run(args, io) {
    const { values } = parseOptions(args, { ...CHAIN_OPTIONS, to: { type: "string" } }, { min: 0, max: 0, names: "no positional arguments" });
    if (values.to !== undefined && !isAddress(values.to)) throw new UsageError("--to must be an address");
    const { chain, signer, address } = await withSigner(values, io);
    const contract = batchSettlementAt(batchesOf(chain), signer);
    const earned = (await contract.getFunction("earningsOf")(address)) as bigint;
    const to = values.to === undefined ? address : getAddress(values.to);
    const receipt = await onChain(() => mined(contract.getFunction("claim")(to)));
    io.stdout(`claimed ${opg(earned)} to ${to} (gas ${receipt.gasUsed})\n`);
    return 0;
  },
};

export const batchCommands: readonly CliCommand[] = [depositCommand, authorizeCommand, revokeCommand, postCommand, verifyLeafCommand, refundCommand, claimCommand];
