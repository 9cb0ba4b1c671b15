pragma circom 2.1.0;

include "circomlib/circuits/poseidon.circom";
include "opg_fixedpoint.circom";

// The commitment every tier shares (src/commitments/index.ts, commitQuantized), in its packed form: each
// value fits W signed bits (W = COMMITTED_VALUE_BITS = 36 system-wide), and floor(253 / W) of them share
// one field element before a chained Poseidon hash:
//   packed_e  = sum_j (in[e*K + j] + 2^(W-1)) * 2^(W*j)          K = floor(253 / W)
//   state_0   = n + scaleBits * 2^32 + 2 * 2^40 + W * 2^48      (kind 2 = packed quantized values)
//   state_k+1 = Poseidon(state_k, chunk_k)                       chunk_k = the next <= 15 packed elements
//   out       = state_last
// A circuit's input and output commitments are this same function of its input and output values, so a
// ZK step's output commitment is the next step's input commitment, whatever tier that step runs at.
//
// The packing is linear (no constraint). It is injective only if every value lies in [-2^(W-1), 2^(W-1)):
// then each term stays below 2^W and the sum below 2^253 < p. That is what the range checks guarantee:
//   B > 0  this template range-checks every value at B <= W signed bits (SignedRange(B)): the input's
//          range checks, which the model needs anyway (so the input costs B constraints per value plus
//          one Poseidon per 15*K values);
//   B = 0  no check here: the caller guarantees that every value is already proven to fit W bits (the
//          outputs of a model, whose range its layers' checks prove, see src/zkml/circuit.ts).
template CommitPacked(n, scaleBits, W, B) {
    signal input in[n];
    signal output out;

    assert(W >= 1 && W <= 126);
    assert(B >= 0 && B <= W);
    var K = 253 \ W;
    var nPacked = (n + K - 1) \ K;

    component range[n];
    if (B > 0) {
        for (var i = 0; i < n; i++) {
            range[i] = SignedRange(B);
            range[i].in <== in[i];
        }
    }

    signal packed[nPacked];
    for (var e = 0; e < nPacked; e++) {
        var acc = 0;
        for (var j = 0; j < K; j++) {
            if (e * K + j < n) {
                acc += (in[e * K + j] + 2 ** (W - 1)) * 2 ** (W * j);
            }
        }
        packed[e] <== acc;
    }

    out <== ChainedPoseidon(nPacked)(n + scaleBits * 2 ** 32 + 2 * 2 ** 40 + W * 2 ** 48, packed);
}

// state_0 = initial; state_k+1 = Poseidon(state_k, the next <= 15 elements); out = state_last.
template ChainedPoseidon(m) {
    signal input initial;
    signal input in[m];
    signal output out;

    var RATE = 15;
    var nChunks = (m + RATE - 1) \ RATE;
    component hash[nChunks];
    signal state[nChunks + 1];
    state[0] <== initial;
    for (var c = 0; c < nChunks; c++) {
        var size = m - c * RATE;
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
