export * from "./operation.ts";
export * from "./zk.ts";
export * from "./request.ts";
