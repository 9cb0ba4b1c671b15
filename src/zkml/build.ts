/**
 * `buildCircuit`: ONNX model → quantized model → circom circuit → Groth16 proving and verifying keys.
 *
 * The output directory holds everything `prove` and `verify` need:
 *   model.circom, circuits/            generated circuit and the templates it includes
 *   model.r1cs, model.sym, model_js/   compiled constraint system, symbols, witness generator (wasm)
 *   model.zkey                         proving key (after a phase-2 contribution with random entropy)
 *   verification_key.json              snarkjs verifying key
 *   model.json                         metadata + the quantized model (see ZkModelMetadata)
 *   model.onnx                         the source model, the float reference for error reports
 */
import { createHash, randomBytes } from "node:crypto";
import { createReadStream } from "node:fs";
import { mkdir, open, readFile, rename, rm, writeFile } from "node:fs/promises";
import { basename, dirname, join, resolve } from "node:path";
import { snarkjs } from "./snarkjs.ts";
import type { ProgressListener } from "./progress.ts";
import { COMMITTED_VALUE_BITS, commitQuantized, packingFactor, type Commitment } from "../commitments/index.ts";
import { CIRCUIT_NAME, compileCircuit, generateCircom, publicSignalNames } from "./circuit.ts";
import { CircuitBuildError, ZkArtifactError } from "./errors.ts";
import { assertNotForgeable, loadVerificationKey, loadZkeyVerificationKey, verifyingKeyHash, type Groth16VerificationKey } from "./evm.ts";
import type { FloatGraph } from "./onnx.ts";
import { checkCircuitFits } from "./limits.ts";
import { ensureDevPtau, MAX_LOCAL_PTAU_POWER, readPtauInfo, requiredPtauPower } from "./ptau.ts";
import { collectingLogger, firstLine, snarkjsLogger, step } from "./progress.ts";
import {
  modelConstants,
  neuronCount,
  quantize,
  quantizedModelFromJson,
  quantizedModelToJson,
  type QuantizedModel,
} from "./quantize.ts";

/**
 * model.json's format. Version 4: the circuit commits its input AND its output with commitQuantized (packed
 * at the system-wide COMMITTED_VALUE_BITS, recorded as `commitment`), so proofs of version-3 builds (input
 * packed at the model's input width, output unpacked) carry other commitments. It records `artifacts`
 * (sha256 of the r1cs, wasm and zkey) and the quantized model's `outputBits`. Older builds are refused by
 * loadBuild (rebuild them).
 */
export const METADATA_FORMAT = "opg-zkml/4";

export const BUILD_FILES = {
  circom: `${CIRCUIT_NAME}.circom`,
  r1cs: `${CIRCUIT_NAME}.r1cs`,
  sym: `${CIRCUIT_NAME}.sym`,
  wasm: join(`${CIRCUIT_NAME}_js`, `${CIRCUIT_NAME}.wasm`),
  zkey: `${CIRCUIT_NAME}.zkey`,
  verificationKey: "verification_key.json",
  metadata: "model.json",
  onnx: "model.onnx",
} as const;

export interface R1csInfo {
  readonly constraints: number;
  readonly wires: number;
  readonly outputs: number;
  readonly publicInputs: number;
  readonly privateInputs: number;
}

/** model.json */
export interface ZkModelMetadata {
  readonly format: typeof METADATA_FORMAT;
  readonly name: string;
  readonly source: { readonly sha256: string; readonly producer: string; readonly opset: number; readonly irVersion: number };
  readonly scaleBits: number;
  readonly inputIntBits: number;
  readonly input: { readonly name: string; readonly shape: readonly number[] };
  readonly output: { readonly name: string; readonly shape: readonly number[] };
  /** Names of the public signals, in order. */
  readonly publicSignals: readonly string[];
  /**
   * How the public input and output commitments are computed: commitQuantized(values, scaleBits), i.e.
   * commitPacked(values, scaleBits, bits) with bits = COMMITTED_VALUE_BITS (the same for every model).
   */
  readonly commitment: { readonly scheme: "packed"; readonly bits: number; readonly valuesPerElement: number };
  /** commitQuantized over every weight, bias and constant in layer order (scale of the model). */
  readonly weightsCommitment: Commitment;
  /** keccak256 of encodeVerifyingKey(verification_key.json); loadBuild checks the key against it. */
  readonly verifyingKeyHash: string;
  /** sha256 (0x-hex) of the constraint system, witness generator and proving key, checked before use. */
  readonly artifacts: { readonly r1cs: string; readonly wasm: string; readonly zkey: string };
  /** True when the setup used a locally generated ptau: not for production. */
  readonly developmentOnly: boolean;
  /** `power` of the ptau used; `required` is what the circuit needs (2^required > constraints + public signals). */
  readonly ptau: { readonly power: number; readonly required: number; readonly origin: "local-development" | "provided"; readonly file: string };
  readonly circuit: R1csInfo & { readonly compiler: string; readonly optimization: string };
  readonly parameterCount: number;
  readonly neuronCount: number;
  readonly createdAt: string;
  readonly quantized: unknown;
}

