/**
 * One solc warning is not ours to fix: solc warns about every `tstore` (code 2394), including the one inside
 * OpenZeppelin's TransientSlot that ReentrancyGuardTransient uses — the very case the warning itself calls safe (a
 * reentrancy guard cleared at the end of the call). This Hardhat plugin drops exactly that warning, only when it points
 * at OpenZeppelin's TransientSlot.sol; every other warning (and any tstore in our own code) is still printed.
 */
import type { HardhatPlugin } from "hardhat/types/plugins";

/** The parts of a solc diagnostic the filter reads. */
export interface SolcDiagnostic {
  readonly severity: string;
  readonly errorCode?: string;
  readonly formattedMessage?: string;
  readonly sourceLocation?: { readonly file?: string };
}

const TRANSIENT_STORAGE_WARNING = "2394";
const OZ_TRANSIENT_SLOT = /(^|\/)@openzeppelin\/contracts(@[^/]+)?\/utils\/TransientSlot\.sol$/;

/** Whether `diagnostic` is the known, safe transient-storage warning inside OpenZeppelin's TransientSlot. */
export function isKnownSafeWarning(diagnostic: SolcDiagnostic): boolean {
  return (
    diagnostic.severity === "warning" &&
    diagnostic.errorCode === TRANSIENT_STORAGE_WARNING &&
    OZ_TRANSIENT_SLOT.test(diagnostic.sourceLocation?.file ?? "")
  );
}

const plugin: HardhatPlugin = {
  id: "opg-known-solc-warnings",
  hookHandlers: {
    solidity: async () => ({
      default: async () => ({
        async invokeSolc(context, compiler, input, config, next) {
          const output = await next(context, compiler, input, config);
          const errors = output.errors?.filter((e) => !isKnownSafeWarning(e as SolcDiagnostic));
          return errors === undefined ? output : { ...output, errors };
        },
      }),
    }),
  },
};

export default plugin;
