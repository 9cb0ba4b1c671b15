// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {ERC20Permit} from "@openzeppelin/contracts/token/ERC20/extensions/ERC20Permit.sol";

/// @title OPG
/// @notice The protocol's fee and staking token: a plain ERC-20 with ERC-2612 permits, so deposits and
///         stakes need no separate approve transaction. The whole supply is minted once at deployment.
contract OPGToken is ERC20, ERC20Permit {
    /// @param holder Receives the whole supply.
    /// @param supply Total supply in wei.
    constructor(address holder, uint256 supply) ERC20("OpenGradient", "OPG") ERC20Permit("OpenGradient") {
        _mint(holder, supply);
    }
}
