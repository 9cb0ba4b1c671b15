/**
 * The settlement client with a plain ethers Wallet on a JSON-RPC chain (`hardhat node` in a child
 * process): back-to-back transactions used to fail with "nonce too low", because ethers answers the
 * second nonce query from its 250 ms cache. Also: a refused transaction consumes no nonce.
 */
import { expect } from "chai";
import { JsonRpcProvider, Wallet, hexlify, randomBytes } from "ethers";
import { ContractRevertError, connect, registerModel, stakeOperator, type Deployment } from "../src/index.ts";
import { Tier } from "../src/receipts/tier.ts";
import { deploymentOf } from "./helpers/enclave.ts";
import { keyOf } from "./helpers/cli.ts";
import { deployOn, OPG } from "./helpers/system.ts";
import { startRpcNode, type RpcNode } from "./helpers/rpc.ts";

describe("settlement: a plain Wallet over JSON-RPC", function () {
  let node: RpcNode;
  let deployment: Deployment;

  before(async function () {
    node = await startRpcNode();
    const s = await deployOn(node.connection as never, {}, { deploymentId: node.deploymentId });
    deployment = await deploymentOf(s);
    await (await s.token.connect(s.admin).transfer(s.operator.address, 5_000n * OPG)).wait();
  });
  after(async () => node?.stop());

  const registration = () => ({ weightsCommitment: hexlify(randomBytes(32)) as `0x${string}`, metadataURI: "", prices: [1n, 2n, 3n] as const, tiers: [Tier.Signature] as const });

  it("sends transactions back to back, and a refused one consumes no nonce", async function () {
    const provider = new JsonRpcProvider(node.url, undefined, { staticNetwork: true });
    const owner = new Wallet(keyOf(1), provider);
    const c = connect(deployment, owner);
    const first = registration();
    const ids = [await registerModel(c, first), await registerModel(c, registration()), await registerModel(c, registration())].map((r) => r.modelId);
    expect(new Set(ids).size).to.equal(3);

    // Registering the same weights again is refused on-chain (gas estimation): the next one still goes through.
    const error = await registerModel(c, first).then(() => undefined, (e: unknown) => e);
    expect(error).to.be.instanceOf(ContractRevertError);
    expect((error as ContractRevertError).errorName).to.equal("ModelRegistryAlreadyRegistered");
    await registerModel(c, registration());
    expect(await provider.getTransactionCount(owner.address)).to.equal(4);

    // Two transactions inside one call (stake with permit, then bind the signer), with a fresh Wallet object.
    const operator = new Wallet(keyOf(2), provider);
    const gas = await stakeOperator(connect(deployment, operator), operator, 1_000n * OPG, Wallet.createRandom(), BigInt(Math.floor(Date.now() / 1000) + 3600));
    expect(gas > 0n).to.equal(true);
    expect(await connect(deployment, provider).operators.getFunction("isActive")(operator.address)).to.equal(true);
    provider.destroy();
  });

  it("concurrent calls from one wallet take distinct nonces", async function () {
    const provider = new JsonRpcProvider(node.url, undefined, { staticNetwork: true });
    const owner = new Wallet(keyOf(1), provider);
    const c = connect(deployment, owner);
    const results = await Promise.all([registerModel(c, registration()), registerModel(c, registration()), registerModel(c, registration())]);
    expect(new Set(results.map((r) => r.modelId)).size).to.equal(3);
    provider.destroy();
  });

  it("recovers when the chain goes back under it (a reorg, a restarted node, a reverted snapshot)", async function () {
    const provider = new JsonRpcProvider(node.url, undefined, { staticNetwork: true });
    const owner = new Wallet(keyOf(3), provider);
    const c = connect(deployment, owner);
    // Raw calls: ethers would answer a repeated count from its 250 ms cache.
    const count = async () => Number(BigInt((await provider.send("eth_getTransactionCount", [owner.address, "latest"])) as string));
    const snapshot = (await provider.send("evm_snapshot", [])) as string;
    await registerModel(c, registration());
    await registerModel(c, registration());
    const before = await count();
    expect(await provider.send("evm_revert", [snapshot])).to.equal(true);
    // The toolkit remembers a nonce two past the chain's count: the next send falls back to the chain's.
    await registerModel(c, registration());
    expect(await count()).to.equal(before - 1);
    provider.destroy();
  });
});
