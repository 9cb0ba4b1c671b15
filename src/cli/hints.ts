/**
 * The obvious next step for failures that have one, appended to the CLI's one-line error
 * ("refused on-chain: FeeEscrowInsufficientBalance(…): deposit with opg escrow deposit").
 * Keyed by the contract's custom error name (ContractRevertError.details.errorName). Light: main.ts
 * imports it for every command, so it must not import ethers.
 */
export const REVERT_HINTS: Readonly<Record<string, string>> = {
  FeeEscrowInsufficientBalance: "deposit with opg escrow deposit (or withdraw less)",
  ERC20InsufficientBalance: "the account holds too few OPG: get some with opg token transfer",
  InferenceHubInactiveOperator: "the operator has no active stake: stake with opg operator stake",
  InferenceHubUnauthorizedSigner: "bind the signing key to the operator with opg operator register-signer",
  InferenceHubImageNotApproved: "the model owner approves the image with opg enclave approve-image",
  InferenceHubInvalidEnclaveKey: "register the enclave key with opg enclave register",
  InferenceHubTierNotAccepted: "the model does not accept that tier: see opg model show, or opg model set-tiers (model owner)",
  InferenceHubFeeAboveMaximum: "the model's price rose: raise --max-fee, or check opg model show",
  InferenceHubUnauthorizedSubmitter: "submit with the requester's key, or have the requester approve the submitter",
  InferenceHubAlreadyVerified: "this receipt is settled: use a new --nonce",
  InferenceHubExpired: "the receipt's deadline passed: sign a new receipt with a later --deadline",
  ModelRegistryNotModelOwner: "sign with the model owner's key ($OPG_PRIVATE_KEY, or --key-env NAME)",
  ModelRegistryDeprecated: "the model is deprecated: register a new version with opg model register --previous <id>",
  ModelRegistryAlreadyRegistered: "this owner registered these weights already: see opg model show <id>",
  OperatorRegistryNotReleasable: "nothing is unbonding yet, or the delay has not passed: see opg operator unbond",
  OperatorRegistryInsufficientStake: "unbond at most the bonded stake",
  OperatorRegistryInsufficientFreeStake: "bonds of pending results lock stake: stake more with opg operator stake, or wait for them to become final",
  OperatorRegistrySignerTaken: "that key signs for another operator already: use another key",
  OperatorRegistryConsentExpired: "the signer's consent expired: run the command again with a later --deadline",
  RequestBookFeeBelowPrice: "raise --max-fee (opg infer estimates it when you leave it out)",
  RequestBookFeeAboveMaximum: "the models' prices rose since the request: request again with a higher --max-fee",
  RequestBookNotExpired: "a request can be cancelled after its deadline only: see opg request show",
  RequestBookNotOpen: "the request is fulfilled or cancelled already: see opg request show",
  RequestBookTierNotAccepted: "the model does not accept that tier: see opg model show, or pick another --tier",
  RequestBookModelDeprecated: "the model is deprecated: request its newer version (opg model show)",
  DisputesWindowClosed: "the result is final: its challenge window has closed",
  DisputesSameOutput: "the proof gives the signed output: the result is correct",
  DisputesNoCircuit: "the model has no circuit: its results cannot be challenged",
  PendingResultsRefuted: "the result was refuted by a fraud proof: do not use its output",
};

/**
 * The hint for an error thrown by a command, if there is one: its own revert, else the revert it wraps
 * (a command that restates "…has in escrow 0 OPG, needs 2 OPG" keeps the refusal as its cause).
 */
export function hintFor(error: unknown): string | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 4 && typeof current === "object" && current !== null; depth++) {
    const name = (current as { details?: { errorName?: unknown } }).details?.errorName;
    if (typeof name === "string" && REVERT_HINTS[name] !== undefined) return REVERT_HINTS[name];
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}
