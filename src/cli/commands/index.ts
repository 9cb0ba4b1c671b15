import type { CliCommand } from "../types.ts";
import { enclaveCommands } from "./enclave.ts";
import { nitroCommands } from "./nitro.ts";
import { zkCommands } from "./zk.ts";

/** Every subcommand of `opg`; each module adds its own. */
export const commands: readonly CliCommand[] = [...nitroCommands, ...enclaveCommands, ...zkCommands];
