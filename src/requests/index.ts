export * from "./abi.ts";
export * from "./types.ts";
