// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Tier} from "../types/Tier.sol";

/// @notice The hub's narrow escrow interface for its request book: the only contract that may call it.
/// @dev The hub keeps Σ open reservations (`reserved`): the book can never release or pay out more
///      than it reserved. Invariant: token balance of the hub == Σ balances + treasury + reserved.
interface IRequestEscrow {
    /// @notice One step's price, who owns its model and the tier it was verified at.
    struct StepFee {
        uint256 fee;
        address modelOwner;
        Tier tier;
    }

    /// @notice The caller is not the request book.
    error InferenceHubNotRequestBook(address caller);
    /// @notice The request book is already set, or zero.
    error InferenceHubRequestBookLocked();

    /// @notice The request book was connected (once).
    event RequestBookSet(address indexed book);

    /// @notice Moves `amount` from `requester`'s escrow into the book's reservation account.
    function reserve(address requester, uint256 amount) external;

    /// @notice The request book (the disputes contract finds request fulfilments' windows there).
    function requestBook() external view returns (address);

    /// @notice Σ of open reservations, held by the hub for the book.
    function reserved() external view returns (uint96);

    /// @notice Returns `amount` of a reservation to `requester`.
    function release(address requester, uint256 amount) external;

    /// @notice Pays a fulfilment: Σ fees split between `operator`, each model owner and the treasury.
    ///         With `reservation` > 0 the fees come out of that reservation (Σ fees ≤ reservation) and
    ///         the rest returns to `requester`; with `reservation` == 0 they are debited from
    ///         `requester`'s escrow. A fulfilment whose signed steps are pending locks `bond` of the
    ///         operator's stake until `bondFinalAt` (the hub holds the bond-holder role); zero for none.
    /// @return total Σ fees.
    function settle(
        address requester,
        uint256 reservation,
        address operator,
        StepFee[] calldata fees,
        uint256 bond,
        uint64 bondFinalAt
    ) external returns (uint256 total);
}
