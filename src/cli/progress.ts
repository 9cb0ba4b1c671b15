import type { ProgressListener } from "../zkml/progress.ts";
import type { CliIo } from "./types.ts";

export type { ProgressEvent, ProgressListener } from "../zkml/progress.ts";

/** A bar on a terminal, one line per finished step otherwise (logs and CI stay readable). */
export function progressReporter(io: CliIo): ProgressListener {
  const started = new Map<string, number>();
  return (event) => {
    const start = started.get(event.step) ?? Date.now();
    started.set(event.step, start);
    const seconds = ((Date.now() - start) / 1000).toFixed(1);
    if (event.done) {
      io.stderr(`${io.isTTY ? "\r\x1b[2K" : ""}✔ ${event.step} (${seconds}s)\n`);
      started.delete(event.step);
      return;
    }
    if (!io.isTTY) return;
    const width = 24;
    const bar =
      event.fraction === undefined
        ? "…".padEnd(width, " ")
        : "█".repeat(Math.round(Math.min(1, Math.max(0, event.fraction)) * width)).padEnd(width, "░");
    io.stderr(`\r\x1b[2K${event.step} [${bar}] ${seconds}s`);
  };
}
