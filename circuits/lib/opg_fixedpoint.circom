pragma circom 2.1.0;

// Fixed-point building blocks of the opg-verifier ZK tier (scale 2^s: a real x is the integer
// round(x * 2^s)). Every hint (`<--`) below is pinned down by constraints: circom's `assert` is not a
// constraint, so none is used for soundness.

include "circomlib/circuits/bitify.circom";

// Constrains -2^(B-1) <= in < 2^(B-1) (as a signed integer) and outputs its sign.
// Num2Bits(B) with B <= 253 has a unique decomposition, so `nonneg` is the true sign bit.
template SignedRange(B) {
    signal input in;
    signal output nonneg;   // 1 iff in >= 0

    component bits = Num2Bits(B);
    bits.in <== in + 2 ** (B - 1);
    nonneg <== bits.out[B - 1];
}

// Same check for a vector, with one width per element.
template SignedRangeVector(n, B) {
    signal input in[n];
    signal output nonneg[n];

    component range[n];
    for (var i = 0; i < n; i++) {
        range[i] = SignedRange(B[i]);
        range[i].in <== in[i];
        nonneg[i] <== range[i].nonneg;
    }
}

// Division by 2^s with rounding half up: out = floor((in + 2^(s-1)) / 2^s), for an accumulator `in`
// at scale 2^(2s) whose rescaled value fits B signed bits.
//
//   in + 2^(s-1) = quotient * 2^s + remainder,  0 <= remainder < 2^s,  -2^(B-1) <= quotient < 2^(B-1)
//
// Both ranges are enforced with Num2Bits, so (quotient, remainder) is unique as long as s + B < 253:
// a prover cannot shift a multiple of 2^s between them, nor pick a wrapped-around quotient.
template Rescale(s, B) {
    signal input in;
    signal output out;
    signal output nonneg;   // 1 iff out >= 0: the sign a following Relu needs, for free

    signal quotient;
    signal remainder;

    // Hints, computed on a shifted (non-negative) dividend; the constraints below check them.
    var shifted = in + 2 ** (s - 1) + 2 ** (s + B - 1);
    quotient <-- (shifted \ 2 ** s) - 2 ** (B - 1);
    remainder <-- shifted % 2 ** s;

    in + 2 ** (s - 1) === quotient * 2 ** s + remainder;

    component remainderBits = Num2Bits(s);
    remainderBits.in <== remainder;

    component quotientRange = SignedRange(B);
    quotientRange.in <== quotient;

    out <== quotient;
    nonneg <== quotientRange.nonneg;
}
