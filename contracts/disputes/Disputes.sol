// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {IDisputes} from "../interfaces/IDisputes.sol";
import {IEnclaveRegistry} from "../interfaces/IEnclaveRegistry.sol";
import {IFeeEscrow} from "../interfaces/IFeeEscrow.sol";
import {IGroth16Verifier} from "../interfaces/IGroth16Verifier.sol";
import {IModelRegistry} from "../interfaces/IModelRegistry.sol";
import {IOperatorRegistry} from "../interfaces/IOperatorRegistry.sol";
import {IPendingResults} from "../interfaces/IPendingResults.sol";
import {IRequestEscrow} from "../interfaces/IRequestEscrow.sol";
import {RefutationProofs} from "../libraries/RefutationProofs.sol";
import {Claim, ClaimHashing, ResultStatus} from "../types/Claim.sol";
import {Tier} from "../types/Tier.sol";

/// @title Disputes
/// @notice Anyone can refute a pending Signature- or TEE-tier result (a hub receipt or operation step,
///         or a request fulfilment of the hub's request book) with a Groth16 proof, under the
///         model's registered key, that the model maps the result's input commitment to outputs with
///         another commitment. A correct result cannot be refuted: the proof of its true output has the
///         signed commitment. A refutation marks the result (and its operation) refuted at the hub,
///         slashes its bond, pays the challenger `rewardBps` of the slash, credits the requester its fee
///         plus `compensationBps` of the slash in its hub escrow, sends the rest to the treasury, and
///         bans the enclave key that signed a TEE result.
/// @dev Holds SLASHER_ROLE at the operator registry and REVOKER_ROLE at the enclave registry, and is the
///      hub's disputes contract. Tokens only pass through: every slash is paid out in the same call.
contract Disputes is IDisputes, AccessControl, ReentrancyGuardTransient {
    using SafeERC20 for IERC20;

    uint256 internal constant BPS = 10_000;
    /// @dev BN254 scalar field order: public signals live below it.
    uint256 internal constant FIELD = 21888242871839275222246405745257275088548364400416034343698204186575808495617;

    IPendingResults public immutable hub;
    IModelRegistry public immutable models;
    IOperatorRegistry public immutable operators;
    IEnclaveRegistry public immutable enclaves;
    IGroth16Verifier public immutable verifier;
    IERC20 public immutable token;
    /// @notice Where what is left of a slash goes.
    address public immutable treasury;

    /// @notice The challenger's share of a slash, in basis points.
    uint16 public rewardBps;
    /// @notice The requester's compensation (on top of its fee), as a share of the slash in basis points.
    uint16 public compensationBps;

    struct Config {
        address admin;
        IPendingResults hub;
        IModelRegistry models;
        IOperatorRegistry operators;
        IEnclaveRegistry enclaves;
        IGroth16Verifier verifier;
        IERC20 token;
        address treasury;
        uint16 rewardBps;
        uint16 compensationBps;
    }

    constructor(Config memory config) {
        if (
            config.admin == address(0) || address(config.hub) == address(0) || address(config.models) == address(0)
                || address(config.operators) == address(0) || address(config.enclaves) == address(0)
                || address(config.verifier) == address(0) || address(config.token) == address(0)
                || config.treasury == address(0)
        ) revert DisputesZeroAddress();
        hub = config.hub;
        models = config.models;
        operators = config.operators;
        enclaves = config.enclaves;
        verifier = config.verifier;
        token = config.token;
        treasury = config.treasury;
        _grantRole(DEFAULT_ADMIN_ROLE, config.admin);
        _setShares(config.rewardBps, config.compensationBps);
    }

    /// @inheritdoc IDisputes
    function challenge(
        bytes32 id,
        Claim calldata claim,
        bytes32 provenOutput,
        uint256[] calldata outputs,
        uint256[8] calldata proof
    ) external nonReentrant returns (Outcome memory outcome) {
        IPendingResults source = _checkClaim(id, claim);
        if (provenOutput == claim.outputCommitment) revert DisputesSameOutput(id);
        _checkProof(id, claim, provenOutput, outputs, proof);

        source.refute(id, claim.operationId);
        outcome.slashed = operators.slashBond(claim.operator, id, claim.bond, claim.finalAt, address(this));
        outcome.reward = outcome.slashed * rewardBps / BPS;
        uint256 refund = claim.fee + outcome.slashed * compensationBps / BPS;
        uint256 available = outcome.slashed - outcome.reward;
        outcome.refund = refund < available ? refund : available;
        outcome.remainder = available - outcome.refund;

        if (outcome.reward != 0) token.safeTransfer(msg.sender, outcome.reward);
        if (outcome.refund != 0) {
            token.forceApprove(address(hub), outcome.refund);
            IFeeEscrow(address(hub)).deposit(claim.requester, outcome.refund);
        }
        if (outcome.remainder != 0) token.safeTransfer(treasury, outcome.remainder);
        if (claim.tier == Tier.TEE) enclaves.revokeForFraud(claim.signer, id);
        emit ChallengeSucceeded(
            id, msg.sender, claim.operator, provenOutput, outcome.slashed, outcome.reward, outcome.refund, outcome.remainder
        );
    }

    /// @notice Sets the challenger's and the requester's shares of a slash (basis points, at most 100% together).
    function setShares(uint16 rewardBps_, uint16 compensationBps_) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _setShares(rewardBps_, compensationBps_);
    }

    /// @inheritdoc IDisputes
    function bindingOf(bytes32 id, address challenger) public view returns (uint256) {
        return uint256(keccak256(abi.encode(block.chainid, address(this), id, challenger))) % FIELD;
    }

    /// @dev Finds where `id` is pending (the hub's receipts and operation steps, else the hub's request
    ///      book's fulfilments) and checks the restated claim against it.
    function _checkClaim(bytes32 id, Claim calldata claim) private view returns (IPendingResults source) {
        source = hub;
        (bytes32 claimHash, uint64 finalAt, ResultStatus status) = hub.claimOf(id);
        if (status == ResultStatus.None) {
            address book = IRequestEscrow(address(hub)).requestBook();
            if (book != address(0)) {
                source = IPendingResults(book);
                (claimHash, finalAt, status) = source.claimOf(id);
            }
        }
        if (status == ResultStatus.Final && finalAt != 0 && claimHash != bytes32(0)) {
            revert DisputesWindowClosed(id, finalAt);
        }
        if (status != ResultStatus.Pending || claimHash == bytes32(0)) revert DisputesNotChallengeable(id, status);
        if (uint256(ClaimHashing.hash(claim)) & ((1 << 216) - 1) != uint256(claimHash)) revert DisputesClaimMismatch(id);
    }

    function _checkProof(
        bytes32 id,
        Claim calldata claim,
        bytes32 provenOutput,
        uint256[] calldata outputs,
        uint256[8] calldata proof
    ) private view {
        RefutationProofs.Outcome outcome = RefutationProofs.check(
            models, verifier, claim.modelId, claim.inputCommitment, provenOutput, outputs, bindingOf(id, msg.sender), proof
        );
        if (outcome == RefutationProofs.Outcome.NoCircuit) revert DisputesNoCircuit(claim.modelId);
        if (outcome != RefutationProofs.Outcome.Valid) revert DisputesInvalidProof(id);
    }

    function _setShares(uint16 rewardBps_, uint16 compensationBps_) private {
        if (uint256(rewardBps_) + compensationBps_ > BPS) revert DisputesInvalidShares(rewardBps_, compensationBps_);
        rewardBps = rewardBps_;
        compensationBps = compensationBps_;
        emit SharesUpdated(rewardBps_, compensationBps_);
    }
}
