/**
 * Inputs given by URI: the node fetches them (http on a local server, a file: URI from the folder it was
 * allowed), checks them against the request's input commitment and serves them; a wrong, missing, too
 * big or too slow input is reported once and never served nor retried forever. The fetcher alone: no
 * private addresses unless allowed, redirects bounded, no redirect to another scheme.
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { expect } from "chai";
import { InputFetchError, fetchRequestInput, type InputFetchOptions } from "../src/node/inputs.ts";
import { NodeStore } from "../src/node/store.ts";
import { parseRequestInputDocument, requestInputDocument } from "../src/requests/types.ts";
import { releaseZkResources } from "../src/zkml/index.ts";
import { setup, until } from "./helpers/node.ts";
import { OPG } from "./helpers/system.ts";

after(releaseZkResources);

/** A local server on a free port: `routes` answer by path; the rest 404. */
async function serve(routes: Record<string, (res: import("node:http").ServerResponse) => void>): Promise<{ server: Server; url: (path: string) => string; hits: Map<string, number> }> {
  const hits = new Map<string, number>();
  const server = createServer((req, res) => {
    const path = req.url ?? "/";
    hits.set(path, (hits.get(path) ?? 0) + 1);
    const route = routes[path];
    if (route === undefined) {
      res.writeHead(404).end("not found");
      return;
    }
    route(res);
  });
  await new Promise<void>((ok) => server.listen(0, "127.0.0.1", ok));
  const { port } = server.address() as { port: number };
  return { server, hits, url: (path) => `http://127.0.0.1:${port}${path}` };
}

function close(server: Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((ok) => server.close(() => ok()));
}

const LIMITS: InputFetchOptions = { maxBytes: 4096, timeoutMs: 400, maxRedirects: 2, allowPrivate: true };

