import type { CliCommand } from "../types.ts";
import { batchCommands } from "./batch.ts";
import { disputeCommands } from "./disputes.ts";
import { enclaveCommands } from "./enclave.ts";
import { modelCommands } from "./model.ts";
import { nitroCommands } from "./nitro.ts";
import { nodeCommands } from "./node.ts";
import { operationCommands } from "./operation.ts";
import { requestCommands } from "./request.ts";
import { operatorCommands } from "./operator.ts";
import { statsCommands } from "./stats.ts";
import { zkCommands } from "./zk.ts";

/** Every subcommand of `opg`; each module adds its own. */
export const commands: readonly CliCommand[] = [
  ...modelCommands,
  ...nitroCommands,
  ...enclaveCommands,
  ...zkCommands,
  ...operatorCommands,
  ...operationCommands,
  ...requestCommands,
  ...statsCommands,
  ...nodeCommands,
  ...disputeCommands,
  ...batchCommands,
];
