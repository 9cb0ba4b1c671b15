/**
 * What the explorer shows, read from the chain: a snapshot made of sections. Each section is one entry
 * in SECTIONS — a title, columns and a loader returning rows of plain strings/numbers — so adding one is
 * adding one loader. Totals come from contract counters; lists from events, newest first; the status of
 * every result (pending, final, refuted) from the hub's statusOf.
 */
import { formatUnits, type Contract, type EventLog, type Provider } from "ethers";
import type { Contracts } from "../settlement/deployment.ts";
import { SNARK_SCALAR_FIELD } from "../commitments/index.ts";
import { Tier, tierName } from "../receipts/tier.ts";

export type Cell = string | number | boolean | null;

export interface Section {
  readonly id: string;
  readonly title: string;
  readonly columns: readonly string[];
  readonly rows: readonly (readonly Cell[])[];
}

export interface Snapshot {
  readonly chainId: string;
  readonly block: number;
  readonly time: string;
  readonly hub: string;
  readonly totals: Readonly<Record<string, Cell>>;
  readonly sections: readonly Section[];
}

/** What loaders share: contracts, the events read once per snapshot, the chain's time. */
export interface ExplorerContext {
  readonly contracts: Contracts;
  readonly provider: Provider;
  readonly now: number;
  readonly events: (contract: Contract, name: string) => Promise<EventLog[]>;
  /** How many rows a list shows. */
  readonly limit: number;
}

export interface SectionLoader {
  readonly id: string;
  readonly title: string;
  readonly columns: readonly string[];
  load(ctx: ExplorerContext): Promise<(readonly Cell[])[]>;
}

const opg = (wei: bigint) => `${formatUnits(wei, 18)} OPG`;
const tierLabel = (tier: number) => tierName(tier as Tier);
/** Tiers of an operation's steps, packed 4 bits each (InferenceHub's stepTiers). */
export const stepTiers = (packed: bigint, count: number) => Array.from({ length: count }, (_, i) => tierLabel(Number((packed >> BigInt(4 * i)) & 0xfn)));
/** A field element as the signed integer it encodes (values above p/2 are negative). */
const signed = (v: bigint) => (v > SNARK_SCALAR_FIELD / 2n ? v - SNARK_SCALAR_FIELD : v);
const newest = (events: EventLog[], limit: number) => [...events].reverse().slice(0, limit);
const arg = <T>(e: EventLog, name: string) => e.args.getValue(name) as T;

/** ResultStatus of contracts/types/Claim.sol. */
const RESULT_STATUS = ["none", "final", "pending", "refuted"] as const;
export type ResultStatusName = (typeof RESULT_STATUS)[number];

/**
 * Settlement status of a verified receipt, operation step or operation, from the hub's statusOf: "pending"
 * while its challenge window is open (a fraud proof can still refute it), "final" after it or at once
 * (ZK results, models without a circuit), "refuted" when a challenge succeeded. `finalAt` is the end of
 * the window (unix seconds; 0 when final at once or refuted).
 */
export async function statusOf(ctx: ExplorerContext, id: string): Promise<{ status: ResultStatusName; finalAt: number }> {
  const [status, finalAt] = (await ctx.contracts.hub.getFunction("statusOf")(id)) as [bigint, bigint, boolean];
  return { status: RESULT_STATUS[Number(status)] ?? "none", finalAt: Number(finalAt) };
}

const iso = (seconds: number) => (seconds === 0 ? "—" : new Date(seconds * 1000).toISOString().replace(".000Z", "Z"));
const signedOutputs = (values: readonly bigint[]) => values.map((v) => v.toString()).join(", ");

/** RequestBook.Status. */
const REQUEST_STATUS = ["unknown", "open", "fulfilled", "cancelled"] as const;

