// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @notice Shared settings of the contracts' OpenZeppelin AccessControlDefaultAdminRules.
library AdminRules {
    /// @notice How long a started default-admin transfer waits before the new admin can accept it
    ///         (changeable later through `changeDefaultAdminDelay`, itself delayed).
    uint48 internal constant INITIAL_DELAY = 2 days;
}
