// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {DataStore} from "../libraries/DataStore.sol";
import {TestBase} from "./utils/TestBase.sol";
import {DataStoreHarness} from "./utils/Harnesses.sol";

contract DataStoreTest is TestBase {
    uint256 internal constant MAX_LENGTH = 24_575;
    DataStoreHarness internal store;

    function setUp() public {
        store = new DataStoreHarness();
    }

    /// @dev `length` pseudo-random bytes derived from `seed`.
    function _blob(uint256 seed, uint256 length) internal pure returns (bytes memory data) {
        data = new bytes(length);
        for (uint256 offset = 0; offset < length; offset += 32) {
            bytes32 word = keccak256(abi.encode(seed, offset));
            for (uint256 i = 0; i < 32 && offset + i < length; ++i) {
                data[offset + i] = word[i];
            }
        }
    }

    function _checkStored(address pointer, bytes memory data) internal view {
        assertTrue(pointer != address(0), "zero pointer");
        bytes memory code = pointer.code;
        assertEq(code.length, data.length + 1, "code length is not data length + 1");
        assertEq(uint256(uint8(code[0])), 0, "code does not start with STOP");
        assertEq(store.read(pointer), data, "read back differs");
    }

    /// @notice Any fuzzer-chosen bytes come back identical, from the same and from a later call.
    /// hardhat-config: fuzz.runs = 300
    function testFuzz_roundTrip(bytes calldata data) public {
        vm.assume(data.length <= MAX_LENGTH);
        assertEq(store.roundTrip(data), data, "same-call round trip differs");
        _checkStored(store.write(data), data);
    }

    /// @notice Random blobs of any admissible length, up to the EIP-170 limit.
    /// hardhat-config: fuzz.runs = 48
    function testFuzz_roundTripAnyLength(uint256 seed, uint256 length) public {
        length = bound(length, 0, MAX_LENGTH);
        bytes memory data = _blob(seed, length);
        address pointer = store.write(data);
        _checkStored(pointer, data);
    }

    function test_maxLengthAndTooLarge() public {
        bytes memory data = _blob(7, MAX_LENGTH);
        _checkStored(store.write(data), data);

        bytes memory tooLarge = _blob(8, MAX_LENGTH + 1);
        vm.expectRevert(abi.encodeWithSelector(DataStore.DataStoreTooLarge.selector, MAX_LENGTH + 1));
        store.write(tooLarge);
    }

    function test_emptyBlobAndZeroPointer() public {
        address pointer = store.write("");
        assertEq(pointer.code.length, 1, "empty blob is one STOP byte");
        assertEq(store.read(pointer).length, 0, "empty blob reads back empty");
        assertEq(store.read(address(0)).length, 0, "zero pointer reads empty");
        assertEq(store.read(address(0xBEEF)).length, 0, "account without code reads empty");
    }

    /// @notice The stored blob can never run: calling it stops at once, whatever the data.
    function test_blobIsNotExecutable() public {
        // 0x33ff = CALLER SELFDESTRUCT: would do something if the STOP prefix were missing.
        bytes memory data = hex"33ff";
        address pointer = store.write(data);
        (bool ok, bytes memory ret) = pointer.call("");
        assertTrue(ok, "call to blob failed");
        assertEq(ret.length, 0, "blob returned data");
        _checkStored(pointer, data);
    }
}
