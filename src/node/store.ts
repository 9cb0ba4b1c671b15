/**
 * The node's durable state in one SQLite file (node:sqlite): every request it has seen and where it stands,
 * and the last block whose events are fully recorded. Written so that a process killed at any instant
 * (SIGKILL, power loss) and restarted neither loses a request nor sends a second fulfilment:
 *
 *   - a block range's requests and the new last block are written in one transaction, so a restart
 *     rescans exactly the blocks whose requests are not yet recorded;
 *   - a fulfilment transaction is signed first, then its raw bytes and hash are stored (status
 *     "submitted"), and only then broadcast. After a restart the node looks that hash up and, if it is
 *     not mined, rebroadcasts the very same bytes (same nonce, same hash): one request, one transaction.
 *
 *   seen ──► running ──► submitted ──► fulfilled
 *     │         │            └───────► failed      (reverted, or the request was closed meanwhile)
 *     │         └──► rejected                      (cannot be served: reported once, never retried)
 *     └──► (after a restart, "running" goes back to "seen": nothing was sent yet)
 */
import { DatabaseSync, type SQLInputValue } from "node:sqlite";
import { mkdirSync } from "node:fs";
import { dirname, resolve } from "node:path";

export type RequestStatus = "seen" | "running" | "submitted" | "fulfilled" | "failed" | "rejected";

/** Where the request came from: a chain event, or an authorization posted to the HTTP API. */
export type RequestSource = "chain" | "http";

export interface StoredRequest {
  readonly id: string;
  readonly source: RequestSource;
  readonly status: RequestStatus;
  readonly tier: number;
  readonly block: number;
  /** The request as the node needs it to serve (JSON, bigints as decimal strings). */
  readonly payload: string;
  readonly attempts: number;
  /** The fulfilment transaction (hash and signed bytes) once signed. */
  readonly txHash: string | null;
  readonly rawTx: string | null;
  /** JSON of what the node computed (outputs, evidence) once it ran. */
  readonly result: string | null;
  readonly error: string | null;
  readonly createdAt: number;
  readonly updatedAt: number;
}

