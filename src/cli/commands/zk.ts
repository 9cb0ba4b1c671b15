import { readFile, writeFile } from "node:fs/promises";
import { resolve } from "node:path";
// Light imports only: each command loads what it runs (`opg zk verify` needs neither ethers, nor snarkjs,
// nor onnx-proto unless it reads the chain), which keeps verification a fraction of a second.
import { InvalidInputError } from "../../errors.ts";
import { ZkArtifactError, ZkProofFormatError } from "../../zkml/errors.ts";
import { releaseZkResources } from "../../zkml/snarkjs.ts";
import { CHAIN_OPTIONS, CHAIN_USAGE } from "../chain-options.ts";
import { UsageError } from "../errors.ts";
import { parseOptions } from "../main.ts";
import { progressReporter } from "../progress.ts";
import type { CliCommand } from "../types.ts";

const BUILD_USAGE = `Usage: opg zk build <model.onnx> --out <dir> [--scale-bits N] [--input-int-bits N] [--ptau <file>]

Turns an ONNX model (opset >= 7; Gemm, MatMul, Add, Relu, Flatten, Reshape, Identity, Cast, Conv, AveragePool,
GlobalAveragePool, MaxPool, BatchNormalization, Transpose, Concat, Slice, Squeeze, Unsqueeze, Gather, Pad) into
a Groth16 circuit with the weights as constants. <dir> receives the circuit (model.circom, .r1cs, wasm), the proving key
(model.zkey, after a phase-2 contribution), verification_key.json (snarkjs format) and model.json.

Options:
  --out <dir>         output directory (created if missing)
  --scale-bits <N>    fixed-point scale: values are round(x * 2^N) (default 12)
  --input-int-bits <N>  inputs must lie in [-2^N, 2^N) (default 6); each input costs scale + N + 1
                      constraints, so a narrow range (1 for pixels in [0, 1]) makes image models much smaller
  --ptau <file>       prepared powers-of-tau file from a ceremony; without it a local one is generated and
                      cached ($OPG_CACHE_DIR/ptau or ~/.cache/opg-verifier/ptau) and the build is marked
                      development-only
`;

const PROVE_USAGE = `Usage: opg zk prove <dir> --input <input.json> --out <proof.json> [--binding <hex>]

Proves one inference of the model built in <dir>. input.json is {"input": <nested array>}. proof.json holds the
proof, the public signals [inputCommitment, outputCommitment, out_0..out_n-1, binding] and the decoded float
outputs ("output", nested like the model's output shape).

Options:
  --input <file>      input JSON
  --out <file>        where to write proof.json
  --binding <hex>     the binding public input: bindingOf(receiptId, operator) = keccak256(abi.encode(id, operator)) mod p
                      (any hex is reduced mod the BN254 scalar field; default 0)
`;

const VERIFY_USAGE = `Usage: opg zk verify <dir> <proof.json> [--key-hash <0x…> | --model <id> [chain options]]

Verifies proof.json against the verifying key in <dir>. Exit code 0 only if the proof is valid. The key must
be the one <dir>/model.json records and the one proof.json names; a build directory can be edited, so pass
the key you trust too:

Options:
  --key-hash <0x…>     keccak256 of the expected verifying key (as \`opg zk build\` prints it)
  --model <id>         a registered model: its on-chain verifying key must be the build's key
${CHAIN_USAGE}
`;

async function readJson(path: string, what: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    const reason = error instanceof Error && "code" in error ? String(error.code) : String(error);
    throw new ZkArtifactError(`cannot read ${what} ${path} (${reason})`, { cause: error });
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new ZkProofFormatError(`${what} ${path} is not valid JSON`, { cause: error });
  }
}

/** checkBytes32 of receipts/receipt.ts, which would load ethers. */
function bytes32Option(text: string, what: string): string {
  if (!/^0x[0-9a-fA-F]{64}$/.test(text)) throw new InvalidInputError(`${what} must be 32 bytes of 0x-prefixed hex, got "${text}"`);
  return text.toLowerCase();
}

