import { buildModule } from "@nomicfoundation/hardhat-ignition/modules";
import { id } from "ethers";

/**
 * The whole system: OPG token, Groth16 verifier, model / operator / enclave registries, the attester
 * quorum behind the enclave registry, the inference hub that settles fees and the request book.
 * Parameters (all optional): see `OpgSystem` in ignition/parameters.example.json.
 */
export default buildModule("OpgSystem", (m) => {
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

  const token = m.contract("OPGToken", [admin, tokenSupply]);
  const verifier = m.contract("Groth16Verifier");
  const models = m.contract("ModelRegistry", [admin, verifier]);
  const operators = m.contract("OperatorRegistry", [admin, token, minimumStake, unbondingDelay]);
  const quorum = m.contract("AttesterQuorum", [admin, attesters, attesterThreshold]);
  const enclaves = m.contract("EnclaveRegistry", [admin, models, operators, quorum, maxAttestationAge, enclaveKeyLifetime]);
  const hub = m.contract("InferenceHub", [
    {
      admin,
      feeToken: token,
      treasury,
      operatorBps,
      modelOwnerBps,
      models,
      operators,
      enclaves,
      verifier,
    },
  ]);

  // The request book reserves and settles through the hub's escrow; the hub accepts exactly one book.
  const requests = m.contract("RequestBook", [hub, models, operators, enclaves, verifier]);
  // Sent by account 0, the default admin; a deployment with another admin calls setRequestBook itself.
  m.call(hub, "setRequestBook", [requests]);

  // The disputes contract slashes bonds, bans enclave keys that signed refuted results, and is the one
  // contract the hub lets refute; the hub locks bonds. Sent by account 0, the default admin.
  const disputes = m.contract("Disputes", [
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
  const batches = m.contract("BatchSettlement", [
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
