/**
 * JSON forms of signed authorizations and leaves (amounts as decimal strings), as the CLI writes and reads them
 * and the node returns them over HTTP. Parsing validates every field (InvalidInputError naming it).
 */
import { InvalidInputError } from "../errors.ts";
import { checkAddress, type Hex } from "../receipts/receipt.ts";
import { leafFromValues, type BatchLeaf, type SignedAuthorization, type SpendingAuthorization } from "./types.ts";

export interface SignedAuthorizationJson {
  readonly id: string;
  readonly authorization: { requester: string; operator: string; cap: string; expiry: string; salt: string };
  readonly signature: string;
}

export function authorizationToJson(signed: SignedAuthorization & { id: Hex }): SignedAuthorizationJson {
  const a = signed.authorization;
  return { id: signed.id, authorization: { requester: a.requester, operator: a.operator, cap: a.cap.toString(), expiry: a.expiry.toString(), salt: a.salt }, signature: signed.signature };
}

function uint(value: unknown, what: string): bigint {
  if ((typeof value !== "string" && typeof value !== "number") || !/^[0-9]+$/.test(String(value))) throw new InvalidInputError(`${what} must be a non-negative integer`);
  return BigInt(value);
}

function hex(value: unknown, what: string, bytes?: number): Hex {
  const pattern = bytes === undefined ? /^0x([0-9a-fA-F]{2})*$/ : new RegExp(`^0x[0-9a-fA-F]{${bytes * 2}}$`);
  if (typeof value !== "string" || !pattern.test(value)) throw new InvalidInputError(`${what} must be ${bytes === undefined ? "hex bytes" : `${bytes} bytes of hex`}`);
  return value as Hex;
}

/** Parses a signed authorization (validating every field; the id is recomputed by the caller if needed). */
export function authorizationFromJson(value: unknown): SignedAuthorization & { id: Hex } {
  if (typeof value !== "object" || value === null) throw new InvalidInputError("a signed authorization must be a JSON object");
  const record = value as Record<string, unknown>;
  const a = record["authorization"] as Record<string, unknown> | undefined;
  if (typeof a !== "object" || a === null) throw new InvalidInputError("the signed authorization has no \"authorization\" object");
  const authorization: SpendingAuthorization = {
    requester: checkAddress(String(a["requester"]), "authorization.requester"),
    operator: checkAddress(String(a["operator"]), "authorization.operator"),
    cap: uint(a["cap"], "authorization.cap"),
    expiry: uint(a["expiry"], "authorization.expiry"),
    salt: hex(a["salt"], "authorization.salt", 32),
  };
  return { id: hex(record["id"], "id", 32), authorization, signature: hex(record["signature"], "signature") };
}

/** A leaf as JSON: its fields by name, amounts as decimal strings. */
export function leafToJson(leaf: BatchLeaf): Record<string, string | number> {
  return { ...leaf, price: leaf.price.toString(), nonce: leaf.nonce.toString(), cumulative: leaf.cumulative.toString() };
}

export function leafFromJson(value: unknown): BatchLeaf {
  if (typeof value !== "object" || value === null) throw new InvalidInputError("a leaf must be a JSON object");
  const r = value as Record<string, unknown>;
  return leafFromValues(["modelId", "inputCommitment", "outputCommitment", "outputDigest", "requester", "tier", "price", "nonce", "cumulative", "authorization"].map((k) => r[k]));
}


