/**
 * Sends the node's transactions one at a time: estimate (a revert comes back decoded, nothing is sent),
 * take the account's next nonce, sign, let the caller record the signed bytes durably, then broadcast.
 * Recording before broadcasting is what makes a crash safe: whatever was sent is in the store, and
 * rebroadcasting the same bytes can never make a second transaction.
 */
import { Transaction, isError, type Provider, type TransactionReceipt, type Wallet } from "ethers";
import { decodeRevert } from "../settlement/errors.ts";

export interface SignedTx {
  readonly hash: string;
  readonly raw: string;
}

/** How a stored transaction stands on-chain. */
export type TxState =
  | { readonly state: "mined"; readonly receipt: TransactionReceipt }
  | { readonly state: "pending" }
  /** Not known to the node and cannot be (re)broadcast: its nonce was used by another transaction. */
  | { readonly state: "dropped"; readonly reason: string };

export class TxSender {
  #lock: Promise<unknown> = Promise.resolve();
  /** The nonce after the last one this sender signed (providers may cache the pending count). */
  #next = 0;

  constructor(
    readonly wallet: Wallet,
    readonly provider: Provider,
  ) {}

  /** Runs `work` after every earlier send has broadcast (nonces are taken in order). */
  #serial<T>(work: () => Promise<T>): Promise<T> {
    const run = this.#lock.then(work, work);
    this.#lock = run.catch(() => undefined);
    return run;
  }

  /**
   * Estimates, signs, calls `record` with the signed transaction (it must persist it before returning),
   * then broadcasts. A revert at estimation throws ContractRevertError and records nothing.
   */
  send(tx: { to: string; data: string }, record: (signed: SignedTx) => void): Promise<SignedTx> {
    return this.#serial(async () => {
      const from = await this.wallet.getAddress();
      let gasLimit: bigint;
      try {
        gasLimit = await this.provider.estimateGas({ ...tx, from });
      } catch (error) {
        decodeRevert(error);
      }
      const [pending, fees, network] = await Promise.all([this.provider.getTransactionCount(from, "pending"), this.provider.getFeeData(), this.provider.getNetwork()]);
      const nonce = Math.max(pending, this.#next);
      const request = {
        ...tx,
        chainId: network.chainId,
        nonce,
        // Headroom over the estimate: a callback's gas is forwarded with 63/64 rules.
        gasLimit: (gasLimit * 6n) / 5n + 10_000n,
        ...(fees.maxFeePerGas !== null && fees.maxPriorityFeePerGas !== null
          ? { type: 2, maxFeePerGas: fees.maxFeePerGas, maxPriorityFeePerGas: fees.maxPriorityFeePerGas }
          : { gasPrice: fees.gasPrice ?? 1_000_000_000n }),
      };
      const raw = await this.wallet.signTransaction(request);
      const signed = { hash: Transaction.from(raw).hash!, raw };
      record(signed);
      this.#next = nonce + 1;
      try {
        await this.#broadcast(raw);
      } catch (error) {
        // Not in the mempool: the nonce is free again (the recorded transaction will show as dropped).
        this.#next = nonce;
        throw error;
      }
      return signed;
    });
  }

  async #broadcast(raw: string): Promise<void> {
    try {
      await this.provider.broadcastTransaction(raw);
    } catch (error) {
      // Already in the mempool or mined: the state check that follows finds it.
      if (isError(error, "NONCE_EXPIRED") || /already known|known transaction|nonce too low/i.test(String((error as Error).message))) return;
      throw error;
    }
  }

  /** Where a stored transaction stands; a transaction the node does not know is broadcast again. */
  async state(signed: SignedTx): Promise<TxState> {
    const receipt = await this.provider.getTransactionReceipt(signed.hash);
    if (receipt !== null) return { state: "mined", receipt };
    if ((await this.provider.getTransaction(signed.hash)) !== null) return { state: "pending" };
    const tx = Transaction.from(signed.raw);
    const next = await this.provider.getTransactionCount(tx.from!, "latest");
    if (next > tx.nonce) {
      // Mined between the two reads?
      const late = await this.provider.getTransactionReceipt(signed.hash);
      if (late !== null) return { state: "mined", receipt: late };
      // The nonce is used and not by this transaction: it will never be mined.
      return { state: "dropped", reason: `nonce ${tx.nonce} was used by another transaction` };
    }
    await this.#serial(() => this.#broadcast(signed.raw));
    return { state: "pending" };
  }

  /** Waits for `confirmations` blocks on top of the transaction's (polling, so it works on any provider). */
  async wait(signed: SignedTx, confirmations: number, pollMs: number, stopped: () => boolean): Promise<TxState> {
    for (;;) {
      const state = await this.state(signed);
      if (state.state === "dropped") return state;
      if (state.state === "mined") {
        const head = await this.provider.getBlockNumber();
        if (head - state.receipt.blockNumber + 1 >= Math.max(1, confirmations)) return state;
      }
      if (stopped()) return { state: "pending" };
      await new Promise((resolve) => setTimeout(resolve, pollMs));
    }
  }
}
