/**
 * Batched settlement in the node: POST /v1/batch/infer serves one Signature-tier inference under a requester's
 * spending authorization (src/batches) and answers at once with the outputs and the signed-to-be leaf; the leaves
 * accumulate in SQLite and are posted as one root when there are `maxSize` of them or the oldest is `maxAgeMs` old.
 *
 * Running totals chain per (authorization, model), as the contract settles them; the authorization's total over
 * its models is what the cap and the deposit must cover.
 *
 * Durable at every step, in its own SQLite file: a leaf and its running totals are written in one transaction
 * before the answer; a batch's leaves are assigned to its root (and its published form stored)
 * in one transaction before the post is sent; after a restart, a root that is not on-chain yet is posted again
 * (the same leaves rebuild the same root, and the contract refuses a root twice), so nothing is lost or charged
 * twice. GET /v1/batches/<root> serves the published leaves (the root is their content address).
 */
import { DatabaseSync } from "node:sqlite";
import { mkdirSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { Interface, ZeroHash, verifyTypedData, type Contract, type Provider, type TransactionReceipt, type TypedDataDomain, type Wallet } from "ethers";
import {
  AUTHORIZATION_TYPES,
  authorizationFromJson,
  authorizationId,
  authorizationToJson,
  authorizationValue,
  buildBatch,
  dumpBatch,
  leafFromJson,
  leafToJson,
  nextLeaf,
  postBatchArgs,
  signBatch,
  type Batch,
  type BatchLeaf,
  type SignedAuthorization,
} from "../batches/index.ts";
import { inputValues } from "../execution/index.ts";
import type { Hex } from "../receipts/receipt.ts";
import { Tier } from "../receipts/tier.ts";
import { OpgError } from "../errors.ts";
import { ContractRevertError } from "../settlement/errors.ts";
import { HttpError } from "./http.ts";
import type { SignedTx, TxSender } from "./sender.ts";
import type { ServedModel } from "./models.ts";

const SCHEMA = `
CREATE TABLE IF NOT EXISTS batch_authorizations (
  id TEXT PRIMARY KEY, json TEXT NOT NULL, cumulative TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS batch_chains (
  authorization TEXT NOT NULL, model TEXT NOT NULL, last_nonce TEXT NOT NULL, cumulative TEXT NOT NULL,
  PRIMARY KEY (authorization, model)
);
CREATE TABLE IF NOT EXISTS batch_leaves (
  authorization TEXT NOT NULL, model TEXT NOT NULL, nonce TEXT NOT NULL, json TEXT NOT NULL, root TEXT, created_at INTEGER NOT NULL,
  PRIMARY KEY (authorization, model, nonce)
);
CREATE TABLE IF NOT EXISTS batch_roots (
  root TEXT PRIMARY KEY, dump TEXT NOT NULL, status TEXT NOT NULL, tx_hash TEXT, gas_used TEXT, error TEXT, created_at INTEGER NOT NULL,
  tx_raw TEXT
);
`;

export interface BatcherOptions {
  /** The batch state database (created if missing). */
  readonly path: string;
  /** BatchSettlement connected to the operator's wallet (which sends the posts). */
  readonly contract: Contract;
  readonly domain: TypedDataDomain;
  /** Signs the roots: the operator's registered signer. */
  readonly wallet: Wallet;
  readonly provider: Provider;
  readonly models: ReadonlyMap<Hex, ServedModel>;
  /** The model's Signature-tier price (undefined: not registered or deprecated). */
  readonly priceOf: (modelId: Hex) => Promise<bigint | undefined>;
  readonly maxSize: number;
  readonly maxAgeMs: number;
  /** Prefix of the published URI (`<base>/v1/batches/<root>`). */
  readonly publicUrl: string;
  readonly log: (line: string) => void;
}

interface PendingLeafRow {
  json: string;
  created_at: number;
}

export class Batcher {
  readonly #o: BatcherOptions;
  readonly #db: DatabaseSync;
  #flushing: Promise<void> = Promise.resolve();
  #timer: NodeJS.Timeout | undefined;
  #serving: Promise<unknown> = Promise.resolve();
  #sender: TxSender | undefined;

  constructor(options: BatcherOptions) {
    this.#o = options;
    mkdirSync(dirname(resolve(options.path)), { recursive: true });
    this.#db = new DatabaseSync(options.path);
    this.#db.exec("PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;");
    const columns = this.#db.prepare("PRAGMA table_info(batch_leaves)").all() as { name: string }[];
    if (columns.length > 0 && !columns.some((c) => c.name === "model")) {
      this.#db.close();
      throw new OpgError("BATCH_STATE", `${options.path} holds batch state of an older version (running totals per authorization, not per model): post it with that version, or start with a new --state`);
    }
    this.#db.exec(SCHEMA);
    // State from before the signed post was kept beside its hash.
    const roots = this.#db.prepare("PRAGMA table_info(batch_roots)").all() as { name: string }[];
    if (!roots.some((c) => c.name === "tx_raw")) this.#db.exec("ALTER TABLE batch_roots ADD COLUMN tx_raw TEXT");
  }

  /**
   * Re-posts roots a crash left unposted, then checks the age of pending leaves periodically. `sender` is the
   * node's transaction pipeline (the same account's nonces, taken in order, signed bytes recorded first).
   */
  start(sender: TxSender): void {
    this.#sender = sender;
    void this.flush(false);
    const every = Math.max(50, Math.min(this.#o.maxAgeMs, 1_000));
    this.#timer = setInterval(() => {
      const oldest = this.#db.prepare("SELECT MIN(created_at) AS t FROM batch_leaves WHERE root IS NULL").get() as { t: number | null };
      if (oldest.t !== null && Date.now() - oldest.t >= this.#o.maxAgeMs) void this.flush(true);
    }, every);
  }

  /** Posts whatever is pending (used on shutdown too), then stops the timer. */
  async stop(): Promise<void> {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    await this.#serving.catch(() => undefined);
    await this.flush(true);
    this.#db.close();
  }

  /**
   * Whether `requester` is a contract account (ERC-1271) that accepts `signature` over the authorization's digest
   * `id` — what BatchSettlement checks at the first settlement (an EOA's signature was recovered already).
   */
  async #validContractSignature(requester: string, id: Hex, signature: string): Promise<boolean> {
    if ((await this.#o.provider.getCode(requester)) === "0x") return false;
    try {
      const result = await this.#o.provider.call({ to: requester, data: ERC1271.encodeFunctionData("isValidSignature", [id, signature]) });
      return result.slice(0, 10).toLowerCase() === ERC1271_MAGIC;
    } catch {
      return false;
    }
  }

  /** POST /v1/batch/infer: {"authorization": <signed authorization>, "model": "0x…", "input": […]}. */
  async infer(body: unknown): Promise<{ status: number; body: unknown }> {
    // One at a time: a leaf's nonce and running total follow the previous one under its authorization.
    const run = this.#serving.then(() => this.#infer(body));
    this.#serving = run.catch(() => undefined);
    return run;
  }

  async #infer(body: unknown): Promise<{ status: number; body: unknown }> {
    if (typeof body !== "object" || body === null || Array.isArray(body)) throw new HttpError(400, "BAD_REQUEST", "the body is a JSON object");
    const b = body as Record<string, unknown>;
    let signed: SignedAuthorization & { id: Hex };
    try {
      signed = authorizationFromJson(b["authorization"]);
    } catch (cause) {
      throw new HttpError(400, "BAD_REQUEST", `"authorization": ${(cause as Error).message}`, { cause });
    }
    const a = signed.authorization;
    const id = authorizationId(this.#o.domain, a).toLowerCase() as Hex;
    if (a.operator.toLowerCase() !== this.#o.wallet.address.toLowerCase()) {
      throw new HttpError(403, "WRONG_OPERATOR", `the authorization names operator ${a.operator}, this node is ${this.#o.wallet.address}`);
    }
    let recovered: string;
    try {
      recovered = verifyTypedData(this.#o.domain, AUTHORIZATION_TYPES, authorizationValue(a), signed.signature);
    } catch (cause) {
      throw new HttpError(401, "BAD_AUTHORIZATION", "the authorization signature is malformed", { cause });
    }
    if (recovered.toLowerCase() !== a.requester.toLowerCase() && !(await this.#validContractSignature(a.requester, id, signed.signature))) {
      throw new HttpError(401, "BAD_AUTHORIZATION", `the authorization is signed by ${recovered}, not by the requester ${a.requester}`);
    }
    const now = BigInt((await this.#o.provider.getBlock("latest"))?.timestamp ?? Math.floor(Date.now() / 1000));
    // Leave the batch time to be posted before the authorization expires.
    const margin = BigInt(Math.ceil(this.#o.maxAgeMs / 1000)) + 60n;
    if (a.expiry <= now + margin) throw new HttpError(422, "AUTHORIZATION_EXPIRING", `the authorization expires at ${a.expiry}: too soon to batch (chain time ${now})`);

    const modelId = typeof b["model"] === "string" ? (b["model"].toLowerCase() as Hex) : undefined;
    const served = modelId === undefined ? undefined : this.#o.models.get(modelId) ?? [...this.#o.models.values()].find((m) => m.modelId.toLowerCase() === modelId);
    if (served === undefined) throw new HttpError(422, "UNSERVABLE", `model ${String(b["model"])} is not served by this node`);
    const price = await this.#o.priceOf(served.modelId);
    if (price === undefined) throw new HttpError(422, "UNSERVABLE", `model ${served.modelId} is not registered or is deprecated`);

    const state = (await this.#o.contract.getFunction("authorizationStateOf")(id)) as { settled: bigint; revokedAt: bigint };
    // A revocation takes effect after the withdrawal notice (what is served before then is still paid), but a
    // requester that revoked wants no more answers under it.
    if (state.revokedAt !== 0n) throw new HttpError(403, "AUTHORIZATION_REVOKED", `the requester revoked the authorization (in effect at ${state.revokedAt})`);
    const previous = this.#previous(id, served.modelId);
    if (this.#db.prepare("SELECT 1 FROM batch_leaves WHERE authorization = ? AND model = ? AND root = 'dropped' LIMIT 1").get(id, served.modelId.toLowerCase()) !== undefined) {
      // Receipts of this running total could not be settled and were set aside: a later closing leaf would
      // charge them with no published predecessor.
      throw new HttpError(409, "RUNNING_TOTAL_CLOSED", `receipts under this authorization for model ${served.modelId} could not be settled and were set aside: sign a new authorization`);
    }
    if (previous === undefined && ((await this.#o.contract.getFunction("settledOf")(id, served.modelId)) as bigint) !== 0n) {
      // Receipts under it were settled, but this state has no record of them (a new or lost --state): a leaf
      // restarting at nonce 0 would charge nothing or be refuted as inconsistent.
      throw new HttpError(409, "AUTHORIZATION_IN_USE", `receipts under this authorization were already settled for model ${served.modelId} and this node's state does not hold them: sign a new authorization`);
    }
    const total = this.#served(id) + price;
    if (total > a.cap) throw new HttpError(402, "CAP_REACHED", `the authorization's cap ${a.cap} would be exceeded (${total} wei used)`);
    const [balance, unlocking, unlockAt] = (await this.#o.contract.getFunction("depositOf")(a.requester)) as [bigint, bigint, bigint];
    // What is being withdrawn pays settlements only until `unlockAt`: count it only if it cannot leave before the
    // node's next post (the batch age, plus the same margin as for the expiry).
    const available = balance + (unlockAt > now + margin ? unlocking : 0n);
    if (available < total - state.settled) throw new HttpError(402, "DEPOSIT_TOO_LOW", `the requester's deposit that stays until the next post (${available} wei) does not cover ${total - state.settled} wei`);

    let input: bigint[];
    try {
      const raw = b["input"];
      input = Array.isArray(raw) && raw.length > 0 && raw.every((v) => typeof v === "string") ? raw.map((v) => BigInt(v)) : served.runner.quantizeInput(inputValues(raw));
    } catch (cause) {
      throw new HttpError(400, "BAD_REQUEST", `"input": ${(cause as Error).message.split("\n")[0]}`, { cause });
    }
    let execution;
    try {
      execution = await served.runner.execute(input);
    } catch (cause) {
      throw new HttpError(422, "UNSERVABLE", (cause as Error).message.split("\n")[0] ?? "the model failed", { cause });
    }
    const leaf = nextLeaf(previous, {
      modelId: served.modelId,
      inputCommitment: execution.inputCommitment,
      outputCommitment: execution.outputCommitment,
      outputDigest: ZeroHash as Hex,
      requester: a.requester,
      tier: Tier.Signature,
      price,
      authorization: id,
    });
    this.#record(id, signed, leaf, total);
    const pending = (this.#db.prepare("SELECT COUNT(*) AS n FROM batch_leaves WHERE root IS NULL").get() as { n: number }).n;
    if (pending >= this.#o.maxSize) void this.flush(true);
    return {
      status: 200,
      body: { authorization: id, leaf: leafToJson(leaf), output: execution.outputValues, quantizedOutput: execution.output.map(String), outputCommitment: execution.outputCommitment, pendingReceipts: pending },
    };
  }

  /** The published leaves of `root` (StandardMerkleTree dump), if this node posted it. */
  published(root: string): string | undefined {
    const row = this.#db.prepare("SELECT dump FROM batch_roots WHERE root = ?").get(root.toLowerCase()) as { dump: string } | undefined;
    return row?.dump;
  }

  /** Roots and their state (for /health and tests). */
  roots(): { root: string; status: string; txHash: string | null; gasUsed: string | null; error: string | null; receipts: number }[] {
    const rows = this.#db.prepare("SELECT r.root, r.status, r.tx_hash, r.gas_used, r.error, (SELECT COUNT(*) FROM batch_leaves l WHERE l.root = r.root) AS n FROM batch_roots r ORDER BY r.created_at").all() as {
      root: string;
      status: string;
      tx_hash: string | null;
      gas_used: string | null;
      error: string | null;
      n: number;
    }[];
    return rows.map((r) => ({ root: r.root, status: r.status, txHash: r.tx_hash, gasUsed: r.gas_used, error: r.error, receipts: r.n }));
  }

  /** Posts unposted roots (oldest first), then — with `cut` — a new root over every pending leaf. Serialized. */
  flush(cut: boolean): Promise<void> {
    const next = this.#flushing.then(() => this.#flush(cut));
    this.#flushing = next.catch((error: unknown) => this.#o.log(`batch post failed: ${(error as Error).message.split("\n")[0]}`));
    return this.#flushing;
  }

  /**
   * Posts every root still 'posting', oldest first. One root that fails does not stop the others: its error is
   * recorded and logged, it is tried again at the next flush, and a root re-cut without a failing authorization
   * (see #post) is posted in the same flush. But a root that shares a running total with an older root still
   * unposted waits for it: a running total's receipts are posted in nonce order, each root holding exactly the
   * range its batch charges (the contract refutes any other placement).
   */
  async #flush(cut: boolean): Promise<void> {
    if (cut) this.#cut();
    const tried = new Set<string>();
    const waiting = new Set<string>();
    let failure: unknown;
    for (;;) {
      const open = (this.#db.prepare("SELECT root FROM batch_roots WHERE status = 'posting' ORDER BY created_at").all() as { root: string }[]).find((r) => !tried.has(r.root));
      if (open === undefined) break;
      tried.add(open.root);
      const keys = this.#runningTotalsOf(open.root);
      if ([...keys].some((key) => waiting.has(key))) {
        this.#o.log(`batch ${open.root} waits: it continues a running total of an older root not posted yet`);
        for (const key of keys) waiting.add(key);
        continue;
      }
      try {
        await this.#post(open.root).catch((error: unknown) => {
          if (!(error instanceof PostDropped)) throw error;
          this.#o.log(`batch ${open.root}: ${error.message}; posting it again`);
          return this.#post(open.root);
        });
      } catch (error) {
        failure ??= error;
        this.#o.log(`batch ${open.root} not posted: ${(error as Error).message.split("\n")[0]}`);
      }
      const still = this.#db.prepare("SELECT 1 FROM batch_roots WHERE root = ? AND status = 'posting'").get(open.root);
      if (still !== undefined) for (const key of keys) waiting.add(key);
    }
    if (failure !== undefined) throw failure;
  }

  /** Runs `work` in one SQLite transaction (rolled back if it throws). */
  #transaction(work: () => void): void {
    this.#db.exec("BEGIN IMMEDIATE");
    try {
      work();
      this.#db.exec("COMMIT");
    } catch (error) {
      this.#db.exec("ROLLBACK");
      throw error;
    }
  }

  /** The running totals ("authorization:model" keys) whose receipts `root` holds. */
  #runningTotalsOf(root: string): Set<string> {
    const rows = this.#db.prepare("SELECT DISTINCT authorization, model FROM batch_leaves WHERE root = ?").all(root) as { authorization: string; model: string }[];
    return new Set(rows.map((r) => runningTotalKey(r.authorization, r.model)));
  }

  /** Assigns every pending leaf to a new root and stores its published form, in one transaction. */
  #cut(): void {
    const rows = this.#db.prepare("SELECT json, created_at FROM batch_leaves WHERE root IS NULL").all() as unknown as PendingLeafRow[];
    if (rows.length === 0) return;
    const batch = buildBatch(rows.map((r) => leafFromJson(JSON.parse(r.json))));
    const root = batch.root.toLowerCase();
    this.#transaction(() => {
      this.#db.prepare("INSERT INTO batch_roots (root, dump, status, created_at) VALUES (?, ?, 'posting', ?)").run(root, dumpBatch(batch), Date.now());
      this.#db.prepare("UPDATE batch_leaves SET root = ? WHERE root IS NULL").run(root);
    });
  }

  async #post(root: string): Promise<void> {
    // A post signed before (a crash, a timeout) is followed through the sender — rebroadcast if the chain lost
    // it, waited for while pending — and signed again only once it can never be mined.
    const sent = this.#db.prepare("SELECT tx_hash, tx_raw FROM batch_roots WHERE root = ?").get(root) as { tx_hash: string | null; tx_raw: string | null } | undefined;
    if (sent?.tx_hash != null && sent.tx_raw != null) await this.#mined({ hash: sent.tx_hash, raw: sent.tx_raw }).catch((error: unknown) => {
      if (!(error instanceof PostDropped)) throw error;
    });
    const state = (await this.#o.contract.getFunction("batchOf")(this.#o.wallet.address, root)) as { finalAt: bigint };
    if (state.finalAt !== 0n) {
      // Posted before a crash: record it.
      this.#db.prepare("UPDATE batch_roots SET status = 'posted' WHERE root = ?").run(root);
      return;
    }
    const leaves = (this.#db.prepare("SELECT json FROM batch_leaves WHERE root = ?").all(root) as { json: string }[]).map((r) => leafFromJson(JSON.parse(r.json)));
    // Receipts a root this node signed earlier already settled on-chain (a post that reverted, replayed later by
    // anyone) are not this root's to charge: a root holds exactly the range its batch charges, from each running
    // total's next nonce on (the contract refutes any other placement).
    const settled: BatchLeaf[] = [];
    const next = new Map<string, bigint>();
    for (const leaf of leaves) {
      const key = runningTotalKey(leaf.authorization, leaf.modelId);
      if (!next.has(key)) next.set(key, (await this.#o.contract.getFunction("nextNonceOf")(leaf.authorization, leaf.modelId)) as bigint);
      if (leaf.nonce < next.get(key)!) settled.push(leaf);
    }
    if (settled.length > 0) {
      this.#transaction(() => {
        for (const leaf of settled) {
          this.#db.prepare("UPDATE batch_leaves SET root = 'settled' WHERE root = ? AND authorization = ? AND model = ? AND nonce = ?").run(root, leaf.authorization.toLowerCase(), leaf.modelId.toLowerCase(), leaf.nonce.toString());
        }
        this.#rebuild(root);
      });
      this.#o.log(`batch ${root}: ${settled.length} receipt(s) already settled on-chain by an earlier root are left out; re-cut`);
      return;
    }
    const batch = buildBatch(leaves);
    const authorizations = new Map<string, SignedAuthorization>();
    for (const id of batch.closing.keys()) {
      const row = this.#db.prepare("SELECT json FROM batch_authorizations WHERE id = ?").get(id) as { json: string };
      authorizations.set(id, authorizationFromJson(JSON.parse(row.json)));
    }
    const signed = await signBatch(this.#o.wallet, this.#o.domain, batch, `${this.#o.publicUrl}/v1/batches/${batch.root}`);
    try {
      const args = postBatchArgs(batch, { ...signed, signer: this.#o.wallet.address }, authorizations);
      const data = this.#o.contract.interface.encodeFunctionData("postBatch", args);
      const to = await this.#o.contract.getAddress();
      if (this.#sender === undefined) throw new Error("the batcher was not started");
      const tx = await this.#sender.send({ to, data }, (s) => void this.#db.prepare("UPDATE batch_roots SET tx_hash = ?, tx_raw = ? WHERE root = ?").run(s.hash, s.raw, root));
      const receipt = await this.#mined(tx);
      if (receipt === null || receipt.status !== 1) throw new Error(`the post ${tx.hash} reverted`);
      this.#db.prepare("UPDATE batch_roots SET status = 'posted', gas_used = ? WHERE root = ?").run(receipt.gasUsed.toString(), root);
      this.#o.log(`posted batch ${root}: ${batch.leaves.length} receipts, ${receipt.gasUsed} gas (${Math.round(Number(receipt.gasUsed) / batch.leaves.length)} per receipt)`);
    } catch (error) {
      this.#db.prepare("UPDATE batch_roots SET error = ? WHERE root = ?").run((error as Error).message.split("\n")[0] ?? "failed", root);
      const culprits = error instanceof ContractRevertError ? culpritsOf(error, batch) : undefined;
      if (culprits === undefined) throw error;
      // One authorization cannot be settled (its requester's deposit went to another operator or left, its
      // revocation took effect, …): re-cut the root without it rather than let it block what others owe.
      this.#recut(root, culprits.ids, culprits.retry, (error as Error).message);
    }
  }

  /**
   * Replaces unposted `root` by a root over its leaves minus the running totals `drop` ("authorization:model"
   * keys), in one transaction; the new root keeps the old one's place. The dropped leaves go back to pending when
   * `retry` (a deposit may be topped up: their age restarts, so they wait a whole batch age before they are tried
   * again), or are set aside as 'dropped' (never to be posted: an expired, revoked or exhausted authorization, a
   * model withdrawn from the Signature tier).
   */
  #recut(root: string, drop: ReadonlySet<string>, retry: boolean, reason: string): void {
    // Later roots never sent that continue the same running totals give their receipts up too: those wait (or
    // are set aside) with the older ones, so that a running total's receipts stay in nonce order.
    const later = (this.#db.prepare("SELECT root FROM batch_roots WHERE status = 'posting' AND tx_hash IS NULL AND root != ? ORDER BY created_at").all(root) as { root: string }[])
      .map((r) => r.root)
      .filter((r) => [...this.#runningTotalsOf(r)].some((key) => drop.has(key)));
    let nextRoot: string | undefined;
    this.#transaction(() => {
      for (const from of [root, ...later]) {
        for (const key of drop) {
          const [id, model] = key.split(":");
          if (retry) this.#db.prepare("UPDATE batch_leaves SET root = NULL, created_at = ? WHERE root = ? AND authorization = ? AND model = ?").run(Date.now(), from, id!, model!);
          else this.#db.prepare("UPDATE batch_leaves SET root = 'dropped' WHERE root = ? AND authorization = ? AND model = ?").run(from, id!, model!);
        }
      }
      nextRoot = this.#rebuild(root);
      for (const r of later) this.#rebuild(r);
    });
    const what = [...new Set([...drop].map((key) => key.split(":")[0]))].join(", ");
    const others = later.length === 0 ? "" : ` (and from ${later.length} later root(s))`;
    this.#o.log(`batch ${root}: authorization(s) ${what} ${retry ? "left pending" : "dropped"}${others} (${reason.split("\n")[0]}); ${nextRoot === undefined ? "nothing left to post" : `re-cut as ${nextRoot}`}`);
  }

  /**
   * Replaces unsent `root` by the root over the leaves still assigned to it, in its place (its creation time);
   * returns the new root (undefined: no leaf left, the root goes). Inside a transaction.
   */
  #rebuild(root: string): string | undefined {
    const { created_at: created } = this.#db.prepare("SELECT created_at FROM batch_roots WHERE root = ?").get(root) as { created_at: number };
    const leaves = (this.#db.prepare("SELECT json FROM batch_leaves WHERE root = ?").all(root) as { json: string }[]).map((r) => leafFromJson(JSON.parse(r.json)));
    this.#db.prepare("DELETE FROM batch_roots WHERE root = ?").run(root);
    if (leaves.length === 0) return undefined;
    const batch = buildBatch(leaves);
    const next = batch.root.toLowerCase();
    this.#db.prepare("INSERT INTO batch_roots (root, dump, status, created_at) VALUES (?, ?, 'posting', ?)").run(next, dumpBatch(batch), created);
    this.#db.prepare("UPDATE batch_leaves SET root = ? WHERE root = ?").run(next, root);
    return next;
  }

  /**
   * The receipt of a post, polled through the sender (ethers' waitForTransaction counts confirmations from a
   * block number it cached, then waits for a next block: on a chain that mines on demand, one that may never
   * come). A post whose nonce another transaction took is reported as dropped: the flush posts it again.
   */
  async #mined(tx: SignedTx, timeoutMs = 600_000): Promise<TransactionReceipt> {
    const end = Date.now() + timeoutMs;
    const state = await this.#sender!.wait(tx, 1, 300, () => Date.now() > end);
    if (state.state === "mined") return state.receipt;
    if (state.state === "dropped") throw new PostDropped(`the post ${tx.hash} was dropped (${state.reason})`);
    throw new OpgError("BATCH_POST", `the post ${tx.hash} was not mined within ${timeoutMs / 1000} s: it is tried again at the next flush`);
  }

  /** The last leaf's nonce and running total under authorization `id` for `modelId`. */
  #previous(id: Hex, modelId: Hex): { nonce: bigint; cumulative: bigint } | undefined {
    const row = this.#db.prepare("SELECT last_nonce, cumulative FROM batch_chains WHERE authorization = ? AND model = ?").get(id, modelId.toLowerCase()) as { last_nonce: string; cumulative: string } | undefined;
    if (row === undefined) return undefined;
    return { nonce: BigInt(row.last_nonce), cumulative: BigInt(row.cumulative) };
  }

  /** What was served under authorization `id` in total, over its models. */
  #served(id: Hex): bigint {
    const row = this.#db.prepare("SELECT cumulative FROM batch_authorizations WHERE id = ?").get(id) as { cumulative: string } | undefined;
    return row === undefined ? 0n : BigInt(row.cumulative);
  }

  #record(id: Hex, signed: SignedAuthorization & { id: Hex }, leaf: BatchLeaf, total: bigint): void {
    const model = leaf.modelId.toLowerCase();
    this.#transaction(() => {
      this.#db
        .prepare("INSERT INTO batch_authorizations (id, json, cumulative) VALUES (?, ?, ?) ON CONFLICT(id) DO UPDATE SET cumulative = excluded.cumulative")
        .run(id, JSON.stringify(authorizationToJson({ ...signed, id })), total.toString());
      this.#db
        .prepare("INSERT INTO batch_chains (authorization, model, last_nonce, cumulative) VALUES (?, ?, ?, ?) ON CONFLICT(authorization, model) DO UPDATE SET last_nonce = excluded.last_nonce, cumulative = excluded.cumulative")
        .run(id, model, leaf.nonce.toString(), leaf.cumulative.toString());
      this.#db.prepare("INSERT INTO batch_leaves (authorization, model, nonce, json, root, created_at) VALUES (?, ?, ?, ?, NULL, ?)").run(id, model, leaf.nonce.toString(), JSON.stringify(leafToJson(leaf)), Date.now());
    });
  }
}

const ERC1271 = new Interface(["function isValidSignature(bytes32 hash, bytes signature) view returns (bytes4)"]);
const ERC1271_MAGIC = "0x1626ba7e";

/** A post whose transaction will never be mined (its nonce was taken): posting it again is safe at once. */
class PostDropped extends OpgError {
  constructor(message: string) {
    super("BATCH_POST_DROPPED", message);
  }
}

/** Errors of one settlement that name its authorization id first. Those not worth retrying drop its leaves. */
const AUTHORIZATION_ERRORS: Readonly<Record<string, { retry: boolean }>> = {
  BatchSettlementInvalidAuthorization: { retry: false },
  BatchSettlementWrongOperator: { retry: false },
  BatchSettlementAuthorizationExpired: { retry: false },
  BatchSettlementAuthorizationRevoked: { retry: false },
  BatchSettlementCapExceeded: { retry: false },
  BatchSettlementAlreadySettled: { retry: false },
  BatchSettlementLeafMismatch: { retry: false },
};

/** The key of one running total: authorization id and model id, lower case. */
function runningTotalKey(authorization: string, modelId: string): string {
  return `${authorization.toLowerCase()}:${modelId.toLowerCase()}`;
}

/**
 * The running totals of `batch` a refused post names: those of an authorization named by id (for a replayed
 * total or nonce, only that model's); for a deposit too low, every authorization of that requester (kept pending: the
 * requester may top its deposit up); for a model no longer accepted at the Signature tier, that model's (kept
 * pending: its owner may accept the tier again). Undefined: the revert is not one
 * settlement's (then the root is retried as it is).
 */
function culpritsOf(error: ContractRevertError, batch: Batch): { ids: Set<string>; retry: boolean } | undefined {
  const name = error.errorName ?? "";
  const first = typeof error.args[0] === "string" ? error.args[0].toLowerCase() : undefined;
  if (first === undefined) return undefined;
  const ids = new Set<string>();
  let retry = false;
  for (const [id, closings] of batch.closing) {
    for (const leaf of closings) {
      const named =
        name === "BatchSettlementInsufficientBalance"
          ? leaf.requester.toLowerCase() === first
          : name === "BatchSettlementModelNotAccepted"
            ? leaf.modelId.toLowerCase() === first
            : name === "BatchSettlementAlreadySettled" || name === "BatchSettlementStaleNonce"
              ? id.toLowerCase() === first && leaf.modelId.toLowerCase() === String(error.args[1]).toLowerCase()
              : AUTHORIZATION_ERRORS[name] !== undefined && id.toLowerCase() === first;
      if (named) ids.add(runningTotalKey(id, leaf.modelId));
    }
  }
  // A deposit may be topped up, and a model's owner may accept the Signature tier again: those wait.
  if (name === "BatchSettlementInsufficientBalance" || name === "BatchSettlementModelNotAccepted") retry = true;
  return ids.size === 0 ? undefined : { ids, retry };
}
