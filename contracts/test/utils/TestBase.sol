// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Vm, VM_ADDRESS} from "./Vm.sol";

/// @notice Minimal test base: the cheatcode handle, assertions that revert with a readable message,
///         and `bound` (forge-std is not available here).
abstract contract TestBase {
    Vm internal constant vm = Vm(VM_ADDRESS);

    error AssertionFailed(string message, uint256 left, uint256 right);
    error AssertionFailedBytes32(string message, bytes32 left, bytes32 right);
    error AssertionFailedBytes(string message);

    function assertTrue(bool condition, string memory message) internal pure {
        if (!condition) revert AssertionFailed(message, 0, 0);
    }

    function assertEq(uint256 left, uint256 right, string memory message) internal pure {
        if (left != right) revert AssertionFailed(message, left, right);
    }

    function assertEq(address left, address right, string memory message) internal pure {
        if (left != right) revert AssertionFailed(message, uint160(left), uint160(right));
    }

    function assertEq(bytes32 left, bytes32 right, string memory message) internal pure {
        if (left != right) revert AssertionFailedBytes32(message, left, right);
    }

    function assertEq(bytes memory left, bytes memory right, string memory message) internal pure {
        if (keccak256(left) != keccak256(right)) revert AssertionFailedBytes(message);
    }

    function assertLe(uint256 left, uint256 right, string memory message) internal pure {
        if (left > right) revert AssertionFailed(message, left, right);
    }

    function assertGe(uint256 left, uint256 right, string memory message) internal pure {
        if (left < right) revert AssertionFailed(message, left, right);
    }

    /// @dev Maps `x` into [min, max] (both inclusive) without rejecting inputs.
    function bound(uint256 x, uint256 min, uint256 max) internal pure returns (uint256) {
        require(min <= max, "bound: min > max");
        uint256 size = max - min;
        if (size == type(uint256).max) return x;
        return min + (x % (size + 1));
    }
}
