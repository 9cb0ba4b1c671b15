// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Tier} from "./Tier.sol";

/// @notice What an operator (or enclave key) claimed for one pending Signature- or TEE-tier result, as the
///         hub commits to it: a challenge restates it and must hash to what the hub stored.
/// @param operationId The operation the result is a step of (zero for a single receipt).
/// @param fee What the requester paid for this result (this step, for an operation step).
/// @param bond The operator's stake locked until `finalAt`.
/// @param finalAt When the result becomes final; it can be refuted strictly before.
struct Claim {
    bytes32 modelId;
    bytes32 inputCommitment;
    bytes32 outputCommitment;
    address operator;
    address requester;
    address signer;
    Tier tier;
    bytes32 operationId;
    uint256 fee;
    uint256 bond;
    uint64 finalAt;
}

/// @notice The life of a result: unknown, final (can be relied on), pending (inside its challenge
///         window), refuted (proven wrong: never final).
enum ResultStatus {
    None,
    Final,
    Pending,
    Refuted
}

/// @notice Hashing of claims, shared by the hub (which stores it) and the disputes contract (which checks it).
library ClaimHashing {
    /// @notice The hash a claim is stored under.
    function hash(Claim memory claim) internal pure returns (bytes32) {
        return keccak256(abi.encode(claim));
    }
}
