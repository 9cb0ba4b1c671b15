/**
 * Groth16 proving from a proving key held in memory, for the warm prover (prover.ts).
 *
 * It is snarkjs's Groth16 prover (same zkey, same curve engine, same steps, same proof distribution), with
 * the work that does not depend on the witness done once per key instead of once per proof:
 *   - the zkey is parsed once: its header, and its point sections kept as the buffers the multi-exponen-
 *     tiations take;
 *   - the QAP evaluation (A·w, B·w and their product on the domain) runs in the curve's WebAssembly
 *     workers (`qap_buildABC`), on coefficients sorted once by constraint and cut into one slice per worker.
 *     snarkjs 0.7.6 evaluates it in JavaScript, one coefficient at a time: about a quarter of the proving
 *     time of an MNIST-size circuit (300,000 coefficients, ~0.9 s);
 *   - the point sections are held in buffers of their own: the engine sends a buffer to a worker whole, so
 *     a view into the file would copy the whole key for every chunk of every multi-exponentiation.
 * Measured on the MNIST MLP (22,270 wires, domain 2^15): the QAP step takes ~0.1 s of CPU instead of
 * ~0.9–1.8 s; the FFTs and multi-exponentiations are the engine's, unchanged (npm run bench: zk).
 *
 * The math (Groth16, BN254, snarkjs's key layout): with h = (A·B − C) / Z evaluated on the odd coset,
 *   π_A = α + Σ w_i·A_i + r·δ,  π_B = β + Σ w_i·B_i + s·δ (G2),  π_C = Σ_{private} w_i·C_i + Σ h_j·H_j
 *         + s·π_A + r·(β + Σ w_i·B_i + s·δ)_G1 − r·s·δ.
 * Every proof is checked by snarkjs's verifier in the tests (test/zkml/prover.test.ts).
 */
import type { Groth16Proof } from "snarkjs";
import { snarkjs } from "./snarkjs.ts";
import { ZkArtifactError, ZkProveError } from "./errors.ts";

/** The part of ffjavascript's BN254 engine (snarkjs's curve) used here; elements and points are buffers. */
type Buf = Uint8Array;
interface FieldEngine {
  readonly n8: number;
  readonly s: number;
  readonly shift: Buf;
  readonly w: Buf[];
  e(value: number | bigint): Buf;
  neg(a: Buf): Buf;
  mul(a: Buf, b: Buf): Buf;
  random(): Buf;
  toObject(a: Buf): bigint;
  fromRprLE(buff: Buf, offset: number): Buf;
  ifft(buff: Buf, inType: string, outType: string): Promise<Buf>;
  fft(buff: Buf, inType: string, outType: string): Promise<Buf>;
  batchApplyKey(buff: Buf, first: Buf, inc: Buf): Promise<Buf>;
}
interface GroupEngine {
  fromRprLEM(buff: Buf, offset: number): Buf;
  add(a: Buf, b: Buf): Buf;
  timesFr(p: Buf, scalar: Buf): Buf;
  toAffine(p: Buf): Buf;
  toObject(p: Buf): unknown;
  multiExpAffine(bases: Buf, scalars: Buf): Promise<Buf>;
}
interface TaskCommand {
  readonly cmd: string;
  readonly [key: string]: unknown;
}
interface CurveEngine {
  readonly name: string;
  readonly Fr: FieldEngine;
  readonly G1: GroupEngine;
  readonly G2: GroupEngine;
  readonly tm: { readonly concurrency: number; queueAction(task: TaskCommand[]): Promise<Buf[]> };
}

/** snarkjs's BN254 engine, shared by the process (built again after releaseZkResources stopped it). */
async function bn128(): Promise<CurveEngine> {
  return (await (await snarkjs()).curves.getCurveFromName("bn128")) as CurveEngine;
}

/** Sections of a .zkey file (iden3 binary format, Groth16). */
const ZKEY_HEADER = 1;
const GROTH16_HEADER = 2;
const COEFFICIENTS = 4;
const POINTS_A = 5;
const POINTS_B1 = 6;
const POINTS_B2 = 7;
const POINTS_C = 8;
const POINTS_H = 9;
const GROTH16 = 1;

