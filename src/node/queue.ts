/**
 * A bounded work queue with a fixed number of workers: at most `concurrency` jobs run at once, at most
 * `capacity` wait. Jobs are keyed so the same request is never queued twice.
 */
export class WorkQueue {
  readonly #waiting: { key: string; run: () => Promise<void> }[] = [];
  readonly #keys = new Set<string>();
  #running = 0;
  #closed = false;
  #idle: (() => void)[] = [];

  constructor(
    readonly concurrency: number,
    readonly capacity: number,
  ) {
    if (!Number.isInteger(concurrency) || concurrency < 1) throw new RangeError("concurrency must be a positive integer");
    if (!Number.isInteger(capacity) || capacity < 0) throw new RangeError("capacity must be a non-negative integer");
  }

  get depth(): number {
    return this.#waiting.length;
  }

  get running(): number {
    return this.#running;
  }

  has(key: string): boolean {
    return this.#keys.has(key);
  }

  /** True when there is room for one more waiting job. */
  get hasRoom(): boolean {
    return !this.#closed && this.#waiting.length < this.capacity;
  }

  /**
   * Queues `run` under `key`. Returns false when the key is already queued or running, when the queue is
   * full or closed: the caller keeps the job (its state is in the store) and offers it again later.
   */
  push(key: string, run: () => Promise<void>): boolean {
    if (this.#closed || this.#keys.has(key) || this.#waiting.length >= this.capacity) return false;
    this.#keys.add(key);
    this.#waiting.push({ key, run });
    this.#pump();
    return true;
  }

  #pump(): void {
    while (this.#running < this.concurrency && this.#waiting.length > 0) {
      const job = this.#waiting.shift()!;
      this.#running++;
      void job
        .run()
        .catch(() => undefined)
        .finally(() => {
          this.#running--;
          this.#keys.delete(job.key);
          this.#pump();
          if (this.#running === 0 && this.#waiting.length === 0) for (const resolve of this.#idle.splice(0)) resolve();
        });
    }
  }

  /** Stops accepting jobs, drops the waiting ones (they stay in the store) and waits for running ones. */
  async close(): Promise<void> {
    this.#closed = true;
    for (const job of this.#waiting.splice(0)) this.#keys.delete(job.key);
    if (this.#running === 0) return;
    await new Promise<void>((resolve) => this.#idle.push(resolve));
  }
}
