/**
 * Batch settlement: many Signature-tier receipts under one operator-signed Merkle root, settled per requester's
 * spending authorization (contracts/batches/BatchSettlement.sol).
 */
export * from "./abi.ts";
export * from "./types.ts";
export * from "./tree.ts";
export * from "./client.ts";
export * from "./json.ts";
