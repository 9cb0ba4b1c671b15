// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {AccessControlDefaultAdminRules} from
    "@openzeppelin/contracts/access/extensions/AccessControlDefaultAdminRules.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {AttestationFacts, IAttestationVerifier} from "../interfaces/IAttestationVerifier.sol";
import {AdminRules} from "../libraries/AdminRules.sol";

/// @title AttesterQuorum
/// @notice k-of-n registered attesters, each running the off-chain Nitro verifier (src/nitro), sign an
///         EIP-712 statement of a document's facts; `threshold` distinct attester signatures make it count.
contract AttesterQuorum is IAttestationVerifier, AccessControlDefaultAdminRules, EIP712 {
    /// @notice May add and remove attesters and set the threshold.
    bytes32 public constant ATTESTER_ADMIN_ROLE = keccak256("ATTESTER_ADMIN_ROLE");

    /// @notice The statement each attester signs. Mirrored by src/enclaves/statement.ts.
    bytes32 public constant STATEMENT_TYPEHASH = keccak256(
        "AttestationStatement(bytes32 attestationDigest,bytes32 pcrsHash,address enclaveKey,bytes32 userData,uint64 timestamp)"
    );

    /// @notice Signatures must come from distinct attesters in ascending address order.
    error AttesterQuorumUnsortedOrDuplicate(address attester);
    /// @notice A signature does not recover to a registered attester.
    error AttesterQuorumUnknownAttester(address recovered);
    /// @notice Fewer valid signatures than the threshold.
    error AttesterQuorumBelowThreshold(uint256 signatures, uint256 threshold);
    /// @notice The threshold is zero or above the number of attesters.
    error AttesterQuorumInvalidThreshold(uint256 threshold, uint256 attesters);
    /// @notice The attester is already registered, or not registered.
    error AttesterQuorumAttesterState(address attester, bool registered);

    /// @notice An attester was added.
    event AttesterAdded(address indexed attester);
    /// @notice An attester was removed.
    event AttesterRemoved(address indexed attester);
    /// @notice The threshold changed.
    event ThresholdUpdated(uint256 threshold);

    mapping(address attester => bool) public isAttester;
    uint256 public attesterCount;
    uint256 public threshold;

    /// @param admin Holds DEFAULT_ADMIN_ROLE (moves in two delayed steps) and ATTESTER_ADMIN_ROLE.
    constructor(address admin, address[] memory attesters, uint256 threshold_)
        AccessControlDefaultAdminRules(AdminRules.INITIAL_DELAY, admin)
        EIP712("OPG AttesterQuorum", "1")
    {
        _grantRole(ATTESTER_ADMIN_ROLE, admin);
        for (uint256 i = 0; i < attesters.length; ++i) {
            _addAttester(attesters[i]);
        }
        _setThreshold(threshold_);
    }

    /// @notice Registers `attester`.
    function addAttester(address attester) external onlyRole(ATTESTER_ADMIN_ROLE) {
        _addAttester(attester);
    }

    /// @notice Removes `attester`; the threshold must still be reachable.
    function removeAttester(address attester) external onlyRole(ATTESTER_ADMIN_ROLE) {
        if (!isAttester[attester]) revert AttesterQuorumAttesterState(attester, false);
        isAttester[attester] = false;
        --attesterCount;
        if (threshold > attesterCount) revert AttesterQuorumInvalidThreshold(threshold, attesterCount);
        emit AttesterRemoved(attester);
    }

    /// @notice Sets how many attester signatures a statement needs.
    function setThreshold(uint256 threshold_) external onlyRole(ATTESTER_ADMIN_ROLE) {
        _setThreshold(threshold_);
    }

    /// @notice The EIP-712 digest attesters sign for `facts`.
    function statementDigest(AttestationFacts calldata facts) public view returns (bytes32) {
        return _hashTypedDataV4(
            keccak256(
                abi.encode(
                    STATEMENT_TYPEHASH,
                    facts.attestationDigest,
                    keccak256(facts.pcrs),
                    facts.enclaveKey,
                    facts.userData,
                    facts.timestamp
                )
            )
        );
    }

    /// @inheritdoc IAttestationVerifier
    /// @dev `evidence` is abi.encode(bytes[] signatures), signers in ascending address order.
    function verifyAttestation(AttestationFacts calldata facts, bytes calldata evidence) external view returns (bool) {
        bytes[] memory signatures = abi.decode(evidence, (bytes[]));
        bytes32 digest = statementDigest(facts);
        address previous;
        for (uint256 i = 0; i < signatures.length; ++i) {
            address recovered = ECDSA.recover(digest, signatures[i]);
            if (recovered <= previous) revert AttesterQuorumUnsortedOrDuplicate(recovered);
            if (!isAttester[recovered]) revert AttesterQuorumUnknownAttester(recovered);
            previous = recovered;
        }
        if (signatures.length < threshold) revert AttesterQuorumBelowThreshold(signatures.length, threshold);
        return true;
    }

    function _addAttester(address attester) private {
        if (attester == address(0) || isAttester[attester]) revert AttesterQuorumAttesterState(attester, true);
        isAttester[attester] = true;
        ++attesterCount;
        emit AttesterAdded(attester);
    }

    function _setThreshold(uint256 threshold_) private {
        if (threshold_ == 0 || threshold_ > attesterCount) {
            revert AttesterQuorumInvalidThreshold(threshold_, attesterCount);
        }
        threshold = threshold_;
        emit ThresholdUpdated(threshold_);
    }
}
