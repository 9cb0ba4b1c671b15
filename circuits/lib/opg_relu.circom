pragma circom 2.1.0;

// ReLU. out = in * nonneg, where nonneg is a constrained sign bit.

include "opg_fixedpoint.circom";

// For inputs that come from a Dense layer: its quotient range check already produced the sign bit,
// so a ReLU costs one constraint per element.
template ReluWithSign(n) {
    signal input in[n];
    signal input nonneg[n];
    signal output out[n];

    for (var i = 0; i < n; i++) {
        out[i] <== in[i] * nonneg[i];
    }
}

// For any other input: extract the sign with a bounded decomposition of width B[i].
template Relu(n, B) {
    signal input in[n];
    signal output out[n];

    component sign = SignedRangeVector(n, B);
    sign.in <== in;
    for (var i = 0; i < n; i++) {
        out[i] <== in[i] * sign.nonneg[i];
    }
}