export interface BuildOptions {
  readonly outDir: string;
  readonly scaleBits?: number;
  readonly inputIntBits?: number;
  /** A prepared powers-of-tau file; without one a local development ptau is used (and cached). */
  readonly ptauPath?: string;
  /** Where local ptaus are cached (default: ptauCacheDir()). */
  readonly ptauCacheDir?: string;
  /** Model name recorded in the metadata (default: the file name). */
  readonly name?: string;
  readonly onProgress?: ProgressListener;
}

export interface BuildResult {
  readonly dir: string;
  readonly metadata: ZkModelMetadata;
  readonly model: QuantizedModel;
  readonly graph: FloatGraph;
  /** The exported verifying key (also in verification_key.json). */
  readonly verificationKey: Groth16VerificationKey;
  /** Milliseconds per phase. */
  readonly timings: { readonly compile: number; readonly ptau: number; readonly setup: number; readonly total: number };
}

/** Reads the header of an .r1cs file (iden3 binary format). */
export async function readR1csInfo(path: string): Promise<R1csInfo> {
  const handle = await open(path, "r");
  try {
    const head = Buffer.alloc(12);
    await handle.read(head, 0, 12, 0);
    if (head.toString("latin1", 0, 4) !== "r1cs") throw new CircuitBuildError(`${path} is not an r1cs file`);
    const nSections = head.readUInt32LE(8);
    let offset = 12;
    const sectionHead = Buffer.alloc(12);
    for (let i = 0; i < nSections; i++) {
      await handle.read(sectionHead, 0, 12, offset);
      const type = sectionHead.readUInt32LE(0);
      const size = Number(sectionHead.readBigUInt64LE(4));
      if (type === 1) {
        const body = Buffer.alloc(size);
        await handle.read(body, 0, size, offset + 12);
        const n8 = body.readUInt32LE(0);
        let p = 4 + n8;
        const u32 = (): number => {
          const v = body.readUInt32LE(p);
          p += 4;
          return v;
        };
        const wires = u32();
        const outputs = u32();
        const publicInputs = u32();
        const privateInputs = u32();
        p += 8; // labels (u64)
        const constraints = u32();
        return { constraints, wires, outputs, publicInputs, privateInputs };
      }
      offset += 12 + size;
    }
    throw new CircuitBuildError(`${path} has no header section`);
  } finally {
    await handle.close();
  }
}

