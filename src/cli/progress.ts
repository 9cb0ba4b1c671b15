import type { CliIo } from "./types.ts";

/** Progress of a long step, reported by library functions through an optional callback. */
export interface ProgressEvent {
  readonly step: string;
  /** Fraction done in [0, 1], or undefined when the step cannot tell. */
  readonly fraction?: number;
  readonly done?: boolean;
}

export type ProgressListener = (event: ProgressEvent) => void;

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
