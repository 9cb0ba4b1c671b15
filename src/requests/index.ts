export * from "./abi.ts";
export * from "./types.ts";
export * from "./client.ts";
export * from "./fulfil.ts";
export * from "./batch.ts";
