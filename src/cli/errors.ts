import { OpgError } from "../errors.ts";

/** The command line itself is wrong (unknown flag, missing argument): exit code 2. */
export class UsageError extends OpgError {
  override readonly name = "UsageError";
  constructor(message: string) {
    super("USAGE", message);
  }
}
