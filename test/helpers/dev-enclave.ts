/**
 * The TEE tier on a real local network, as the operator runs it: a development Nitro chain attests an
 * enclave key bound to this chain, registry and operator; the model owner approves the image; attesters
 * sign the attestation (`opg enclave attest`) and the operator registers the key (`opg enclave register`).
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { JsonRpcProvider, Wallet, getBytes } from "ethers";
import { enclaveBinding } from "../../src/nitro/binding.ts";
import { createDevAttestation, createDevChain } from "../../src/nitro/dev.ts";
import { loadDeployment } from "../../src/settlement/deployment.ts";

export async function registerDevEnclave(options: {
  readonly rpc: string;
  readonly deployment: string;
  /** Working folder of the `opg` processes (enclave.cose, dev-root.pem and attestations.json go there). */
  readonly dir: string;
  readonly modelId: string;
  readonly enclave: Pick<Wallet, "address" | "signingKey">;
  readonly keys: { readonly modelOwner: string; readonly operator: string; readonly attesters: readonly string[] };
  /** Runs `opg args…` as `key` and returns its stdout (failing the test on a non-zero exit). */
  readonly ok: (key: string, args: string[]) => Promise<string>;
}): Promise<void> {
  const { dir, keys, enclave, ok, modelId } = options;
  const operator = new Wallet(keys.operator).address;
  const provider = new JsonRpcProvider(options.rpc, undefined, { staticNetwork: true });
  const deployment = await loadDeployment(options.deployment);
  const { chainId } = await provider.getNetwork();
  const at = (await provider.getBlock("latest"))!.timestamp * 1000;
  provider.destroy();
  const nsm = createDevChain({ at });
  const document = createDevAttestation(nsm, {
    timestamp: at,
    publicKey: getBytes(enclave.signingKey.publicKey),
    userData: enclaveBinding({ chainId, registry: deployment.enclaves, operator, enclaveKey: enclave.address }),
  });
  writeFileSync(join(dir, "enclave.cose"), document);
  writeFileSync(join(dir, "dev-root.pem"), nsm.rootPem);
  await ok(keys.modelOwner, ["enclave", "approve-image", "--model", modelId, "--document", "enclave.cose"]);
  const signatures = [];
  for (const attester of keys.attesters) {
    signatures.push(JSON.parse(await ok(attester, ["enclave", "attest", "enclave.cose", "--operator", operator, "--root", "dev-root.pem", "--at", String(at + 1000)])));
  }
  writeFileSync(join(dir, "attestations.json"), JSON.stringify(signatures));
  await ok(keys.operator, ["enclave", "register", "enclave.cose", "--model", modelId, "--attestations", "attestations.json"]);
}
