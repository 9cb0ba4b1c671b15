/**
 * Inputs given by URI (RequestBook `request(params, "", inputURI)`): fetched over http(s), or read from a
 * folder the operator allowed for file: URIs, with a size limit, a timeout for the whole fetch, at most a
 * few redirects (each hop checked again) and, unless allowed, no connection to loopback, private or
 * link-local addresses (checked on the addresses the connection actually uses, so DNS cannot rebind
 * around it). The content is parsed (src/requests parseRequestInputDocument) and the node then checks it
 * against the request's input commitment before anything runs on it.
 *
 * Errors say whether trying again could help: a 404, a body over the limit, a refused address or scheme
 * are permanent (the request is reported once and not served); a timeout, a refused connection or a 5xx
 * are transient (retried a bounded number of times, like any transient failure of the node).
 */
import { lookup as dnsLookup, type LookupAddress } from "node:dns";
import { realpath, open } from "node:fs/promises";
import { request as httpRequest, type IncomingMessage } from "node:http";
import { request as httpsRequest } from "node:https";
import { BlockList, isIP } from "node:net";
import { sep } from "node:path";
import { fileURLToPath } from "node:url";
import { OpgError } from "../errors.ts";
import { parseRequestInputDocument, type RequestInputContent } from "../requests/types.ts";

export interface InputFetchOptions {
  /** Largest body accepted, in bytes. */
  readonly maxBytes: number;
  /** Time for the whole fetch (every redirect and the body), in ms. */
  readonly timeoutMs: number;
  readonly maxRedirects: number;
  /** file: URIs are served only from inside this folder (undefined: file: URIs are refused). */
  readonly fileRoot?: string | undefined;
  /** Allow hosts on loopback, private and link-local addresses (a node on a LAN, a test). */
  readonly allowPrivate: boolean;
}

export const DEFAULT_INPUT_FETCH: InputFetchOptions = { maxBytes: 4 * 1024 * 1024, timeoutMs: 10_000, maxRedirects: 3, allowPrivate: false };

/** An input URI that could not be used; `permanent` when trying again cannot help. */
export class InputFetchError extends OpgError {
  override readonly name = "InputFetchError";
  constructor(
    message: string,
    readonly permanent: boolean,
    options: { cause?: unknown } = {},
  ) {
    super("INPUT_FETCH_FAILED", message, options);
  }
}

/** A URI as it may be printed: quoted and escaped, at most 200 characters. */
export function printableUri(uri: string): string {
  return JSON.stringify(uri.length > 200 ? `${uri.slice(0, 200)}…` : uri);
}

const PRIVATE = new BlockList();
for (const [net, prefix] of [["0.0.0.0", 8], ["10.0.0.0", 8], ["100.64.0.0", 10], ["127.0.0.0", 8], ["169.254.0.0", 16], ["172.16.0.0", 12], ["192.168.0.0", 16], ["198.18.0.0", 15], ["224.0.0.0", 4], ["240.0.0.0", 4]] as const) {
  PRIVATE.addSubnet(net, prefix, "ipv4");
}
for (const [net, prefix] of [["::", 128], ["::1", 128], ["fc00::", 7], ["fe80::", 10], ["ff00::", 8]] as const) PRIVATE.addSubnet(net, prefix, "ipv6");

function isPrivate(address: string): boolean {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped !== null) return PRIVATE.check(mapped[1]!, "ipv4");
  return PRIVATE.check(address, isIP(address) === 6 ? "ipv6" : "ipv4");
}

function refusedAddress(host: string, address: string): InputFetchError {
  return new InputFetchError(`${host} is a loopback, private or link-local address (${address}); the node does not fetch from it unless allowed`, true);
}

type LookupCallback = (error: Error | null, address: string | LookupAddress[], family?: number) => void;

/** dns.lookup that refuses private addresses: the connection only ever uses what this returns. */
function guardedLookup(hostname: string, options: { all?: boolean }, callback: LookupCallback): void {
  dnsLookup(hostname, { all: true }, (error, addresses) => {
    if (error !== null) return callback(error, []);
    const bad = addresses.find((a) => isPrivate(a.address));
    if (bad !== undefined) return callback(refusedAddress(hostname, bad.address), []);
    if (options.all === true) return callback(null, addresses);
    const first = addresses[0];
    if (first === undefined) return callback(new Error(`${hostname} has no address`), []);
    callback(null, first.address, first.family);
  });
}

