// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {DataStore} from "../../libraries/DataStore.sol";
import {FeeSplit} from "../../libraries/FeeSplit.sol";

/// @notice Exposes FeeSplit so its reverts can be observed across a call boundary.
contract FeeSplitHarness {
    function check(uint16 operatorBps, uint16 modelOwnerBps) external pure {
        FeeSplit.check(operatorBps, modelOwnerBps);
    }

    function split(uint256 fee, uint16 operatorBps, uint16 modelOwnerBps)
        external
        pure
        returns (uint256, uint256, uint256)
    {
        return FeeSplit.split(fee, operatorBps, modelOwnerBps);
    }
}

/// @notice Exposes DataStore: writes a blob as contract code, reads it back.
contract DataStoreHarness {
    function write(bytes calldata data) external returns (address pointer) {
        return DataStore.write(data);
    }

    function read(address pointer) external view returns (bytes memory) {
        return DataStore.read(pointer);
    }

    /// @dev Write and read in one call (as the model registry and the hub do across calls).
    function roundTrip(bytes calldata data) external returns (bytes memory) {
        return DataStore.read(DataStore.write(data));
    }
}
