pragma circom 2.1.0;

// The commitment every tier shares (src/commitments/index.ts, commitQuantized): a chained Poseidon
// over field elements with a domain tag.
//   state_0   = n + scaleBits * 2^32 + kind * 2^40      (kind 0 = quantized values)
//   state_k+1 = Poseidon(state_k, chunk_k)               chunk_k = the next <= 15 elements
//   out       = state_last

include "circomlib/circuits/poseidon.circom";
include "opg_fixedpoint.circom";

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

// Packed commitment (src/commitments/index.ts, commitPacked): each input must fit B signed bits, and
// floor(253 / B) of them share one field element before hashing:
//   packed_e  = sum_j (in[e*K + j] + 2^(B-1)) * 2^(B*j)          K = floor(253 / B)
//   state_0   = n + scaleBits * 2^32 + 2 * 2^40 + B * 2^48      (kind 2 = packed quantized values)
//   state_k+1 = Poseidon(state_k, chunk_k)                       chunk_k = the next <= 15 packed elements
// The packing is linear in the inputs (no constraint); the range checks (SignedRange, B bits each) make
// it injective, since every term stays below 2^B and the sum below 2^253 < p. They are also the range
// checks the model needs on its input, so the input costs B constraints per value plus one Poseidon per
// 15·K values.
template CommitPacked(n, scaleBits, B) {
    signal input in[n];
    signal output out;

    var K = 253 \ B;
    var nPacked = (n + K - 1) \ K;

    component range[n];
    for (var i = 0; i < n; i++) {
        range[i] = SignedRange(B);
        range[i].in <== in[i];
    }

    signal packed[nPacked];
    for (var e = 0; e < nPacked; e++) {
        var acc = 0;
        for (var j = 0; j < K; j++) {
            if (e * K + j < n) {
                acc += (in[e * K + j] + 2 ** (B - 1)) * 2 ** (B * j);
            }
        }
        packed[e] <== acc;
    }

    var RATE = 15;
    var nChunks = (nPacked + RATE - 1) \ RATE;
    component hash[nChunks];
    signal state[nChunks + 1];
    state[0] <== n + scaleBits * 2 ** 32 + 2 * 2 ** 40 + B * 2 ** 48;
    for (var c = 0; c < nChunks; c++) {
        var size = nPacked - c * RATE;
        if (size > RATE) {
            size = RATE;
        }
        hash[c] = Poseidon(size + 1);
        hash[c].inputs[0] <== state[c];
        for (var i = 0; i < size; i++) {
            hash[c].inputs[i + 1] <== packed[c * RATE + i];
        }
        state[c + 1] <== hash[c].out;
    }
    out <== state[nChunks];
}
