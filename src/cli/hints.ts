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
};

/** The hint for an error thrown by a command, if there is one. */
export function hintFor(error: unknown): string | undefined {
  if (typeof error !== "object" || error === null) return undefined;
  const details = (error as { details?: { errorName?: unknown } }).details;
  const name = details?.errorName;
  return typeof name === "string" ? REVERT_HINTS[name] : undefined;
}