/** Builds circuit, keys and metadata for an ONNX model (bytes or a file path) into `options.outDir`. */
export async function buildCircuit(source: Uint8Array | string, options: BuildOptions): Promise<BuildResult> {
  const started = Date.now();
  const onProgress = options.onProgress;
  const bytes = typeof source === "string" ? await readModelFile(source) : source;
  const name = options.name ?? modelNameFromPath(source);
  const dir = resolve(options.outDir);
  await mkdir(dir, { recursive: true });

  // onnx-proto is loaded only to build: reading a build (loadBuild, verification) does not need it.
  const { importOnnx } = await import("./onnx.ts");
  const graph = importOnnx(bytes);
  const quantizeOptions: { scaleBits?: number; inputIntBits?: number } = {};
  if (options.scaleBits !== undefined) quantizeOptions.scaleBits = options.scaleBits;
  if (options.inputIntBits !== undefined) quantizeOptions.inputIntBits = options.inputIntBits;
  const model = quantize(graph, quantizeOptions);
  // Refuse what the ptau cannot hold before generating and compiling anything (limits.ts).
  if (options.ptauPath !== undefined) checkCircuitFits(model, (await readPtauInfo(options.ptauPath)).power, `the ptau ${options.ptauPath}`);
  else checkCircuitFits(model, MAX_LOCAL_PTAU_POWER, "the largest local development ptau");
  await writeFile(join(dir, BUILD_FILES.onnx), bytes);
  await writeFile(join(dir, BUILD_FILES.circom), generateCircom(model, name));

  const compileStart = Date.now();
  await compileCircuit(dir, onProgress === undefined ? {} : { onProgress });
  const compileMs = Date.now() - compileStart;
  const info = await readR1csInfo(join(dir, BUILD_FILES.r1cs));
  const power = requiredPtauPower(info.constraints, info.outputs + info.publicInputs);

  const ptauStart = Date.now();
  let ptau: { path: string; power: number; origin: "local-development" | "provided" };
  if (options.ptauPath !== undefined) {
    const provided = await readPtauInfo(options.ptauPath);
    if (!provided.prepared) throw new CircuitBuildError(`${options.ptauPath} is not prepared for phase 2 (run prepare phase2)`);
    if (provided.power < power) {
      throw new CircuitBuildError(`the circuit needs a ptau of power ${power}, ${options.ptauPath} has power ${provided.power}`);
    }
    ptau = { path: resolve(options.ptauPath), power: provided.power, origin: "provided" };
  } else {
    const local = await ensureDevPtau(power, {
      ...(options.ptauCacheDir === undefined ? {} : { cacheDir: options.ptauCacheDir }),
      ...(onProgress === undefined ? {} : { onProgress }),
    });
    ptau = { ...local, origin: "local-development" };
  }
  const ptauMs = Date.now() - ptauStart;

  const setupStart = Date.now();
  const zkeyPath = join(dir, BUILD_FILES.zkey);
  const initialZkey = join(dir, `${CIRCUIT_NAME}_0000.zkey`);
  const sj = await snarkjs();
  let setupStep = "setup: groth16";
  try {
    await step(setupStep, onProgress, () =>
      sj.zKey.newZKey(join(dir, BUILD_FILES.r1cs), ptau.path, initialZkey, snarkjsLogger("setup: groth16", onProgress)),
    );
    // Phase 2: without this contribution delta = gamma and proofs are forgeable.
    setupStep = "setup: phase-2 contribution";
    await step(setupStep, onProgress, () =>
      sj.zKey.contribute(
        initialZkey,
        zkeyPath,
        "opg-verifier build contribution",
        randomBytes(64).toString("hex"),
        snarkjsLogger("setup: phase-2 contribution", onProgress),
      ),
    );
  } catch (error) {
    throw new CircuitBuildError(`Groth16 setup failed at "${setupStep}": ${firstLine(error)}`, { cause: error });
  } finally {
    await rm(initialZkey, { force: true });
  }
  const vk = await sj.zKey.exportVerificationKey(zkeyPath);
  assertNotForgeable(vk, zkeyPath);
  await writeFile(join(dir, BUILD_FILES.verificationKey), JSON.stringify(vk, null, 1) + "\n");
  const setupMs = Date.now() - setupStart;

  const metadata: ZkModelMetadata = {
    format: METADATA_FORMAT,
    name,
    source: {
      sha256: `0x${createHash("sha256").update(bytes).digest("hex")}`,
      producer: graph.producer,
      opset: graph.opset,
      irVersion: graph.irVersion,
    },
    scaleBits: model.scaleBits,
    inputIntBits: model.inputIntBits,
    input: { name: model.input.name, shape: model.input.shape },
    output: { name: model.output.name, shape: model.output.shape },
    publicSignals: publicSignalNames(model.output.size),
    commitment: { scheme: "packed", bits: COMMITTED_VALUE_BITS, valuesPerElement: packingFactor(COMMITTED_VALUE_BITS) },
    weightsCommitment: await weightsCommitment(model),
    verifyingKeyHash: verifyingKeyHash(vk),
    artifacts: {
      r1cs: await fileSha256(join(dir, BUILD_FILES.r1cs)),
      wasm: await fileSha256(join(dir, BUILD_FILES.wasm)),
      zkey: await fileSha256(zkeyPath),
    },
    developmentOnly: ptau.origin === "local-development",
    ptau: { power: ptau.power, required: power, origin: ptau.origin, file: basename(ptau.path) },
    circuit: { ...info, compiler: "circom2 (wasm) 2.2.x", optimization: "O2" },
    parameterCount: model.parameterCount,
    neuronCount: neuronCount(model),
    createdAt: new Date().toISOString(),
    quantized: quantizedModelToJson(model),
  };
  const metadataPath = join(dir, BUILD_FILES.metadata);
  await writeFile(`${metadataPath}.tmp`, JSON.stringify(metadata, null, 1) + "\n");
  await rename(`${metadataPath}.tmp`, metadataPath);

  return {
    dir,
    metadata,
    model,
    graph,
    verificationKey: vk,
    timings: { compile: compileMs, ptau: ptauMs, setup: setupMs, total: Date.now() - started },
  };
}

