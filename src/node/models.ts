/**
 * The models a node serves: `<modelId>=<dir>` pairs, each loaded into a deterministic runner, with a warm
 * prover for circuit folders (proving key and witness generator read once, on first use or at start).
 */
import { ExecutionError, loadModelRunner, type ModelRunner } from "../execution/index.ts";
import { InvalidInputError } from "../errors.ts";
import { checkBytes32, type Hex } from "../receipts/receipt.ts";
import { loadProver, type WarmProver } from "../zkml/index.ts";

export interface ServedModel {
  readonly modelId: Hex;
  readonly runner: ModelRunner;
  /** Loaded for circuit folders (ZK tier); undefined for float models. */
  readonly prover: () => Promise<WarmProver>;
  readonly canProve: boolean;
}

/** Parses `--model <modelId>=<dir>`. */
export function parseModelSpec(spec: string): { modelId: Hex; dir: string } {
  const eq = spec.indexOf("=");
  if (eq < 0) throw new InvalidInputError(`--model takes <modelId>=<dir>, got "${spec}"`);
  const modelId = checkBytes32(spec.slice(0, eq), "model id");
  const dir = spec.slice(eq + 1);
  if (dir === "") throw new InvalidInputError(`--model ${modelId}: the folder is missing`);
  return { modelId, dir };
}

/** Loads every model; with `warm`, circuit folders' provers are loaded now rather than on the first proof. */
export async function loadServedModels(specs: readonly { modelId: Hex; dir: string }[], options: { warm?: boolean } = {}): Promise<Map<Hex, ServedModel>> {
  const models = new Map<Hex, ServedModel>();
  for (const { modelId, dir } of specs) {
    if (models.has(modelId)) throw new InvalidInputError(`model ${modelId} is given twice`);
    const runner = await loadModelRunner(dir);
    let prover: Promise<WarmProver> | undefined;
    const build = runner.build;
    const served: ServedModel = {
      modelId,
      runner,
      canProve: build !== undefined,
      prover: () => {
        if (build === undefined) return Promise.reject(new ExecutionError("EXECUTION_FAILED", `model ${modelId} has no circuit (${runner.dir})`));
        prover ??= loadProver(build);
        prover.catch(() => (prover = undefined));
        return prover;
      },
    };
    if (options.warm === true && served.canProve) await served.prover();
    models.set(modelId, served);
  }
  return models;
}

export async function closeServedModels(models: ReadonlyMap<Hex, ServedModel>): Promise<void> {
  for (const model of models.values()) await model.runner.close();
}
