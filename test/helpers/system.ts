import { network } from "hardhat";
import OpgSystem from "../../ignition/modules/OpgSystem.ts";
import type {
  AttesterQuorum,
  BatchSettlement,
  EnclaveRegistry,
  Groth16Verifier,
  InferenceHub,
  ModelRegistry,
  OPGToken,
  OperatorRegistry,
  RequestBook,
} from "../../typechain-types/index.ts";

export const OPG = 10n ** 18n;

type Connection = Awaited<ReturnType<typeof network.create>>;

/** A fresh in-process chain. */
export function newChain(): Promise<Connection> {
  return network.create();
}

/** Deploys the whole system through the Ignition module on a fresh in-process chain. */
export async function deploySystem(parameters: Record<string, unknown> = {}) {
  return deployOn(await network.create(), parameters);
}

/** Deploys the whole system through the Ignition module on `connection`. */
export async function deployOn(connection: Connection, parameters: Record<string, unknown> = {}, options: { deploymentId?: string } = {}) {
  const { ethers, ignition, networkHelpers } = connection;
  const [admin, modelOwner, operator, requester, treasury, stranger, ...others] = await ethers.getSigners();
  if (admin === undefined || modelOwner === undefined || operator === undefined || requester === undefined || treasury === undefined || stranger === undefined) {
    throw new Error("the test network needs at least six accounts");
  }
  const attesters = others.slice(0, 3);
  const deployed = await ignition.deploy(OpgSystem, {
    ...options,
    parameters: {
      OpgSystem: {
        treasury: treasury.address,
        attesters: attesters.map((a) => a.address),
        attesterThreshold: 2,
        ...parameters,
      },
    },
  });
  const at = <T>(name: string, address: unknown) => ethers.getContractAt(name, address as string) as Promise<T>;
  const contracts = {
    token: await at<OPGToken>("OPGToken", await deployed.token.getAddress()),
    verifier: await at<Groth16Verifier>("Groth16Verifier", await deployed.verifier.getAddress()),
    models: await at<ModelRegistry>("ModelRegistry", await deployed.models.getAddress()),
    operators: await at<OperatorRegistry>("OperatorRegistry", await deployed.operators.getAddress()),
    quorum: await at<AttesterQuorum>("AttesterQuorum", await deployed.quorum.getAddress()),
    enclaves: await at<EnclaveRegistry>("EnclaveRegistry", await deployed.enclaves.getAddress()),
    hub: await at<InferenceHub>("InferenceHub", await deployed.hub.getAddress()),
    requests: await at<RequestBook>("RequestBook", await deployed.requests.getAddress()),
    batches: await at<BatchSettlement>("BatchSettlement", await deployed.batches.getAddress()),
  };
  return { connection, ethers, networkHelpers, admin, modelOwner, operator, requester, treasury, stranger, attesters, ...contracts };
}