export const SECTIONS: readonly SectionLoader[] = [
  {
    id: "receipts",
    title: "Recent receipts",
    columns: ["id", "tier", "model", "operator", "requester", "fee", "status", "final at", "block"],
    async load(ctx) {
      const events = newest(await ctx.events(ctx.contracts.hub, "ReceiptVerified"), ctx.limit);
      // A step of an operation has a status of its own only while its window is open (or once refuted);
      // otherwise it is its operation's, found by the transaction that verified both.
      const operationOf = new Map((await ctx.events(ctx.contracts.hub, "OperationVerified")).map((e) => [e.transactionHash, arg<string>(e, "operationId")]));
      return Promise.all(
        events.map(async (e) => {
          let { status, finalAt } = await statusOf(ctx, arg<string>(e, "id"));
          const operation = operationOf.get(e.transactionHash);
          if (status === "none" && operation !== undefined) ({ status, finalAt } = await statusOf(ctx, operation));
          return [arg<string>(e, "id"), tierLabel(Number(arg<bigint>(e, "tier"))), arg<string>(e, "modelId"), arg<string>(e, "operator"), arg<string>(e, "requester"), opg(arg<bigint>(e, "fee")), status, iso(finalAt), e.blockNumber];
        }),
      );
    },
  },
  {
    id: "operations",
    title: "Operations (multi-step)",
    columns: ["id", "steps (tier of each)", "requester", "fee", "status", "final at", "block"],
    async load(ctx) {
      const events = newest(await ctx.events(ctx.contracts.hub, "OperationVerified"), ctx.limit);
      return Promise.all(
        events.map(async (e) => {
          const { status, finalAt } = await statusOf(ctx, arg<string>(e, "operationId"));
          return [arg<string>(e, "operationId"), stepTiers(arg<bigint>(e, "stepTiers"), Number(arg<bigint>(e, "steps"))).join(" → "), arg<string>(e, "requester"), opg(arg<bigint>(e, "fee")), status, iso(finalAt), e.blockNumber];
        }),
      );
    },
  },
  {
    id: "requests",
    title: "Requests (RequestBook)",
    columns: ["id", "models", "steps (tier of each)", "policy", "requester", "operator", "fee", "status", "outputs", "block"],
    async load(ctx) {
      const book = ctx.contracts.requests;
      if (book === undefined) return [];
      const fulfilled = new Map((await ctx.events(book, "InferenceFulfilled")).map((e) => [arg<string>(e, "requestId"), e]));
      const requested = newest(await ctx.events(book, "InferenceRequested"), ctx.limit);
      return Promise.all(
        requested.map(async (e) => {
          const id = arg<string>(e, "requestId");
          const params = arg<{ pipeline: string[]; minEachStep: bigint; minFinalStep: bigint; maxFee: bigint; deadline: bigint }>(e, "params");
          const [state] = (await book.getFunction("resultOf")(id)) as [bigint, bigint, string];
          const done = fulfilled.get(id);
          let status: string = REQUEST_STATUS[Number(state)] ?? "unknown";
          if (status === "fulfilled") {
            // A fulfilment is settled at once by the book; the hub's statusOf says if it was ever refuted or is pending.
            const result = await statusOf(ctx, id);
            status = result.status === "none" ? "final" : result.status;
          } else if (status === "open" && Number(params.deadline) < ctx.now) status = "expired";
          const policy = `each ≥ ${tierLabel(Number(params.minEachStep))}, final ≥ ${tierLabel(Number(params.minFinalStep))}`;
          return [
            id,
            params.pipeline.length,
            done === undefined ? "—" : stepTiers(arg<bigint>(done, "stepTiers"), params.pipeline.length).join(" → "),
            policy,
            arg<string>(e, "requester"),
            done === undefined ? arg<string>(e, "operator") : arg<string>(done, "operator"),
            done === undefined ? `≤ ${opg(params.maxFee)}` : opg(arg<bigint>(done, "fee")),
            status,
            done === undefined ? "—" : signedOutputs(arg<bigint[]>(done, "outputs")),
            e.blockNumber,
          ];
        }),
      );
    },
  },
  {
    id: "refutations",
    title: "Refuted results (fraud proofs)",
    columns: ["result id", "challenger", "operator", "proven output commitment", "slashed", "challenger reward", "requester refund", "block"],
    async load(ctx) {
      const disputes = ctx.contracts.disputes;
      if (disputes === undefined) return [];
      return newest(await ctx.events(disputes, "ChallengeSucceeded"), ctx.limit).map((e) => [
        arg<string>(e, "id"),
        arg<string>(e, "challenger"),
        arg<string>(e, "operator"),
        arg<string>(e, "provenOutput"),
        opg(arg<bigint>(e, "slashed")),
        opg(arg<bigint>(e, "reward")),
        opg(arg<bigint>(e, "refund")),
        e.blockNumber,
      ]);
    },
  },
  {
    id: "proofs",
    title: "ZK proofs: public outputs",
    columns: ["receipt / step id", "model", "outputs (signed fixed-point integers)", "block"],
    async load(ctx) {
      return newest(await ctx.events(ctx.contracts.hub, "ProofVerified"), ctx.limit).map((e) => [
        arg<string>(e, "id"),
        arg<string>(e, "modelId"),
        (arg<bigint[]>(e, "outputs") ?? []).map((v) => signed(BigInt(v)).toString()).join(", "),
        e.blockNumber,
      ]);
    },
  },
  {
    id: "models",
    title: "Models",
    columns: ["id", "owner", "tiers", "prices (signature / tee / zk)", "approved images", "deprecated", "metadata"],
    async load(ctx) {
      const registered = newest(await ctx.events(ctx.contracts.models, "ModelRegistered"), ctx.limit);
      const images = new Map<string, Set<string>>();
      const imageEvents = [
        ...(await ctx.events(ctx.contracts.models, "EnclaveImageApproved")).map((e) => ({ e, approved: true })),
        ...(await ctx.events(ctx.contracts.models, "EnclaveImageRevoked")).map((e) => ({ e, approved: false })),
      ].sort((a, b) => a.e.blockNumber - b.e.blockNumber || a.e.index - b.e.index);
      for (const { e, approved } of imageEvents) {
        const set = images.get(arg<string>(e, "modelId")) ?? new Set<string>();
        if (approved) set.add(arg<string>(e, "imageId"));
        else set.delete(arg<string>(e, "imageId"));
        images.set(arg<string>(e, "modelId"), set);
      }
      return Promise.all(
        registered.map(async (e) => {
          const id = arg<string>(e, "modelId");
          const model = (await ctx.contracts.models.getFunction("modelOf")(id)) as { owner: string; acceptedTiers: bigint; deprecated: boolean; metadataURI: string };
          const prices = (await ctx.contracts.models.getFunction("pricesOf")(id)) as bigint[];
          const tiers = [Tier.Signature, Tier.TEE, Tier.ZK].filter((t) => (Number(model.acceptedTiers) >> t) & 1).map(tierLabel);
          return [id, model.owner, tiers.join(", "), prices.map((p) => formatUnits(p, 18)).join(" / "), [...(images.get(id) ?? [])].join(", ") || "none", model.deprecated, model.metadataURI];
        }),
      );
    },
  },
  {
    id: "enclaves",
    title: "Enclave keys",
    columns: ["key", "operator", "image", "attested", "expires", "state"],
    async load(ctx) {
      const latest = new Map<string, EventLog>();
      for (const e of await ctx.events(ctx.contracts.enclaves, "EnclaveKeyRegistered")) latest.set(arg<string>(e, "key"), e);
      return Promise.all(
        newest([...latest.values()], ctx.limit).map(async (e) => {
          const key = arg<string>(e, "key");
          const record = (await ctx.contracts.enclaves.getFunction("enclaveKeyOf")(key)) as { operator: string; attestedAt: bigint; expiresAt: bigint; imageId: string };
          const expires = Number(record.expiresAt);
          const state = expires === 0 ? "revoked" : expires <= ctx.now ? "expired" : "active";
          return [key, record.operator, record.imageId, iso(Number(record.attestedAt)), iso(expires), state];
        }),
      );
    },
  },
];

