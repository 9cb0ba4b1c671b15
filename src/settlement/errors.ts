import { Interface, formatUnits, isCallException, type ErrorFragment } from "ethers";
import { BATCH_SETTLEMENT_ABI } from "../batches/abi.ts";
import { DISPUTES_ABI } from "../disputes/abi.ts";
import { OpgError } from "../errors.ts";
import { REQUEST_BOOK_ABI } from "../requests/abi.ts";
import { ENCLAVE_REGISTRY_ABI, HUB_ABI, MODEL_REGISTRY_ABI, OPERATOR_REGISTRY_ABI, TOKEN_ABI } from "./abi.ts";

const KNOWN_ERRORS = new Interface([
  ...new Set([...HUB_ABI, ...REQUEST_BOOK_ABI, ...MODEL_REGISTRY_ABI, ...OPERATOR_REGISTRY_ABI, ...ENCLAVE_REGISTRY_ABI, ...TOKEN_ABI, ...DISPUTES_ABI, ...BATCH_SETTLEMENT_ABI].filter((f) => f.startsWith("error "))),
]);

/**
 * Custom-error parameters that carry OPG amounts (18 decimals). Every amount the contracts revert with is in OPG (the
 * fee and staking token), so messages show them in OPG, as the CLI takes them (`--max-fee 50`), never in wei.
 */
const AMOUNT_PARAMETERS = new Set(["fee", "maxFee", "balance", "needed", "price", "amount", "requested", "bonded", "allowance", "total", "bond", "free", "locked", "reserved", "cap", "cumulative", "settled", "paid", "fees"]);

/** One decoded argument as shown in a message: amounts in OPG, everything else as is. */
export function formatRevertArgument(name: string | undefined, type: string | undefined, value: unknown): string {
  if (typeof value === "bigint" && name !== undefined && AMOUNT_PARAMETERS.has(name) && type !== undefined && /^uint\d*$/.test(type)) {
    return `${name} ${formatUnits(value, 18)} OPG`;
  }
  return String(value);
}

/** A transaction or call the chain refused, with the contract's custom error decoded. */
export class ContractRevertError extends OpgError {
  override readonly name = "ContractRevertError";
  readonly errorName: string | undefined;
  /** The decoded arguments, raw (amounts in wei). */
  readonly args: readonly unknown[];

  constructor(errorName: string | undefined, args: readonly unknown[], cause: unknown, fragment?: ErrorFragment) {
    const shown =
      errorName === undefined
        ? "the transaction reverted"
        : `${errorName}(${args.map((arg, i) => formatRevertArgument(fragment?.inputs[i]?.name, fragment?.inputs[i]?.type, arg)).join(", ")})`;
    super("CONTRACT_REVERT", `refused on-chain: ${shown}`, { cause, details: { errorName, args } });
    this.errorName = errorName;
    this.args = args;
  }
}

/** The known fragment of a decoded error (for its parameter names), by signature. */
function fragmentOf(signature: string): ErrorFragment | undefined {
  try {
    return KNOWN_ERRORS.getError(signature) ?? undefined;
  } catch {
    return undefined;
  }
}

/** Finds revert data in the error shapes ethers and JSON-RPC providers produce. */
function revertData(error: unknown, depth = 0): string | undefined {
  if (typeof error !== "object" || error === null || depth > 4) return undefined;
  const record = error as Record<string, unknown>;
  const data = record["data"];
  if (typeof data === "string" && /^0x[0-9a-fA-F]{8}/.test(data)) return data;
  for (const key of ["error", "info", "cause", "data"]) {
    const found = revertData(record[key], depth + 1);
    if (found !== undefined) return found;
  }
  return undefined;
}

/** Turns a reverted call into a ContractRevertError naming the custom error; rethrows other errors. */
export function decodeRevert(error: unknown): never {
  if (isCallException(error) && error.revert) {
    throw new ContractRevertError(error.revert.name, [...error.revert.args], error, fragmentOf(error.revert.signature));
  }
  const data = revertData(error);
  if (data !== undefined) {
    const parsed = KNOWN_ERRORS.parseError(data);
    throw new ContractRevertError(parsed?.name, parsed === null ? [] : [...parsed.args], error, parsed?.fragment);
  }
  if (isCallException(error)) throw new ContractRevertError(undefined, [], error);
  throw error;
}

/** Runs a contract call, decoding any revert into a ContractRevertError. */
export async function onChain<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    decodeRevert(error);
  }
}
