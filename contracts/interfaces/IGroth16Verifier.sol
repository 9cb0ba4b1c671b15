// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @notice Verifies Groth16 (BN254) proofs against a verifying key passed as data.
/// @dev Key layout (uint256 words): alpha.x, alpha.y, beta (x1, x0, y1, y0), gamma (4), delta (4),
///      then IC[0..n] as (x, y): 14 + 2(n+1) words for n public signals. Proof layout:
///      [a.x, a.y, b.x1, b.x0, b.y1, b.y0, c.x, c.y]. Produced by src/zkml (encodeVerifyingKey,
///      encodeProofForEvm).
interface IGroth16Verifier {
    /// @notice The key is not 14 + 2(n+1) words for some n ≥ 1.
    error Groth16MalformedVerifyingKey(uint256 length);
    /// @notice delta == gamma, delta == -gamma, or gamma or delta at infinity: anyone can forge proofs for
    ///         such a key.
    error Groth16ForgeableVerifyingKey();
    /// @notice A point of the key is not on its curve (G1: y^2 = x^3 + 3; G2: the twist y^2 = x^3 + 3/(9+u)),
    ///         or is the point at infinity. `point` is 0 alpha, 1 beta, 2 gamma, 3 delta, 4 + i IC[i].
    error Groth16VerifyingKeyPointNotOnCurve(uint256 point);
    /// @notice beta, gamma or delta is on the twist but not in the order-r subgroup (the pairing refuses it).
    error Groth16VerifyingKeyNotInSubgroup();
    /// @notice The chain has no `precompile` (0x06 ecAdd, 0x07 ecMul, 0x08 ecPairing): nothing can be verified.
    error Groth16PrecompileUnavailable(uint256 precompile);
    /// @notice The number of public signals does not match the key.
    error Groth16SignalCountMismatch(uint256 expected, uint256 actual);
    /// @notice A public signal is not below the scalar field order.
    error Groth16SignalOutOfField(uint256 index);
    /// @notice A batch holds no proof.
    error Groth16BatchEmpty();
    /// @notice Proofs `first` and `second` of a batch are the same eight words.
    error Groth16BatchRepeatedProof(uint256 first, uint256 second);
    /// @notice Public signal `index` of proof `proof` in a batch is not below the scalar field order.
    error Groth16BatchSignalOutOfField(uint256 proof, uint256 index);

    /// @notice Reverts unless `verifyingKey` is well formed (every word below the base field order, every
    ///         point on its curve and not at infinity, the G2 points in the prime-order subgroup) and not
    ///         forgeable; returns its public signal count.
    function validateVerifyingKey(bytes calldata verifyingKey) external view returns (uint256 publicSignals);

    /// @notice Whether `proof` is valid for `publicSignals` under `verifyingKey`.
    /// @dev Reverts for malformed keys, a wrong signal count or signals outside the field; returns
    ///      false for proofs that do not verify (including points not on the curve), and false when a
    ///      precompile (0x06-0x08) is missing or fails. Expects a key accepted by validateVerifyingKey.
    function verifyProof(bytes calldata verifyingKey, uint256[8] calldata proof, uint256[] calldata publicSignals)
        external
        view
        returns (bool);

    /// @notice Whether every one of `proofs` is valid under `verifyingKey`, checked together with a random
    ///         linear combination: k + 3 pairings instead of 4k, and the key's IC points multiplied once
    ///         per call. One invalid proof makes the whole batch false (it never says which: verify the
    ///         proofs one by one, or off-chain with src/zkml `findInvalidProofs`, to find it).
    /// @dev `publicSignals` holds proof i's n signals at [i·n, (i+1)·n) (n fixed by the key). Reverts for
    ///      an empty batch, a repeated proof, a signal count other than k·n or a signal outside the
    ///      field; returns false for a batch with any invalid proof (points off the curve included) or
    ///      when a precompile is missing. The coefficients are `batchCoefficients`: never the caller's.
    ///      Expects a key accepted by validateVerifyingKey, like verifyProof.
    function verifyBatch(bytes calldata verifyingKey, uint256[8][] calldata proofs, uint256[] calldata publicSignals)
        external
        view
        returns (bool);

    /// @notice The Fiat–Shamir coefficients r_i that `verifyBatch` weighs proof i with: nonzero field
    ///         elements derived from a hash of the key, every proof and every public signal.
    function batchCoefficients(bytes calldata verifyingKey, uint256[8][] calldata proofs, uint256[] calldata publicSignals)
        external
        pure
        returns (uint256[] memory coefficients);
}
