// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Tier} from "./Tier.sol";

/// @notice One inference: which model, on which input, gave which output, for whom, by whom, at which tier.
/// @dev Every tier signs or proves this same shape. Commitments are chained-Poseidon commitments over
///      quantized values (src/commitments), so step i's `outputCommitment` can be step i+1's
///      `inputCommitment` whatever their tiers. A hybrid operation is an ordered list of these.
struct Receipt {
    bytes32 modelId;
    bytes32 inputCommitment;
    bytes32 outputCommitment;
    bytes32 outputDigest;
    address requester;
    address operator;
    uint256 nonce;
    uint64 deadline;
    Tier tier;
}

/// @notice What a dApp reads back about a receipt or an operation.
/// @param tier The weakest tier among its steps (`None` when unknown).
/// @param stepCount 1 for a single receipt, the number of steps for an operation.
/// @param stepTiers Packed 4 bits per step, step 0 in the lowest bits (see TierLib.tierAt).
/// @param outputCommitment The (final step's) output commitment.
struct VerifiedResult {
    Tier tier;
    uint8 stepCount;
    uint64 stepTiers;
    bytes32 outputCommitment;
}
