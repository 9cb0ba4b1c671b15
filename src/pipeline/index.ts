export * from "./operation.ts";
export * from "./zk.ts";
