/**
 * Witness helpers: compute a circuit's witness from quantized inputs, read it as field elements,
 * write a (possibly altered) witness back to the iden3 .wtns format and check it against the r1cs.
 * `checkWitness` is what the forged-witness soundness tests use.
 */
import { snarkjs } from "./snarkjs.ts";
import { SNARK_SCALAR_FIELD } from "../commitments/index.ts";
import { ZkProveError } from "./errors.ts";
import { collectingLogger } from "./progress.ts";
import { fieldString } from "./quantize.ts";

/** An in-memory file for snarkjs (fastfile "mem" type). */
export interface MemFile {
  type: "mem";
  data?: Uint8Array;
}

/** Circuit input object for the generated main template. */
export function circuitInput(input: readonly bigint[], binding: bigint): Record<string, string | string[]> {
  return { in: input.map(fieldString), binding: fieldString(binding) };
}

/**
 * Runs the circuit's wasm witness generator (a file path, or its bytes already in memory); throws
 * ZkProveError when a constraint fails.
 */
export async function calculateWitness(wasm: string | Uint8Array, input: Record<string, unknown>): Promise<MemFile> {
  const file: MemFile = { type: "mem" };
  try {
    await (await snarkjs()).wtns.calculate(input, typeof wasm === "string" ? wasm : { type: "mem", data: wasm }, file);
  } catch (error) {
    const message = error instanceof Error ? (error.message.split("\n")[0] ?? "") : String(error);
    throw new ZkProveError(`witness generation failed: ${message}`, { cause: error });
  }
  return file;
}

/** The witness as field elements (index 0 is the constant 1, then outputs, public inputs, …). */
export async function readWitness(file: MemFile | string): Promise<bigint[]> {
  return (await (await snarkjs()).wtns.exportJson(file)).map((v) => BigInt(v));
}

/** Serializes field elements as a .wtns (version 2) file. */
export function encodeWitness(witness: readonly bigint[]): Uint8Array {
  const n8 = 32;
  const header = 4 + n8 + 4;
  const body = witness.length * n8;
  const out = Buffer.alloc(12 + 12 + header + 12 + body);
  let p = 0;
  out.write("wtns", p, "latin1");
  p += 4;
  out.writeUInt32LE(2, p); // version
  p += 4;
  out.writeUInt32LE(2, p); // sections
  p += 4;
  const writeField = (v: bigint): void => {
    let x = ((v % SNARK_SCALAR_FIELD) + SNARK_SCALAR_FIELD) % SNARK_SCALAR_FIELD;
    for (let i = 0; i < n8; i++) {
      out[p + i] = Number(x & 0xffn);
      x >>= 8n;
    }
    p += n8;
  };
  out.writeUInt32LE(1, p);
  out.writeBigUInt64LE(BigInt(header), p + 4);
  p += 12;
  out.writeUInt32LE(n8, p);
  p += 4;
  let q = SNARK_SCALAR_FIELD;
  for (let i = 0; i < n8; i++) {
    out[p + i] = Number(q & 0xffn);
    q >>= 8n;
  }
  p += n8;
  out.writeUInt32LE(witness.length, p);
  p += 4;
  out.writeUInt32LE(2, p);
  out.writeBigUInt64LE(BigInt(body), p + 4);
  p += 12;
  for (const v of witness) writeField(v);
  return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
}

/**
 * Checks every constraint of the r1cs against the witness (snarkjs `wtns check`). Returns false, with
 * snarkjs's message, when one fails.
 */
export async function checkWitness(r1csPath: string, witness: readonly bigint[] | MemFile): Promise<{ ok: boolean; message: string }> {
  const file: MemFile = Array.isArray(witness) ? { type: "mem", data: encodeWitness(witness) } : (witness as MemFile);
  const logger = collectingLogger();
  const ok = await (await snarkjs()).wtns.check(r1csPath, file, logger);
  return { ok, message: logger.warnings.join("; ") };
}