function readSections(bytes: Uint8Array, magic: string): Map<number, Uint8Array> {
  if (bytes.length < 12 || String.fromCharCode(...bytes.subarray(0, 4)) !== magic) throw new ZkArtifactError(`not a ${magic} file`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const sections = new Map<number, Uint8Array>();
  let offset = 12;
  const count = view.getUint32(8, true);
  for (let i = 0; i < count; i++) {
    if (offset + 12 > bytes.length) throw new ZkArtifactError(`truncated ${magic} file`);
    const id = view.getUint32(offset, true);
    const size = Number(view.getBigUint64(offset + 4, true));
    offset += 12;
    if (offset + size > bytes.length) throw new ZkArtifactError(`truncated ${magic} file`);
    if (sections.has(id)) throw new ZkArtifactError(`${magic} file repeats section ${id}`);
    sections.set(id, bytes.subarray(offset, offset + size));
    offset += size;
  }
  return sections;
}

/**
 * A copy of a section in its own buffer. A view would make every message to a worker clone the whole
 * file's buffer (and a Node Buffer's `slice` is a view): twice the proving time on an MNIST-size key.
 */
function section(sections: Map<number, Uint8Array>, id: number): Uint8Array {
  const s = sections.get(id);
  if (s === undefined) throw new ZkArtifactError(`the proving key has no section ${id}`);
  return new Uint8Array(s);
}

/** `bytes` in a buffer of its own (see section()). */
function owned(bytes: Uint8Array): Uint8Array {
  return bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength ? bytes : new Uint8Array(bytes);
}

/** The witness values (section 2) of a .wtns file, as the little-endian field elements the prover takes. */
export function witnessValues(wtns: Uint8Array): Uint8Array {
  return section(readSections(wtns, "wtns"), 2);
}

export interface Groth16ProvingKey {
  readonly nVars: number;
  readonly nPublic: number;
  readonly domainSize: number;
  /** Proves from a witness (all wire values, 32-byte little-endian each, as in a .wtns section 2). */
  prove(witness: Uint8Array): Promise<{ proof: Groth16Proof; publicSignals: string[] }>;
}

/** Parses a Groth16 .zkey held in memory and prepares what every proof reuses. */
export async function loadGroth16ProvingKey(zkey: Uint8Array): Promise<Groth16ProvingKey> {
  const sections = readSections(zkey, "zkey");
  const protocol = new DataView(section(sections, ZKEY_HEADER).buffer, section(sections, ZKEY_HEADER).byteOffset).getUint32(0, true);
  if (protocol !== GROTH16) throw new ZkArtifactError("the proving key is not a Groth16 key");
  const header = section(sections, GROTH16_HEADER);
  const hv = new DataView(header.buffer, header.byteOffset, header.byteLength);
  const n8q = hv.getUint32(0, true);
  const n8r = hv.getUint32(4 + n8q, true);
  let at = 8 + n8q + n8r;
  const nVars = hv.getUint32(at, true);
  const nPublic = hv.getUint32(at + 4, true);
  const domainSize = hv.getUint32(at + 8, true);
  at += 12;
  if (n8q !== 32 || n8r !== 32) throw new ZkArtifactError("the proving key is not on BN254");

  const { Fr, G1, G2, tm } = await bn128();
  const g1 = (): Buf => {
    const p = G1.fromRprLEM(header, at);
    at += 2 * n8q;
    return p;
  };
  const g2 = (): Buf => {
    const p = G2.fromRprLEM(header, at);
    at += 4 * n8q;
    return p;
  };
  const alpha1 = g1();
  const beta1 = g1();
  const beta2 = g2();
  g2(); // gamma2: verification only
  const delta1 = g1();
  const delta2 = g2();

  const basesA = section(sections, POINTS_A);
  const basesB1 = section(sections, POINTS_B1);
  const basesB2 = section(sections, POINTS_B2);
  const basesC = section(sections, POINTS_C);
  const basesH = section(sections, POINTS_H);
  if (basesA.length !== nVars * 2 * n8q || basesB2.length !== nVars * 4 * n8q || basesC.length !== (nVars - nPublic - 1) * 2 * n8q || basesH.length !== domainSize * 2 * n8q) {
    throw new ZkArtifactError("the proving key's point sections do not match its header");
  }

  // Coefficients (m: 0 = A, 1 = B; c: constraint; s: wire; value), sorted by constraint and cut into one
  // slice per worker, each slice covering a contiguous range of the domain.
  const coefficients = section(sections, COEFFICIENTS);
  const cv = new DataView(coefficients.buffer, coefficients.byteOffset, coefficients.byteLength);
  const nCoef = cv.getUint32(0, true);
  const size = 12 + n8r;
  if (coefficients.length !== 4 + nCoef * size) throw new ZkArtifactError("the proving key's coefficient section is malformed");
  const order = Array.from({ length: nCoef }, (_, i) => i).sort((a, b) => cv.getUint32(4 + a * size + 4, true) - cv.getUint32(4 + b * size + 4, true));
  const workers = Math.max(1, tm.concurrency);
  const perWorker = Math.ceil(domainSize / workers);
  const slices: { readonly coefs: Uint8Array; readonly count: number; readonly from: number; readonly n: number }[] = [];
  let next = 0;
  for (let w = 0; w < workers; w++) {
    const from = w * perWorker;
    const n = Math.min(perWorker, domainSize - from);
    if (n <= 0) break;
    const start = next;
    while (next < nCoef && cv.getUint32(4 + order[next]! * size + 4, true) < from + n) next++;
    const coefs = new Uint8Array((next - start) * size);
    for (let k = start; k < next; k++) coefs.set(coefficients.subarray(4 + order[k]! * size, 4 + (order[k]! + 1) * size), (k - start) * size);
    slices.push({ coefs, count: next - start, from, n });
  }
  if (next !== nCoef) throw new ZkArtifactError("the proving key has coefficients outside its domain");

  const power = Math.log2(domainSize);
  if (!Number.isInteger(power)) throw new ZkArtifactError("the proving key's domain is not a power of two");
  const inc = power === Fr.s ? Fr.shift : Fr.w[power + 1]!;
  const n8 = Fr.n8;

  /** A·w, B·w and their pointwise product, on the domain, computed by the workers slice by slice. */
  async function evaluateQap(curve: CurveEngine, witness: Uint8Array): Promise<[Buf, Buf, Buf]> {
    const results = await Promise.all(
      slices.map((s) =>
        curve.tm.queueAction([
          { cmd: "ALLOCSET", var: 0, buff: s.coefs },
          { cmd: "ALLOCSET", var: 1, buff: witness },
          { cmd: "ALLOC", var: 2, len: s.n * n8 },
          { cmd: "ALLOC", var: 3, len: s.n * n8 },
          { cmd: "ALLOC", var: 4, len: s.n * n8 },
          { cmd: "CALL", fnName: "qap_buildABC", params: [{ var: 0 }, { val: s.count }, { var: 1 }, { var: 2 }, { var: 3 }, { var: 4 }, { val: s.from }, { val: s.n }, { val: 0 }, { val: nVars }] },
          { cmd: "GET", out: 0, var: 2, len: s.n * n8 },
          { cmd: "GET", out: 1, var: 3, len: s.n * n8 },
          { cmd: "GET", out: 2, var: 4, len: s.n * n8 },
        ]),
      ),
    );
    const out: [Buf, Buf, Buf] = [new Uint8Array(domainSize * n8), new Uint8Array(domainSize * n8), new Uint8Array(domainSize * n8)];
    results.forEach((r, i) => out.forEach((buff, m) => buff.set(r[m]!, slices[i]!.from * n8)));
    return out;
  }

  /** Evaluations on the domain → evaluations on the odd coset (the H points are for that coset). */
  async function toCoset({ Fr }: CurveEngine, values: Buf): Promise<Buf> {
    return Fr.fft(await Fr.batchApplyKey(await Fr.ifft(values, "", ""), Fr.e(1), inc), "", "");
  }

  /** (A·B − C) on the coset, out of Montgomery form: the scalars of the H multi-exponentiation. */
  async function joinQap(curve: CurveEngine, a: Buf, b: Buf, c: Buf): Promise<Buf> {
    const chunk = Math.ceil(domainSize / workers);
    const parts = await Promise.all(
      Array.from({ length: Math.ceil(domainSize / chunk) }, (_, i) => {
        const from = i * chunk * n8;
        const n = Math.min(chunk, domainSize - i * chunk);
        return curve.tm.queueAction([
          { cmd: "ALLOCSET", var: 0, buff: a.slice(from, from + n * n8) },
          { cmd: "ALLOCSET", var: 1, buff: b.slice(from, from + n * n8) },
          { cmd: "ALLOCSET", var: 2, buff: c.slice(from, from + n * n8) },
          { cmd: "ALLOC", var: 3, len: n * n8 },
          { cmd: "CALL", fnName: "qap_joinABC", params: [{ var: 0 }, { var: 1 }, { var: 2 }, { val: n }, { var: 3 }] },
          { cmd: "CALL", fnName: "frm_batchFromMontgomery", params: [{ var: 3 }, { val: n }, { var: 3 }] },
          { cmd: "GET", out: 0, var: 3, len: n * n8 },
        ]);
      }),
    );
    const out = new Uint8Array(domainSize * n8);
    let p = 0;
    for (const part of parts) {
      out.set(part[0]!, p);
      p += part[0]!.length;
    }
    return out;
  }

  return {
    nVars,
    nPublic,
    domainSize,
    async prove(witness) {
      // Own buffer (see section()): the workers receive it whole.
      witness = owned(witness);
      if (witness.length !== nVars * n8) throw new ZkProveError(`the witness has ${witness.length / n8} values, the circuit ${nVars}`);
      try {
        // The engine of now: releaseZkResources stops the workers, and the next user builds new ones.
        const curve = await bn128();
        const { Fr, G1, G2 } = curve;
        const [aT, bT, cT] = await evaluateQap(curve, witness);
        const aOdd = await toCoset(curve, aT);
        const bOdd = await toCoset(curve, bT);
        const cOdd = await toCoset(curve, cT);
        const hScalars = await joinQap(curve, aOdd, bOdd, cOdd);
        const sumA = await G1.multiExpAffine(basesA, witness);
        const sumB1 = await G1.multiExpAffine(basesB1, witness);
        const sumB2 = await G2.multiExpAffine(basesB2, witness);
        const sumC = await G1.multiExpAffine(basesC, new Uint8Array(witness.subarray((nPublic + 1) * n8)));
        const sumH = await G1.multiExpAffine(basesH, hScalars);

        const r = Fr.random();
        const s = Fr.random();
        const piA = G1.add(G1.add(sumA, alpha1), G1.timesFr(delta1, r));
        const piB = G2.add(G2.add(sumB2, beta2), G2.timesFr(delta2, s));
        const b1 = G1.add(G1.add(sumB1, beta1), G1.timesFr(delta1, s));
        let piC = G1.add(sumC, sumH);
        piC = G1.add(piC, G1.timesFr(piA, s));
        piC = G1.add(piC, G1.timesFr(b1, r));
        piC = G1.add(piC, G1.timesFr(delta1, Fr.neg(Fr.mul(r, s))));

        const publicSignals: string[] = [];
        for (let i = 1; i <= nPublic; i++) publicSignals.push(leToBigInt(witness.subarray(i * n8, (i + 1) * n8)).toString());
        const proof: Groth16Proof = {
          pi_a: stringify(G1.toObject(G1.toAffine(piA))),
          pi_b: stringify(G2.toObject(G2.toAffine(piB))),
          pi_c: stringify(G1.toObject(G1.toAffine(piC))),
          protocol: "groth16",
          curve: curve.name,
        } as Groth16Proof;
        return { proof, publicSignals };
      } catch (error) {
        throw new ZkProveError("Groth16 proving failed", { cause: error });
      }
    },
  };
}

function leToBigInt(bytes: Uint8Array): bigint {
  let v = 0n;
  for (let i = bytes.length - 1; i >= 0; i--) v = (v << 8n) | BigInt(bytes[i]!);
  return v;
}

/** ffjavascript's toObject gives nested arrays of bigints; proofs carry decimal strings. */
function stringify<T>(value: unknown): T {
  if (Array.isArray(value)) return value.map((v) => stringify(v)) as T;
  return String(value) as T;
}
