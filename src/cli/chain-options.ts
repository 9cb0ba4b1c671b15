/**
 * The options of on-chain commands, apart from src/cli/chain.ts (which loads ethers) so that a command
 * reaching the chain only on request (`opg zk verify --model`) can show and parse them without loading it.
 */
/** Options every on-chain command accepts (merge into its parseArgs options). */
export const CHAIN_OPTIONS = {
  rpc: { type: "string" },
  deployment: { type: "string" },
  "key-env": { type: "string" },
} as const;

export const CHAIN_USAGE = [
  "  --rpc <url>          JSON-RPC endpoint (default: $OPG_RPC_URL or http://127.0.0.1:8545)",
  "  --deployment <file>  deployed addresses (default: found by chain id in ./ignition/deployments, then in the package)",
  "  --key-env <NAME>     environment variable holding the signer's private key (default: OPG_PRIVATE_KEY)",
].join("\n");
