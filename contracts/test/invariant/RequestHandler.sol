// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {InferenceHub} from "../../InferenceHub.sol";
import {ModelRegistry} from "../../ModelRegistry.sol";
import {OPGToken} from "../../OPGToken.sol";
import {OperatorRegistry} from "../../OperatorRegistry.sol";
import {IModelRegistry} from "../../interfaces/IModelRegistry.sol";
import {IRequestBook} from "../../interfaces/IRequestBook.sol";
import {RequestBook} from "../../requests/RequestBook.sol";
import {Receipt} from "../../types/Receipt.sol";
import {Tier} from "../../types/Tier.sol";
import {Vm, VM_ADDRESS} from "../utils/Vm.sol";

/// @notice Drives random requests, fulfilments (valid, by a wrong signer, with wrong outputs, late,
///         repeated), cancellations (early, by a stranger, after the deadline), deposits, withdrawals,
///         price changes and time jumps against the request book and the hub's escrow, and records
///         what happened for RequestBookInvariantTest: tokens conserved after every call, the hub's
///         reservation total equal to the open requests' max fees, each request settled at most once.
contract RequestHandler {
    Vm internal constant vm = Vm(VM_ADDRESS);

    uint256 internal constant REQUESTERS = 3;
    uint256 internal constant MODELS = 3; // 0, 1 live (signature); 2 deprecated

    InferenceHub public immutable hub;
    RequestBook public immutable book;
    OPGToken public immutable token;
    ModelRegistry public immutable models;
    OperatorRegistry public immutable operators;
    address public immutable deployer;
    address public immutable treasury;

    address[REQUESTERS] public requesters;
    address public operator;
    uint256 internal _operatorKey;
    address public stranger;
    uint256 internal _strangerKey;
    address public owner;
    bytes32[MODELS] public modelIds;
    address[] public accounts;

    struct Open {
        address requester;
        IRequestBook.RequestParams params;
        bytes32 id;
        uint8 state; // 1 open, 2 fulfilled, 3 cancelled
    }

    Open[] internal _requests;
    uint256 public currentTime;
    uint256 internal _nonce;

    /// @notice Σ max fees of requests the handler saw opened and not yet settled or cancelled.
    uint256 public ghostReserved;
    mapping(bytes32 id => uint256) public settleCount;
    uint256 public settled;
    uint256 public cancelled;
    uint256 public rejected;
    uint256 public violationCount;
    string public firstViolation;

    constructor(
        InferenceHub hub_,
        RequestBook book_,
        OPGToken token_,
        ModelRegistry models_,
        OperatorRegistry operators_,
        address treasury_
    ) {
        hub = hub_;
        book = book_;
        token = token_;
        models = models_;
        operators = operators_;
        deployer = msg.sender;
        treasury = treasury_;
        currentTime = block.timestamp;
    }

    /// @notice Actors, two live models and a deprecated one, a staked operator. Needs OPG.
    function init(uint256 minimumStake) external {
        require(msg.sender == deployer && accounts.length == 0, "init once, by the deployer");
        for (uint256 i = 0; i < REQUESTERS; ++i) {
            requesters[i] = _track(address(uint160(0x7000 + i)));
        }
        _operatorKey = uint256(keccak256("request operator"));
        operator = _track(vm.addr(_operatorKey));
        _strangerKey = uint256(keccak256("request stranger"));
        stranger = _track(vm.addr(_strangerKey));
        owner = _track(address(0x8000));
        _track(treasury);
        _track(address(book));
        token.transfer(operator, minimumStake);
        vm.startPrank(operator);
        token.approve(address(operators), minimumStake);
        operators.stake(minimumStake);
        operators.registerSigner(operator, 0, "");
        vm.stopPrank();
        for (uint256 i = 0; i < MODELS; ++i) {
            IModelRegistry.Registration memory reg;
            reg.weightsCommitment = keccak256(abi.encode("request model", i));
            reg.metadataURI = "ipfs://model";
            reg.prices = [uint80(1e18 + i * 3e17), 2e18, 3e18];
            reg.acceptedTiers = 1 << 1;
            vm.prank(owner);
            modelIds[i] = models.registerModel(reg);
        }
        vm.prank(owner);
        models.deprecate(modelIds[2]);
    }

    // ------------------------------------------------------------------ actions

    function deposit(uint256 seed, uint256 amount) external {
        _tick();
        address requester = requesters[seed % REQUESTERS];
        amount = 1 + amount % 20e18;
        token.transfer(requester, amount);
        vm.startPrank(requester);
        token.approve(address(hub), amount);
        hub.deposit(requester, amount);
        vm.stopPrank();
        _checkConserved("deposit");
    }

    /// @notice A requester tries to pull everything it has, reservations included: only the free part leaves.
    function withdrawAll(uint256 seed, bool more) external {
        _tick();
        address requester = requesters[seed % REQUESTERS];
        uint256 free = hub.balanceOf(requester);
        uint256 amount = more ? free + 1 : free;
        if (amount == 0) return;
        vm.prank(requester);
        try hub.withdraw(requester, amount) {
            if (more) _violation("withdrew more than its free balance");
        } catch {
            if (!more) _violation("could not withdraw its free balance");
        }
        _checkConserved("withdraw");
    }

    function setPrice(uint256 modelSeed, uint256 price) external {
        _tick();
        uint256 mi = modelSeed % 2;
        uint80 p = uint80(price % 3e18);
        vm.prank(owner);
        models.setPrices(modelIds[mi], [p, p, p]);
    }

    function request(uint256 seed, uint256 modelSeed, uint256 feeSeed, bool twoSteps) external {
        _tick();
        address requester = requesters[seed % REQUESTERS];
        uint256 mi = modelSeed % MODELS;
        IRequestBook.RequestParams memory p;
        p.pipeline = new bytes32[](twoSteps ? 2 : 1);
        p.pipeline[0] = modelIds[mi];
        if (twoSteps) p.pipeline[1] = modelIds[(mi + 1) % 2 == mi ? 0 : (mi + 1) % 2];
        p.inputCommitment = bytes32(uint256(keccak256(abi.encode("input", _nonce))) >> 4);
        p.minEachStep = Tier.Signature;
        p.minFinalStep = Tier.Signature;
        p.maxFee = feeSeed % 8e18;
        p.deadline = uint64(currentTime + 1 hours);
        p.nonce = ++_nonce;
        uint256 reservedBefore = hub.reserved();
        vm.prank(requester);
        try book.request(p, abi.encode(new int256[](2)), "") returns (bytes32 id) {
            if (hub.reserved() != reservedBefore + p.maxFee) _violation("request reserved another amount");
            ghostReserved += p.maxFee;
            _requests.push(Open({requester: requester, params: p, id: id, state: 1}));
        } catch {
            ++rejected;
            if (hub.reserved() != reservedBefore) _violation("a refused request reserved");
        }
        _checkConserved("request");
    }

    /// @notice Fulfils a recorded request: 0-5 valid, 6 stranger's key, 7 wrong outputs, 8 too few steps.
    function fulfil(uint256 pick, uint256 variant) external {
        _tick();
        if (_requests.length == 0) return;
        Open storage r = _requests[pick % _requests.length];
        uint256 v = variant % 9;
        int256[] memory outputs = new int256[](2);
        outputs[0] = int256(variant % 1000);
        outputs[1] = -7;
        uint256 n = v == 8 && r.params.pipeline.length > 1 ? 1 : r.params.pipeline.length;
        IRequestBook.StepEvidence[] memory steps = new IRequestBook.StepEvidence[](n);
        bytes32 input = r.params.inputCommitment;
        for (uint256 i = 0; i < n; ++i) {
            steps[i] = _step(r, i, input, outputs, v == 6 ? _strangerKey : _operatorKey);
            input = steps[i].outputCommitment;
        }
        if (v == 7) outputs[1] = 8;
        uint256 requesterBefore = hub.balanceOf(r.requester);
        vm.prank(stranger);
        try book.fulfil(r.requester, r.params, operator, steps, outputs) {
            if (r.state != 1) _violation("fulfilled a request that was not open");
            if (v >= 6 && !(v == 8 && n == r.params.pipeline.length)) _violation("accepted a bad fulfilment");
            if (settleCount[r.id]++ != 0) _violation("settled twice");
            ++settled;
            r.state = 2;
            ghostReserved -= r.params.maxFee;
            if (hub.balanceOf(r.requester) < requesterBefore) _violation("a fulfilment took more than the reservation");
        } catch {
            ++rejected;
            if (hub.balanceOf(r.requester) != requesterBefore) _violation("a refused fulfilment moved the requester's balance");
        }
        _checkConserved("fulfil");
    }

    function cancel(uint256 pick, bool byStranger) external {
        _tick();
        if (_requests.length == 0) return;
        Open storage r = _requests[pick % _requests.length];
        address caller = byStranger ? stranger : r.requester;
        vm.prank(caller);
        try book.cancel(r.requester, r.params) {
            if (byStranger || r.state != 1 || currentTime <= r.params.deadline) _violation("a cancellation that must fail succeeded");
            r.state = 3;
            ++cancelled;
            ghostReserved -= r.params.maxFee;
        } catch {
            ++rejected;
        }
        _checkConserved("cancel");
    }

    function warp(uint256 seconds_) external {
        currentTime += seconds_ % 2 hours;
        _tick();
    }

    // ------------------------------------------------------------------ views for the invariants

    function accountCount() external view returns (uint256) {
        return accounts.length;
    }

    function requestCount() external view returns (uint256) {
        return _requests.length;
    }

    /// @notice What the hub owes: Σ balances + treasury + open reservations.
    function owed() public view returns (uint256 total) {
        total = hub.treasuryAccrued() + hub.reserved();
        for (uint256 i = 0; i < accounts.length; ++i) {
            total += hub.balanceOf(accounts[i]);
        }
    }

    // ------------------------------------------------------------------ internals

    function _step(Open storage r, uint256 i, bytes32 input, int256[] memory outputs, uint256 key)
        internal
        view
        returns (IRequestBook.StepEvidence memory e)
    {
        e.tier = Tier.Signature;
        e.outputCommitment = bytes32(uint256(keccak256(abi.encode(r.id, i))) >> 4);
        e.outputDigest = keccak256(abi.encode(outputs));
        e.signer = vm.addr(key);
        Receipt memory receipt = Receipt({
            modelId: r.params.pipeline[i],
            inputCommitment: input,
            outputCommitment: e.outputCommitment,
            outputDigest: e.outputDigest,
            requester: r.requester,
            operator: operator,
            nonce: uint256(r.id),
            deadline: r.params.deadline,
            tier: Tier.Signature
        });
        (uint8 v, bytes32 rr, bytes32 ss) = vm.sign(key, book.receiptDigest(receipt));
        e.signature = abi.encodePacked(rr, ss, v);
    }

    function _checkConserved(string memory action) internal {
        if (token.balanceOf(address(hub)) != owed()) _violation(string.concat(action, ": tokens not conserved"));
        if (hub.reserved() != ghostReserved) _violation(string.concat(action, ": reservations differ from open requests"));
    }

    function _track(address account) internal returns (address) {
        accounts.push(account);
        return account;
    }

    function _violation(string memory what) internal {
        if (violationCount == 0) firstViolation = what;
        ++violationCount;
    }

    function _tick() internal {
        vm.warp(currentTime);
    }
}
