/**
 * `opg-verifier/ignition`: the system's Ignition module with the packaged contract artifacts, for a
 * project that depends on opg-verifier. In that project's ignition/modules/Opg.ts:
 *
 *   import OpgSystem from "opg-verifier/ignition";
 *   export default OpgSystem;   // or buildModule("App", (m) => { const opg = m.useModule(OpgSystem); … })
 *
 * then `npx hardhat ignition deploy ignition/modules/Opg.ts`. Needs @nomicfoundation/hardhat-ignition
 * (an optional peer dependency).
 */
import { readFileSync } from "node:fs";
import type { Artifact } from "@nomicfoundation/ignition-core";
import { opgSystemModule, SYSTEM_CONTRACTS, type SystemContract } from "./system.ts";

export { opgSystemModule, SYSTEM_CONTRACTS, type SystemContract } from "./system.ts";

/** The packaged artifacts (dist/artifacts/<Name>.json, written by `npm run build`). */
export function packagedArtifacts(): Record<SystemContract, Artifact> {
  return Object.fromEntries(
    SYSTEM_CONTRACTS.map((name) => [name, JSON.parse(readFileSync(new URL(`../artifacts/${name}.json`, import.meta.url), "utf8")) as Artifact]),
  ) as Record<SystemContract, Artifact>;
}

const OpgSystem = opgSystemModule(packagedArtifacts());
export default OpgSystem;
