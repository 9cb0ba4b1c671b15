/**
 * `opg operator register-signer | rotate-signer` through runCli against the in-process chain: the operator's key in
 * OPG_PRIVATE_KEY, the key to bind in OPG_SIGNER_KEY (or --signer-key-env), which signs its consent.
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "chai";
import { Wallet } from "ethers";
import { MIN_STAKE, fund } from "./helpers/actors.ts";
import { expectFailure, keyOf, runOpg } from "./helpers/cli.ts";
import { deploymentOf } from "./helpers/enclave.ts";
import { deployOn, newChain } from "./helpers/system.ts";

const chain = await newChain();

async function ready() {
  const s = await deployOn(chain);
  await fund(s, s.operator, MIN_STAKE);
  await (await s.token.connect(s.operator).approve(await s.operators.getAddress(), MIN_STAKE)).wait();
  await (await s.operators.connect(s.operator).stake(MIN_STAKE)).wait();
  const dir = mkdtempSync(join(tmpdir(), "opg-operator-cli-"));
  writeFileSync(join(dir, "deployment.json"), JSON.stringify(await deploymentOf(s)));
  return { s, dir };
}

describe("cli: opg operator register-signer / rotate-signer", () => {
  it("binds a key with its consent, rotates it, and refuses usage mistakes and foreign consents in one line", async () => {
    const { s, dir } = await chain.networkHelpers.loadFixture(ready);
    const opg = (env: Record<string, string>, ...args: string[]) => runOpg(chain, dir, env, args);
    const operatorKey = keyOf(2);
    const first = Wallet.createRandom();
    const second = Wallet.createRandom();

    const registered = await opg({ OPG_PRIVATE_KEY: operatorKey, OPG_SIGNER_KEY: first.privateKey }, "operator", "register-signer");
    expect(registered.code, registered.stderr).to.equal(0);
    expect(registered.stdout).to.match(new RegExp(`^registered signer ${first.address} for operator ${s.operator.address} \\(tx 0x[0-9a-f]{64}, gas \\d+\\)\\n$`));
    expect(await s.operators.activeOperatorOf(first.address)).to.equal(s.operator.address);

    // Someone else cannot take the same key, even holding its consent file or its key.
    expectFailure(await opg({ OPG_PRIVATE_KEY: keyOf(5), OPG_SIGNER_KEY: first.privateKey }, "operator", "register-signer"), "OperatorRegistrySignerTaken");

    const rotated = await opg({ OPG_PRIVATE_KEY: operatorKey, NEXT_KEY: second.privateKey }, "operator", "rotate-signer", "--old", first.address, "--signer-key-env", "NEXT_KEY", "--json");
    expect(rotated.code, rotated.stderr).to.equal(0);
    expect(JSON.parse(rotated.stdout)).to.deep.include({ operator: s.operator.address, signer: second.address });
    expect(await s.operators.operatorOfSigner(first.address)).to.equal(s.ethers.ZeroAddress);
    expect(await s.operators.activeOperatorOf(second.address)).to.equal(s.operator.address);

    const self = await opg({ OPG_PRIVATE_KEY: operatorKey }, "operator", "register-signer", "--self");
    expect(self.code, self.stderr).to.equal(0);
    expect(await s.operators.operatorOfSigner(s.operator.address)).to.equal(s.operator.address);

    expectFailure(await opg({ OPG_PRIVATE_KEY: operatorKey }, "operator", "register-signer"), "OPG_SIGNER_KEY", 2);
    expectFailure(await opg({ OPG_PRIVATE_KEY: operatorKey, OPG_SIGNER_KEY: "0x12" }, "operator", "register-signer"), "does not hold a valid private key", 2);
    expectFailure(await opg({ OPG_PRIVATE_KEY: operatorKey, OPG_SIGNER_KEY: first.privateKey }, "operator", "register-signer", "--self", "--signer-key-env", "OPG_SIGNER_KEY"), "not both", 2);
    expectFailure(await opg({ OPG_SIGNER_KEY: first.privateKey }, "operator", "register-signer"), "OPG_PRIVATE_KEY", 2);
    expectFailure(await opg({ OPG_PRIVATE_KEY: operatorKey, OPG_SIGNER_KEY: first.privateKey }, "operator", "register-signer", "--deadline", "soon"), "--deadline", 2);
    expectFailure(await opg({ OPG_PRIVATE_KEY: operatorKey, OPG_SIGNER_KEY: first.privateKey }, "operator", "register-signer", "--deadline", "1"), "OperatorRegistryConsentExpired");
    expectFailure(await opg({ OPG_PRIVATE_KEY: operatorKey, OPG_SIGNER_KEY: first.privateKey }, "operator", "rotate-signer", "--old", first.address), "OperatorRegistryNotSignerOwner");
    expectFailure(await opg({ OPG_PRIVATE_KEY: operatorKey }, "operator", "rotate-signer", "--self"), "--old", 2);
  });
});
