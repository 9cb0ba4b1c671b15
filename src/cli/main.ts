import { parseArgs } from "node:util";
import { OpgError } from "../errors.ts";
import { releaseZkResources } from "../zkml/snarkjs.ts";
import { commands } from "./commands/index.ts";
import { UsageError } from "./errors.ts";
import { hintFor } from "./hints.ts";
import type { CliCommand, CliCommandEntry, CliIo } from "./types.ts";

function helpText(): string {
  const rows = commands.map((c) => `  opg ${c.path.join(" ").padEnd(26)} ${c.summary}`);
  return ["Usage: opg <command> [options]", "", "Commands:", ...rows, "", "Add --help after a command for its options, --verbose for stack traces."].join("\n") + "\n";
}

function findCommand(argv: readonly string[]): { command: CliCommandEntry; rest: string[] } | undefined {
  let best: { command: CliCommandEntry; rest: string[] } | undefined;
  for (const command of commands) {
    const matches = command.path.every((word, i) => argv[i] === word);
    if (matches && (best === undefined || command.path.length > best.command.path.length)) {
      best = { command, rest: argv.slice(command.path.length) };
    }
  }
  return best;
}

function isCommand(value: unknown): value is CliCommand {
  return typeof value === "object" && value !== null && Array.isArray((value as CliCommand).path) && typeof (value as CliCommand).run === "function";
}

const samePath = (a: readonly string[], b: readonly string[]) => a.length === b.length && a.every((word, i) => word === b[i]);

/** Imports an entry's module and returns the command it exports with the entry's path. */
export async function loadCommand(entry: CliCommandEntry): Promise<CliCommand> {
  const exported = Object.values(await entry.load()).flatMap((value) => (Array.isArray(value) ? value : [value]));
  const command = exported.find((value): value is CliCommand => isCommand(value) && samePath(value.path, entry.path));
  if (command === undefined) throw new Error(`internal: no command "${entry.path.join(" ")}" in its module`);
  return command;
}

/** Runs the CLI and returns the exit code; never throws. */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  const verbose = argv.includes("--verbose");
  const args = argv.filter((a) => a !== "--verbose");
  if (args.length === 0 || args[0] === "--help" || args[0] === "-h" || args[0] === "help") {
    io.stdout(helpText());
    return args.length === 0 ? 2 : 0;
  }
  const found = findCommand(args);
  if (found === undefined) {
    io.stderr(`opg: unknown command "${args.join(" ")}" (see opg --help)\n`);
    return 2;
  }
  try {
    const command = await loadCommand(found.command);
    if (found.rest.includes("--help") || found.rest.includes("-h")) {
      io.stdout(command.usage.endsWith("\n") ? command.usage : command.usage + "\n");
      return 0;
    }
    return await command.run(found.rest, io);
  } catch (error) {
    io.stderr(`opg ${found.command.path.join(" ")}: ${describe(error)}\n`);
    if (verbose && error instanceof Error) {
      // The stack, then every cause's (a failing snarkjs step, an RPC error) with its own stack.
      let current: unknown = error;
      for (let depth = 0; current !== undefined && depth < 8; depth++) {
        if (depth > 0) io.stderr("caused by: ");
        io.stderr((current instanceof Error ? (current.stack ?? `${current.name}: ${current.message}`) : String(current)) + "\n");
        current = current instanceof Error ? current.cause : undefined;
      }
    }
    return error instanceof UsageError ? 2 : 1;
  } finally {
    // A command that proved (operation add-zk, zk prove…) leaves snarkjs's worker threads running, refused or not:
    // they would keep the process alive after the command.
    await releaseZkResources();
  }
}

function describe(error: unknown): string {
  const hint = hintFor(error);
  if (error instanceof OpgError) return hint === undefined ? error.message : `${error.message}: ${hint}`;
  // parseArgs throws TypeErrors with codes like ERR_PARSE_ARGS_UNKNOWN_OPTION: those are usage mistakes.
  if (error instanceof Error) return error.message.split("\n")[0] ?? String(error);
  return String(error);
}

/** Parses options with node:util, turning its errors into UsageError. */
export function parseOptions<T extends NonNullable<Parameters<typeof parseArgs>[0]>["options"]>(
  args: readonly string[],
  options: T,
  positionals: { min: number; max: number; names: string },
) {
  let parsed;
  try {
    parsed = parseArgs({ args: [...args], options, allowPositionals: true, strict: true });
  } catch (error) {
    // node's parseArgs messages run over several lines (with a hint): the first one says what is wrong.
    throw new UsageError((error instanceof Error ? error.message : String(error)).split("\n")[0]!.trim());
  }
  if (parsed.positionals.length < positionals.min || parsed.positionals.length > positionals.max) {
    throw new UsageError(`expected ${positionals.names}`);
  }
  return parsed;
}

export function processIo(): CliIo {
  return {
    stdout: (text) => process.stdout.write(text),
    stderr: (text) => process.stderr.write(text),
    isTTY: process.stderr.isTTY === true,
    env: process.env,
    cwd: process.cwd(),
  };
}