function checkHttpUrl(url: URL, options: InputFetchOptions): void {
  if (url.protocol !== "http:" && url.protocol !== "https:") throw new InputFetchError(`scheme ${url.protocol} is not fetched (http, https${options.fileRoot === undefined ? "" : ", file"})`, true);
  if (url.username !== "" || url.password !== "") throw new InputFetchError("a URI with credentials is not fetched", true);
  const host = url.hostname.replace(/^\[|\]$/g, "");
  if (!options.allowPrivate && isIP(host) !== 0 && isPrivate(host)) throw refusedAddress(host, host);
}

function get(url: URL, options: InputFetchOptions, signal: AbortSignal): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const send = url.protocol === "https:" ? httpsRequest : httpRequest;
    const req = send(url, { method: "GET", signal, headers: { accept: "application/json, application/octet-stream" }, ...(options.allowPrivate ? {} : { lookup: guardedLookup as never }) }, resolve);
    req.once("error", reject);
    req.end();
  });
}

async function readBody(response: IncomingMessage, maxBytes: number): Promise<Uint8Array> {
  const declared = Number(response.headers["content-length"]);
  if (Number.isFinite(declared) && declared > maxBytes) {
    response.destroy();
    throw new InputFetchError(`the input is ${declared} bytes, more than the node's limit of ${maxBytes}`, true);
  }
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of response as AsyncIterable<Buffer>) {
    total += chunk.length;
    if (total > maxBytes) {
      response.destroy();
      throw new InputFetchError(`the input is more than the node's limit of ${maxBytes} bytes`, true);
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

async function fetchHttp(uri: URL, options: InputFetchOptions, signal: AbortSignal): Promise<Uint8Array> {
  let url = uri;
  for (let hop = 0; ; hop++) {
    checkHttpUrl(url, options);
    const response = await get(url, options, signal);
    const status = response.statusCode ?? 0;
    if ([301, 302, 303, 307, 308].includes(status)) {
      response.resume();
      if (hop >= options.maxRedirects) throw new InputFetchError(`more than ${options.maxRedirects} redirects`, true);
      const location = response.headers.location;
      if (location === undefined) throw new InputFetchError(`HTTP ${status} without a Location`, true);
      url = new URL(location, url);
      continue;
    }
    if (status !== 200) {
      response.resume();
      const transient = status >= 500 || status === 408 || status === 429;
      throw new InputFetchError(`HTTP ${status}`, !transient);
    }
    return readBody(response, options.maxBytes);
  }
}

async function readFileInput(url: URL, options: InputFetchOptions): Promise<Uint8Array> {
  if (options.fileRoot === undefined) throw new InputFetchError("file: URIs are not served by this node (see --allow-file-inputs)", true);
  let path: string;
  let root: string;
  try {
    root = await realpath(options.fileRoot);
    path = await realpath(fileURLToPath(url));
  } catch (cause) {
    throw new InputFetchError("no such file", true, { cause });
  }
  if (!path.startsWith(root + sep)) throw new InputFetchError("the file is outside the folder this node serves inputs from", true);
  const handle = await open(path, "r");
  try {
    const { size } = await handle.stat();
    if (size > options.maxBytes) throw new InputFetchError(`the input is ${size} bytes, more than the node's limit of ${options.maxBytes}`, true);
    return await handle.readFile();
  } finally {
    await handle.close();
  }
}

/** The values an input URI serves (not yet checked against any commitment). */
export async function fetchRequestInput(uri: string, options: InputFetchOptions = DEFAULT_INPUT_FETCH): Promise<RequestInputContent> {
  let url: URL;
  try {
    url = new URL(uri);
  } catch (cause) {
    throw new InputFetchError("not a URI", true, { cause });
  }
  let content: Uint8Array;
  if (url.protocol === "file:") content = await readFileInput(url, options);
  else {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), options.timeoutMs);
    try {
      content = await fetchHttp(url, options, controller.signal);
    } catch (cause) {
      if (cause instanceof InputFetchError) throw cause;
      if (controller.signal.aborted) throw new InputFetchError(`no complete answer within ${options.timeoutMs} ms`, false, { cause });
      throw new InputFetchError(`cannot fetch it (${cause instanceof Error ? cause.message : String(cause)})`, false, { cause });
    } finally {
      clearTimeout(timer);
    }
  }
  try {
    return parseRequestInputDocument(content);
  } catch (cause) {
    throw new InputFetchError(cause instanceof Error ? cause.message : String(cause), true, { cause });
  }
}
