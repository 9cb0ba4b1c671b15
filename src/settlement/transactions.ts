/**
 * Sending transactions with explicit nonces. ethers' providers answer identical requests from a cache
 * for 250 ms, so a plain `Wallet` that sends a second transaction right after the first one was mined
 * asks for its nonce, gets the stale count and fails with "nonce too low". Here each sender's next
 * nonce is remembered per provider: max(the chain's pending count, one past the last nonce we sent).
 * A transaction that fails before it is sent (a revert in gas estimation) consumes nothing, and
 * transactions sent outside the toolkit are picked up from the chain's count.
 */
import type { Contract, ContractTransactionResponse, Provider, Signer } from "ethers";
import { OpgError } from "../errors.ts";

const nextNonces = new WeakMap<Provider, Map<string, number>>();
/** One send at a time per sender, so two concurrent calls never take the same nonce. */
const queues = new WeakMap<Provider, Map<string, Promise<unknown>>>();

function perProvider<T>(map: WeakMap<Provider, Map<string, T>>, provider: Provider): Map<string, T> {
  let inner = map.get(provider);
  if (inner === undefined) {
    inner = new Map();
    map.set(provider, inner);
  }
  return inner;
}

/**
 * Calls `method` on `contract` (bound to a signer) with an explicit nonce and returns the sent
 * transaction. Use it as `mined(send(contract, "deposit", account, amount))`.
 */
export function send(contract: Contract, method: string, ...args: unknown[]): Promise<ContractTransactionResponse> {
  return sendWith(contract, method, args, {});
}

/** `send` with transaction overrides (a gas limit…); the nonce is still chosen here. */
export async function sendWith(contract: Contract, method: string, args: readonly unknown[], overrides: Readonly<Record<string, unknown>>): Promise<ContractTransactionResponse> {
  const signer = contract.runner as Signer | null;
  const provider = signer?.provider;
  if (signer === null || typeof signer.sendTransaction !== "function" || provider === null || provider === undefined) {
    throw new OpgError("NO_SIGNER", `${method} sends a transaction: the contract needs a signer connected to a provider`);
  }
  const from = (await signer.getAddress()).toLowerCase();
  const queue = perProvider(queues, provider);
  const previous = queue.get(from) ?? Promise.resolve();
  const sent = previous.catch(() => undefined).then(async () => {
    const nonces = perProvider(nextNonces, provider);
    const remembered = nonces.get(from) ?? 0;
    const pending = await provider.getTransactionCount(from, "pending");
    const nonce = Math.max(pending, remembered);
    let tx: ContractTransactionResponse;
    try {
      tx = (await contract.getFunction(method)(...args, { ...overrides, nonce })) as ContractTransactionResponse;
    } catch (error) {
      // The chain went back under us (a reorg, a dropped transaction, a node restarted or a test
      // snapshot reverted): what we remembered is ahead of it. Forget it and use the chain's count.
      if (nonce === pending || !isNonceError(error)) throw error;
      nonces.delete(from);
      tx = (await contract.getFunction(method)(...args, { ...overrides, nonce: pending })) as ContractTransactionResponse;
      nonces.set(from, pending + 1);
      return tx;
    }
    nonces.set(from, nonce + 1);
    return tx;
  });
  queue.set(from, sent);
  return sent;
}

/** Whether a failed send was refused for its nonce (ethers' NONCE_EXPIRED, or the node's own words). */
function isNonceError(error: unknown): boolean {
  for (let e: unknown = error, depth = 0; e !== undefined && e !== null && depth < 6; depth++) {
    const { code, message, error: inner, info } = e as { code?: unknown; message?: unknown; error?: unknown; info?: { error?: unknown } };
    if (code === "NONCE_EXPIRED") return true;
    if (typeof message === "string" && /nonce/i.test(message)) return true;
    e = inner ?? info?.error;
  }
  return false;
}
