import type { Provider } from "ethers";

/** What a command may touch: injected so commands are pure functions that tests call directly. */
export interface CliIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  /** True when stderr is a terminal: long steps draw a progress bar there. */
  readonly isTTY: boolean;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly cwd: string;
  /** A chain connection to use instead of --rpc (tests inject the in-process Hardhat chain). */
  readonly provider?: Provider;
}

export interface CliCommand {
  /** Words that select the command, e.g. ["nitro", "verify"]. */
  readonly path: readonly string[];
  /** One line shown in `opg --help`. */
  readonly summary: string;
  /** Full usage shown by `opg <command> --help`. */
  readonly usage: string;
  /** Returns the process exit code. Throws OpgError (or UsageError) for readable failures. */
  run(args: readonly string[], io: CliIo): Promise<number>;
}

/**
 * A command as `opg --help` lists it, before its module is loaded: the module (and whatever heavy
 * library it imports: ethers, snarkjs, circomlibjs…) is imported only when the command runs.
 */
export interface CliCommandEntry {
  readonly path: readonly string[];
  readonly summary: string;
  /** Imports the module that exports the command (any export: the CliCommand with this path, or an array of them). */
  readonly load: () => Promise<Readonly<Record<string, unknown>>>;
}
