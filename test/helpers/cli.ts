import { expect } from "chai";
import { BrowserProvider, HDNodeWallet, type Eip1193Provider } from "ethers";
import { runCli } from "../../src/cli/main.ts";
import type { CliIo } from "../../src/cli/types.ts";

const MNEMONIC = "test test test test test test test test test test test junk";

/** Private key of default Hardhat account `index` (0 admin, 1 model owner, 2 operator, 3 requester, 5 stranger, 6..8 attesters). */
export const keyOf = (index: number): string => HDNodeWallet.fromPhrase(MNEMONIC, "", `m/44'/60'/0'/0/${index}`).privateKey;

export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs `opg args…` in `dir` with `env`, the in-process chain as provider, and — unless `offline` —
 * `--deployment deployment.json`, exactly as a user would on a real network.
 */
export async function runOpg(chain: { provider: Eip1193Provider }, dir: string, env: Record<string, string>, args: readonly string[], offline = false): Promise<Run> {
  let stdout = "";
  let stderr = "";
  const io: CliIo = {
    stdout: (t) => void (stdout += t),
    stderr: (t) => void (stderr += t),
    isTTY: false,
    env,
    cwd: dir,
    provider: new BrowserProvider(chain.provider),
  };
  const code = await runCli(offline ? args : [...args, "--deployment", "deployment.json"], io);
  return { code, stdout, stderr };
}

/** Non-zero exit with exactly one readable line on stderr containing `text`. */
export function expectFailure(run: Run, text: string, code = 1): void {
  expect(run.code, run.stderr).to.equal(code);
  expect(run.stdout).to.equal("");
  expect(run.stderr.trimEnd().split("\n"), run.stderr).to.have.length(1);
  expect(run.stderr).to.contain(text);
}
