pragma circom 2.1.0;

// The commitment every tier shares (src/commitments/index.ts, commitQuantized): a chained Poseidon
// over field elements with a domain tag.
//   state_0   = n + scaleBits * 2^32 + kind * 2^40      (kind 0 = quantized values)
//   state_k+1 = Poseidon(state_k, chunk_k)               chunk_k = the next <= 15 elements
//   out       = state_last

include "circomlib/circuits/poseidon.circom";

template CommitQuantized(n, scaleBits) {
    signal input in[n];
    signal output out;

    var RATE = 15;
    var nChunks = (n + RATE - 1) \ RATE;

    component hash[nChunks];
    signal state[nChunks + 1];
    state[0] <== n + scaleBits * 2 ** 32;

    for (var c = 0; c < nChunks; c++) {
        var size = n - c * RATE;
        if (size > RATE) {
            size = RATE;
        }
        hash[c] = Poseidon(size + 1);
        hash[c].inputs[0] <== state[c];
        for (var i = 0; i < size; i++) {
            hash[c].inputs[i + 1] <== in[c * RATE + i];
        }
        state[c + 1] <== hash[c].out;
    }
    out <== state[nChunks];
}
