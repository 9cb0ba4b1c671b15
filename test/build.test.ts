/**
 * The build is quiet and the deployment parameters documented by the Ignition module exist and deploy:
 *   - every contract (tests included) compiles without a solc warning, except the one known-safe warning the
 *     Hardhat plugin in scripts/build/solc-warnings.ts drops (tstore inside OpenZeppelin's TransientSlot);
 *   - ignition/parameters.example.json names every parameter of the system's module (src/ignition/system.ts) and deploys the
 *     system with exactly those values, read by the same parser `hardhat ignition deploy --parameters` uses.
 */
import { readFileSync, readdirSync } from "node:fs";
import { createRequire } from "node:module";
import { join, relative } from "node:path";
import { expect } from "chai";
import { readDeploymentParameters } from "@nomicfoundation/hardhat-ignition/helpers";
import OpgSystem from "../ignition/modules/OpgSystem.ts";
import { isKnownSafeWarning, type SolcDiagnostic } from "../scripts/build/solc-warnings.ts";
import { newChain } from "./helpers/system.ts";

const root = join(import.meta.dirname, "..");
const require = createRequire(import.meta.url);

function solidityFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? solidityFiles(join(dir, entry.name)) : entry.name.endsWith(".sol") ? [join(dir, entry.name)] : [],
  );
}

describe("build and deployment configuration", function () {
  this.timeout(300_000);

  it("compiles every contract without solc warnings (analysis with the project's compiler)", () => {
    const solc = require("solc") as { compile(input: string, callbacks: { import(path: string): { contents: string } | { error: string } }): string };
    const sources = Object.fromEntries(
      solidityFiles(join(root, "contracts")).map((file) => [relative(root, file), { content: readFileSync(file, "utf8") }]),
    );
    const input = { language: "Solidity", sources, settings: { evmVersion: "cancun", outputSelection: {} } };
    const output = JSON.parse(
      solc.compile(JSON.stringify(input), {
        import: (path) => {
          try {
            return { contents: readFileSync(path.startsWith("@") ? require.resolve(path) : join(root, path), "utf8") };
          } catch (error) {
            return { error: String(error) };
          }
        },
      }),
    ) as { errors?: SolcDiagnostic[] };
    const diagnostics = output.errors ?? [];
    expect(diagnostics.filter((d) => d.severity === "error").map((d) => d.formattedMessage)).to.deep.equal([]);
    // The plugin's filter is narrow: it drops the TransientSlot warning and nothing else.
    expect(diagnostics.some(isKnownSafeWarning)).to.equal(true);
    const shown = diagnostics.filter((d) => !isKnownSafeWarning(d));
    expect(shown.map((d) => d.formattedMessage), "warnings the build would print").to.deep.equal([]);
    expect(isKnownSafeWarning({ severity: "warning", errorCode: "2394", sourceLocation: { file: "contracts/Mine.sol" } })).to.equal(false);
    expect(isKnownSafeWarning({ severity: "warning", errorCode: "2018", sourceLocation: { file: "@openzeppelin/contracts/utils/TransientSlot.sol" } })).to.equal(false);
  });

  it("ignition/parameters.example.json names every module parameter and deploys the system with them", async () => {
    const path = join(root, "ignition", "parameters.example.json");
    // ignition/modules/OpgSystem.ts is opgSystemModule() of src/ignition/system.ts (shared with the packaged module).
    const moduleSource = readFileSync(join(root, "src", "ignition", "system.ts"), "utf8");
    expect(moduleSource).to.contain("ignition/parameters.example.json");
    const declared = [...moduleSource.matchAll(/m\.getParameter(?:<[^>]*>)?\("([A-Za-z]+)"/g)].map((m) => m[1]).sort();
    const parameters = (await readDeploymentParameters(path)) as { OpgSystem: Record<string, unknown> };
    expect(Object.keys(parameters.OpgSystem).sort()).to.deep.equal(declared);
    const p = parameters.OpgSystem as {
      admin: string; treasury: string; tokenSupply: bigint; minimumStake: bigint; unbondingDelay: number; operatorBps: number; modelOwnerBps: number;
      attesters: string[]; attesterThreshold: number; maxAttestationAge: number; enclaveKeyLifetime: number; batchWithdrawalDelay: number;
    };

    const { ignition, ethers } = await newChain();
    const deployed = await ignition.deploy(OpgSystem, { parameters: path }); // the file, as `--parameters` passes it
    const at = async (name: string, contract: { getAddress(): Promise<string> }) => ethers.getContractAt(name, await contract.getAddress());
    const token = await at("OPGToken", deployed.token);
    const operators = await at("OperatorRegistry", deployed.operators);
    const quorum = await at("AttesterQuorum", deployed.quorum);
    const enclaves = await at("EnclaveRegistry", deployed.enclaves);
    const hub = await at("InferenceHub", deployed.hub);
    const models = await at("ModelRegistry", deployed.models);
    expect(await token.getFunction("totalSupply")()).to.equal(p.tokenSupply);
    expect(await token.getFunction("balanceOf")(p.admin)).to.equal(p.tokenSupply);
    expect(await operators.getFunction("minimumStake")()).to.equal(p.minimumStake);
    expect(await operators.getFunction("unbondingDelay")()).to.equal(BigInt(p.unbondingDelay));
    expect(await quorum.getFunction("threshold")()).to.equal(BigInt(p.attesterThreshold));
    for (const attester of p.attesters) expect(await quorum.getFunction("isAttester")(attester)).to.equal(true);
    expect(await enclaves.getFunction("maxAttestationAge")()).to.equal(BigInt(p.maxAttestationAge));
    expect(await enclaves.getFunction("keyLifetime")()).to.equal(BigInt(p.enclaveKeyLifetime));
    expect(await hub.getFunction("treasury")()).to.equal(p.treasury);
    expect(await hub.getFunction("feeSplit")()).to.deep.equal([BigInt(p.operatorBps), BigInt(p.modelOwnerBps)]);
    const batches = await at("BatchSettlement", deployed.batches);
    expect(await batches.getFunction("withdrawalDelay")()).to.equal(BigInt(p.batchWithdrawalDelay));
    for (const contract of [operators, quorum, enclaves, hub, models, batches]) expect(await contract.getFunction("defaultAdmin")()).to.equal(p.admin);
  });
});
