/** Progress reporting of long library steps, and the bridge from snarkjs's logger to it. */
/// <reference path="../types/snarkjs.d.ts" preserve="true" />
import type { SnarkjsLogger } from "snarkjs";

/** Progress of a long step, reported by library functions through an optional callback. */
export interface ProgressEvent {
  readonly step: string;
  /** Fraction done in [0, 1], or undefined when the step cannot tell. */
  readonly fraction?: number;
  readonly done?: boolean;
}

export type ProgressListener = (event: ProgressEvent) => void;

/**
 * A logger for one long snarkjs step: messages that carry an "i/n" counter become progress fractions
 * (snarkjs reports e.g. "Computing C 1/4" or "... 512/8192"), everything else is ignored.
 */
export function snarkjsLogger(step: string, onProgress: ProgressListener | undefined): SnarkjsLogger {
  const report = (message: string): void => {
    if (onProgress === undefined) return;
    const match = /(\d+)\s*\/\s*(\d+)/.exec(message);
    if (match !== null) {
      const done = Number(match[1]);
      const total = Number(match[2]);
      if (total > 0 && done <= total) {
        onProgress({ step, fraction: done / total });
        return;
      }
    }
    onProgress({ step });
  };
  // snarkjs also calls logger.log (powersoftau new, every 100,000 points: from power 16 on).
  return Object.assign({ debug: report, info: report, warn: () => undefined, error: () => undefined }, { log: report });
}

/** "TypeError: logger.log is not a function" — the first line of an error, for one-line reports. */
export function firstLine(error: unknown): string {
  const text = error instanceof Error ? `${error.name === "Error" ? "" : `${error.name}: `}${error.message}` : String(error);
  return text.split("\n")[0] ?? text;
}

/** Runs `work` as one named step: a start event, then a done event (also reported on failure's absence). */
export async function step<T>(name: string, onProgress: ProgressListener | undefined, work: () => Promise<T>): Promise<T> {
  onProgress?.({ step: name, fraction: 0 });
  const result = await work();
  onProgress?.({ step: name, fraction: 1, done: true });
  return result;
}

/** A logger that records warnings, for snarkjs calls (wtns check) that report failures only through it. */
export function collectingLogger(): SnarkjsLogger & { readonly warnings: string[] } {
  const warnings: string[] = [];
  return {
    warnings,
    debug: () => undefined,
    info: () => undefined,
    warn: (message: string) => void warnings.push(message),
    error: (message: string) => void warnings.push(message),
  };
}
