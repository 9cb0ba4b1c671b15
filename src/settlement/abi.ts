/**
 * Human-readable ABIs of the parts of the contracts the toolkit calls. Hand-written so the library
 * needs no build step at run time; test/settlement.test.ts checks every fragment against the compiled
 * artifacts, so they cannot drift.
 */
const RECEIPT = "(bytes32 modelId, bytes32 inputCommitment, bytes32 outputCommitment, address requester, address operator, uint256 nonce, uint64 deadline, uint8 tier)";
const RESULT = "(uint8 tier, uint8 stepCount, uint64 stepTiers, bytes32 outputCommitment)";
const REQUEST = "(bytes32 inputCommitment, uint8 minEachStep, uint8 minFinalStep, uint256 maxFee)";
const EVIDENCE = "(address signer, bytes signature, uint256[8] proof, uint256[] outputs)";
const FACTS = "(bytes32 attestationDigest, bytes pcrs, address enclaveKey, bytes32 userData, uint64 timestamp)";

export const TOKEN_ABI = [
  "function balanceOf(address) view returns (uint256)",
  "function transfer(address to, uint256 amount) returns (bool)",
  "function approve(address spender, uint256 amount) returns (bool)",
  "function nonces(address owner) view returns (uint256)",
  "function name() view returns (string)",
  "function eip712Domain() view returns (bytes1 fields, string name, string version, uint256 chainId, address verifyingContract, bytes32 salt, uint256[] extensions)",
  "error ERC20InsufficientBalance(address sender, uint256 balance, uint256 needed)",
  "error ERC20InsufficientAllowance(address spender, uint256 allowance, uint256 needed)",
  "error ERC2612ExpiredSignature(uint256 deadline)",
  "error ERC2612InvalidSigner(address signer, address owner)",
] as const;

export const HUB_ABI = [
  `function submitSigned(${RECEIPT} receipt, address signer, bytes signature, uint256 maxFee) returns (bytes32 id)`,
  `function submitProven(${RECEIPT} receipt, uint256[8] proof, uint256[] outputs, uint256 maxFee) returns (bytes32 id)`,
  `function submitOperation(${RECEIPT}[] steps, ${EVIDENCE}[] evidence, ${REQUEST} request) returns (bytes32 operationId)`,
  "function deposit(address account, uint256 amount)",
  "function depositWithPermit(address account, uint256 amount, uint256 deadline, uint8 v, bytes32 r, bytes32 s)",
  "function withdraw(address to, uint256 amount)",
  "function withdrawTreasury()",
  "function approveSubmitter(address submitter, bool approved)",
  "function balanceOf(address account) view returns (uint256)",
  "function treasuryAccrued() view returns (uint256)",
  "function feeSplit() view returns (uint16 operatorBps, uint16 modelOwnerBps)",
  "function feeToken() view returns (address)",
  "function models() view returns (address)",
  "function operators() view returns (address)",
  "function enclaves() view returns (address)",
  "function verifiedTier(bytes32 id) view returns (uint8)",
  `function resultOf(bytes32 id) view returns (${RESULT})`,
  "function verifiedOutput(bytes32 id, uint8 minTier) view returns (bytes32)",
  "function meetsPolicy(bytes32 id, uint8 minEachStep, uint8 minFinalStep) view returns (bool)",
  "function receiptIdOf(address requester, bytes32 modelId, uint256 nonce) view returns (bytes32)",
  "function stats() view returns (uint256 signatureSteps, uint256 teeSteps, uint256 zkSteps, uint256 operationCount)",
  "event ReceiptVerified(bytes32 indexed id, bytes32 indexed modelId, address indexed operator, address requester, uint8 tier, bytes32 inputCommitment, bytes32 outputCommitment, uint256 fee, uint256 operatorShare, uint256 modelOwnerShare, uint256 treasuryShare)",
  "event ProofVerified(bytes32 indexed id, bytes32 indexed modelId, uint256[] outputs)",
  "event OperationVerified(bytes32 indexed operationId, address indexed requester, uint256 steps, uint64 stepTiers, uint256 fee)",
  "event Deposited(address indexed from, address indexed account, uint256 amount)",
  "error InferenceHubAlreadyVerified(bytes32 id)",
  "error InferenceHubExpired(uint64 deadline)",
  "error InferenceHubModelDeprecated(bytes32 modelId)",
  "error InferenceHubTierNotAccepted(bytes32 modelId, uint8 tier)",
  "error InferenceHubWrongTier(uint8 tier)",
  "error InferenceHubUnauthorizedSigner(address signer, address operator)",
  "error InferenceHubInvalidSignature(address signer)",
  "error InferenceHubInvalidEnclaveKey(address key, address operator)",
  "error InferenceHubImageNotApproved(bytes32 modelId, bytes32 imageId)",
  "error InferenceHubInactiveOperator(address operator)",
  "error InferenceHubInvalidProof(bytes32 modelId)",
  "error InferenceHubNoVerifyingKey(bytes32 modelId)",
  "error InferenceHubUnauthorizedSubmitter(address requester, address caller)",
  "error InferenceHubFeeAboveMaximum(uint256 fee, uint256 maxFee)",
  "error InferenceHubBrokenChain(uint256 index)",
  "error InferenceHubInputMismatch(bytes32 expected, bytes32 actual)",
  "error InferenceHubInvalidStepCount(uint256 steps, uint256 evidence)",
  "error InferenceHubStepMismatch(uint256 index)",
  "error InferenceHubPolicyNotMet(uint256 index, uint8 tier, uint8 required)",
  "error InferenceHubBelowTier(bytes32 id, uint8 tier, uint8 required)",
  "error InferenceHubZeroAddress()",
  "error InferenceHubCommitmentOutOfField(bytes32 commitment)",
  "error FeeEscrowZeroAmount()",
  "error FeeEscrowZeroAddress()",
  "error FeeEscrowInsufficientBalance(address account, uint256 balance, uint256 needed)",
  "error ModelRegistryUnknownModel(bytes32 modelId)",
  "error Groth16MalformedVerifyingKey(uint256 length)",
  "error Groth16SignalCountMismatch(uint256 expected, uint256 actual)",
  "error Groth16SignalOutOfField(uint256 index)",
] as const;

