// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";

/// @notice Staked inference operators, the keys that sign for them, unbonding and slashing.
interface IOperatorRegistry {
    /// @notice The amount is zero.
    error OperatorRegistryZeroAmount();
    /// @notice A zero address was given where an account is required.
    error OperatorRegistryZeroAddress();
    /// @notice The signer key is already bound to an operator.
    error OperatorRegistrySignerTaken(address signer, address operator);
    /// @notice The signer key is not bound to the caller.
    error OperatorRegistryNotSignerOwner(address signer, address caller);
    /// @notice More stake was asked to unbond than is bonded.
    error OperatorRegistryInsufficientStake(uint256 requested, uint256 bonded);
    /// @notice The signer's consent is not its signature of SignerConsent(operator, signer, nonce, deadline).
    error OperatorRegistryInvalidSignerConsent(address signer, address operator);
    /// @notice The signer's consent is past its deadline.
    error OperatorRegistryConsentExpired(uint256 deadline);
    /// @notice Nothing is unbonding, or the delay has not passed.
    error OperatorRegistryNotReleasable(uint64 releaseAt);
    /// @notice The unbonding delay is zero or unreasonably long.
    error OperatorRegistryInvalidDelay(uint64 delay);
    /// @notice The operator's free stake (bonded minus locked bonds) does not cover a new bond.
    error OperatorRegistryInsufficientFreeStake(address operator, uint256 bond, uint256 free);
    /// @notice This bond was already slashed.
    error OperatorRegistryBondAlreadySlashed(bytes32 bondId);

    /// @notice Stake was added.
    event Staked(address indexed operator, uint256 amount, uint256 bonded);
    /// @notice A signer key was bound to an operator.
    event SignerRegistered(address indexed operator, address indexed signer);
    /// @notice A signer key was unbound.
    event SignerRemoved(address indexed operator, address indexed signer);
    /// @notice Unbonding started; the amount stays slashable until `releaseAt`.
    event UnbondingRequested(address indexed operator, uint256 amount, uint64 releaseAt);
    /// @notice A pending unbonding went back to bonded stake.
    event UnbondingCancelled(address indexed operator, uint256 amount);
    /// @notice Unbonded stake was withdrawn.
    event StakeWithdrawn(address indexed operator, address indexed to, uint256 amount);
    /// @notice Stake was slashed by the dispute role.
    event Slashed(address indexed operator, uint256 amount, address indexed recipient, bytes32 indexed reason);

    /// @notice The token operators stake (and slashes are paid in).
    function stakeToken() external view returns (IERC20);

    /// @notice The operator whose active (staked, not unbonded) signer `signer` is; zero otherwise.
    function activeOperatorOf(address signer) external view returns (address operator);

    /// @notice Whether `operator` has at least the minimum stake bonded.
    function isActive(address operator) external view returns (bool);

    /// @notice Locks `amount` of `operator`'s free stake until `finalAt` (bond holder only); reverts with
    ///         OperatorRegistryInsufficientFreeStake when the free stake does not cover it.
    function lockBond(address operator, uint256 amount, uint64 finalAt) external;

    /// @notice Slashes the bond `bondId` (locked until `finalAt`) of `operator`: takes `amount`, or all
    ///         the stake if less is left, sends it to `recipient` and returns what was taken. At most once
    ///         per bond id (slasher only).
    function slashBond(address operator, bytes32 bondId, uint256 amount, uint64 finalAt, address recipient)
        external
        returns (uint256 slashed);

    /// @notice Bonded stake not locked by pending results' bonds.
    function freeStakeOf(address operator) external view returns (uint256);
}
