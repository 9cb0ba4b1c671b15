pragma circom 2.1.0;

// Element-wise additions (numpy broadcasting resolved into index maps). Linear: no multiplication.

// out[k] = a[ia[k]] + b[ib[k]]
template Add(n, na, nb, ia, ib) {
    signal input a[na];
    signal input b[nb];
    signal output out[n];

    for (var k = 0; k < n; k++) {
        out[k] <== a[ia[k]] + b[ib[k]];
    }
}

// out[k] = in[idx[k]] + c[k], c at scale 2^s
template AddConst(n, nIn, idx, c) {
    signal input in[nIn];
    signal output out[n];

    for (var k = 0; k < n; k++) {
        out[k] <== in[idx[k]] + c[k];
    }
}
