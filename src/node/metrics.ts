/**
 * The node's metrics in the Prometheus text exposition format (version 0.0.4), without a client library:
 * counters, gauges and histograms with labels, rendered on `GET /metrics`.
 */

type Labels = Readonly<Record<string, string>>;

function escapeLabel(value: string): string {
  return value.replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(/"/g, '\\"');
}

function labelText(labels: Labels): string {
  const entries = Object.entries(labels);
  return entries.length === 0 ? "" : `{${entries.map(([k, v]) => `${k}="${escapeLabel(v)}"`).join(",")}}`;
}

function key(labels: Labels): string {
  return JSON.stringify(Object.entries(labels).sort(([a], [b]) => a.localeCompare(b)));
}

function number(value: number): string {
  if (value === Infinity) return "+Inf";
  if (value === -Infinity) return "-Inf";
  return Number.isInteger(value) ? String(value) : String(Number(value.toPrecision(12)));
}

interface Metric {
  render(): string;
}

export class Counter implements Metric {
  readonly #values = new Map<string, { labels: Labels; value: number }>();
  constructor(
    readonly name: string,
    readonly help: string,
  ) {}
  inc(labels: Labels = {}, by = 1): void {
    const k = key(labels);
    const entry = this.#values.get(k) ?? { labels, value: 0 };
    entry.value += by;
    this.#values.set(k, entry);
  }
  value(labels: Labels = {}): number {
    return this.#values.get(key(labels))?.value ?? 0;
  }
  render(): string {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} counter`];
    for (const { labels, value } of this.#values.values()) lines.push(`${this.name}${labelText(labels)} ${number(value)}`);
    return lines.join("\n");
  }
}

export class Gauge implements Metric {
  readonly #values = new Map<string, { labels: Labels; value: number }>();
  constructor(
    readonly name: string,
    readonly help: string,
    private readonly read?: () => number,
  ) {}
  set(value: number, labels: Labels = {}): void {
    this.#values.set(key(labels), { labels, value });
  }
  render(): string {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} gauge`];
    if (this.read !== undefined) lines.push(`${this.name} ${number(this.read())}`);
    for (const { labels, value } of this.#values.values()) lines.push(`${this.name}${labelText(labels)} ${number(value)}`);
    return lines.join("\n");
  }
}

export class Histogram implements Metric {
  readonly #series = new Map<string, { labels: Labels; counts: number[]; sum: number; count: number }>();
  constructor(
    readonly name: string,
    readonly help: string,
    readonly buckets: readonly number[],
  ) {}
  observe(value: number, labels: Labels = {}): void {
    const k = key(labels);
    const series = this.#series.get(k) ?? { labels, counts: this.buckets.map(() => 0), sum: 0, count: 0 };
    this.buckets.forEach((upper, i) => {
      if (value <= upper) series.counts[i]!++;
    });
    series.sum += value;
    series.count++;
    this.#series.set(k, series);
  }
  count(labels: Labels = {}): number {
    return this.#series.get(key(labels))?.count ?? 0;
  }
  render(): string {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} histogram`];
    for (const { labels, counts, sum, count } of this.#series.values()) {
      this.buckets.forEach((upper, i) => lines.push(`${this.name}_bucket${labelText({ ...labels, le: number(upper) })} ${counts[i]}`));
      lines.push(`${this.name}_bucket${labelText({ ...labels, le: "+Inf" })} ${count}`);
      lines.push(`${this.name}_sum${labelText(labels)} ${number(sum)}`);
      lines.push(`${this.name}_count${labelText(labels)} ${count}`);
    }
    return lines.join("\n");
  }
}

/** Every metric the node exports. */
export class NodeMetrics {
  readonly requests = new Counter("opg_node_requests_total", "Requests handled, by tier and outcome (fulfilled, failed, rejected).");
  readonly proving = new Histogram("opg_node_proving_seconds", "Groth16 proving time per request (witness + proof).", [0.25, 0.5, 1, 2, 3, 5, 10, 30, 60]);
  readonly execution = new Histogram("opg_node_execution_seconds", "Model execution time per request.", [0.001, 0.005, 0.025, 0.1, 0.5, 2]);
  readonly serve = new Histogram("opg_node_serve_seconds", "From pick-up to fulfilment mined, by tier.", [0.1, 0.25, 0.5, 1, 2, 3, 5, 10, 30]);
  readonly queueDepth: Gauge;
  readonly inFlight: Gauge;
  readonly lastBlock = new Gauge("opg_node_last_block", "Last block whose requests are recorded.");
  readonly up = new Gauge("opg_node_up", "1 while the node is serving.");

  constructor(read: { queueDepth: () => number; inFlight: () => number }) {
    this.queueDepth = new Gauge("opg_node_queue_depth", "Requests waiting for a worker.", read.queueDepth);
    this.inFlight = new Gauge("opg_node_in_flight", "Requests being served.", read.inFlight);
  }

  render(): string {
    return [this.requests, this.proving, this.execution, this.serve, this.queueDepth, this.inFlight, this.lastBlock, this.up].map((m) => m.render()).join("\n") + "\n";
  }
}