/** `opg zk build`. */
export const zkBuildCommand: CliCommand = {
  path: ["zk", "build"],
  summary: "Compile an ONNX model into a Groth16 circuit and keys",
  usage: BUILD_USAGE,
  async run(args, io) {
    const { values, positionals } = parseOptions(
      args,
      { out: { type: "string" }, "scale-bits": { type: "string" }, "input-int-bits": { type: "string" }, ptau: { type: "string" } },
      { min: 1, max: 1, names: "<model.onnx>" },
    );
    if (values.out === undefined) throw new UsageError("--out <dir> is required");
    let scaleBits: number | undefined;
    if (values["scale-bits"] !== undefined) {
      if (!/^\d+$/.test(values["scale-bits"])) throw new UsageError(`--scale-bits: expected an integer, got "${values["scale-bits"]}"`);
      scaleBits = Number(values["scale-bits"]);
    }
    let inputIntBits: number | undefined;
    if (values["input-int-bits"] !== undefined) {
      if (!/^\d+$/.test(values["input-int-bits"])) throw new UsageError(`--input-int-bits: expected an integer, got "${values["input-int-bits"]}"`);
      inputIntBits = Number(values["input-int-bits"]);
    }
    const { buildCircuit } = await import("../../zkml/build.ts");
    try {
      const result = await buildCircuit(resolve(io.cwd, positionals[0] ?? ""), {
        outDir: resolve(io.cwd, values.out),
        ...(scaleBits === undefined ? {} : { scaleBits }),
        ...(inputIntBits === undefined ? {} : { inputIntBits }),
        ...(values.ptau === undefined ? {} : { ptauPath: resolve(io.cwd, values.ptau) }),
        onProgress: progressReporter(io),
      });
      const m = result.metadata;
      io.stdout(
        [
          `built ${m.name} into ${result.dir}`,
          `  constraints        ${m.circuit.constraints} (ptau power ${m.ptau.power}, ${m.ptau.origin})`,
          `  scale              2^${m.scaleBits}, input range [-${2 ** m.inputIntBits}, ${2 ** m.inputIntBits})`,
          `  public signals     ${m.publicSignals.length} (${m.publicSignals[0]}, ${m.publicSignals[1]}, ${m.publicSignals.length - 3} outputs, binding)`,
          `  weights            ${m.weightsCommitment}`,
          `  verifying key hash ${m.verifyingKeyHash}`,
          ...(m.developmentOnly ? ["  DEVELOPMENT ONLY: local powers of tau (pass --ptau <ceremony file> for production)"] : []),
          "",
        ].join("\n"),
      );
      return 0;
    } finally {
      await releaseZkResources();
    }
  },
};

/** `opg zk prove`. */
export const zkProveCommand: CliCommand = {
  path: ["zk", "prove"],
  summary: "Prove one inference of a built model",
  usage: PROVE_USAGE,
  async run(args, io) {
    const { values, positionals } = parseOptions(
      args,
      { input: { type: "string" }, out: { type: "string" }, binding: { type: "string" } },
      { min: 1, max: 1, names: "<dir>" },
    );
    if (values.input === undefined) throw new UsageError("--input <input.json> is required");
    if (values.out === undefined) throw new UsageError("--out <proof.json> is required");
    try {
      const input = await readJson(resolve(io.cwd, values.input), "input");
      const { prove } = await import("../../zkml/prove.ts");
      const bundle = await prove(resolve(io.cwd, positionals[0] ?? ""), input, {
        ...(values.binding === undefined ? {} : { binding: values.binding }),
        onProgress: progressReporter(io),
      });
      const outPath = resolve(io.cwd, values.out);
      await writeFile(outPath, JSON.stringify(bundle, null, 1) + "\n");
      io.stdout(
        [
          `proof written to ${outPath}`,
          `  output             ${JSON.stringify(bundle.output)}`,
          ...(bundle.quantizationError === undefined ? [] : [`  |output - float|   ${bundle.quantizationError.toExponential(2)}`]),
          `  input commitment   ${bundle.inputCommitment}`,
          `  output commitment  ${bundle.outputCommitment}`,
          `  binding            ${bundle.binding}`,
          "",
        ].join("\n"),
      );
      return 0;
    } finally {
      await releaseZkResources();
    }
  },
};

/** `opg zk verify`. */
export const zkVerifyCommand: CliCommand = {
  path: ["zk", "verify"],
  summary: "Verify a proof.json against a built model",
  usage: VERIFY_USAGE,
  async run(args, io) {
    const { values, positionals } = parseOptions(
      args,
      { ...CHAIN_OPTIONS, "key-hash": { type: "string" }, model: { type: "string" } },
      { min: 2, max: 2, names: "<dir> <proof.json>" },
    );
    if (values["key-hash"] !== undefined && values.model !== undefined) throw new UsageError("give at most one of --key-hash or --model");
    let expected: string | undefined;
    if (values["key-hash"] !== undefined) expected = bytes32Option(values["key-hash"], "--key-hash");
    try {
      if (values.model !== undefined) {
        const id = bytes32Option(values.model, "--model");
        const [{ openChain }, { onChain }, { keccak256 }] = await Promise.all([import("../chain.ts"), import("../../settlement/errors.ts"), import("ethers")]);
        const chain = await openChain(values, io, { needsSigner: false });
        const key = (await onChain(() => chain.contracts.models.getFunction("verifyingKeyOf")(id))) as string;
        if (key === "0x") throw new ZkArtifactError(`model ${id} has no verifying key registered (it does not accept the ZK tier)`);
        expected = keccak256(key);
      }
      const proofJson = await readJson(resolve(io.cwd, positionals[1] ?? ""), "proof");
      const { verify } = await import("../../zkml/prove.ts");
      const result = await verify(resolve(io.cwd, positionals[0] ?? ""), proofJson, expected === undefined ? {} : { verifyingKeyHash: expected });
      if (result.valid) {
        io.stdout("valid\n");
        return 0;
      }
      io.stdout(`invalid: ${result.reason ?? "the proof does not verify"}\n`);
      return 1;
    } finally {
      await releaseZkResources();
    }
  },
};

export const zkCommands: readonly CliCommand[] = [zkBuildCommand, zkProveCommand, zkVerifyCommand];
