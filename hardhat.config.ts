import { readdirSync } from "node:fs";
import { createRequire } from "node:module";
import hardhatToolboxMochaEthersPlugin from "@nomicfoundation/hardhat-toolbox-mocha-ethers";
import { configVariable, defineConfig } from "hardhat/config";
import knownSolcWarnings from "./scripts/build/solc-warnings.ts";

// The compiler cannot be downloaded here: use the solcjs build shipped in the `solc` npm package.
const require = createRequire(import.meta.url);
const soljsonPath = require.resolve("solc/soljson.js");

const compiler = {
  version: "0.8.30",
  path: soljsonPath,
  settings: {
    evmVersion: "cancun",
    // 1,000 runs, not more: the hub (receipts, operations, request escrow, pending results, fee escrow with
    // two-step admin rules) must stay under the 24,576-byte code limit (EIP-170), in tests too.
    optimizer: { enabled: true, runs: 1_000 },
  },
};

// Batch settlement (posting, five kinds of refutation, refunds, escrow, two-step admin rules) is compiled for 200
// runs to stay under the code size limit, and so are its Solidity tests (they deploy the same bytecode). Its gas
// per receipt is measured in `npm run bench -- --batch`.
const batchCompiler = { ...compiler, settings: { ...compiler.settings, optimizer: { enabled: true, runs: 200 } } };
const batchFiles = [
  "contracts/batches/BatchSettlement.sol",
  ...readdirSync(new URL("./contracts/test", import.meta.url))
    .filter((file) => file.startsWith("BatchSettlement") && file.endsWith(".t.sol"))
    .map((file) => `contracts/test/${file}`),
];
const profile = { compilers: [compiler], overrides: Object.fromEntries(batchFiles.map((file) => [file, batchCompiler])) };

export default defineConfig({
  plugins: [hardhatToolboxMochaEthersPlugin, knownSolcWarnings],
  solidity: {
    profiles: {
      default: profile,
      production: profile,
    },
  },
  paths: {
    tests: { mocha: "test", solidity: "contracts/test" },
  },
  test: {
    // Building circuits (and, on a fresh machine, a local powers-of-tau) takes minutes in before-hooks.
    mocha: { timeout: 600_000 },
  },
  typechain: {
    outDir: "typechain-types",
  },
  networks: {
    hardhatMainnet: { type: "edr-simulated", chainType: "l1" },
    localhost: { type: "http", chainType: "l1", url: "http://127.0.0.1:8545" },
    rpc: {
      type: "http",
      chainType: "l1",
      url: configVariable("OPG_RPC_URL"),
      accounts: [configVariable("OPG_PRIVATE_KEY")],
    },
  },
});
