/**
 * Sending transactions with explicit nonces. ethers' providers answer identical requests from a cache
 * for 250 ms, so a plain `Wallet` that sends a second transaction right after the first one was mined
 * asks for its nonce, gets the stale count and fails with "nonce too low". Here each sender's next
 * nonce is asked of the node past that cache (see nextNonce), one send at a time per sender.
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
 * The sender's next nonce. A provider with a raw `send` (JSON-RPC, Hardhat's) is asked directly, past
 * ethers' cache: its answer is the truth, even after a development chain reverted to a snapshot. Any
 * other provider: max(its pending count, one past the last nonce sent from here).
 */
async function nextNonce(provider: Provider, from: string): Promise<number> {
  const raw = (provider as { send?: unknown }).send;
  if (typeof raw === "function") {
    const count = (await (raw as (method: string, params: unknown[]) => Promise<unknown>).call(provider, "eth_getTransactionCount", [from, "pending"])) as string | number;
    return Number(BigInt(count));
  }
  return Math.max(await provider.getTransactionCount(from, "pending"), perProvider(nextNonces, provider).get(from) ?? 0);
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
    const nonce = await nextNonce(provider, from);
    const tx = (await contract.getFunction(method)(...args, { ...overrides, nonce })) as ContractTransactionResponse;
    perProvider(nextNonces, provider).set(from, nonce + 1);
    return tx;
  });
  queue.set(from, sent);
  return sent;
}