/**
 * commitQuantized over the model's constants (dense weights row-major then biases, layer by layer, then
 * additive constants), with the model's scale in the domain tag. A model without constants commits to [0].
 */
export async function weightsCommitment(model: QuantizedModel): Promise<Commitment> {
  const constants = modelConstants(model);
  return commitQuantized(constants.length > 0 ? constants : [0n], model.scaleBits);
}

/** "…/mlp/model.onnx" → "mlp" (generic file names take the folder's name), "…/mlp.onnx" → "mlp". */
function modelNameFromPath(source: Uint8Array | string): string {
  if (typeof source !== "string") return "model";
  const stem = basename(source).replace(/\.onnx$/i, "");
  const folder = basename(dirname(resolve(source)));
  return ["model", "network"].includes(stem) && folder !== "" && folder !== "/" ? folder : stem;
}

async function readModelFile(path: string): Promise<Uint8Array> {
  try {
    return await readFile(path);
  } catch (error) {
    throw new ZkArtifactError(`cannot read model ${path}`, { cause: error });
  }
}

/** A loaded build directory. */
export interface ZkBuild {
  readonly dir: string;
  readonly metadata: ZkModelMetadata;
  readonly model: QuantizedModel;
  /** verification_key.json, checked: Groth16 BN254, consistent, delta ≠ gamma. */
  readonly verificationKey: Groth16VerificationKey;
  readonly paths: { readonly [K in keyof typeof BUILD_FILES]: string };
}

/** sha256 of a file as 0x-hex, streamed. */
export async function fileSha256(path: string): Promise<string> {
  const hash = createHash("sha256");
  try {
    for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  } catch (error) {
    throw new ZkArtifactError(`cannot read ${path}`, { cause: error });
  }
  return `0x${hash.digest("hex")}`;
}

/** The large build files whose hashes model.json records. */
export type BuildArtifact = keyof ZkModelMetadata["artifacts"];

/**
 * Checks that the named files of a loaded build are the ones model.json recorded (sha256), e.g. the
 * wasm and zkey before proving, the r1cs and zkey before a ceremony check. Throws ZkArtifactError.
 */
export async function checkBuildArtifacts(build: ZkBuild, which: readonly BuildArtifact[]): Promise<void> {
  for (const name of which) {
    const actual = await fileSha256(build.paths[name]);
    const recorded = build.metadata.artifacts[name];
    if (actual !== recorded) {
      throw new ZkArtifactError(`${build.paths[name]} is not the file this build recorded (sha256 ${actual}, model.json says ${recorded})`, {
        details: { file: name, actual, recorded },
      });
    }
  }
}

/**
 * Loads a build directory: model.json and verification_key.json, refusing a forgeable key, a key whose
 * hash is not model.json's verifyingKeyHash (e.g. swapped for another circuit's key) or one that does
 * not match the metadata. The large files are checked where they are used (checkBuildArtifacts).
 */
