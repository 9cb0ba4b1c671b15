// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {AccessControlDefaultAdminRules} from
    "@openzeppelin/contracts/access/extensions/AccessControlDefaultAdminRules.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IERC20Permit} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Permit.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {SignatureChecker} from "@openzeppelin/contracts/utils/cryptography/SignatureChecker.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {Nonces} from "@openzeppelin/contracts/utils/Nonces.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {IOperatorRegistry} from "./interfaces/IOperatorRegistry.sol";
import {AdminRules} from "./libraries/AdminRules.sol";

/// @title OperatorRegistry
/// @notice Operators stake OPG and bind the keys that sign their receipts. Unbonding goes through a delay
///         during which the stake stays slashable; only the dispute role can slash. Binding a signer key
///         needs proof that its holder agrees: the signer calls itself, or signs an EIP-712 SignerConsent
///         naming this chain, this registry, the operator, its nonce and a deadline, so nobody can bind
///         (or block) a key that is not theirs.
/// @dev Bonds: while a result is challengeable, the bond holder (the hub) locks part of its operator's
///      stake until the result is final. Locks sit in two buckets per operator keyed by the hour their
///      results become final (one slot, no write at finality: a bucket whose hour has passed is free
///      again). A lock that finds no free bucket joins the later one, which can only lock it longer.
///      Free stake = bonded − locked: a new bond must fit in it, and unbonding may only take free stake.
contract OperatorRegistry is
    IOperatorRegistry,
    AccessControlDefaultAdminRules,
    EIP712,
    Nonces,
    ReentrancyGuardTransient
{
    using SafeERC20 for IERC20;

    /// @notice May slash stake (the challenge game holds it).
    bytes32 public constant SLASHER_ROLE = keccak256("SLASHER_ROLE");
    /// @notice May lock bonds (the hub holds it).
    bytes32 public constant BOND_HOLDER_ROLE = keccak256("BOND_HOLDER_ROLE");
    /// @notice Bond locks are released at the first full hour after their result is final.
    uint64 public constant BOND_EPOCH = 1 hours;

    /// @notice What a signer key signs to agree to serve `operator` (domain: this chain and registry).
    bytes32 public constant SIGNER_CONSENT_TYPEHASH =
        keccak256("SignerConsent(address operator,address signer,uint256 nonce,uint256 deadline)");

    /// @dev At most a year: a longer delay is almost certainly a unit mistake.
    uint64 internal constant MAX_UNBONDING_DELAY = 365 days;

    struct Stake {
        uint128 bonded;
        uint128 unbonding;
        uint64 releaseAt;
    }

    /// @notice The staking token (OPG).
    IERC20 public immutable stakeToken;
    /// @notice Bonded stake an operator needs for its signers to count.
    uint256 public immutable minimumStake;
    /// @notice How long unbonded stake stays slashable before it can be withdrawn.
    uint64 public immutable unbondingDelay;

    /// @notice Two lock buckets of one operator: each an epoch (hour index, inclusive end of its
    ///         results' windows) and the amount locked until that epoch has passed.
    struct Bonds {
        uint40 epochA;
        uint88 amountA;
        uint40 epochB;
        uint88 amountB;
    }

    mapping(address operator => Stake) private _stakes;
    mapping(address signer => address operator) private _operatorOfSigner;
    mapping(address operator => Bonds) private _bonds;
    /// @dev Bonds already slashed, by bond id (the result id): a bond is slashed at most once.
    mapping(bytes32 bondId => bool) private _slashedBonds;

    /// @param admin Holds DEFAULT_ADMIN_ROLE (grants SLASHER_ROLE; moves in two delayed steps).
    constructor(address admin, IERC20 token, uint256 minimumStake_, uint64 unbondingDelay_)
        AccessControlDefaultAdminRules(AdminRules.INITIAL_DELAY, admin)
        EIP712("OPG OperatorRegistry", "1")
    {
        if (address(token) == address(0)) revert OperatorRegistryZeroAddress();
        if (unbondingDelay_ == 0 || unbondingDelay_ > MAX_UNBONDING_DELAY) {
            revert OperatorRegistryInvalidDelay(unbondingDelay_);
        }
        stakeToken = token;
        minimumStake = minimumStake_;
        unbondingDelay = unbondingDelay_;
    }

    /// @notice Adds `amount` OPG (approved beforehand) to the caller's bonded stake.
    function stake(uint256 amount) external nonReentrant {
        _stake(amount);
    }

    /// @notice Adds stake with an ERC-2612 permit instead of a prior approval.
    function stakeWithPermit(uint256 amount, uint256 deadline, uint8 v, bytes32 r, bytes32 s) external nonReentrant {
        // A front-run permit must not block the stake: the allowance is what matters.
        // solhint-disable-next-line no-empty-blocks
        try IERC20Permit(address(stakeToken)).permit(msg.sender, address(this), amount, deadline, v, r, s) {} catch {}
        _stake(amount);
    }

    /// @notice Binds `signer` to the caller: receipts it signs count for the caller while it is staked.
    /// @param deadline Last second the consent is valid (ignored when the caller is the signer).
    /// @param consent The signer's signature (ECDSA, or ERC-1271 for a contract signer) of
    ///        SignerConsent(caller, signer, nonces(signer), deadline); empty when the caller is the signer.
    function registerSigner(address signer, uint256 deadline, bytes calldata consent) external {
        _registerSigner(signer, deadline, consent);
    }

    /// @notice Unbinds one of the caller's signers.
    function removeSigner(address signer) public {
        if (_operatorOfSigner[signer] != msg.sender) revert OperatorRegistryNotSignerOwner(signer, msg.sender);
        delete _operatorOfSigner[signer];
        emit SignerRemoved(msg.sender, signer);
    }

    /// @notice Replaces `oldSigner` with `newSigner` in one call; `newSigner` consents as in `registerSigner`.
    function rotateSigner(address oldSigner, address newSigner, uint256 deadline, bytes calldata consent) external {
        removeSigner(oldSigner);
        _registerSigner(newSigner, deadline, consent);
    }

    /// @notice Starts unbonding `amount`: it stops counting as bonded now and can be withdrawn after the
    ///         delay. A new request restarts the delay for everything unbonding.
    function requestUnbond(uint256 amount) external {
        if (amount == 0) revert OperatorRegistryZeroAmount();
        Stake storage s = _stakes[msg.sender];
        uint256 free = _free(s.bonded, _lockedOf(msg.sender));
        if (amount > free) revert OperatorRegistryInsufficientStake(amount, free);
        uint64 releaseAt = uint64(block.timestamp) + unbondingDelay;
        s.bonded -= uint128(amount);
        s.unbonding += uint128(amount);
        s.releaseAt = releaseAt;
        emit UnbondingRequested(msg.sender, amount, releaseAt);
    }

    /// @notice Moves everything unbonding back to bonded stake.
    function cancelUnbond() external {
        Stake storage s = _stakes[msg.sender];
        uint128 amount = s.unbonding;
        if (amount == 0) revert OperatorRegistryZeroAmount();
        s.bonded += amount;
        s.unbonding = 0;
        s.releaseAt = 0;
        emit UnbondingCancelled(msg.sender, amount);
    }

    /// @notice Sends the caller's unbonded stake to `to` once the delay has passed.
    function withdraw(address to) external nonReentrant {
        if (to == address(0)) revert OperatorRegistryZeroAddress();
        Stake storage s = _stakes[msg.sender];
        uint128 amount = s.unbonding;
        if (amount == 0 || block.timestamp < s.releaseAt) revert OperatorRegistryNotReleasable(s.releaseAt);
        s.unbonding = 0;
        s.releaseAt = 0;
        stakeToken.safeTransfer(to, amount);
        emit StakeWithdrawn(msg.sender, to, amount);
    }

    /// @notice Takes `amount` of `operator`'s stake (bonded first, then unbonding) and sends it to `recipient`.
    /// @param reason An opaque reference to the dispute that justifies it.
    function slash(address operator, uint256 amount, address recipient, bytes32 reason)
        external
        onlyRole(SLASHER_ROLE)
        nonReentrant
    {
        if (amount == 0) revert OperatorRegistryZeroAmount();
        if (recipient == address(0)) revert OperatorRegistryZeroAddress();
        Stake storage s = _stakes[operator];
        uint256 total = uint256(s.bonded) + s.unbonding;
        if (amount > total) revert OperatorRegistryInsufficientStake(amount, total);
        uint128 fromBonded = uint128(amount < s.bonded ? amount : s.bonded);
        s.bonded -= fromBonded;
        s.unbonding -= uint128(amount) - fromBonded;
        stakeToken.safeTransfer(recipient, amount);
        emit Slashed(operator, amount, recipient, reason);
    }

    /// @inheritdoc IOperatorRegistry
    function lockBond(address operator, uint256 amount, uint64 finalAt) external onlyRole(BOND_HOLDER_ROLE) {
        if (amount == 0) return;
        Bonds memory b = _bonds[operator];
        uint256 locked = _sumLive(b);
        uint256 free = _free(_stakes[operator].bonded, locked);
        if (amount > free) revert OperatorRegistryInsufficientFreeStake(operator, amount, free);
        uint40 epoch = _epochOf(finalAt);
        uint40 current = _currentEpoch();
        uint88 add = SafeCast.toUint88(amount);
        if (b.epochA == epoch && b.epochA >= current) {
            b.amountA += add;
        } else if (b.epochB == epoch && b.epochB >= current) {
            b.amountB += add;
        } else if (b.epochA < current) {
            (b.epochA, b.amountA) = (epoch, add);
        } else if (b.epochB < current) {
            (b.epochB, b.amountB) = (epoch, add);
        } else if (b.epochA >= b.epochB) {
            // Both live: join the later bucket, extended to cover this bond's window too.
            b.amountA += add;
            if (epoch > b.epochA) b.epochA = epoch;
        } else {
            b.amountB += add;
            if (epoch > b.epochB) b.epochB = epoch;
        }
        _bonds[operator] = b; // no event: the bond holder announces it (the hub's ResultPending)
    }

    /// @inheritdoc IOperatorRegistry
    function slashBond(address operator, bytes32 bondId, uint256 amount, uint64 finalAt, address recipient)
        external
        onlyRole(SLASHER_ROLE)
        nonReentrant
        returns (uint256 slashed)
    {
        if (recipient == address(0)) revert OperatorRegistryZeroAddress();
        if (_slashedBonds[bondId]) revert OperatorRegistryBondAlreadySlashed(bondId);
        _slashedBonds[bondId] = true;
        Stake storage s = _stakes[operator];
        uint256 total = uint256(s.bonded) + s.unbonding;
        slashed = amount < total ? amount : total;
        _unlock(operator, slashed, _epochOf(finalAt));
        if (slashed != 0) {
            uint128 fromBonded = uint128(slashed < s.bonded ? slashed : s.bonded);
            s.bonded -= fromBonded;
            s.unbonding -= uint128(slashed) - fromBonded;
            stakeToken.safeTransfer(recipient, slashed);
        }
        emit Slashed(operator, slashed, recipient, bondId);
    }

    /// @notice Stake of `operator` locked by bonds of results that are not final yet.
    function lockedOf(address operator) public view returns (uint256) {
        return _lockedOf(operator);
    }

    /// @inheritdoc IOperatorRegistry
    function freeStakeOf(address operator) external view returns (uint256) {
        return _free(_stakes[operator].bonded, _lockedOf(operator));
    }

    /// @notice Whether the bond `bondId` was slashed.
    function isBondSlashed(bytes32 bondId) external view returns (bool) {
        return _slashedBonds[bondId];
    }

    /// @inheritdoc IOperatorRegistry
    function activeOperatorOf(address signer) external view returns (address operator) {
        operator = _operatorOfSigner[signer];
        if (operator != address(0) && !_isStaked(_stakes[operator].bonded)) operator = address(0);
    }

    /// @inheritdoc IOperatorRegistry
    function isActive(address operator) external view returns (bool) {
        return operator != address(0) && _isStaked(_stakes[operator].bonded);
    }

    /// @notice The operator `signer` is bound to, staked or not.
    function operatorOfSigner(address signer) external view returns (address) {
        return _operatorOfSigner[signer];
    }

    /// @notice The EIP-712 digest `signer` signs to consent to serve `operator` (with its current nonce).
    function signerConsentDigest(address operator, address signer, uint256 deadline) external view returns (bytes32) {
        return _consentDigest(operator, signer, nonces(signer), deadline);
    }

    /// @notice Bonded and unbonding stake of `operator`, and when the unbonding part is released.
    function stakeOf(address operator) external view returns (Stake memory) {
        return _stakes[operator];
    }

    /// @dev Takes a slashed bond out of the bucket that holds it (its epoch's, or the later one it joined).
    function _unlock(address operator, uint256 amount, uint40 epoch) private {
        Bonds memory b = _bonds[operator];
        uint40 current = _currentEpoch();
        bool inA = b.epochA >= current && b.epochA >= epoch;
        bool inB = b.epochB >= current && b.epochB >= epoch;
        if (inA && (!inB || b.epochA <= b.epochB)) {
            b.amountA -= uint88(amount < b.amountA ? amount : b.amountA);
        } else if (inB) {
            b.amountB -= uint88(amount < b.amountB ? amount : b.amountB);
        } else {
            return;
        }
        _bonds[operator] = b;
    }

    function _lockedOf(address operator) private view returns (uint256) {
        return _sumLive(_bonds[operator]);
    }

    function _sumLive(Bonds memory b) private view returns (uint256 locked) {
        uint40 current = _currentEpoch();
        if (b.epochA >= current) locked += b.amountA;
        if (b.epochB >= current) locked += b.amountB;
    }

    function _free(uint256 bonded, uint256 locked) private pure returns (uint256) {
        return bonded > locked ? bonded - locked : 0;
    }

    /// @dev The epoch whose end is at or after `finalAt` (a bond is free once that epoch has passed).
    function _epochOf(uint64 finalAt) private pure returns (uint40) {
        return uint40((uint256(finalAt) + BOND_EPOCH - 1) / BOND_EPOCH);
    }

    /// @dev Buckets with an epoch at or after this one are still locked.
    function _currentEpoch() private view returns (uint40) {
        return uint40(block.timestamp / BOND_EPOCH + 1);
    }

    function _registerSigner(address signer, uint256 deadline, bytes calldata consent) private {
        if (signer == address(0)) revert OperatorRegistryZeroAddress();
        address current = _operatorOfSigner[signer];
        if (current != address(0)) revert OperatorRegistrySignerTaken(signer, current);
        if (signer != msg.sender) {
            if (block.timestamp > deadline) revert OperatorRegistryConsentExpired(deadline);
            bytes32 digest = _consentDigest(msg.sender, signer, _useNonce(signer), deadline);
            if (!SignatureChecker.isValidSignatureNowCalldata(signer, digest, consent)) {
                revert OperatorRegistryInvalidSignerConsent(signer, msg.sender);
            }
        }
        _operatorOfSigner[signer] = msg.sender;
        emit SignerRegistered(msg.sender, signer);
    }

    function _consentDigest(address operator, address signer, uint256 nonce, uint256 deadline)
        private
        view
        returns (bytes32)
    {
        return _hashTypedDataV4(keccak256(abi.encode(SIGNER_CONSENT_TYPEHASH, operator, signer, nonce, deadline)));
    }

    function _isStaked(uint128 bonded) private view returns (bool) {
        return bonded != 0 && bonded >= minimumStake;
    }

    function _stake(uint256 amount) private {
        if (amount == 0) revert OperatorRegistryZeroAmount();
        stakeToken.safeTransferFrom(msg.sender, address(this), amount);
        Stake storage s = _stakes[msg.sender];
        s.bonded += SafeCast.toUint128(amount);
        emit Staked(msg.sender, amount, s.bonded);
    }
}
