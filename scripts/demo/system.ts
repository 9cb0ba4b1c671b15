import type { network } from "hardhat";
import OpgSystem from "../../ignition/modules/OpgSystem.ts";
import type { Deployment } from "../../src/settlement/index.ts";

type Connection = Awaited<ReturnType<typeof network.create>>;

/**
 * Deploys the whole system with the Ignition module on `connection` and returns its addresses. On a JSON-RPC
 * chain Ignition journals the deployment under ignition/deployments/<deploymentId> (default chain-<id>).
 */
export async function deploySystem(
  connection: Connection,
  parameters: { treasury: string; attesters: readonly string[]; attesterThreshold: number },
  options: { deploymentId?: string } = {},
): Promise<Deployment> {
  const deployed = await connection.ignition.deploy(OpgSystem, {
    parameters: { OpgSystem: { treasury: parameters.treasury, attesters: [...parameters.attesters], attesterThreshold: parameters.attesterThreshold } },
    ...(options.deploymentId === undefined ? {} : { deploymentId: options.deploymentId }),
  });
  return {
    token: await deployed.token.getAddress(),
    hub: await deployed.hub.getAddress(),
    models: await deployed.models.getAddress(),
    operators: await deployed.operators.getAddress(),
    enclaves: await deployed.enclaves.getAddress(),
    quorum: await deployed.quorum.getAddress(),
    verifier: await deployed.verifier.getAddress(),
    requests: await deployed.requests.getAddress(),
    disputes: await deployed.disputes.getAddress(),
    batches: await deployed.batches.getAddress(),
  };
}
