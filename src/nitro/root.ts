import { createHash } from "node:crypto";
import { bytesEqual, view } from "./bytes.ts";
import { NitroError } from "./errors.ts";

/**
 * The AWS Nitro Enclaves root certificate (commercial partitions, "aws.nitro-enclaves", P-384, valid 2019-10-28 to
 * 2049-10-28), embedded so verification never depends on files or network at run time.
 */
export const AWS_NITRO_ROOT_PEM = `-----BEGIN CERTIFICATE-----
MIICETCCAZagAwIBAgIRAPkxdWgbkK/hHUbMtOTn+FYwCgYIKoZIzj0EAwMwSTEL
MAkGA1UEBhMCVVMxDzANBgNVBAoMBkFtYXpvbjEMMAoGA1UECwwDQVdTMRswGQYD
VQQDDBJhd3Mubml0cm8tZW5jbGF2ZXMwHhcNMTkxMDI4MTMyODA1WhcNNDkxMDI4
MTQyODA1WjBJMQswCQYDVQQGEwJVUzEPMA0GA1UECgwGQW1hem9uMQwwCgYDVQQL
DANBV1MxGzAZBgNVBAMMEmF3cy5uaXRyby1lbmNsYXZlczB2MBAGByqGSM49AgEG
BSuBBAAiA2IABPwCVOumCMHzaHDimtqQvkY4MpJzbolL//Zy2YlES1BR5TSksfbb
48C8WBoyt7F2Bw7eEtaaP+ohG2bnUs990d0JX28TcPQXCEPZ3BABIeTPYwEoCWZE
h8l5YoQwTcU/9KNCMEAwDwYDVR0TAQH/BAUwAwEB/zAdBgNVHQ4EFgQUkCW1DdkF
R+eWw5b6cp3PmanfS5YwDgYDVR0PAQH/BAQDAgGGMAoGCCqGSM49BAMDA2kAMGYC
MQCjfy+Rocm9Xue4YnwWmNJVA44fA0P5W2OpYow9OYCVRaEevL8uO1XYru5xtMPW
rfMCMQCi85sWBbJwKKXdS6BptQFuZbT73o/gBh1qUxl/nNr12UO8Yfwr6wPLb+6N
IwLz3/Y=
-----END CERTIFICATE-----
`;

/**
 * SHA-256 of the root's DER. Pinned separately from the PEM because copies of this PEM with a corrupted line
 * circulate; a pin catches an edit to the constant above instead of silently trusting something else.
 */
export const AWS_NITRO_ROOT_SHA256 = "641a0321a3e244efe456463195d606317ed7cdcc3c1756e09893f3c68f79bb5b";

/** A root certificate the caller decided to trust, identified by the SHA-256 of its DER. */
export interface TrustedRoot {
  readonly der: Uint8Array;
  /** Lowercase hex, no prefix (the form fingerprints are published in). */
  readonly sha256: string;
}

/** SHA-256 as lowercase hex without prefix: the cache key of a certificate and the form fingerprints are pinned in. */
export function sha256Hex(bytes: Uint8Array): string {
  return createHash("sha256").update(view(bytes)).digest("hex");
}

/** Decodes exactly one PEM CERTIFICATE block; anything else is refused rather than guessed at. */
export function pemToDer(pem: string): Uint8Array {
  const match = /^\s*-----BEGIN CERTIFICATE-----\r?\n([A-Za-z0-9+/=\r\n]+?)-----END CERTIFICATE-----\s*$/.exec(pem);
  if (match === null || match[1] === undefined) {
    throw new NitroError("NITRO_INPUT_INVALID", "root is not a single PEM CERTIFICATE block");
  }
  const body = match[1].replace(/[\r\n]/g, "");
  const der = new Uint8Array(Buffer.from(body, "base64"));
  // Buffer.from(base64) skips invalid characters silently; re-encoding catches bodies it did not take verbatim.
  if (Buffer.from(der).toString("base64") !== body) {
    throw new NitroError("NITRO_INPUT_INVALID", "root PEM has a malformed base64 body");
  }
  return der;
}

/**
 * Makes a trust anchor from PEM text or DER bytes. When `expectedSha256` is given (hex, with or without 0x), the
 * certificate must have exactly that fingerprint: NITRO_ROOT_PIN_MISMATCH otherwise.
 */
export function trustedRoot(pemOrDer: string | Uint8Array, expectedSha256?: string): TrustedRoot {
  const der = typeof pemOrDer === "string" ? pemToDer(pemOrDer) : new Uint8Array(pemOrDer);
  const sha256 = sha256Hex(der);
  if (expectedSha256 !== undefined) {
    const expected = expectedSha256.toLowerCase().replace(/^0x/, "");
    if (sha256 !== expected) {
      throw new NitroError("NITRO_ROOT_PIN_MISMATCH", `root fingerprint ${sha256} does not match the pinned ${expected}`, {
        details: { expected, actual: sha256 },
      });
    }
  }
  return Object.freeze({ der, sha256 });
}

let awsRoot: TrustedRoot | undefined;

/** The embedded AWS root, checked against its pin on first use. */
export function awsNitroRoot(): TrustedRoot {
  awsRoot ??= trustedRoot(AWS_NITRO_ROOT_PEM, AWS_NITRO_ROOT_SHA256);
  return awsRoot;
}

/** True when `der` is the anchor's certificate. */
export function isRoot(root: TrustedRoot, der: Uint8Array, derSha256: string): boolean {
  return derSha256 === root.sha256 && bytesEqual(der, root.der);
}
