/**
 * The Ignition module of the whole system: OPG token, Groth16 verifier, model / operator / enclave
 * registries, the attester quorum behind the enclave registry, the inference hub that settles fees, the
 * request book, the disputes contract (fraud proofs) and batch settlement. Parameters (all optional): see `OpgSystem` in
 * ignition/parameters.example.json.
 *
 * `artifacts` lets a project that depends on opg-verifier deploy the packaged build of the contracts
 * (opg-verifier/ignition) without compiling them; without it, contracts are found by name in the
 * project's own artifacts (this repository's ignition/modules/OpgSystem.ts).
 */
import { buildModule } from "@nomicfoundation/hardhat-ignition/modules";
import type { ArgumentType, Artifact } from "@nomicfoundation/ignition-core";
import { id } from "ethers";

export const SYSTEM_CONTRACTS = [
  "OPGToken",
  "Groth16Verifier",
  "ModelRegistry",
  "OperatorRegistry",
  "AttesterQuorum",
  "EnclaveRegistry",
  "InferenceHub",
  "RequestBook",
  "Disputes",
  "BatchSettlement",
] as const;
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
    // Fraud proofs: Signature/TEE results of models with a circuit stay pending this long (0 turns them off),
    // bonding this multiple of their fee; a refutation pays the challenger and the requester these shares.
    const challengeWindow = m.getParameter("challengeWindow", 3_600);
    const bondMultiple = m.getParameter("bondMultiple", 10);
    const challengerRewardBps = m.getParameter("challengerRewardBps", 2_000);
    const requesterCompensationBps = m.getParameter("requesterCompensationBps", 3_000);

    const token = contract("OPGToken", [admin, tokenSupply]);
    const verifier = contract("Groth16Verifier", []);
    const models = contract("ModelRegistry", [admin, verifier]);
    const operators = contract("OperatorRegistry", [admin, token, minimumStake, unbondingDelay]);
    const quorum = contract("AttesterQuorum", [admin, attesters, attesterThreshold]);
    const enclaves = contract("EnclaveRegistry", [admin, models, operators, quorum, maxAttestationAge, enclaveKeyLifetime]);
    const hub = contract("InferenceHub", [
      { admin, feeToken: token, treasury, operatorBps, modelOwnerBps, models, operators, enclaves, verifier },
    ]);

    // The request book reserves and settles through the hub's escrow; the hub accepts exactly one book.
    const requests = contract("RequestBook", [hub, models, operators, enclaves, verifier]);
    // Sent by account 0, the default admin; a deployment with another admin calls setRequestBook itself.
    m.call(hub, "setRequestBook", [requests]);

    // The disputes contract slashes bonds, bans enclave keys that signed refuted results, and is the one
    // contract the hub lets refute; the hub locks bonds. Sent by account 0, the default admin.
    const disputes = contract("Disputes", [
      {
        admin,
        hub,
        models,
        operators,
        enclaves,
        verifier,
        token,
        treasury,
        rewardBps: challengerRewardBps,
        compensationBps: requesterCompensationBps,
      },
    ]);
    m.call(operators, "grantRole", [id("SLASHER_ROLE"), disputes], { id: "grantSlasherToDisputes" });
    m.call(operators, "grantRole", [id("BOND_HOLDER_ROLE"), hub], { id: "grantBondHolderToHub" });
    m.call(enclaves, "grantRole", [id("REVOKER_ROLE"), disputes], { id: "grantRevokerToDisputes" });
    m.call(hub, "setDisputeConfig", [disputes, challengeWindow, bondMultiple]);

    // Batch settlement (many Signature-tier receipts under one signed root): it locks and slashes its batches'
    // bonds itself, so it holds both roles at the operator registry. Deposits leave after `batchWithdrawalDelay`.
    const batchWithdrawalDelay = m.getParameter("batchWithdrawalDelay", 24 * 3_600);
    const batches = contract("BatchSettlement", [
      {
        admin,
        token,
        models,
        operators,
        verifier,
        treasury,
        withdrawalDelay: batchWithdrawalDelay,
        config: {
          window: challengeWindow,
          bondMultiple,
          operatorBps,
          modelOwnerBps,
          rewardBps: challengerRewardBps,
          compensationBps: requesterCompensationBps,
        },
      },
    ]);
    m.call(operators, "grantRole", [id("BOND_HOLDER_ROLE"), batches], { id: "grantBondHolderToBatches" });
    m.call(operators, "grantRole", [id("SLASHER_ROLE"), batches], { id: "grantSlasherToBatches" });

    return { token, verifier, models, operators, quorum, enclaves, hub, requests, disputes, batches };
  });
}
