export * from "./receipt.ts";
export * from "./tier.ts";
