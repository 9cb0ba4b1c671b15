/**
 * Pending results as the hub announced them: a ResultPending event (signer, bond, final time, operation)
 * joined with the ReceiptVerified event of the same id (model, commitments, operator, requester, tier,
 * fee). Together they are exactly the claim the hub hashed, which a challenge restates. Request
 * fulfilments are pending at the request book, which announces each claim whole (FulfilmentPending).
 */
import type { Contract, EventLog, Log } from "ethers";
import { OpgError } from "../errors.ts";
import type { Hex } from "../receipts/receipt.ts";
import type { Tier } from "../receipts/tier.ts";

/** What an operator claimed for one pending result (contracts/types/Claim.sol). */
export interface Claim {
  readonly modelId: Hex;
  readonly inputCommitment: Hex;
  readonly outputCommitment: Hex;
  readonly operator: string;
  readonly requester: string;
  readonly signer: string;
  readonly tier: Tier;
  /** Zero for a single receipt. */
  readonly operationId: Hex;
  readonly fee: bigint;
  readonly bond: bigint;
  readonly finalAt: bigint;
}

export interface PendingClaim {
  readonly id: Hex;
  readonly claim: Claim;
  /** Where the result is pending: the hub (receipts, operation steps) or the request book (fulfilments). */
  readonly source?: "hub" | "requests";
  readonly blockNumber: number;
  readonly transactionHash: string;
}

/** Result status, as the hub's statusOf returns it (contracts/types/Claim.sol ResultStatus). */
export enum ResultStatus {
  None = 0,
  Final = 1,
  Pending = 2,
  Refuted = 3,
}

export function statusName(status: ResultStatus): "none" | "final" | "pending" | "refuted" {
  return (["none", "final", "pending", "refuted"] as const)[status] ?? "none";
}

/** The claim as the contracts' ABI tuple. */
export function claimTuple(claim: Claim) {
  return [
    claim.modelId,
    claim.inputCommitment,
    claim.outputCommitment,
    claim.operator,
    claim.requester,
    claim.signer,
    claim.tier,
    claim.operationId,
    claim.fee,
    claim.bond,
    claim.finalAt,
  ] as const;
}

function parsed(hub: Contract, logs: readonly Log[], name: string): EventLog[] {
  return logs.filter((log): log is EventLog => "args" in log && (log as EventLog).fragment?.name === name);
}

/** Joins one ResultPending event with its ReceiptVerified event. */
function join(pending: EventLog, verified: EventLog): PendingClaim {
  const a = verified.args;
  const p = pending.args;
  return {
    id: p.getValue("id") as Hex,
    blockNumber: pending.blockNumber,
    transactionHash: pending.transactionHash,
    claim: {
      modelId: a.getValue("modelId") as Hex,
      inputCommitment: a.getValue("inputCommitment") as Hex,
      outputCommitment: a.getValue("outputCommitment") as Hex,
      operator: a.getValue("operator") as string,
      requester: a.getValue("requester") as string,
      signer: p.getValue("signer") as string,
      tier: Number(a.getValue("tier")) as Tier,
      operationId: p.getValue("operationId") as Hex,
      fee: a.getValue("fee") as bigint,
      bond: p.getValue("bond") as bigint,
      finalAt: p.getValue("finalAt") as bigint,
    },
  };
}

/** Every result that became pending in blocks [fromBlock, toBlock], in chain order. */
export async function pendingClaims(hub: Contract, fromBlock: number, toBlock: number): Promise<PendingClaim[]> {
  if (toBlock < fromBlock) return [];
  const [pending, verified] = await Promise.all([
    hub.queryFilter(hub.filters["ResultPending"]!(), fromBlock, toBlock),
    hub.queryFilter(hub.filters["ReceiptVerified"]!(), fromBlock, toBlock),
  ]);
  const byId = new Map<string, EventLog>();
  for (const v of parsed(hub, verified, "ReceiptVerified")) byId.set(`${v.transactionHash}:${(v.args.getValue("id") as string).toLowerCase()}`, v);
  return parsed(hub, pending, "ResultPending").map((p) => {
    const v = byId.get(`${p.transactionHash}:${(p.args.getValue("id") as string).toLowerCase()}`);
    if (v === undefined) throw new OpgError("EVENT_MISSING", `ResultPending ${p.args.getValue("id") as string} has no ReceiptVerified event in its transaction`);
    return join(p, v);
  });
}

/** The claim of one result id, found from its events (searching blocks [fromBlock, latest]). */
export async function findClaim(hub: Contract, id: Hex, fromBlock = 0): Promise<PendingClaim> {
  const pending = parsed(hub, await hub.queryFilter(hub.filters["ResultPending"]!(id), fromBlock), "ResultPending");
  const first = pending[0];
  if (first === undefined) throw new OpgError("NOT_PENDING", `result ${id} was never pending (unknown, ZK tier, no circuit, or recorded before fraud proofs)`);
  const verified = parsed(hub, await hub.queryFilter(hub.filters["ReceiptVerified"]!(id), first.blockNumber, first.blockNumber), "ReceiptVerified");
  const v = verified.find((e) => e.transactionHash === first.transactionHash);
  if (v === undefined) throw new OpgError("EVENT_MISSING", `result ${id} has no ReceiptVerified event`);
  return join(first, v);
}

/** The claim tuple of a FulfilmentPending event. */
function claimFromTuple(t: { getValue?: unknown } & ArrayLike<unknown>): Claim {
  const at = (i: number) => t[i];
  return {
    modelId: at(0) as Hex,
    inputCommitment: at(1) as Hex,
    outputCommitment: at(2) as Hex,
    operator: at(3) as string,
    requester: at(4) as string,
    signer: at(5) as string,
    tier: Number(at(6)) as Tier,
    operationId: at(7) as Hex,
    fee: at(8) as bigint,
    bond: at(9) as bigint,
    finalAt: at(10) as bigint,
  };
}

function fromFulfilment(event: EventLog): PendingClaim {
  return {
    id: event.args.getValue("id") as Hex,
    source: "requests",
    blockNumber: event.blockNumber,
    transactionHash: event.transactionHash,
    claim: claimFromTuple(event.args.getValue("claim") as ArrayLike<unknown>),
  };
}

/** Every request fulfilment (or fulfilment step) that became pending at `book` in blocks [fromBlock, toBlock]. */
export async function pendingFulfilments(book: Contract, fromBlock: number, toBlock: number): Promise<PendingClaim[]> {
  if (toBlock < fromBlock) return [];
  const events = await book.queryFilter(book.filters["FulfilmentPending"]!(), fromBlock, toBlock);
  return parsed(book, events, "FulfilmentPending").map(fromFulfilment);
}

/**
 * The claim of one result id: a hub receipt or operation step, else (with `book`) a request fulfilment,
 * found from its events (searching blocks [fromBlock, latest]).
 */
export async function findAnyClaim(hub: Contract, book: Contract | undefined, id: Hex, fromBlock = 0): Promise<PendingClaim> {
  if (book !== undefined) {
    const events = parsed(book, await book.queryFilter(book.filters["FulfilmentPending"]!(id), fromBlock), "FulfilmentPending");
    const first = events[0];
    if (first !== undefined) return fromFulfilment(first);
  }
  return findClaim(hub, id, fromBlock);
}
