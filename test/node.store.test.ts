/**
 * The operator node's building blocks without a chain: the SQLite store survives a reopen (what a restart
 * sees), state transitions are exclusive, the work queue is bounded, metrics render as Prometheus text.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "chai";
import { NodeMetrics } from "../src/node/metrics.ts";
import { WorkQueue } from "../src/node/queue.ts";
import { NodeStore } from "../src/node/store.ts";

const ID = (n: number) => `0x${n.toString(16).padStart(64, "0")}`;

describe("node: store, queue, metrics", () => {
  it("records a scan and its last block atomically, and a reopened store sees both", () => {
    const path = join(mkdtempSync(join(tmpdir(), "opg-node-store-")), "state", "node.sqlite");
    const store = new NodeStore(path);
    expect(store.lastBlock()).to.equal(undefined);
    const fresh = store.recordScan(
      [
        { id: ID(1), source: "chain", tier: 1, block: 5, payload: "{}" },
        { id: ID(2), source: "chain", tier: 3, block: 6, payload: "{}" },
      ],
      9,
    );
    expect(fresh.map((r) => r.id)).to.deep.equal([ID(1), ID(2)]);
    // A rescan of the same blocks changes nothing (a request is recorded once).
    expect(store.recordScan([{ id: ID(1), source: "chain", tier: 1, block: 5, payload: "{}" }], 9)).to.deep.equal([]);
    expect(store.transition(ID(1), ["seen"], "running")).to.equal(true);
    expect(store.transition(ID(1), ["seen"], "running"), "claimed twice").to.equal(false);
    expect(store.transition(ID(1), ["running"], "submitted", { txHash: "0xab", rawTx: "0xcd" })).to.equal(true);
    store.close();

    const reopened = new NodeStore(path);
    expect(reopened.lastBlock()).to.equal(9);
    const one = reopened.get(ID(1))!;
    expect(one).to.include({ status: "submitted", txHash: "0xab", rawTx: "0xcd", tier: 1, block: 5 });
    expect(reopened.byStatus("seen").map((r) => r.id)).to.deep.equal([ID(2)]);
    expect(reopened.counts()).to.deep.equal({ seen: 1, running: 0, submitted: 1, fulfilled: 0, failed: 0, rejected: 0 });
    expect(reopened.add({ id: ID(2), source: "http", tier: 1, block: 0, payload: "{}" })).to.equal(false);
    reopened.close();
  });

  it("a failed scan transaction records nothing", () => {
    const store = new NodeStore(":memory:");
    store.recordScan([], 3);
    const bad = { id: ID(1), source: "chain" as const, tier: 1, block: 5, payload: {} as unknown as string }; // not bindable: the insert throws
    expect(() => store.recordScan([{ id: ID(2), source: "chain", tier: 1, block: 4, payload: "{}" }, bad], 7)).to.throw();
    expect(store.lastBlock()).to.equal(3);
    expect(store.get(ID(2))).to.equal(undefined);
  });

  it("the work queue runs at most `concurrency` jobs, holds at most `capacity`, never queues a key twice", async () => {
    const queue = new WorkQueue(2, 2);
    let running = 0;
    let peak = 0;
    const release: (() => void)[] = [];
    const job = () => async () => {
      running++;
      peak = Math.max(peak, running);
      await new Promise<void>((resolve) => release.push(resolve));
      running--;
    };
    expect(queue.push("a", job())).to.equal(true);
    expect(queue.push("a", job()), "same key").to.equal(false);
    expect(queue.push("b", job())).to.equal(true);
    expect(queue.push("c", job())).to.equal(true);
    expect(queue.push("d", job())).to.equal(true);
    expect(queue.push("e", job()), "full").to.equal(false);
    expect([queue.running, queue.depth]).to.deep.equal([2, 2]);
    while (release.length > 0 || queue.running > 0) {
      release.shift()?.();
      await new Promise((resolve) => setImmediate(resolve));
    }
    expect(peak).to.equal(2);
    const closing = queue.close();
    await closing;
    expect(queue.push("f", job()), "closed").to.equal(false);
  });

  it("metrics render in the Prometheus text format", () => {
    const metrics = new NodeMetrics({ queueDepth: () => 3, inFlight: () => 1 });
    metrics.requests.inc({ tier: "zk", outcome: "fulfilled" });
    metrics.requests.inc({ tier: "zk", outcome: "fulfilled" });
    metrics.requests.inc({ tier: "signature", outcome: "rejected" });
    metrics.proving.observe(0.8);
    metrics.proving.observe(4);
    const text = metrics.render();
    expect(text).to.contain("# TYPE opg_node_requests_total counter");
    expect(text).to.contain('opg_node_requests_total{tier="zk",outcome="fulfilled"} 2');
    expect(text).to.contain('opg_node_requests_total{tier="signature",outcome="rejected"} 1');
    expect(text).to.contain('opg_node_proving_seconds_bucket{le="1"} 1');
    expect(text).to.contain('opg_node_proving_seconds_bucket{le="+Inf"} 2');
    expect(text).to.contain("opg_node_proving_seconds_sum 4.8");
    expect(text).to.contain("opg_node_proving_seconds_count 2");
    expect(text).to.contain("opg_node_queue_depth 3");
    expect(text).to.contain("opg_node_in_flight 1");
    for (const line of text.trimEnd().split("\n")) expect(line).to.match(/^(# (HELP|TYPE) \w+ .+|\w+(\{[^}]*\})? [0-9.e+-]+|\w+(\{[^}]*\})? \+Inf)$/);
  });
});
