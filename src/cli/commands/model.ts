/**
 * `opg model register | show`: model owners register content-addressed models; anyone reads them.
 * A ZK-tier registration takes a `zk build` directory: its weights commitment makes the model id and
 * its verifying key (refused when forgeable, or when it does not match the build) pins the circuit.
 */
import { resolve } from "node:path";
import { parseUnits, formatUnits } from "ethers";
import { zkRegistrationFields } from "../../pipeline/zk.ts";
import { checkBytes32, type Hex } from "../../receipts/receipt.ts";
import { Tier, parseTier, tierName } from "../../receipts/tier.ts";
import { registerModel } from "../../settlement/client.ts";
import { onChain } from "../../settlement/errors.ts";
import { loadBuild, releaseZkResources, verifyBuildSetup } from "../../zkml/index.ts";
import { CHAIN_OPTIONS, CHAIN_USAGE, openChain } from "../chain.ts";
import { UsageError } from "../errors.ts";
import { parseOptions } from "../main.ts";
import { progressReporter } from "../progress.ts";
import type { CliCommand } from "../types.ts";

const REGISTER_USAGE = `Usage: opg model register (--weights <0x…> | --zk <build-dir>) --prices <sig,tee,zk> --tiers <list> [options]

Registers a model owned by the signer. Its id is keccak256(owner, weights commitment).

Options:
  --weights <0x…>      32-byte commitment to the model's weights (signature / TEE models)
  --zk <dir>           an \`opg zk build\` directory: weights commitment and verifying key come from it
  --ptau <file>        with --zk: the powers-of-tau ceremony file the build used; the proving key is checked
                       against the build's r1cs and the ceremony (snarkjs zkey verify) before registering.
                       Groth16 trusts whoever ran the setup: check builds you did not make yourself
  --prices <a,b,c>     OPG per inference at signature, TEE and ZK (decimal OPG, e.g. 1,5,50)
  --tiers <list>       accepted tiers, comma-separated: signature, tee, zk
  --metadata <uri>     model card URI (IPFS / Walrus CID), default empty
  --previous <id>      the model this version supersedes
${CHAIN_USAGE}
`;

export function parsePrices(text: string): [bigint, bigint, bigint] {
  const parts = text.split(",");
  if (parts.length !== 3) throw new UsageError(`--prices takes three comma-separated amounts (signature,tee,zk), got "${text}"`);
  let prices: bigint[];
  try {
    prices = parts.map((p) => parseUnits(p.trim(), 18));
  } catch {
    throw new UsageError(`--prices "${text}" is not three decimal OPG amounts`);
  }
  // The registry stores each price as a uint80 (wei): refuse here rather than as an ABI encoding error.
  if (prices.some((p) => p < 0n || p >= 1n << 80n)) throw new UsageError(`--prices "${text}": each price is between 0 and ${formatUnits((1n << 80n) - 1n, 18)} OPG`);
  return prices as [bigint, bigint, bigint];
}

