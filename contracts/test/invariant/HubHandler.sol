// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {InferenceHub} from "../../InferenceHub.sol";
import {ModelRegistry} from "../../ModelRegistry.sol";
import {OPGToken} from "../../OPGToken.sol";
import {OperatorRegistry} from "../../OperatorRegistry.sol";
import {IFeeEscrow} from "../../interfaces/IFeeEscrow.sol";
import {IInferenceHub} from "../../interfaces/IInferenceHub.sol";
import {IModelRegistry} from "../../interfaces/IModelRegistry.sol";
import {IOperatorRegistry} from "../../interfaces/IOperatorRegistry.sol";
import {Receipt} from "../../types/Receipt.sol";
import {Tier} from "../../types/Tier.sol";
import {Vm, VM_ADDRESS} from "../utils/Vm.sol";

/// @notice Drives random sequences of escrow, receipt and staking actions against the hub and the
///         operator registry, and keeps an independent model of what every call must do.
/// @dev Every action predicts its outcome (success, or the exact revert data) from the model before
///      calling, then compares. A contract that disagrees is recorded as a violation (checked by an
///      invariant) rather than reverting here, so what actually happened on chain also lands in the
///      ghost tallies the invariants check. A revert of the handler itself is a test bug: the
///      invariant suite runs with failOnRevert.
contract HubHandler {
    Vm internal constant vm = Vm(VM_ADDRESS);

    uint256 internal constant BPS = 10_000;
    uint256 internal constant STRANGER_KEY = 0xBAD5EED;
    /// @dev BN254 scalar field order: output commitments must be below it.
    uint256 internal constant FIELD = 21888242871839275222246405745257275088548364400416034343698204186575808495617;
    bytes32 internal constant RECEIPT_TYPEHASH = keccak256(
        "Receipt(bytes32 modelId,bytes32 inputCommitment,bytes32 outputCommitment,bytes32 outputDigest,address requester,address operator,uint256 nonce,uint64 deadline,uint8 tier)"
    );
    bytes32 internal constant DOMAIN_TYPEHASH =
        keccak256("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)");

    uint256 internal constant REQUESTERS = 3;
    uint256 internal constant OPERATORS = 3;
    uint256 internal constant OWNERS = 2;
    /// @dev Models 0..2 are live, 3 is deprecated, 4 was never registered.
    uint256 internal constant MODELS = 5;
    uint256 internal constant LIVE_MODELS = 3;

    InferenceHub public immutable hub;
    OPGToken public immutable token;
    ModelRegistry public immutable models;
    OperatorRegistry public immutable operators;
    address public immutable deployer;
    address public immutable treasury;
    uint256 public immutable minimumStake;
    uint64 public immutable unbondingDelay;

    // ------------------------------------------------------------------ actors

    address[REQUESTERS] public requesters;
    address[OPERATORS] public operatorAddrs;
    address[OPERATORS] public signers;
    uint256[OPERATORS] internal _signerKeys;
    address[OWNERS] public owners;
    /// @notice A relayer that tries to submit for requesters (it never may).
    address public relayer;
    /// @notice Where withdrawals and slashes may send tokens; never approved for anyone.
    address public sink;
    /// @notice Every account whose hub balance the handler can have changed.
    address[] public accounts;

    bytes32[MODELS] public modelIds;
    address[MODELS] internal _modelOwner;
    bool[MODELS] internal _exists;
    bool[MODELS] internal _deprecated;
    bool[MODELS] internal _acceptsSignature;
    uint80[MODELS] internal _signaturePrice;

    // ------------------------------------------------------------------ the model of the contracts

    uint256 public currentTime;
    mapping(address account => uint256) public ghostBalance;
    uint256 public ghostTreasury;
    uint16 public ghostOperatorBps;
    uint16 public ghostOwnerBps;

    struct GhostStake {
        uint256 bonded;
        uint256 unbonding;
        /// @dev Set to time + delay by each unbonding request (independently of the registry).
        uint64 releaseAt;
    }

    mapping(address operator => GhostStake) internal _ghostStakes;

    // ------------------------------------------------------------------ tallies of what happened on chain

    uint256 public ghostDeposited;
    uint256 public ghostWithdrawn;
    uint256 public ghostTreasuryWithdrawn;
    /// @notice Σ prices of successful settlements, Σ measured requester debits, Σ measured credits.
    uint256 public ghostPricesCharged;
    uint256 public ghostDebited;
    uint256 public ghostCredited;
    uint256 public ghostStakeIn;
    uint256 public ghostStakeOut;
    /// @notice Successful stake withdrawals before the release time recorded at the unbonding request.
    uint256 public earlyStakeWithdrawals;
    /// @notice Successful submitSigned calls, whatever the model predicted.
    uint256 public successfulSubmits;

    struct Settled {
        address requester;
        uint256 modelIndex;
        uint256 nonce;
    }

    Settled[] internal _settled;
    bytes32[] public settledIds;
    mapping(bytes32 id => uint256) public settleCount;
    mapping(bytes32 id => bytes32) public settledOutput;
    uint256 internal _nextNonce = 1;

    /// @notice How often each outcome happened (keyed by a short label), to see the runs are not vacuous.
    mapping(bytes32 label => uint256) internal _outcomes;

    uint256 public violationCount;
    string public firstViolation;
    bytes public firstViolationData;

    constructor(
        InferenceHub hub_,
        OPGToken token_,
        ModelRegistry models_,
        OperatorRegistry operators_,
        address treasury_,
        uint256 minimumStake_,
        uint64 unbondingDelay_,
        uint16 operatorBps,
        uint16 ownerBps
    ) {
        hub = hub_;
        token = token_;
        models = models_;
        operators = operators_;
        deployer = msg.sender;
        treasury = treasury_;
        minimumStake = minimumStake_;
        unbondingDelay = unbondingDelay_;
        ghostOperatorBps = operatorBps;
        ghostOwnerBps = ownerBps;
        currentTime = block.timestamp;
    }

    /// @notice Registers actors, models and initial stakes. Needs the handler to hold OPG.
    function init() external {
        require(msg.sender == deployer && accounts.length == 0, "init once, by the deployer");
        for (uint256 i = 0; i < REQUESTERS; ++i) {
            requesters[i] = _track(address(uint160(0x1000 + i)), "requester");
        }
        for (uint256 i = 0; i < OWNERS; ++i) {
            owners[i] = _track(address(uint160(0x3000 + i)), "model owner");
        }
        relayer = _track(address(uint160(0x5000)), "relayer");
        sink = _track(address(uint160(0x6000)), "sink");
        _track(treasury, "treasury");

        // Operator 0 is well staked, 1 exactly at the minimum, 2 starts unstaked.
        uint256[OPERATORS] memory initial = [10 * minimumStake, minimumStake, 0];
        for (uint256 i = 0; i < OPERATORS; ++i) {
            address op = _track(address(uint160(0x2000 + i)), "operator");
            operatorAddrs[i] = op;
            _signerKeys[i] = uint256(keccak256(abi.encode("signer key", i)));
            signers[i] = vm.addr(_signerKeys[i]);
            vm.label(signers[i], "signer");
            uint256 deadline = block.timestamp + 1 hours;
            (uint8 v, bytes32 r, bytes32 s) =
                vm.sign(_signerKeys[i], operators.signerConsentDigest(op, signers[i], deadline));
            vm.prank(op);
            operators.registerSigner(signers[i], deadline, abi.encodePacked(r, s, v));
            if (initial[i] != 0) _stakeFor(i, initial[i]);
        }

        // Model 0: Signature only; 1: Signature and TEE; 2: TEE only; 3: deprecated; 4: unknown.
        uint8 sig = 1 << 1;
        uint8 tee = 1 << 2;
        _register(0, owners[0], sig, 3e18);
        _register(1, owners[1], sig | tee, 7e17);
        _register(2, owners[0], tee, 1e18);
        _register(3, owners[1], sig, 2e18);
        vm.prank(owners[1]);
        models.deprecate(modelIds[3]);
        _deprecated[3] = true;
        modelIds[4] = keccak256("never registered");
    }

    // ================================================================== escrow actions

    /// @notice Deposits for a requester, from the requester itself or from the handler on its behalf.
    function deposit(uint256 requesterSeed, uint256 amount, bool fromRequester) external {
        _tick();
        address requester = requesters[requesterSeed % REQUESTERS];
        amount = _bound(amount, 1, 1_000e18);
        uint256 hubBefore = token.balanceOf(address(hub));
        if (fromRequester) {
            token.transfer(requester, amount);
            vm.startPrank(requester);
            token.approve(address(hub), amount);
            hub.deposit(requester, amount);
            vm.stopPrank();
        } else {
            token.approve(address(hub), amount);
            hub.deposit(requester, amount);
        }
        if (token.balanceOf(address(hub)) != hubBefore + amount) _violation("deposit: hub got a different amount", "");
        ghostBalance[requester] += amount;
        ghostDeposited += amount;
        _count("deposit");
    }

    /// @notice An account pulls (part of, all of, more than, or zero of) its balance.
    function withdraw(uint256 accountSeed, uint256 amount, uint256 mode) external {
        _tick();
        address account = accounts[accountSeed % accounts.length];
        uint256 balance = ghostBalance[account];
        uint256 m = mode % 8;
        if (m == 0) amount = balance;
        else if (m == 1) amount = balance + 1 + (amount % 1e18);
        else if (m == 2) amount = 0;
        else amount = _bound(amount, 0, balance);
        address to = m == 3 ? address(0) : (mode % 2 == 0 ? account : sink);

        bytes memory expected;
        if (to == address(0)) expected = abi.encodeWithSelector(IFeeEscrow.FeeEscrowZeroAddress.selector);
        else if (amount == 0) expected = abi.encodeWithSelector(IFeeEscrow.FeeEscrowZeroAmount.selector);
        else if (amount > balance) {
            expected = abi.encodeWithSelector(IFeeEscrow.FeeEscrowInsufficientBalance.selector, account, balance, amount);
        }

        uint256 toBefore = to == address(0) ? 0 : token.balanceOf(to);
        vm.prank(account);
        try hub.withdraw(to, amount) {
            ghostWithdrawn += amount;
            if (expected.length != 0) return _violation("withdraw: accepted, must revert", expected);
            if (token.balanceOf(to) != toBefore + amount) _violation("withdraw: recipient got a different amount", "");
            ghostBalance[account] -= amount;
            _count("withdraw.ok");
        } catch (bytes memory err) {
            _checkRevert("withdraw", expected, err);
        }
    }

    /// @notice Anyone sends the accrued treasury share to the treasury.
    function withdrawTreasury(uint256 callerSeed) external {
        _tick();
        address caller = accounts[callerSeed % accounts.length];
        uint256 amount = ghostTreasury;
        bytes memory expected;
        if (amount == 0) expected = abi.encodeWithSelector(IFeeEscrow.FeeEscrowZeroAmount.selector);
        uint256 accrued = hub.treasuryAccrued();
        uint256 before = token.balanceOf(treasury);
        vm.prank(caller);
        try hub.withdrawTreasury() {
            ghostTreasuryWithdrawn += accrued;
            if (expected.length != 0) return _violation("withdrawTreasury: accepted, must revert", expected);
            if (token.balanceOf(treasury) != before + amount) _violation("withdrawTreasury: wrong amount", "");
            ghostTreasury = 0;
            _count("treasury.ok");
        } catch (bytes memory err) {
            _checkRevert("withdrawTreasury", expected, err);
        }
    }

    /// @notice The fee admin changes the split (sometimes to an invalid one, which must revert).
    function setFeeSplit(uint256 operatorBps, uint256 ownerBps, bool invalid) external {
        _tick();
        uint16 a = uint16(_bound(operatorBps, 0, BPS));
        uint16 b = invalid ? uint16(_bound(ownerBps, BPS - a + 1, type(uint16).max)) : uint16(_bound(ownerBps, 0, BPS - a));
        bytes memory expected;
        if (invalid) expected = abi.encodeWithSelector(IFeeEscrow.FeeEscrowInvalidSplit.selector, a, b);
        try hub.setFeeSplit(a, b) {
            if (expected.length != 0) return _violation("setFeeSplit: accepted, must revert", expected);
            ghostOperatorBps = a;
            ghostOwnerBps = b;
            _count("split.ok");
        } catch (bytes memory err) {
            _checkRevert("setFeeSplit", expected, err);
        }
    }

    /// @notice A live model's owner reprices it (zero included).
    function setPrice(uint256 modelSeed, uint256 price) external {
        _tick();
        uint256 mi = modelSeed % LIVE_MODELS;
        uint80 p = price % 7 == 0 ? 0 : uint80(_bound(price, 1, 50e18));
        vm.prank(_modelOwner[mi]);
        models.setPrices(modelIds[mi], [p, p + 1, p + 2]);
        _signaturePrice[mi] = p;
        _count("price");
    }

    // ================================================================== receipts

    /// @notice A fresh receipt, valid or broken in one of several ways.
    function submitSigned(
        uint256 requesterSeed,
        uint256 operatorSeed,
        uint256 modelSeed,
        uint256 variant,
        uint256 deadlineSeed,
        bytes32 output
    ) external {
        _tick();
        // Mostly the two models that take Signature receipts; TEE-only, deprecated and unknown ones less often.
        uint256 mi = [uint256(0), 0, 0, 1, 1, 1, 2, 3, 4][modelSeed % 9];
        uint256 oi = operatorSeed % OPERATORS;
        Receipt memory r = Receipt({
            modelId: modelIds[mi],
            inputCommitment: keccak256(abi.encode("input", _nextNonce)),
            outputCommitment: _inField(output),
            outputDigest: keccak256(abi.encode(output)),
            requester: requesters[requesterSeed % REQUESTERS],
            operator: operatorAddrs[oi],
            nonce: _nextNonce++,
            deadline: uint64(currentTime + _bound(deadlineSeed, 0, 1 days)),
            tier: Tier.Signature
        });
        Submission memory s = Submission({
            receipt: r,
            modelIndex: mi,
            signer: signers[oi],
            signKey: _signerKeys[oi],
            sender: r.requester,
            maxFee: _signaturePrice[mi],
            tamper: false
        });
        // Variants 0-7 break the submission in one way each; the others are well formed.
        uint256 v = variant % 20;
        if (v == 0) {
            s.receipt.deadline = uint64(currentTime - 1); // expired
        } else if (v == 1) {
            s.sender = relayer; // no blanket approvals exist: only the requester submits
        } else if (v == 2) {
            s.sender = sink; // never approved
        } else if (v == 3) {
            uint256 other = (oi + 1 + variant / 20 % (OPERATORS - 1)) % OPERATORS;
            s.signer = signers[other]; // another operator's key signs for this operator
            s.signKey = _signerKeys[other];
        } else if (v == 4) {
            s.signKey = STRANGER_KEY; // claims the operator's signer, signed by another key
        } else if (v == 5) {
            s.tamper = true; // the output changes after signing
        } else if (v == 6) {
            if (s.maxFee != 0) s.maxFee -= 1 + variant / 20 % s.maxFee; // below the price
        } else if (v == 7) {
            s.receipt.outputCommitment = bytes32(FIELD + uint256(output) % (type(uint256).max - FIELD)); // not a field element
        } else if (v == 8) {
            s.maxFee += variant / 20 % 1e18; // above the price: fine
        }
        _submit(s, "submit");
    }

    /// @notice Replays an already settled (requester, model, nonce), with any operator and output:
    ///         must revert InferenceHubAlreadyVerified.
    function submitReplay(uint256 pick, uint256 operatorSeed, bytes32 output, bool viaRelayer) external {
        _tick();
        if (_settled.length == 0) return;
        Settled memory old = _settled[pick % _settled.length];
        uint256 oi = operatorSeed % OPERATORS;
        address sender = viaRelayer ? relayer : old.requester;
        Submission memory s = Submission({
            receipt: Receipt({
                modelId: modelIds[old.modelIndex],
                inputCommitment: keccak256(abi.encode("replay", pick)),
                outputCommitment: _inField(output),
                outputDigest: bytes32(0),
                requester: old.requester,
                operator: operatorAddrs[oi],
                nonce: old.nonce,
                deadline: uint64(currentTime + 1 hours),
                tier: Tier.Signature
            }),
            modelIndex: old.modelIndex,
            signer: signers[oi],
            signKey: _signerKeys[oi],
            sender: sender,
            maxFee: type(uint256).max,
            tamper: false
        });
        _submit(s, "replay");
    }

    // ================================================================== staking

    function stake(uint256 operatorSeed, uint256 amount) external {
        _tick();
        _stakeFor(operatorSeed % OPERATORS, _bound(amount, 1, 5 * minimumStake));
        _count("stake");
    }

    function requestUnbond(uint256 operatorSeed, uint256 amount) external {
        _tick();
        address op = operatorAddrs[operatorSeed % OPERATORS];
        GhostStake storage g = _ghostStakes[op];
        amount = amount % 5 == 0 ? g.bonded : _bound(amount, 0, g.bonded + 1);
        bytes memory expected;
        if (amount == 0) expected = abi.encodeWithSelector(IOperatorRegistry.OperatorRegistryZeroAmount.selector);
        else if (amount > g.bonded) {
            expected = abi.encodeWithSelector(
                IOperatorRegistry.OperatorRegistryInsufficientStake.selector, amount, g.bonded
            );
        }
        vm.prank(op);
        try operators.requestUnbond(amount) {
            if (expected.length != 0) return _violation("requestUnbond: accepted, must revert", expected);
            g.bonded -= amount;
            g.unbonding += amount;
            g.releaseAt = uint64(currentTime + unbondingDelay);
            if (operators.stakeOf(op).releaseAt != g.releaseAt) _violation("requestUnbond: wrong releaseAt", "");
            _count("unbond.ok");
        } catch (bytes memory err) {
            _checkRevert("requestUnbond", expected, err);
        }
    }

    function cancelUnbond(uint256 operatorSeed) external {
        _tick();
        address op = operatorAddrs[operatorSeed % OPERATORS];
        GhostStake storage g = _ghostStakes[op];
        bytes memory expected;
        if (g.unbonding == 0) expected = abi.encodeWithSelector(IOperatorRegistry.OperatorRegistryZeroAmount.selector);
        vm.prank(op);
        try operators.cancelUnbond() {
            if (expected.length != 0) return _violation("cancelUnbond: accepted, must revert", expected);
            g.bonded += g.unbonding;
            g.unbonding = 0;
            g.releaseAt = 0;
            _count("cancel.ok");
        } catch (bytes memory err) {
            _checkRevert("cancelUnbond", expected, err);
        }
    }

    /// @notice Tries to withdraw unbonded stake, whether or not the delay has passed.
    function withdrawStake(uint256 operatorSeed, bool toSink) external {
        _tick();
        address op = operatorAddrs[operatorSeed % OPERATORS];
        GhostStake storage g = _ghostStakes[op];
        address to = toSink ? sink : op;
        bytes memory expected;
        if (g.unbonding == 0 || currentTime < g.releaseAt) {
            expected = abi.encodeWithSelector(IOperatorRegistry.OperatorRegistryNotReleasable.selector, g.releaseAt);
        }
        uint256 before = token.balanceOf(to);
        uint256 registryBefore = token.balanceOf(address(operators));
        vm.prank(op);
        try operators.withdraw(to) {
            // What the chain did, whatever the model says.
            ghostStakeOut += registryBefore - token.balanceOf(address(operators));
            if (block.timestamp < g.releaseAt) ++earlyStakeWithdrawals;
            if (expected.length != 0) return _violation("withdrawStake: accepted, must revert", expected);
            if (token.balanceOf(to) != before + g.unbonding) _violation("withdrawStake: wrong amount", "");
            g.unbonding = 0;
            g.releaseAt = 0;
            _count("unstake.ok");
        } catch (bytes memory err) {
            _checkRevert("withdrawStake", expected, err);
            if (expected.length != 0 && g.unbonding != 0) _count("unstake.early");
        }
    }

    /// @notice The slasher takes stake (bonded first, then unbonding); the release time is unchanged.
    function slash(uint256 operatorSeed, uint256 amount) external {
        _tick();
        address op = operatorAddrs[operatorSeed % OPERATORS];
        GhostStake storage g = _ghostStakes[op];
        uint256 total = g.bonded + g.unbonding;
        // Mostly a part of the stake (operators should stay active often), sometimes all or too much.
        uint256 m = amount % 8;
        amount = m == 0 ? total : m == 1 ? total + 1 + amount % 1e18 : _bound(amount, 0, total / 4);
        bytes memory expected;
        if (amount == 0) expected = abi.encodeWithSelector(IOperatorRegistry.OperatorRegistryZeroAmount.selector);
        else if (amount > total) {
            expected = abi.encodeWithSelector(IOperatorRegistry.OperatorRegistryInsufficientStake.selector, amount, total);
        }
        uint256 registryBefore = token.balanceOf(address(operators));
        try operators.slash(op, amount, sink, keccak256("dispute")) {
            ghostStakeOut += registryBefore - token.balanceOf(address(operators));
            if (expected.length != 0) return _violation("slash: accepted, must revert", expected);
            uint256 fromBonded = amount < g.bonded ? amount : g.bonded;
            g.bonded -= fromBonded;
            g.unbonding -= amount - fromBonded;
            _count("slash.ok");
        } catch (bytes memory err) {
            _checkRevert("slash", expected, err);
        }
    }

    /// @notice Time passes: up to eight days per step (around the unbonding delay).
    function warp(uint256 seconds_) external {
        currentTime += _bound(seconds_, 0, 8 days);
        vm.warp(currentTime);
    }

    // ================================================================== views for the invariants

    /// @notice How often an outcome happened, e.g. "submit.ok", "replay.rejected", "unstake.early".
    function outcome(string calldata label) external view returns (uint256) {
        return _outcomes[keccak256(bytes(label))];
    }

    function accountCount() external view returns (uint256) {
        return accounts.length;
    }

    function settledCount() external view returns (uint256) {
        return settledIds.length;
    }

    function ghostStakeOf(uint256 index) external view returns (address op, uint256 bonded, uint256 unbonding, uint64 releaseAt) {
        op = operatorAddrs[index];
        GhostStake storage g = _ghostStakes[op];
        return (op, g.bonded, g.unbonding, g.releaseAt);
    }

    function operatorCount() external pure returns (uint256) {
        return OPERATORS;
    }

    // ================================================================== internals

    struct Submission {
        Receipt receipt;
        uint256 modelIndex;
        address signer;
        uint256 signKey;
        address sender;
        uint256 maxFee;
        bool tamper;
    }

    struct Snapshot {
        uint256 requester;
        uint256 operator;
        uint256 owner;
        uint256 treasury;
    }

    struct Pending {
        bytes32 id;
        uint256 price;
        address owner;
        bytes signature;
        bytes expected;
        Snapshot before;
    }

    function _submit(Submission memory s, bytes32 label) internal {
        Pending memory p = _prepare(s);
        vm.prank(s.sender);
        try hub.submitSigned(s.receipt, s.signer, p.signature, s.maxFee) returns (bytes32 got) {
            _onSettled(s, p, got, _str(label));
        } catch (bytes memory err) {
            _checkRevert(_str(label), p.expected, err);
        }
    }

    /// @dev Signs (then maybe tampers with) the receipt and predicts the outcome.
    function _prepare(Submission memory s) internal returns (Pending memory p) {
        Receipt memory r = s.receipt;
        (uint8 v, bytes32 rr, bytes32 ss) = vm.sign(s.signKey, _digest(r));
        p.signature = abi.encodePacked(rr, ss, v);
        if (s.tamper) r.outputCommitment = ~r.outputCommitment;
        if (hub.receiptDigest(r) != _digest(r)) _violation("receiptDigest differs from the EIP-712 digest", "");
        p.id = _receiptId(r.requester, r.modelId, r.nonce);
        p.price = _signaturePrice[s.modelIndex];
        p.owner = _modelOwner[s.modelIndex];
        p.expected = _expectedSubmitError(s, p.id, p.price);
        p.before = _snapshot(r.requester, r.operator, p.owner);
    }

    /// @dev Records a settlement the chain accepted, then checks it was expected and applies the model.
    function _onSettled(Submission memory s, Pending memory p, bytes32 got, string memory label) internal {
        Receipt memory r = s.receipt;
        // What the chain did, whatever the model predicted.
        ++successfulSubmits;
        if (settleCount[p.id]++ == 0) {
            _settled.push(Settled({requester: r.requester, modelIndex: s.modelIndex, nonce: r.nonce}));
            settledIds.push(p.id);
            settledOutput[p.id] = r.outputCommitment;
        }
        _measureSettlement(p.before, _snapshot(r.requester, r.operator, p.owner), p.price);
        // What the model predicted.
        if (p.expected.length != 0) return _violation(string.concat(label, ": accepted, must revert"), p.expected);
        if (got != p.id) _violation("submitSigned returned another id", abi.encode(got, p.id));
        (uint256 toOperator, uint256 toOwner, uint256 toTreasury) = _split(p.price);
        ghostBalance[r.requester] -= p.price;
        ghostBalance[r.operator] += toOperator;
        ghostBalance[p.owner] += toOwner;
        ghostTreasury += toTreasury;
        _count(string.concat(label, ".ok"));
    }

    /// @dev The revert data the hub must return, in the order it checks; empty when it must succeed.
    function _expectedSubmitError(Submission memory s, bytes32 id, uint256 price) internal view returns (bytes memory) {
        Receipt memory r = s.receipt;
        uint256 mi = s.modelIndex;
        if (currentTime > r.deadline) {
            return abi.encodeWithSelector(IInferenceHub.InferenceHubExpired.selector, r.deadline);
        }
        if (s.sender != r.requester) {
            return abi.encodeWithSelector(IInferenceHub.InferenceHubUnauthorizedSubmitter.selector, r.requester, s.sender);
        }
        if (settleCount[id] != 0) return abi.encodeWithSelector(IInferenceHub.InferenceHubAlreadyVerified.selector, id);
        if (!_exists[mi]) {
            return abi.encodeWithSelector(IModelRegistry.ModelRegistryUnknownModel.selector, r.modelId);
        }
        if (_deprecated[mi]) return abi.encodeWithSelector(IInferenceHub.InferenceHubModelDeprecated.selector, r.modelId);
        if (!_acceptsSignature[mi]) {
            return abi.encodeWithSelector(IInferenceHub.InferenceHubTierNotAccepted.selector, r.modelId, Tier.Signature);
        }
        if (price > s.maxFee) return abi.encodeWithSelector(IInferenceHub.InferenceHubFeeAboveMaximum.selector, price, s.maxFee);
        if (_boundOperator(s.signer) != r.operator || !_isActive(r.operator)) {
            return abi.encodeWithSelector(IInferenceHub.InferenceHubUnauthorizedSigner.selector, s.signer, r.operator);
        }
        if (s.tamper || vm.addr(s.signKey) != s.signer) {
            return abi.encodeWithSelector(IInferenceHub.InferenceHubInvalidSignature.selector, s.signer);
        }
        uint256 balance = ghostBalance[r.requester];
        if (balance < price) {
            return abi.encodeWithSelector(IFeeEscrow.FeeEscrowInsufficientBalance.selector, r.requester, balance, price);
        }
        if (uint256(r.outputCommitment) >= FIELD) {
            return abi.encodeWithSelector(IInferenceHub.InferenceHubCommitmentOutOfField.selector, r.outputCommitment);
        }
        return "";
    }

    /// @dev Adds what the chain actually moved: the requester's debit and the three credits.
    function _measureSettlement(Snapshot memory before, Snapshot memory afterwards, uint256 price) internal {
        ghostPricesCharged += price;
        if (afterwards.requester > before.requester) return _violation("settlement credited the requester", "");
        if (afterwards.operator < before.operator || afterwards.owner < before.owner || afterwards.treasury < before.treasury) {
            return _violation("settlement debited a payee", "");
        }
        uint256 debited = before.requester - afterwards.requester;
        uint256 credited = (afterwards.operator - before.operator) + (afterwards.owner - before.owner)
            + (afterwards.treasury - before.treasury);
        ghostDebited += debited;
        ghostCredited += credited;
        // Each part within its share (floor), checked per settlement as well as in sum.
        if ((afterwards.operator - before.operator) * BPS > price * ghostOperatorBps) {
            _violation("operator part above its share", abi.encode(price, afterwards.operator - before.operator));
        }
        if ((afterwards.owner - before.owner) * BPS > price * ghostOwnerBps) {
            _violation("owner part above its share", abi.encode(price, afterwards.owner - before.owner));
        }
    }

    function _snapshot(address requester, address operator, address owner) internal view returns (Snapshot memory) {
        return Snapshot({
            requester: hub.balanceOf(requester),
            operator: hub.balanceOf(operator),
            owner: hub.balanceOf(owner),
            treasury: hub.treasuryAccrued()
        });
    }

    function _split(uint256 fee) internal view returns (uint256 toOperator, uint256 toOwner, uint256 toTreasury) {
        toOperator = fee * ghostOperatorBps / BPS;
        toOwner = fee * ghostOwnerBps / BPS;
        toTreasury = fee - toOperator - toOwner;
    }

    function _boundOperator(address signer) internal view returns (address) {
        for (uint256 i = 0; i < OPERATORS; ++i) {
            if (signers[i] == signer) return operatorAddrs[i];
        }
        return address(0);
    }

    function _isActive(address op) internal view returns (bool) {
        uint256 bonded = _ghostStakes[op].bonded;
        return bonded != 0 && bonded >= minimumStake;
    }

    function _digest(Receipt memory r) internal view returns (bytes32) {
        bytes32 structHash = keccak256(
            abi.encode(
                RECEIPT_TYPEHASH,
                r.modelId,
                r.inputCommitment,
                r.outputCommitment,
                r.outputDigest,
                r.requester,
                r.operator,
                r.nonce,
                r.deadline,
                uint8(r.tier)
            )
        );
        bytes32 domain = keccak256(
            abi.encode(DOMAIN_TYPEHASH, keccak256("OPG InferenceHub"), keccak256("1"), block.chainid, address(hub))
        );
        return keccak256(abi.encodePacked(hex"1901", domain, structHash));
    }

    function _receiptId(address requester, bytes32 modelId, uint256 nonce) internal view returns (bytes32) {
        return keccak256(abi.encode(block.chainid, address(hub), requester, modelId, nonce));
    }

    function _stakeFor(uint256 index, uint256 amount) internal {
        address op = operatorAddrs[index];
        token.transfer(op, amount);
        vm.startPrank(op);
        token.approve(address(operators), amount);
        operators.stake(amount);
        vm.stopPrank();
        _ghostStakes[op].bonded += amount;
        ghostStakeIn += amount;
    }

    function _register(uint256 index, address owner, uint8 tiers, uint80 price) internal {
        IModelRegistry.Registration memory reg;
        reg.weightsCommitment = keccak256(abi.encode("weights", index));
        reg.metadataURI = "ipfs://model";
        reg.prices = [price, price + 1, price + 2];
        reg.acceptedTiers = tiers;
        vm.prank(owner);
        modelIds[index] = models.registerModel(reg);
        _modelOwner[index] = owner;
        _exists[index] = true;
        _acceptsSignature[index] = tiers & (1 << 1) != 0;
        _signaturePrice[index] = price;
    }

    function _track(address account, string memory name) internal returns (address) {
        accounts.push(account);
        vm.label(account, name);
        return account;
    }

    function _checkRevert(string memory action, bytes memory expected, bytes memory err) internal {
        if (expected.length == 0) {
            _violation(string.concat(action, ": reverted, must succeed"), err);
        } else if (keccak256(err) != keccak256(expected)) {
            _violation(string.concat(action, ": wrong revert"), abi.encode(expected, err));
        } else {
            _count(string.concat(action, ".rejected"));
        }
    }

    function _count(string memory label) internal {
        ++_outcomes[keccak256(bytes(label))];
    }

    function _violation(string memory what, bytes memory data) internal {
        if (violationCount == 0) {
            firstViolation = what;
            firstViolationData = data;
        }
        ++violationCount;
    }

    /// @dev Each action starts at the handler's clock, whatever the runner did to the block between calls.
    function _tick() internal {
        vm.warp(currentTime);
    }

    function _inField(bytes32 value) internal pure returns (bytes32) {
        return bytes32(uint256(value) % FIELD);
    }

    function _bound(uint256 x, uint256 min, uint256 max) internal pure returns (uint256) {
        if (max - min == type(uint256).max) return x;
        return min + x % (max - min + 1);
    }

    function _str(bytes32 label) internal pure returns (string memory) {
        uint256 n = 0;
        while (n < 32 && label[n] != 0) ++n;
        bytes memory out = new bytes(n);
        for (uint256 i = 0; i < n; ++i) {
            out[i] = label[i];
        }
        return string(out);
    }
}
