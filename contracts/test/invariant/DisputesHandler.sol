// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Disputes} from "../../disputes/Disputes.sol";
import {InferenceHub} from "../../InferenceHub.sol";
import {IDisputes} from "../../interfaces/IDisputes.sol";
import {IRequestBook} from "../../interfaces/IRequestBook.sol";
import {OPGToken} from "../../OPGToken.sol";
import {OperatorRegistry} from "../../OperatorRegistry.sol";
import {RequestBook} from "../../requests/RequestBook.sol";
import {Claim, ResultStatus} from "../../types/Claim.sol";
import {Receipt} from "../../types/Receipt.sol";
import {Tier} from "../../types/Tier.sol";
import {TrapdoorGroth16} from "../utils/TrapdoorGroth16.sol";
import {Vm, VM_ADDRESS} from "../utils/Vm.sol";

/// @notice Drives random sequences of honest and wrong signature results, challenges (in time, late, against
///         correct results, repeated), stake top-ups and time jumps against the hub, the operator registry and
///         the disputes contract, as hub receipts and as request book fulfilments. The "circuit" is a trapdoor key, and the true output of an input is
///         `_truth(input)`: a challenge always proves the truth, so it must succeed exactly when the result
///         is pending and wrong. Anything else is recorded as a violation for the invariants.
contract DisputesHandler is TrapdoorGroth16 {
    Vm internal constant vm = Vm(VM_ADDRESS);

    struct System {
        InferenceHub hub;
        RequestBook book;
        OPGToken token;
        OperatorRegistry operators;
        Disputes disputes;
        bytes32 modelId;
        address requester;
        address operator;
        address challenger;
        address treasury;
        uint256 signerKey;
        uint256 price;
        uint256 bondMultiple;
    }

    struct Result {
        bytes32 id;
        Claim claim;
        bool wrong;
    }

    System internal s;
    uint256 public currentTime;
    uint256 internal _nonce = 1;
    Result[] internal _results;
    mapping(bytes32 id => uint256) public successfulChallenges;
    /// @notice Whether a result id is a request fulfilment (pending at the book) rather than a receipt.
    mapping(bytes32 id => bool) public isRequest;
    bytes32[] public refutedIds;

    uint256 public ghostIn;
    uint256 public ghostSlashed;
    uint256 public ghostPaidOut;
    uint256 public violationCount;
    string public firstViolation;
    mapping(bytes32 label => uint256) public outcomes;

    constructor(System memory system) {
        s = system;
        currentTime = block.timestamp;
        ghostIn = systemTokens();
    }

    function _truth(bytes32 input) internal pure returns (bytes32) {
        return bytes32(uint256(keccak256(abi.encode("truth", input))) % FIELD);
    }

    function _violation(string memory what) internal {
        if (violationCount++ == 0) firstViolation = what;
    }

    // ------------------------------------------------------------------ actions

    function submit(uint256 inputSeed, bool wrong) external {
        vm.warp(currentTime);
        bytes32 input = bytes32(1 + inputSeed % 1_000);
        bytes32 output = wrong ? bytes32(uint256(_truth(input)) ^ 1) : _truth(input);
        uint256 bond = s.price * s.bondMultiple;
        uint256 free = s.operators.freeStakeOf(s.operator);
        bool active = s.operators.isActive(s.operator);
        Receipt memory r = Receipt({
            modelId: s.modelId,
            inputCommitment: input,
            outputCommitment: output,
            outputDigest: bytes32(0),
            requester: s.requester,
            operator: s.operator,
            nonce: _nonce++,
            deadline: uint64(currentTime + 1 hours),
            tier: Tier.Signature
        });
        (uint8 v, bytes32 rr, bytes32 ss) = vm.sign(s.signerKey, s.hub.receiptDigest(r));
        vm.prank(s.requester);
        try s.hub.submitSigned(r, vm.addr(s.signerKey), abi.encodePacked(rr, ss, v), s.price) returns (bytes32 id) {
            outcomes["submit.ok"]++;
            if (free < bond) _violation("a result was accepted without free stake for its bond");
            (, uint64 finalAt,) = s.hub.statusOf(id);
            _results.push(Result(id, _claim(input, output, finalAt), wrong));
        } catch {
            outcomes["submit.refused"]++;
            if (active && free >= bond && s.hub.balanceOf(s.requester) >= s.price) _violation("a covered result was refused");
        }
    }

    /// @notice A request by the requester, fulfilled at the signature tier with a right or wrong output.
    function fulfil(uint256 inputSeed, bool wrong) external {
        vm.warp(currentTime);
        bytes32 input = bytes32(1 + inputSeed % 1_000);
        bytes32 output = wrong ? bytes32(uint256(_truth(input)) ^ 1) : _truth(input);
        uint256 bond = s.price * s.bondMultiple;
        uint256 free = s.operators.freeStakeOf(s.operator);
        bool active = s.operators.isActive(s.operator);
        IRequestBook.RequestParams memory params;
        params.pipeline = new bytes32[](1);
        params.pipeline[0] = s.modelId;
        params.inputCommitment = input;
        (params.minEachStep, params.minFinalStep) = (Tier.Signature, Tier.Signature);
        params.maxFee = s.price;
        params.deadline = uint64(currentTime + 1 hours);
        params.nonce = _nonce++;
        if (s.hub.balanceOf(s.requester) < s.price) {
            outcomes["fulfil.unfunded"]++;
            return;
        }
        vm.prank(s.requester);
        bytes32 id = s.book.request(params, hex"01", "");
        IRequestBook.StepEvidence[] memory steps = new IRequestBook.StepEvidence[](1);
        steps[0] = _evidence(id, params, output);
        try s.book.fulfil(s.requester, params, s.operator, steps, new int256[](0)) {
            outcomes["fulfil.ok"]++;
            if (free < bond) _violation("a fulfilment was accepted without free stake for its bond");
            (, uint64 finalAt,) = s.book.statusOf(id);
            isRequest[id] = true;
            _results.push(Result(id, _claim(input, output, finalAt), wrong));
        } catch {
            outcomes["fulfil.refused"]++;
            if (active && free >= bond) _violation("a covered fulfilment was refused");
        }
    }

    function _evidence(bytes32 id, IRequestBook.RequestParams memory params, bytes32 output)
        internal
        view
        returns (IRequestBook.StepEvidence memory e)
    {
        Receipt memory r = Receipt({
            modelId: s.modelId,
            inputCommitment: params.inputCommitment,
            outputCommitment: output,
            outputDigest: keccak256(abi.encode(new int256[](0))),
            requester: s.requester,
            operator: s.operator,
            nonce: uint256(id),
            deadline: params.deadline,
            tier: Tier.Signature
        });
        (uint8 v, bytes32 rr, bytes32 ss) = vm.sign(s.signerKey, s.book.receiptDigest(r));
        e.tier = Tier.Signature;
        e.outputCommitment = output;
        e.outputDigest = r.outputDigest;
        e.signer = vm.addr(s.signerKey);
        e.signature = abi.encodePacked(rr, ss, v);
    }

    function _claim(bytes32 input, bytes32 output, uint64 finalAt) internal view returns (Claim memory) {
        return Claim({
            modelId: s.modelId,
            inputCommitment: input,
            outputCommitment: output,
            operator: s.operator,
            requester: s.requester,
            signer: vm.addr(s.signerKey),
            tier: Tier.Signature,
            operationId: bytes32(0),
            fee: s.price,
            bond: s.price * s.bondMultiple,
            finalAt: finalAt
        });
    }

    function challenge(uint256 resultSeed) external {
        vm.warp(currentTime);
        if (_results.length == 0) return;
        Result storage r = _results[resultSeed % _results.length];
        (ResultStatus status,,) = statusOf(r.id);
        bool shouldSucceed = r.wrong && status == ResultStatus.Pending;
        bytes32 truth = _truth(r.claim.inputCommitment);
        uint256[] memory outputs = new uint256[](1);
        outputs[0] = 7;
        uint256[] memory signals = new uint256[](SIGNALS);
        (signals[0], signals[1], signals[2], signals[3]) =
            (uint256(r.claim.inputCommitment), uint256(truth), 7, s.disputes.bindingOf(r.id, s.challenger));
        uint256[8] memory proof = _prove(_trapdoorKey(0), signals);
        OperatorRegistry.Stake memory stake = s.operators.stakeOf(s.operator);
        vm.prank(s.challenger);
        try s.disputes.challenge(r.id, r.claim, truth, outputs, proof) returns (IDisputes.Outcome memory o) {
            outcomes["challenge.ok"]++;
            if (!shouldSucceed) _violation("a challenge succeeded against a correct, final or refuted result");
            if (++successfulChallenges[r.id] > 1) _violation("a bond was slashed twice");
            if (o.slashed > uint256(stake.bonded) + stake.unbonding) _violation("slashed more than the stake");
            if (o.reward + o.refund + o.remainder != o.slashed) _violation("a slash was not paid out exactly");
            ghostSlashed += o.slashed;
            ghostPaidOut += o.reward + o.refund + o.remainder;
            refutedIds.push(r.id);
        } catch {
            outcomes["challenge.refused"]++;
            if (shouldSucceed) _violation("a valid challenge of a pending wrong result failed");
        }
    }

    function topUpStake(uint256 amount) external {
        vm.warp(currentTime);
        amount = 1 + amount % 50e18;
        ghostIn += amount;
        s.token.transfer(s.operator, amount);
        vm.startPrank(s.operator);
        s.token.approve(address(s.operators), amount);
        s.operators.stake(amount);
        vm.stopPrank();
    }

    function warp(uint256 seconds_) external {
        currentTime += seconds_ % 2 hours;
        vm.warp(currentTime);
    }

    // ------------------------------------------------------------------ views for the invariants

    function refutedCount() external view returns (uint256) {
        return refutedIds.length;
    }

    function statusOf(bytes32 id) public view returns (ResultStatus, uint64, bool) {
        return isRequest[id] ? s.book.statusOf(id) : s.hub.statusOf(id);
    }

    /// @notice The request book's status of a request (None for a receipt id).
    function requestStatus(bytes32 id) external view returns (IRequestBook.Status status) {
        (status,,) = s.book.resultOf(id);
    }

    function meetsPolicy(bytes32 id) external view returns (bool) {
        return s.hub.meetsPolicy(id, Tier.Signature, Tier.Signature);
    }

    function verifiedOutput(bytes32 id) external view returns (bytes32) {
        return s.hub.verifiedOutput(id, Tier.Signature);
    }

    function disputesBalance() external view returns (uint256) {
        return s.token.balanceOf(address(s.disputes));
    }

    /// @notice Every token the system holds or paid out: registry, hub, disputes, challenger, treasury.
    function systemTokens() public view returns (uint256) {
        return s.token.balanceOf(address(s.operators)) + s.token.balanceOf(address(s.hub))
            + s.token.balanceOf(address(s.disputes)) + s.token.balanceOf(s.challenger) + s.token.balanceOf(s.treasury);
    }
}
