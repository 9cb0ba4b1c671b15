/**
 * The package as a dependent project gets it: `npm pack` (which runs `prepack`: compile, build dist/),
 * the tarball installed into a scratch project in a temporary directory (dependencies from the npm
 * cache this checkout was installed from, falling back to the registry), and there:
 *   - a consumer contract importing the interfaces (and OpenZeppelin) compiles, imports resolved through
 *     the package's `exports` exactly as Node resolves them;
 *   - a plain `.mjs` consumer runs with node (compiled JavaScript, no TypeScript loader);
 *   - a `.ts` consumer type-checks under a strict tsconfig with skipLibCheck off;
 *   - `npx opg --help` works, and `opg zk verify` runs from the installed package;
 *   - the tarball carries no tests, scripts, benchmarks or TypeScript sources.
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync, existsSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { expect } from "chai";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const requireHere = createRequire(import.meta.url);
const NPM_ENV = { ...process.env, npm_config_audit: "false", npm_config_fund: "false", npm_config_update_notifier: "false", ONNXRUNTIME_NODE_INSTALL: "skip" };

function run(command: string, args: readonly string[], cwd: string): string {
  try {
    return execFileSync(command, args, { cwd, env: NPM_ENV, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], maxBuffer: 64 << 20 });
  } catch (error) {
    const e = error as { stdout?: string; stderr?: string; message: string };
    throw new Error(`${command} ${args.join(" ")} failed in ${cwd}:\n${e.stdout ?? ""}\n${e.stderr ?? e.message}`);
  }
}

const CONSUMER_SOL = `// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {IVerifiedInference} from "opg-verifier/contracts/interfaces/IVerifiedInference.sol";
import {Tier} from "opg-verifier/contracts/types/Tier.sol";

contract Consumer is Ownable {
    IVerifiedInference public immutable hub;
    constructor(IVerifiedInference hub_) Ownable(msg.sender) { hub = hub_; }
    function accept(bytes32 id) external view returns (bytes32) {
        return hub.verifiedOutput(id, Tier.ZK);
    }
}
`;

const CONSUMER_MJS = `import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { Tier, buildReceipt, receiptId, commitQuantized, hubDomain, receiptDigest, tierName, HUB_ABI, zkml, nitro } from "opg-verifier";

const require = createRequire(import.meta.url);
const hub = "0x5FbDB2315678afecb367f032d93F642f64180aa3";
const requester = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8";
const modelId = "0x" + "11".repeat(32);
const input = await commitQuantized([1n, -2n, 3n], 12);
const receipt = buildReceipt({ modelId, inputCommitment: input, outputCommitment: input, requester, operator: requester, nonce: 1n, deadline: 2n ** 40n, tier: Tier.Signature });
const artifact = JSON.parse(readFileSync(require.resolve("opg-verifier/artifacts/InferenceHub.json"), "utf8"));
console.log(JSON.stringify({
  id: receiptId(31337n, hub, requester, modelId, 1n),
  digest: receiptDigest(receipt, hubDomain(31337n, hub)),
  tier: tierName(Tier.ZK),
  abiFunctions: HUB_ABI.length,
  artifact: artifact.contractName + ":" + (artifact.bytecode.length > 2),
  zkml: typeof zkml.verify, nitro: typeof nitro.verifyAttestation,
}));
`;

const CONSUMER_TS = `import { Tier, buildReceipt, receiptId, type Receipt, type Hex, connect, type Deployment, zkml } from "opg-verifier";

const modelId: Hex = \`0x\${"11".repeat(32)}\`;
const receipt: Receipt = buildReceipt({
  modelId, inputCommitment: modelId, outputCommitment: modelId,
  requester: "0x70997970C51812dc3A010C7d01b50e0d17dc79C8", operator: "0x70997970C51812dc3A010C7d01b50e0d17dc79C8",
  nonce: 1n, deadline: 2n ** 40n, tier: Tier.TEE,
});
export const id: Hex = receiptId(1n, "0x5FbDB2315678afecb367f032d93F642f64180aa3", receipt.requester, receipt.modelId, receipt.nonce);
export function contracts(deployment: Deployment, runner: Parameters<typeof connect>[1]) { return connect(deployment, runner).hub; }
export async function check(dir: string, proof: unknown): Promise<boolean> { return (await zkml.verify(dir, proof)).valid; }
`;

const STRICT_TSCONFIG = {
  compilerOptions: { target: "es2022", module: "nodenext", moduleResolution: "nodenext", strict: true, skipLibCheck: false, noEmit: true, types: ["node"] },
  include: ["consumer.ts"],
};

describe("package: packed, installed into a scratch project, used without TypeScript sources", function () {
  this.timeout(600_000);
  let scratch: string;
  let tarball: string;

  before(function () {
    const work = mkdtempSync(join(tmpdir(), "opg-package-"));
    // `npm pack` runs prepack (compile, dist/): its scripts may print before the JSON.
    const packOutput = run("npm", ["pack", "--json", "--pack-destination", work], ROOT);
    const packed = JSON.parse(packOutput.slice(packOutput.startsWith("[") ? 0 : packOutput.indexOf("\n[") + 1)) as { filename: string; files: { path: string }[] }[];
    tarball = join(work, packed[0]!.filename);
    const files = packed[0]!.files.map((f) => f.path);
    expect(files).to.include.members(["dist/index.js", "dist/index.d.ts", "dist/cli/main.js", "bin/opg.mjs", "contracts/interfaces/IVerifiedInference.sol", "dist/artifacts/InferenceHub.json", "dist/ignition/index.js", "dist/types/snarkjs.d.ts", "circuits/lib/opg_commitment.circom"]);
    const stray = files.filter((f) => /^(test|scripts|bench|src|contracts\/test|contracts\/mocks|examples)\//.test(f) || (f.endsWith(".ts") && !f.endsWith(".d.ts")));
    expect(stray, "files that do not belong in the package").to.deep.equal([]);

    scratch = join(work, "app");
    mkdirSync(join(scratch, "contracts"), { recursive: true });
    writeFileSync(join(scratch, "package.json"), JSON.stringify({ name: "opg-consumer", private: true, type: "module" }));
    const typesNode = requireHere.resolve("@types/node/package.json").replace(/package\.json$/, "");
    // From the npm cache this checkout was installed from (the registry when something is missing).
    run("npm", ["install", "--prefer-offline", "--ignore-scripts", "--no-save", tarball, typesNode], scratch);
    writeFileSync(join(scratch, "contracts", "Consumer.sol"), CONSUMER_SOL);
    writeFileSync(join(scratch, "consumer.mjs"), CONSUMER_MJS);
    writeFileSync(join(scratch, "consumer.ts"), CONSUMER_TS);
    writeFileSync(join(scratch, "tsconfig.json"), JSON.stringify(STRICT_TSCONFIG, null, 2));
  });

  it("installs without TypeScript tooling: no tsx, dist only", function () {
    expect(existsSync(join(scratch, "node_modules", "tsx")), "tsx installed as a dependency").to.equal(false);
    expect(readdirSync(join(scratch, "node_modules", "opg-verifier")).sort()).to.deep.equal(["LICENSE", "README.md", "bin", "circuits", "contracts", "deployments", "dist", "package.json"].filter((f) => existsSync(join(scratch, "node_modules", "opg-verifier", f))).sort());
  });

  it("compiles a consumer contract importing the interfaces and OpenZeppelin (imports resolved through exports)", function () {
    const solc = requireHere("solc") as { compile(input: string, options: { import(path: string): { contents: string } | { error: string } }): string };
    const resolveFrom = createRequire(join(scratch, "package.json"));
    const input = {
      language: "Solidity",
      sources: { "contracts/Consumer.sol": { content: CONSUMER_SOL } },
      settings: { evmVersion: "cancun", outputSelection: { "*": { "*": ["abi", "evm.bytecode.object"] } } },
    };
    const resolved: string[] = [];
    const output = JSON.parse(
      solc.compile(JSON.stringify(input), {
        import(path) {
          try {
            const file = resolveFrom.resolve(path);
            resolved.push(path);
            return { contents: readFileSync(file, "utf8") };
          } catch (error) {
            return { error: `cannot resolve ${path}: ${(error as Error).message.split("\n")[0]}` };
          }
        },
      }),
    ) as { errors?: { severity: string; formattedMessage: string }[]; contracts: Record<string, Record<string, { evm: { bytecode: { object: string } } }>> };
    const errors = (output.errors ?? []).filter((e) => e.severity === "error");
    expect(errors.map((e) => e.formattedMessage).join("\n")).to.equal("");
    expect(output.contracts["contracts/Consumer.sol"]!["Consumer"]!.evm.bytecode.object.length).to.be.greaterThan(100);
    expect(resolved).to.include("opg-verifier/contracts/interfaces/IVerifiedInference.sol");
    expect(resolved).to.include("@openzeppelin/contracts/access/Ownable.sol");
  });

  it("runs a plain .mjs consumer with node", function () {
    const out = JSON.parse(run(process.execPath, ["consumer.mjs"], scratch)) as Record<string, unknown>;
    expect(out["id"]).to.match(/^0x[0-9a-f]{64}$/);
    expect(out["digest"]).to.match(/^0x[0-9a-f]{64}$/);
    expect(out).to.include({ tier: "zk", artifact: "InferenceHub:true", zkml: "function", nitro: "function" });
  });

  it("type-checks a .ts consumer under a strict tsconfig with skipLibCheck off", function () {
    const tsc = join(ROOT, "node_modules", "typescript", "bin", "tsc");
    run(process.execPath, [tsc, "-p", "tsconfig.json"], scratch);
  });

  it("runs npx opg --help and opg zk verify --help from the installed package", function () {
    const help = run("npx", ["--no-install", "opg", "--help"], scratch);
    expect(help).to.contain("Usage: opg <command>");
    expect(help).to.contain("opg zk verify");
    expect(run("npx", ["--no-install", "opg", "zk", "verify", "--help"], scratch)).to.contain("Usage: opg zk verify <dir> <proof.json>");
  });
});
