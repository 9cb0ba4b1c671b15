/**
 * The operator node's serving logic against the real RequestBook on the in-process chain: requests from
 * events fulfilled at signature and ZK tier with the circuit's outputs, requests it cannot serve reported
 * once and never retried, a fulfilment whose transaction was sent but not recorded as done (a crash)
 * settled on restart without a second transaction, and POST /v1/infer with a requester authorization.
 */
import { expect } from "chai";
import { commitQuantized } from "../src/commitments/index.ts";
import { createNodeServer, listen, closeServer } from "../src/node/http.ts";
import { NodeStore, type RequestStatus } from "../src/node/store.ts";
import { Tier } from "../src/receipts/tier.ts";
import { AUTHORIZATION_TYPES, authorizationValue, bookDomain, buildRequestParams, encodeRequestInput, type RequestParams } from "../src/requests/types.ts";
import { releaseZkResources } from "../src/zkml/index.ts";
import { setup, until } from "./helpers/node.ts";
import { OPG } from "./helpers/system.ts";

after(releaseZkResources);

describe("node: serving requests from the request book", function () {
  this.timeout(300_000);

  it("fulfils signature and ZK requests with the circuit's outputs; unservable requests are reported once", async () => {
    const t = await setup();
    const store = new NodeStore(":memory:");
    const node = t.newNode(store);
    await node.start();
    try {
      const sig = await t.request();
      const zk = await t.request({ minFinalStep: Tier.ZK });
      const statusOf = (id: string): RequestStatus | undefined => store.get(id)?.status;
      await until(() => statusOf(sig) === "fulfilled" && statusOf(zk) === "fulfilled", "both fulfilled");
      for (const [id, tier] of [[sig, Tier.Signature], [zk, Tier.ZK]] as const) {
        const [status, recordedTier, outputCommitment] = await t.s.requests.resultOf(id);
        expect(Number(status)).to.equal(2);
        expect(Number(recordedTier)).to.equal(tier);
        expect(outputCommitment).to.equal(t.expected.outputCommitment);
        const result = JSON.parse(store.get(id)!.result!) as { output: number[]; steps: { output: string[] }[] };
        expect(result.output).to.deep.equal(t.expected.outputValues);
        expect(result.steps[0]!.output).to.deep.equal(t.expected.output.map(String));
      }

      // Cannot be served: another model, an input that is not its commitment's, an input outside the range.
      const unknownModel = await t.request({ pipeline: [t.other] });
      const wrongInput = await t.request({}, encodeRequestInput(t.quantized.map((v) => v + 1n)));
      const outOfRange = [0n, 1n << 40n, 0n];
      const badRange = await t.request({ inputCommitment: await commitQuantized(outOfRange, 12) }, encodeRequestInput(outOfRange));
      const garbage = await t.request({}, "0x1234");
      await until(() => [unknownModel, wrongInput, badRange, garbage].every((id) => statusOf(id) === "rejected"), "all rejected");
      // A few more polls: nothing is retried.
      await new Promise((r) => setTimeout(r, 300));
      for (const id of [unknownModel, wrongInput, badRange, garbage]) {
        expect(store.get(id)!.attempts, id).to.equal(1);
        expect(t.lines.filter((l) => l.includes(`request ${id} not served`)), id).to.have.length(1);
      }
      expect(store.get(unknownModel)!.error).to.contain("is not served by this node");
      expect(store.get(wrongInput)!.error).to.contain("does not match its commitment");
      expect(store.get(badRange)!.error).to.contain("outside the model's input range");
      expect(store.get(garbage)!.error).to.contain("cannot be decoded");
      const metrics = node.metrics.render();
      expect(metrics).to.contain('opg_node_requests_total{tier="signature",outcome="fulfilled"} 1');
      expect(metrics).to.contain('opg_node_requests_total{tier="zk",outcome="fulfilled"} 1');
      expect(metrics).to.contain('opg_node_requests_total{tier="signature",outcome="rejected"} 4');
      expect(metrics).to.contain("opg_node_proving_seconds_count 1");
    } finally {
      await node.stop();
    }
  });

  it("a fulfilment sent but not recorded as done before a crash is settled on restart, never sent twice", async () => {
    const t = await setup();
    const store = new NodeStore(":memory:");
    // Simulate the crash: the first node sends the fulfilment and stops before seeing it mined.
    const first = t.newNode(store);
    const id = await t.request();
    await first.start();
    await until(() => store.get(id)?.status === "submitted" || store.get(id)?.status === "fulfilled", "sent");
    await first.stop();
    // Rewind to the state a SIGKILL right after the broadcast leaves behind.
    if (store.get(id)!.status === "fulfilled") {
      const row = store.get(id)!;
      store.transition(id, ["fulfilled"], "submitted", { txHash: row.txHash, rawTx: row.rawTx });
    }
    const txsBefore = await t.provider.getTransactionCount(t.wallet.address);
    const second = t.newNode(store);
    await second.start();
    try {
      await until(() => store.get(id)?.status === "fulfilled", "fulfilled after restart");
      expect(await t.provider.getTransactionCount(t.wallet.address)).to.equal(txsBefore);
      expect(t.lines.some((l) => l.includes(`resuming ${id}`))).to.equal(true);
    } finally {
      await second.stop();
    }
  });

  it("POST /v1/infer settles a requester's authorization and answers with outputs and evidence", async () => {
    const t = await setup();
    const store = new NodeStore(":memory:");
    const node = t.newNode(store);
    await node.start();
    const server = createNodeServer({ infer: (b) => node.inferHttp(b), request: () => ({ status: 404, body: {} }), health: () => ({ status: 200, body: {} }), metrics: () => node.metrics.render() });
    const port = await listen(server, 0, "127.0.0.1");
    try {
      const now = BigInt(await t.s.networkHelpers.time.latest());
      const sign = async (params: RequestParams, signer = t.s.requester) =>
        signer.signTypedData(bookDomain(t.chainId, t.deployment.requests!), AUTHORIZATION_TYPES, authorizationValue(t.s.requester.address, params));
      const paramsFor = (fields: Partial<Parameters<typeof buildRequestParams>[0]> = {}) =>
        buildRequestParams({ pipeline: [t.modelId], inputCommitment: t.expected.inputCommitment, minEachStep: Tier.Signature, minFinalStep: Tier.ZK, operator: t.wallet.address, maxFee: 100n * OPG, deadline: now + 600n, nonce: 77n, ...fields });
      const post = async (body: unknown) => {
        const res = await fetch(`http://127.0.0.1:${port}/v1/infer`, { method: "POST", body: JSON.stringify(body, (_, v: unknown) => (typeof v === "bigint" ? v.toString() : v)) });
        return { status: res.status, body: (await res.json()) as Record<string, unknown> };
      };
      const params = paramsFor();
      const values = t.quantized.map((v) => Number(v) / 4096);
      const good = { requester: t.s.requester.address, params, signature: await sign(params), input: values };
      const res = await post(good);
      expect(res.status, JSON.stringify(res.body)).to.equal(200);
      expect(res.body["output"]).to.deep.equal(t.expected.outputValues);
      const steps = res.body["steps"] as { tier: string; proof: string[] }[];
      expect(steps[0]!.tier).to.equal("zk");
      expect(steps[0]!.proof).to.have.length(8);
      const id = res.body["requestId"] as string;
      await until(() => store.get(id)?.status === "fulfilled", "settled");
      expect(Number((await t.s.requests.resultOf(id))[0])).to.equal(2);

      // The same authorization again, a wrong operator, a forged signature, an input that is not the committed one.
      expect((await post(good)).status).to.equal(409);
      const stranger = paramsFor({ operator: t.s.stranger.address, nonce: 78n });
      expect((await post({ ...good, params: stranger, signature: await sign(stranger) })).status).to.equal(403);
      const p79 = paramsFor({ nonce: 79n });
      expect((await post({ ...good, params: p79, signature: await sign(p79, t.s.stranger) })).status).to.equal(401);
      const p80 = paramsFor({ nonce: 80n });
      const wrong = await post({ ...good, params: p80, signature: await sign(p80), input: values.map((v) => v + 1) });
      expect(wrong.status).to.equal(422);
      expect(JSON.stringify(wrong.body)).to.contain("does not match its commitment");
      const p81 = paramsFor({ nonce: 81n, maxFee: 1n });
      const cheap = await post({ ...good, params: p81, signature: await sign(p81) });
      expect(cheap.status).to.equal(422);
      expect(JSON.stringify(cheap.body)).to.contain("below the price");
      expect((await post({ nope: 1 })).status).to.equal(400);

      // The file `opg request authorize` writes (quantized input as decimal strings) is a valid body as it is.
      const p82 = paramsFor({ nonce: 82n });
      const fromCli = await post({ format: "opg-authorization/1", requester: t.s.requester.address, params: p82, input: t.quantized.map(String), signature: await sign(p82) });
      expect(fromCli.status, JSON.stringify(fromCli.body)).to.equal(200);
      expect(fromCli.body["output"]).to.deep.equal(t.expected.outputValues);
    } finally {
      await closeServer(server);
      await node.stop();
    }
  });
});
