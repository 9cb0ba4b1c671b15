pragma circom 2.1.0;

// Dense (fully connected) layer with constant weights: out = rescale(W * in + bias).
// The weighted sum is a linear combination of signals with constant coefficients, so it costs no
// multiplication constraint: a neuron costs only its rescale range checks (s + B[j] bits).
//   W[nOut][nIn]  weights at scale 2^s
//   bias[nOut]    biases at scale 2^(2s)
//   B[nOut]       signed width of each rescaled output (from interval propagation)

include "opg_fixedpoint.circom";

template Dense(nOut, nIn, s, W, bias, B) {
    signal input in[nIn];
    signal output out[nOut];
    signal output nonneg[nOut];

    component rescale[nOut];
    for (var j = 0; j < nOut; j++) {
        var acc = bias[j];
        for (var i = 0; i < nIn; i++) {
            acc += W[j][i] * in[i];
        }
        rescale[j] = Rescale(s, B[j]);
        rescale[j].in <== acc;
        out[j] <== rescale[j].out;
        nonneg[j] <== rescale[j].nonneg;
    }
}