describe("node: inputs given by URI", function () {
  this.timeout(300_000);

  it("serves a fetched input that matches its commitment; a wrong, missing, too big or slow one is reported once", async () => {
    const t = await setup();
    const good = requestInputDocument(t.quantized);
    const http = await serve({
      "/good.json": (res) => res.writeHead(200, { "content-type": "application/json" }).end(good),
      "/real.json": (res) => res.writeHead(200).end(JSON.stringify({ input: [t.values] })),
      "/moved": (res) => res.writeHead(302, { location: "/good.json" }).end(),
      "/wrong.json": (res) => res.writeHead(200).end(requestInputDocument(t.quantized.map((v) => v + 1n))),
      "/big.json": (res) => {
        // No Content-Length: the limit is enforced on the bytes as they arrive.
        res.writeHead(200);
        res.write(`{"input": [${'"1",'.repeat(2_000)}`);
        res.end('"1"]}');
      },
      "/slow.json": (res) => setTimeout(() => res.writeHead(200).end(good), 5_000),
    });
    const files = mkdtempSync(join(tmpdir(), "opg-inputs-"));
    writeFileSync(join(files, "input.json"), good);
    const store = new NodeStore(":memory:");
    const node = t.newNode(store, { inputs: { ...LIMITS, fileRoot: files } });
    await node.start();
    try {
      const byUri = (uri: string) => t.request({ maxFee: 20n * OPG }, "0x", uri);
      const served = [await byUri(http.url("/good.json")), await byUri(http.url("/real.json")), await byUri(http.url("/moved")), await byUri(pathToFileURL(join(files, "input.json")).href)];
      const refused = {
        wrong: await byUri(http.url("/wrong.json")),
        missing: await byUri(http.url("/missing.json")),
        big: await byUri(http.url("/big.json")),
        outside: await byUri(pathToFileURL(join(tmpdir(), "elsewhere.json")).href),
        scheme: await byUri("ftp://example.invalid/input.json"),
      };
      const slow = await byUri(http.url("/slow.json"));

      await until(() => served.every((id) => store.get(id)?.status === "fulfilled"), "the good inputs fulfilled");
      for (const id of served) {
        const [status, , outputCommitment] = await t.s.requests.resultOf(id);
        expect(Number(status)).to.equal(2);
        expect(outputCommitment).to.equal(t.expected.outputCommitment);
      }

      await until(() => Object.values(refused).every((id) => store.get(id)?.status === "rejected"), "the bad inputs rejected");
      expect(store.get(refused.wrong)!.error).to.match(/does not match the request's input commitment/);
      expect(store.get(refused.missing)!.error).to.match(/HTTP 404/);
      expect(store.get(refused.big)!.error).to.match(/more than the node's limit of 4096 bytes/);
      expect(store.get(refused.outside)!.error).to.match(/no such file|outside the folder/);
      expect(store.get(refused.scheme)!.error).to.match(/scheme ftp: is not fetched/);
      // The URI is printed escaped (quoted), never raw.
      expect(store.get(refused.missing)!.error).to.contain(JSON.stringify(http.url("/missing.json")));

      // Too slow: a transient failure, tried a bounded number of times, then failed for good.
      await until(() => store.get(slow)?.status === "failed", "the slow input given up", 60_000);
      expect(store.get(slow)!.attempts).to.equal(3);
      expect(store.get(slow)!.error).to.match(/no complete answer within 400 ms/);

      // A few more polls: nothing is fetched again, nothing reported twice.
      const hitsBefore = new Map(http.hits);
      await new Promise((r) => setTimeout(r, 500));
      expect(http.hits).to.deep.equal(hitsBefore);
      expect(http.hits.get("/slow.json")).to.equal(3);
      for (const id of Object.values(refused)) {
        expect(store.get(id)!.attempts, id).to.equal(1);
        expect(t.lines.filter((l) => l.includes(`request ${id} not served`)), id).to.have.length(1);
      }
      for (const id of Object.values(refused)) expect(Number((await t.s.requests.resultOf(id))[0]), id).to.equal(1); // still open
    } finally {
      await node.stop();
      store.close();
      await close(http.server);
    }
  });

  it("the fetcher: private addresses only when allowed, bounded redirects, http(s) redirects only, the document format", async () => {
    const http = await serve({
      "/doc": (res) => res.writeHead(200).end('{"input": ["-3", "4", "5"]}'),
      "/real": (res) => res.writeHead(200).end('{"input": [[0.5, -1.25], [2, 3]]}'),
      "/loop": (res) => res.writeHead(302, { location: "/loop" }).end(),
      "/to-file": (res) => res.writeHead(302, { location: "file:///etc/hostname" }).end(),
      "/declared-big": (res) => res.writeHead(200, { "content-length": "100000" }).end(),
      "/oops": (res) => res.writeHead(503).end(),
    });
    try {
      expect(await fetchRequestInput(http.url("/doc"), LIMITS)).to.deep.equal({ quantized: [-3n, 4n, 5n] });
      expect(await fetchRequestInput(http.url("/real"), LIMITS)).to.deep.equal({ values: [0.5, -1.25, 2, 3] });
      const fails = async (uri: string, options: InputFetchOptions, pattern: RegExp, permanent: boolean) => {
        const error = await fetchRequestInput(uri, options).then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(error, uri).to.be.instanceOf(InputFetchError);
        expect((error as InputFetchError).message).to.match(pattern);
        expect((error as InputFetchError).permanent, uri).to.equal(permanent);
      };
      await fails(http.url("/doc"), { ...LIMITS, allowPrivate: false }, /loopback, private or link-local/, true);
      await fails(http.url("/doc").replace("127.0.0.1", "localhost"), { ...LIMITS, allowPrivate: false }, /loopback, private or link-local/, true);
      await fails(http.url("/loop"), LIMITS, /more than 2 redirects/, true);
      await fails(http.url("/to-file"), LIMITS, /scheme file: is not fetched/, true);
      await fails(http.url("/declared-big"), LIMITS, /100000 bytes, more than/, true);
      await fails(http.url("/oops"), LIMITS, /HTTP 503/, false);
      await fails(pathToFileURL("/etc/hostname").href, LIMITS, /file: URIs are not served/, true);
      await fails("not a uri", LIMITS, /not a URI/, true);
    } finally {
      await close(http.server);
    }
    const parse = (text: string) => parseRequestInputDocument(new TextEncoder().encode(text));
    expect(parse(requestInputDocument([1n, -2n]))).to.deep.equal({ quantized: [1n, -2n] });
    expect(() => parse('{"input": ["1.5"]}')).to.throw(/input\[0\] is not a decimal integer/);
    expect(() => parse('{"input": ["1", 2]}')).to.throw(/neither decimal strings nor nested numbers/);
    expect(() => parse('{"other": 1}')).to.throw(/holds no/);
  });
});