export const modelRegisterCommand: CliCommand = {
  path: ["model", "register"],
  summary: "Register a content-addressed model (optionally with a ZK circuit build)",
  usage: REGISTER_USAGE,
  async run(args, io) {
    const { values } = parseOptions(
      args,
      { ...CHAIN_OPTIONS, weights: { type: "string" }, zk: { type: "string" }, ptau: { type: "string" }, prices: { type: "string" }, tiers: { type: "string" }, metadata: { type: "string" }, previous: { type: "string" } },
      { min: 0, max: 0, names: "no positional arguments" },
    );
    if ((values.weights === undefined) === (values.zk === undefined)) throw new UsageError("give exactly one of --weights or --zk");
    if (values.prices === undefined || values.tiers === undefined) throw new UsageError("--prices and --tiers are required");
    const prices = parsePrices(values.prices);
    let tiers: Exclude<Tier, 0>[];
    try {
      tiers = values.tiers.split(",").map((t) => parseTier(t.trim()));
    } catch (error) {
      throw new UsageError(error instanceof Error ? error.message : String(error));
    }
    if (values.zk !== undefined && !tiers.includes(Tier.ZK)) throw new UsageError("a --zk build registers the ZK tier: add zk to --tiers");
    if (values.zk === undefined && tiers.includes(Tier.ZK)) throw new UsageError("the ZK tier needs a circuit: register with --zk <build-dir>");
    if (values.ptau !== undefined && values.zk === undefined) throw new UsageError("--ptau checks a --zk build: give --zk <dir> too");
    let fields: { weightsCommitment: Hex; verifyingKey?: Hex };
    if (values.zk !== undefined) {
      const build = await loadBuild(resolve(io.cwd, values.zk));
      if (values.ptau !== undefined) {
        const ptau = resolve(io.cwd, values.ptau);
        try {
          await verifyBuildSetup(build, ptau, { onProgress: progressReporter(io) });
        } finally {
          await releaseZkResources();
        }
        io.stdout(`setup verified: the proving key derives from the build's r1cs and ${ptau}\n`);
      }
      fields = zkRegistrationFields(build);
    } else {
      fields = { weightsCommitment: checkBytes32(values.weights!, "--weights") };
    }
    const chain = await openChain(values, io, { needsSigner: true });
    const { modelId, gasUsed } = await registerModel(chain.contracts, {
      ...fields,
      metadataURI: values.metadata ?? "",
      prices,
      tiers,
      ...(values.previous === undefined ? {} : { previousVersion: checkBytes32(values.previous, "--previous") }),
    });
    io.stdout(`registered model ${modelId} (tiers ${tiers.map(tierName).join(", ")}; gas ${gasUsed})\n`);
    return 0;
  },
};

export const modelShowCommand: CliCommand = {
  path: ["model", "show"],
  summary: "Show a model's owner, prices, tiers and versions",
  usage: `Usage: opg model show <model-id> [--json] [chain options]\n${CHAIN_USAGE}\n`,
  async run(args, io) {
    const { values, positionals } = parseOptions(args, { ...CHAIN_OPTIONS, json: { type: "boolean" } }, { min: 1, max: 1, names: "a model id" });
    const id = checkBytes32(positionals[0]!, "model id");
    const chain = await openChain(values, io, { needsSigner: false });
    const model = (await onChain(() => chain.contracts.models.getFunction("modelOf")(id))) as {
      owner: string; acceptedTiers: bigint; deprecated: boolean; weightsCommitment: string; previousVersion: string; metadataURI: string; verifyingKeyStore: string;
    };
    const prices = (await chain.contracts.models.getFunction("pricesOf")(id)) as bigint[];
    const tiers = [Tier.Signature, Tier.TEE, Tier.ZK].filter((t) => (Number(model.acceptedTiers) >> t) & 1).map(tierName);
    const view = {
      modelId: id,
      owner: model.owner,
      tiers,
      prices: { signature: formatUnits(prices[0]!, 18), tee: formatUnits(prices[1]!, 18), zk: formatUnits(prices[2]!, 18) },
      deprecated: model.deprecated,
      weightsCommitment: model.weightsCommitment,
      previousVersion: /^0x0+$/.test(model.previousVersion) ? null : model.previousVersion,
      metadataURI: model.metadataURI,
      hasVerifyingKey: !/^0x0+$/.test(model.verifyingKeyStore),
    };
    if (values.json) io.stdout(JSON.stringify(view) + "\n");
    else io.stdout(Object.entries(view).map(([k, v]) => `${k.padEnd(18)} ${typeof v === "object" && v !== null ? JSON.stringify(v) : String(v)}`).join("\n") + "\n");
    return 0;
  },
};

export const modelCommands: readonly CliCommand[] = [modelRegisterCommand, modelShowCommand];