export const MODEL_REGISTRY_ABI = [
  "function registerModel((bytes32 weightsCommitment, string metadataURI, uint80[3] prices, uint8 acceptedTiers, bytes32 previousVersion, bytes verifyingKey) registration) returns (bytes32 modelId)",
  "function modelIdOf(address owner, bytes32 weightsCommitment) pure returns (bytes32)",
  "function approveEnclaveImage(bytes32 modelId, bytes32 imageId)",
  "function revokeEnclaveImage(bytes32 modelId, bytes32 imageId)",
  "function isImageApproved(bytes32 modelId, bytes32 imageId) view returns (bool)",
  "function modelCount() view returns (uint256)",
  "function verifyingKeyOf(bytes32 modelId) view returns (bytes)",
  "function pricesOf(bytes32 modelId) view returns (uint80[3] prices)",
  "event ModelRegistered(bytes32 indexed modelId, address indexed owner, bytes32 weightsCommitment, bytes32 indexed previousVersion, string metadataURI)",
  "error ModelRegistryAlreadyRegistered(bytes32 modelId)",
  "error ModelRegistryUnknownModel(bytes32 modelId)",
  "error ModelRegistryNotModelOwner(bytes32 modelId, address caller)",
  "error ModelRegistryNotOwnerOrGovernance(bytes32 modelId, address caller)",
  "error ModelRegistryDeprecated(bytes32 modelId)",
  "error ModelRegistryInvalidTiers(uint8 acceptedTiers)",
  "error ModelRegistryVerifyingKeyMismatch(bytes32 modelId)",
  "error ModelRegistryInvalidPreviousVersion(bytes32 previousVersion)",
  "error ModelRegistryZeroCommitment()",
  "error ModelRegistryZeroImage()",
  "error Groth16MalformedVerifyingKey(uint256 length)",
  "error Groth16ForgeableVerifyingKey()",
] as const;

export const OPERATOR_REGISTRY_ABI = [
  "function stake(uint256 amount)",
  "function stakeWithPermit(uint256 amount, uint256 deadline, uint8 v, bytes32 r, bytes32 s)",
  "function registerSigner(address signer)",
  "function isActive(address operator) view returns (bool)",
  "function activeOperatorOf(address signer) view returns (address)",
  "function minimumStake() view returns (uint256)",
  "error OperatorRegistryZeroAmount()",
  "error OperatorRegistrySignerTaken(address signer, address operator)",
] as const;

export const ENCLAVE_REGISTRY_ABI = [
  `function registerEnclaveKey(${FACTS} facts, bytes32 modelId, bytes evidence)`,
  "function bindingOf(address operator, address key) view returns (bytes32)",
  "function attestationVerifier() view returns (address)",
  "function attestationCount() view returns (uint256)",
  "function enclaveKeyOf(address key) view returns ((address operator, uint64 attestedAt, uint64 expiresAt, bytes32 imageId, bytes32 attestationDigest))",
  "event EnclaveKeyRegistered(address indexed key, address indexed operator, bytes32 indexed imageId, bytes32 attestationDigest, uint64 attestedAt, uint64 expiresAt, bytes pcrs)",
  "error EnclaveRegistryBindingMismatch(bytes32 expected, bytes32 actual)",
  "error EnclaveRegistryStaleAttestation(uint64 timestampMs, uint256 nowSeconds)",
  "error EnclaveRegistryMalformedPcrs(uint256 length)",
  "error EnclaveRegistryDebugImage()",
  "error EnclaveRegistryImageNotApproved(bytes32 modelId, bytes32 imageId)",
  "error EnclaveRegistryAttestationRejected()",
  "error EnclaveRegistryKeyTaken(address key, address operator)",
  "error EnclaveRegistryNotNewer(uint64 storedAt, uint64 givenAt)",
  "error EnclaveRegistryInactiveOperator(address operator)",
  "error AttesterQuorumUnsortedOrDuplicate(address attester)",
  "error AttesterQuorumUnknownAttester(address recovered)",
  "error AttesterQuorumBelowThreshold(uint256 signatures, uint256 threshold)",
] as const;

export const ATTESTER_QUORUM_ABI = [
  `function statementDigest(${FACTS} facts) view returns (bytes32)`,
  "function threshold() view returns (uint256)",
  "function isAttester(address) view returns (bool)",
  "function eip712Domain() view returns (bytes1 fields, string name, string version, uint256 chainId, address verifyingContract, bytes32 salt, uint256[] extensions)",
] as const;
