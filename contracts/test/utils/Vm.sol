// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @notice The few Foundry cheatcodes these tests use (Hardhat 3's EDR test runner implements them).
interface Vm {
    function prank(address sender) external;
    function startPrank(address sender) external;
    function stopPrank() external;
    function warp(uint256 timestamp) external;
    function expectRevert(bytes calldata revertData) external;
    function expectRevert(bytes4 revertSelector) external;
    function expectRevert() external;
    function assume(bool condition) external pure;
    function sign(uint256 privateKey, bytes32 digest) external pure returns (uint8 v, bytes32 r, bytes32 s);
    function addr(uint256 privateKey) external pure returns (address keyAddr);
    function label(address account, string calldata newLabel) external;
    function skip(bool skipTest, string calldata reason) external;
    function envOr(string calldata name, bool defaultValue) external view returns (bool value);
}

/// @dev address(uint160(uint256(keccak256("hevm cheat code")))).
address constant VM_ADDRESS = address(uint160(uint256(keccak256("hevm cheat code"))));
