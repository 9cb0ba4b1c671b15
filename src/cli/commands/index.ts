import type { CliCommand } from "../types.ts";

/** Every subcommand of `opg`; each module adds its own. */
export const commands: readonly CliCommand[] = [];