/** Events of one contract, read in windows (public endpoints cap log ranges). */
async function readEvents(contract: Contract, name: string, to: number): Promise<EventLog[]> {
  const filter = contract.filters[name];
  if (filter === undefined) return [];
  const out: EventLog[] = [];
  for (let start = 0; start <= to; start += 10_000) {
    const batch = await contract.queryFilter(filter(), start, Math.min(to, start + 9_999));
    out.push(...batch.filter((e): e is EventLog => "args" in e));
  }
  return out;
}

/** Reads a snapshot of the deployment. */
export async function readSnapshot(contracts: Contracts, provider: Provider, options: { limit?: number } = {}): Promise<Snapshot> {
  const block = await provider.getBlock("latest");
  const to = block?.number ?? 0;
  const now = block?.timestamp ?? Math.floor(Date.now() / 1000);
  const cache = new Map<string, Promise<EventLog[]>>();
  const ctx: ExplorerContext = {
    contracts,
    provider,
    now,
    limit: options.limit ?? 25,
    events: (contract, name) => {
      const key = `${String(contract.target)}:${name}`;
      let found = cache.get(key);
      if (found === undefined) {
        found = readEvents(contract, name, to);
        cache.set(key, found);
      }
      return found;
    },
  };
  const [signature, tee, zk, operations] = ((await contracts.hub.getFunction("stats")()) as bigint[]).map(Number) as [number, number, number, number];
  const fees: Record<string, bigint> = { signature: 0n, tee: 0n, zk: 0n };
  for (const e of await ctx.events(contracts.hub, "ReceiptVerified")) {
    const name = tierLabel(Number(arg<bigint>(e, "tier")));
    fees[name] = (fees[name] ?? 0n) + arg<bigint>(e, "fee");
  }
  const totals: Record<string, Cell> = {
    "inferences · signature": signature,
    "inferences · tee": tee,
    "inferences · zk": zk,
    "proofs verified": zk,
    operations,
    attestations: Number(await contracts.enclaves.getFunction("attestationCount")()),
    models: Number(await contracts.models.getFunction("modelCount")()),
    "fees · signature": opg(fees["signature"]!),
    "fees · tee": opg(fees["tee"]!),
    "fees · zk": opg(fees["zk"]!),
  };
  // Requests settle through the book: their fees are per request (steps of any tier).
  const book = contracts.requests;
  if (book !== undefined) {
    const fulfilments = await ctx.events(book, "InferenceFulfilled");
    totals["requests"] = (await ctx.events(book, "InferenceRequested")).length;
    totals["requests fulfilled"] = fulfilments.length;
    totals["fees · requests"] = opg(fulfilments.reduce((sum, e) => sum + arg<bigint>(e, "fee"), 0n));
  }
  // Fraud proofs: results that opened a challenge window, still pending now, and refuted.
  const windows = await ctx.events(contracts.hub, "ResultPending");
  const pendingNow = windows.filter((e) => Number(arg<bigint>(e, "finalAt")) > now);
  const refuted = new Set((await ctx.events(contracts.hub, "ResultRefuted")).map((e) => arg<string>(e, "id")));
  totals["results pending"] = pendingNow.filter((e) => !refuted.has(arg<string>(e, "id"))).length;
  totals["results refuted"] = refuted.size;
  const sections: Section[] = [];
  for (const loader of SECTIONS) sections.push({ id: loader.id, title: loader.title, columns: loader.columns, rows: await loader.load(ctx) });
  const { chainId } = await provider.getNetwork();
  return { chainId: chainId.toString(), block: to, time: new Date(now * 1000).toISOString(), hub: String(contracts.hub.target), totals, sections };
}