export async function loadBuild(dir: string): Promise<ZkBuild> {
  const root = resolve(dir);
  const paths = Object.fromEntries(Object.entries(BUILD_FILES).map(([k, v]) => [k, join(root, v)])) as {
    [K in keyof typeof BUILD_FILES]: string;
  };
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(paths.metadata, "utf8"));
  } catch (error) {
    throw new ZkArtifactError(`${root} is not a zk build directory (cannot read ${BUILD_FILES.metadata})`, { cause: error });
  }
  const metadata = raw as ZkModelMetadata;
  if (typeof raw !== "object" || raw === null) throw new ZkArtifactError(`${paths.metadata} is not an ${METADATA_FORMAT} metadata file`);
  if (["opg-zkml/1", "opg-zkml/2", "opg-zkml/3"].includes(metadata.format as string)) {
    throw new ZkArtifactError(`${root} was built by an older toolkit (${String(metadata.format)}): rebuild it with opg zk build`);
  }
  if (metadata.format !== METADATA_FORMAT) throw new ZkArtifactError(`${paths.metadata} is not an ${METADATA_FORMAT} metadata file`);
  const artifacts = metadata.artifacts as Partial<Record<BuildArtifact, unknown>> | undefined;
  const sha256 = /^0x[0-9a-f]{64}$/;
  if (typeof artifacts !== "object" || artifacts === null || !(["r1cs", "wasm", "zkey"] as const).every((k) => typeof artifacts[k] === "string" && sha256.test(artifacts[k]))) {
    throw new ZkArtifactError(`${paths.metadata} has no valid artifact hashes (artifacts.r1cs, .wasm, .zkey)`);
  }
  const model = quantizedModelFromJson(metadata.quantized);
  const packed = metadata.commitment as Partial<ZkModelMetadata["commitment"]> | undefined;
  if (
    typeof packed !== "object" || packed === null || packed.scheme !== "packed" ||
    packed.bits !== COMMITTED_VALUE_BITS || packed.valuesPerElement !== packingFactor(COMMITTED_VALUE_BITS)
  ) {
    throw new ZkArtifactError(`${paths.metadata} has no valid commitment scheme (commitment: packed at the ${COMMITTED_VALUE_BITS}-bit committed value width)`);
  }
  const verificationKey = await loadVerificationKey(paths.verificationKey);
  const keyHash = verifyingKeyHash(verificationKey);
  if (keyHash !== metadata.verifyingKeyHash) {
    throw new ZkArtifactError(
      `${paths.verificationKey} is not the key this build made (hash ${keyHash}, model.json says ${String(metadata.verifyingKeyHash)})`,
      { details: { actual: keyHash, recorded: metadata.verifyingKeyHash } },
    );
  }
  if (verificationKey.nPublic !== metadata.publicSignals.length) {
    throw new ZkArtifactError(`${paths.verificationKey} has ${verificationKey.nPublic} public signals, the model ${metadata.publicSignals.length}`);
  }
  return { dir: root, metadata, model, verificationKey, paths };
}

/**
 * Checks that a build's proving key was made from its constraint system and the given powers-of-tau
 * ceremony file (`snarkjs zkey verify`), that the r1cs and zkey are the files model.json recorded and
 * that the zkey's verifying key is the build's key. Groth16 trusts the setup: run this before registering
 * a model whose build you did not make. Throws ZkArtifactError (or CircuitBuildError for a bad ptau).
 */
export async function verifyBuildSetup(build: ZkBuild, ptauPath: string, options: { readonly onProgress?: ProgressListener } = {}): Promise<void> {
  const ptau = resolve(ptauPath);
  const info = await readPtauInfo(ptau);
  if (!info.prepared) throw new CircuitBuildError(`${ptau} is not prepared for phase 2`);
  await checkBuildArtifacts(build, ["r1cs", "zkey"]);
  const zkeyVk = await loadZkeyVerificationKey(build.paths.zkey);
  if (verifyingKeyHash(zkeyVk) !== build.metadata.verifyingKeyHash) {
    throw new ZkArtifactError(`${build.paths.zkey} does not hold the build's verifying key`);
  }
  const logger = collectingLogger();
  let verified: boolean;
  try {
    verified = await step("verify setup against the ceremony", options.onProgress, () =>
      snarkjs().then((sj) => sj.zKey.verifyFromR1cs(build.paths.r1cs, ptau, build.paths.zkey, logger)),
    );
  } catch (error) {
    throw new ZkArtifactError(`cannot verify ${build.paths.zkey} against ${ptau}`, { cause: error });
  }
  if (!verified) {
    const reason = logger.warnings.find((w) => w.trim() !== "") ?? "the zkey does not derive from them";
    throw new ZkArtifactError(`${build.paths.zkey} was not made from ${build.paths.r1cs} and the ceremony ${ptau}: ${reason.trim()}`);
  }
}
