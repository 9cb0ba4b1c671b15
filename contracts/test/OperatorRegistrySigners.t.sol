// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IOperatorRegistry} from "../interfaces/IOperatorRegistry.sol";
import {HubFixture} from "./utils/HubFixture.sol";

/// @notice Binding signer keys needs the key holder's consent: nobody can bind, rotate to, or block a key
///         that is not theirs, whatever consent they replay or forge.
contract OperatorRegistrySignersTest is HubFixture {
    address internal operator = address(0x2000);
    address internal attacker = address(0x6666);
    uint256 internal signerKey = 0x5157;
    address internal signer;

    function setUp() public {
        _deploySystem();
        signer = vm.addr(signerKey);
    }

    function _consent(uint256 key, address operator_, uint256 deadline) internal view returns (bytes memory) {
        (uint8 v, bytes32 r, bytes32 s) =
            vm.sign(key, operators.signerConsentDigest(operator_, vm.addr(key), deadline));
        return abi.encodePacked(r, s, v);
    }

    /// @notice The operator's pending registration, front-run with its own consent, reverts for the attacker
    ///         and then succeeds for the operator.
    function testFuzz_frontRunWithTheOperatorsConsentFails(uint256 deadlineOffset) public {
        uint256 deadline = block.timestamp + bound(deadlineOffset, 0, 365 days);
        bytes memory consent = _consent(signerKey, operator, deadline);
        vm.prank(attacker);
        vm.expectRevert(
            abi.encodeWithSelector(IOperatorRegistry.OperatorRegistryInvalidSignerConsent.selector, signer, attacker)
        );
        operators.registerSigner(signer, deadline, consent);

        vm.prank(operator);
        operators.registerSigner(signer, deadline, consent);
        assertEq(operators.operatorOfSigner(signer), operator, "bound to the operator");
    }

    /// @notice Without a signature of the key, any bytes are refused (the attacker's own key, garbage, empty).
    function testFuzz_noConsentNoBinding(uint256 attackerKey, bytes calldata garbage) public {
        attackerKey = bound(attackerKey, 1, 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364140);
        vm.assume(attackerKey != signerKey);
        uint256 deadline = block.timestamp + 1 hours;
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(attackerKey, operators.signerConsentDigest(attacker, signer, deadline));
        vm.startPrank(attacker);
        vm.expectRevert(
            abi.encodeWithSelector(IOperatorRegistry.OperatorRegistryInvalidSignerConsent.selector, signer, attacker)
        );
        operators.registerSigner(signer, deadline, abi.encodePacked(r, s, v));
        vm.expectRevert(
            abi.encodeWithSelector(IOperatorRegistry.OperatorRegistryInvalidSignerConsent.selector, signer, attacker)
        );
        operators.registerSigner(signer, deadline, garbage);
        vm.stopPrank();
        assertEq(operators.operatorOfSigner(signer), address(0), "still free");
    }

    /// @notice A consent is single-use and expires: after removal it cannot re-bind, and a late one is refused.
    function test_consentIsSingleUseAndExpires() public {
        uint256 deadline = block.timestamp + 1 hours;
        bytes memory consent = _consent(signerKey, operator, deadline);
        vm.startPrank(operator);
        operators.registerSigner(signer, deadline, consent);
        operators.removeSigner(signer);
        vm.expectRevert(
            abi.encodeWithSelector(IOperatorRegistry.OperatorRegistryInvalidSignerConsent.selector, signer, operator)
        );
        operators.registerSigner(signer, deadline, consent);

        bytes memory late = _consent(signerKey, operator, deadline);
        vm.warp(deadline + 1);
        vm.expectRevert(abi.encodeWithSelector(IOperatorRegistry.OperatorRegistryConsentExpired.selector, deadline));
        operators.registerSigner(signer, deadline, late);
        vm.stopPrank();
    }

    /// @notice Rotation needs the new key's consent too; the signer itself may bind itself without one.
    function test_rotationNeedsTheNewKeysConsent() public {
        vm.startPrank(operator);
        operators.registerSigner(operator, 0, "");
        uint256 deadline = block.timestamp + 1 hours;
        bytes memory forAttacker = _consent(signerKey, attacker, deadline);
        vm.expectRevert(
            abi.encodeWithSelector(IOperatorRegistry.OperatorRegistryInvalidSignerConsent.selector, signer, operator)
        );
        operators.rotateSigner(operator, signer, deadline, forAttacker);
        operators.rotateSigner(operator, signer, deadline, _consent(signerKey, operator, deadline));
        vm.stopPrank();
        assertEq(operators.operatorOfSigner(signer), operator, "rotated");
        assertEq(operators.operatorOfSigner(operator), address(0), "old key unbound");
    }
}
