// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @notice Immutable blobs stored as contract code: one EXTCODECOPY reads a whole verifying key for
///         a few hundred gas where SLOADs would cost 2,100 per word.
/// @dev The code starts with a STOP byte so the blob can never be executed.
library DataStore {
    /// @notice Creating the data contract failed.
    error DataStoreWriteFailed();
    /// @notice The blob does not fit in one contract (EIP-170).
    error DataStoreTooLarge(uint256 length);

    /// @notice Stores `data` and returns the pointer to read it back.
    function write(bytes memory data) internal returns (address pointer) {
        // 24,576 bytes of code at most, one of which is the STOP prefix.
        if (data.length > 24_575) revert DataStoreTooLarge(data.length);
        // PUSH2 size, DUP1, PUSH1 12, PUSH1 0, CODECOPY, PUSH1 0, RETURN: returns the 12 bytes' tail.
        bytes memory creation = abi.encodePacked(
            hex"61", uint16(data.length + 1), hex"80600c6000396000f3", hex"00", data
        );
        assembly ("memory-safe") {
            pointer := create(0, add(creation, 0x20), mload(creation))
        }
        if (pointer == address(0)) revert DataStoreWriteFailed();
    }

    /// @notice Reads back the blob stored at `pointer` (empty for a zero pointer).
    function read(address pointer) internal view returns (bytes memory data) {
        uint256 size = pointer.code.length;
        if (size <= 1) return data;
        data = new bytes(size - 1);
        assembly ("memory-safe") {
            extcodecopy(pointer, add(data, 0x20), 1, sub(size, 1))
        }
    }
}