interface Row {
  id: string;
  source: string;
  status: string;
  tier: number;
  block: number;
  payload: string;
  attempts: number;
  tx_hash: string | null;
  raw_tx: string | null;
  result: string | null;
  error: string | null;
  created_at: number;
  updated_at: number;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS requests (
  id          TEXT PRIMARY KEY,
  source      TEXT NOT NULL,
  status      TEXT NOT NULL,
  tier        INTEGER NOT NULL,
  block       INTEGER NOT NULL,
  payload     TEXT NOT NULL,
  attempts    INTEGER NOT NULL DEFAULT 0,
  tx_hash     TEXT,
  raw_tx      TEXT,
  result      TEXT,
  error       TEXT,
  created_at  INTEGER NOT NULL,
  updated_at  INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS requests_status ON requests(status, block);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
`;

function toStored(row: Row): StoredRequest {
  return {
    id: row.id,
    source: row.source as RequestSource,
    status: row.status as RequestStatus,
    tier: row.tier,
    block: row.block,
    payload: row.payload,
    attempts: row.attempts,
    txHash: row.tx_hash,
    rawTx: row.raw_tx,
    result: row.result,
    error: row.error,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

export interface NewRequest {
  readonly id: string;
  readonly source: RequestSource;
  readonly tier: number;
  readonly block: number;
  readonly payload: string;
}

export class NodeStore {
  readonly path: string;
  readonly #db: DatabaseSync;

  constructor(path: string) {
    this.path = path === ":memory:" ? path : resolve(path);
    if (this.path !== ":memory:") mkdirSync(dirname(this.path), { recursive: true });
    this.#db = new DatabaseSync(this.path);
    // WAL: readers (HTTP status queries) never block the writer; synchronous=FULL: a committed
    // transaction survives a crash (the point of the store).
    this.#db.exec("PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA busy_timeout = 5000;");
    this.#db.exec(SCHEMA);
  }

  close(): void {
    if (this.#db.isOpen) this.#db.close();
  }

  #transaction<T>(work: () => T): T {
    this.#db.exec("BEGIN IMMEDIATE");
    try {
      const result = work();
      this.#db.exec("COMMIT");
      return result;
    } catch (error) {
      this.#db.exec("ROLLBACK");
      throw error;
    }
  }

  getMeta(key: string): string | undefined {
    const row = this.#db.prepare("SELECT value FROM meta WHERE key = ?").get(key) as { value: string } | undefined;
    return row?.value;
  }

  setMeta(key: string, value: string): void {
    this.#db.prepare("INSERT INTO meta(key, value) VALUES(?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value").run(key, value);
  }

  /** The last block whose requests are all recorded (undefined before the first scan). */
  lastBlock(): number | undefined {
    const value = this.getMeta("lastBlock");
    return value === undefined ? undefined : Number(value);
  }

  /**
   * Records the requests found in a block range and advances the last block, atomically. A request
   * already known keeps its state. Returns the requests that were new.
   */
  recordScan(requests: readonly NewRequest[], lastBlock: number): NewRequest[] {
    return this.#transaction(() => {
      const fresh = requests.filter((r) => this.#insert(r));
      this.setMeta("lastBlock", String(lastBlock));
      return fresh;
    });
  }

  /** Records one request (from the HTTP API); false when the id is already known. */
  add(request: NewRequest): boolean {
    return this.#transaction(() => this.#insert(request));
  }

  #insert(r: NewRequest): boolean {
    const now = Date.now();
    const result = this.#db
      .prepare("INSERT OR IGNORE INTO requests(id, source, status, tier, block, payload, created_at, updated_at) VALUES(?, ?, 'seen', ?, ?, ?, ?, ?)")
      .run(r.id, r.source, r.tier, r.block, r.payload, now, now);
    return Number(result.changes) === 1;
  }

  get(id: string): StoredRequest | undefined {
    const row = this.#db.prepare("SELECT * FROM requests WHERE id = ?").get(id) as Row | undefined;
    return row === undefined ? undefined : toStored(row);
  }

  byStatus(...statuses: RequestStatus[]): StoredRequest[] {
    const marks = statuses.map(() => "?").join(", ");
    const rows = this.#db.prepare(`SELECT * FROM requests WHERE status IN (${marks}) ORDER BY block, created_at`).all(...statuses) as unknown as Row[];
    return rows.map(toStored);
  }

  counts(): Record<RequestStatus, number> {
    const counts: Record<RequestStatus, number> = { seen: 0, running: 0, submitted: 0, fulfilled: 0, failed: 0, rejected: 0 };
    for (const row of this.#db.prepare("SELECT status, COUNT(*) AS n FROM requests GROUP BY status").all() as { status: RequestStatus; n: number }[]) {
      counts[row.status] = Number(row.n);
    }
    return counts;
  }

  /**
   * Moves a request from one of `from` to `to`, with optional column updates; false (nothing changed)
   * when it is not in one of `from`, so two workers cannot both claim it.
   */
  transition(
    id: string,
    from: readonly RequestStatus[],
    to: RequestStatus,
    fields: { result?: string; error?: string | null; txHash?: string | null; rawTx?: string | null; countAttempt?: boolean } = {},
  ): boolean {
    const sets = ["status = ?", "updated_at = ?"];
    const values: SQLInputValue[] = [to, Date.now()];
    if (fields.result !== undefined) {
      sets.push("result = ?");
      values.push(fields.result);
    }
    if (fields.error !== undefined) {
      sets.push("error = ?");
      values.push(fields.error);
    }
    if (fields.txHash !== undefined) {
      sets.push("tx_hash = ?");
      values.push(fields.txHash);
    }
    if (fields.rawTx !== undefined) {
      sets.push("raw_tx = ?");
      values.push(fields.rawTx);
    }
    if (fields.countAttempt === true) sets.push("attempts = attempts + 1");
    const marks = from.map(() => "?").join(", ");
    const result = this.#db.prepare(`UPDATE requests SET ${sets.join(", ")} WHERE id = ? AND status IN (${marks})`).run(...values, id, ...from);
    return Number(result.changes) === 1;
  }
}
