/**
 * The Ignition module of the whole system: OPG token, Groth16 verifier, model / operator / enclave
 * registries, the attester quorum behind the enclave registry, and the inference hub that settles fees.
 * Parameters (all optional): admin, treasury, tokenSupply, minimumStake, unbondingDelay, operatorBps,
 * modelOwnerBps, attesters, attesterThreshold, maxAttestationAge, enclaveKeyLifetime.
 *
 * `artifacts` lets a project that depends on opg-verifier deploy the packaged build of the contracts
 * (opg-verifier/ignition) without compiling them; without it, contracts are found by name in the
 * project's own artifacts (this repository's ignition/modules/OpgSystem.ts).
 */
import { buildModule } from "@nomicfoundation/hardhat-ignition/modules";
import type { ArgumentType, Artifact } from "@nomicfoundation/ignition-core";

export const SYSTEM_CONTRACTS = ["OPGToken", "Groth16Verifier", "ModelRegistry", "OperatorRegistry", "AttesterQuorum", "EnclaveRegistry", "InferenceHub"] as const;
export type SystemContract = (typeof SYSTEM_CONTRACTS)[number];

export function opgSystemModule(artifacts?: Readonly<Record<SystemContract, Artifact>>) {
  return buildModule("OpgSystem", (m) => {
    // Each call names the contract; with packaged artifacts the artifact comes along.
    const contract = (name: SystemContract, args: ArgumentType[]) =>
      artifacts === undefined ? m.contract(name, args) : m.contract(name, artifacts[name], args);

    const admin = m.getParameter("admin", m.getAccount(0));
    const treasury = m.getParameter("treasury", m.getAccount(0));
    const tokenSupply = m.getParameter("tokenSupply", 1_000_000_000n * 10n ** 18n);
    const minimumStake = m.getParameter("minimumStake", 1_000n * 10n ** 18n);
    const unbondingDelay = m.getParameter("unbondingDelay", 7n * 24n * 3600n);
    const operatorBps = m.getParameter("operatorBps", 7_000);
    const modelOwnerBps = m.getParameter("modelOwnerBps", 2_000);
    const attesters = m.getParameter<string[]>("attesters", []);
    const attesterThreshold = m.getParameter("attesterThreshold", 1);
    const maxAttestationAge = m.getParameter("maxAttestationAge", 3_600);
    const enclaveKeyLifetime = m.getParameter("enclaveKeyLifetime", 24 * 3_600);

    const token = contract("OPGToken", [admin, tokenSupply]);
    const verifier = contract("Groth16Verifier", []);
    const models = contract("ModelRegistry", [admin, verifier]);
    const operators = contract("OperatorRegistry", [admin, token, minimumStake, unbondingDelay]);
    const quorum = contract("AttesterQuorum", [admin, attesters, attesterThreshold]);
    const enclaves = contract("EnclaveRegistry", [admin, models, operators, quorum, maxAttestationAge, enclaveKeyLifetime]);
    const hub = contract("InferenceHub", [
      { admin, feeToken: token, treasury, operatorBps, modelOwnerBps, models, operators, enclaves, verifier },
    ]);

    return { token, verifier, models, operators, quorum, enclaves, hub };
  });
}
