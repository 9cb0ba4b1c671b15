import { readFile, writeFile } from "node:fs/promises";
import { resolve } from "node:path";
import { OpgError } from "../errors.ts";
import type { CliIo } from "./types.ts";

/** Reads a file named on the command line (relative to the working directory), with a readable error. */
export async function readInput(io: CliIo, path: string, what: string): Promise<Buffer> {
  try {
    return await readFile(resolve(io.cwd, path));
  } catch (error) {
    const reason = error instanceof Error && "code" in error ? String(error.code) : String(error);
    throw new OpgError("FILE_UNREADABLE", `cannot read ${what} ${path} (${reason})`, { cause: error });
  }
}

/** Reads and parses a JSON file named on the command line. */
export async function readJson(io: CliIo, path: string, what: string): Promise<unknown> {
  const text = (await readInput(io, path, what)).toString("utf8");
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new OpgError("FILE_MALFORMED", `${what} ${path} is not valid JSON`, { cause: error });
  }
}

/** Writes a JSON file named on the command line. */
export async function writeJson(io: CliIo, path: string, value: unknown): Promise<void> {
  try {
    await writeFile(resolve(io.cwd, path), JSON.stringify(value, null, 2) + "\n");
  } catch (error) {
    throw new OpgError("FILE_UNWRITABLE", `cannot write ${path}`, { cause: error });
  }
}
