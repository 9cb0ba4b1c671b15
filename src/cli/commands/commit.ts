/**
 * `opg commit`: the commitment a receipt carries for an input or output, computed exactly as every tier
 * does (src/commitments): a vector of numbers quantized at a scale, a text, or a file's bytes.
 */
import { resolve } from "node:path";
import { commitBytes, commitQuantized, type Commitment } from "../../commitments/index.ts";
import { handOffCommitment } from "../../pipeline/operation.ts";
import { loadBuild } from "../../zkml/build.ts";
import { quantizeValue } from "../../zkml/quantize.ts";
import { UsageError } from "../errors.ts";
import { readInput } from "../files.ts";
import { parseOptions } from "../main.ts";
import type { CliCommand, CliIo } from "../types.ts";

export const DEFAULT_SCALE_BITS = 12;

/** Parses --values: a JSON array of finite numbers (nested arrays are flattened, as tensors are). */
export function parseValues(text: string, what = "--values"): number[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new UsageError(`${what} takes a JSON array of numbers, e.g. '[0.5, -1, 2]'`);
  }
  const flat = Array.isArray(parsed) ? (parsed as unknown[]).flat(Infinity) : undefined;
  if (flat === undefined || flat.length === 0 || !flat.every((v) => typeof v === "number" && Number.isFinite(v))) {
    throw new UsageError(`${what} takes a non-empty JSON array of finite numbers`);
  }
  return flat as number[];
}

export function parseScaleBits(text: string | undefined): number {
  if (text === undefined) return DEFAULT_SCALE_BITS;
  if (!/^\d{1,2}$/.test(text) || Number(text) > 64) throw new UsageError(`--scale-bits: expected an integer 0..64, got "${text}"`);
  return Number(text);
}

/** The commitment of `values` at `scaleBits`, or quantized as the model in `zkDir` quantizes its input. */
export async function commitValues(io: CliIo, values: readonly number[], scaleBits: number, zkDir?: string): Promise<Commitment> {
  if (zkDir !== undefined) return handOffCommitment(values, await loadBuild(resolve(io.cwd, zkDir)));
  return commitQuantized(values.map((v) => quantizeValue(v, scaleBits)), scaleBits);
}

export const commitCommand: CliCommand = {
  path: ["commit"],
  summary: "Compute the commitment of values, a text or a file (as receipts carry it)",
  usage: `Usage: opg commit (--values <json> [--scale-bits N | --zk <build-dir>] | --text <string> | --file <path>) [--json]

--values     a JSON array of numbers, quantized as round(x * 2^N) (default N = ${DEFAULT_SCALE_BITS}) and committed with the
             chained Poseidon hash every tier uses; with --zk, quantized exactly as that circuit takes its input
--text       UTF-8 bytes of a string (e.g. a prompt); --file: the bytes of a file
`,
  async run(args, io) {
    const { values } = parseOptions(
      args,
      { values: { type: "string" }, "scale-bits": { type: "string" }, zk: { type: "string" }, text: { type: "string" }, file: { type: "string" }, json: { type: "boolean" } },
      { min: 0, max: 0, names: "no positional arguments" },
    );
    const sources = [values.values, values.text, values.file].filter((v) => v !== undefined).length;
    if (sources !== 1) throw new UsageError("give exactly one of --values, --text or --file");
    if (values.zk !== undefined && values["scale-bits"] !== undefined) throw new UsageError("--zk sets the scale: drop --scale-bits");
    let commitment: Commitment;
    let what: string;
    if (values.values !== undefined) {
      const numbers = parseValues(values.values);
      const bits = parseScaleBits(values["scale-bits"]);
      commitment = await commitValues(io, numbers, bits, values.zk);
      what = `${numbers.length} values${values.zk === undefined ? ` at scale 2^${bits}` : ` as ${values.zk} takes them`}`;
    } else if (values.text !== undefined) {
      commitment = await commitBytes(new TextEncoder().encode(values.text));
      what = `${Buffer.byteLength(values.text)} bytes of text`;
    } else {
      const bytes = await readInput(io, values.file!, "file");
      commitment = await commitBytes(new Uint8Array(bytes));
      what = `${bytes.length} bytes of ${values.file}`;
    }
    io.stdout(values.json ? JSON.stringify({ commitment }) + "\n" : `${commitment}  (${what})\n`);
    return 0;
  },
};

export const commitCommands: readonly CliCommand[] = [commitCommand];
