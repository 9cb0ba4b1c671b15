pragma circom 2.1.0;

// Vision layers of the opg-verifier ZK tier: convolutions and pooling over flattened tensors. The index
// structure (which input feeds which output) is fixed by template parameters computed at import
// (src/zkml/onnx-vision.ts), so the templates only see flat index lists.

include "opg_fixedpoint.circom";

// Conv, AveragePool, GlobalAveragePool and unfolded BatchNormalization: a dense layer whose rows are
// stored sparsely (CSR). Weights are constants, so each output costs only its rescale (s + B[j]):
//   out[j] = Rescale(bias[j] + sum_{p in [rowStart[j], rowStart[j+1])} W[p] * in[cols[p]])
template SparseDense(nOut, nIn, nnz, s, rowStart, cols, W, bias, B) {
    signal input in[nIn];
    signal output out[nOut];
    signal output nonneg[nOut];

    component rescale[nOut];
    for (var j = 0; j < nOut; j++) {
        var acc = bias[j];
        for (var p = rowStart[j]; p < rowStart[j + 1]; p++) {
            acc += W[p] * in[cols[p]];
        }
        rescale[j] = Rescale(s, B[j]);
        rescale[j].in <== acc;
        out[j] <== rescale[j].out;
        nonneg[j] <== rescale[j].nonneg;
    }
}

// MaxPool: out[j] = max of in[idx[p]], p in [start[j], start[j+1]), as a chain m <- max(m, v):
//   d = m - v is range-checked to B[j] signed bits (SignedRange), which pins its sign bit, and
//   max(m, v) = v + nonneg(d) * d     (one multiplication)
// Without the range check a prover could claim any sign and pick the smaller value. nCmp = nIdx - nOut
// is the number of comparisons (at least 1).
template MaxPool(nOut, nIn, nIdx, nCmp, start, idx, B) {
    signal input in[nIn];
    signal output out[nOut];

    signal m[nIdx];
    component cmp[nCmp];
    var c = 0;
    for (var j = 0; j < nOut; j++) {
        m[start[j]] <== in[idx[start[j]]];
        for (var p = start[j] + 1; p < start[j + 1]; p++) {
            cmp[c] = SignedRange(B[j]);
            cmp[c].in <== m[p - 1] - in[idx[p]];
            m[p] <== in[idx[p]] + cmp[c].nonneg * (m[p - 1] - in[idx[p]]);
            c++;
        }
        out[j] <== m[start[j + 1] - 1];
    }
}

// Transpose, Slice, Gather, Pad, Concat: out[k] = in[idx[k]], or the constant c[k] where isConst[k] = 1.
// Wiring only: the optimizer removes these equalities.
template Gather(n, nIn, isConst, idx, c) {
    signal input in[nIn];
    signal output out[n];

    for (var k = 0; k < n; k++) {
        if (isConst[k] == 1) {
            out[k] <== c[k];
        } else {
            out[k] <== in[idx[k]];
        }
    }
}
