export * from "./abi.ts";
export * from "./client.ts";
export * from "./deployment.ts";
export * from "./errors.ts";
export * from "./transactions.ts";
export * from "./roles.ts";
