/**
 * RSA-OAEP-SHA256 encryption and RSASSA-PSS-SHA256 signatures over bytes
 * (SOCP.md §4.2). Signing uses salt 478; verifying tries 478, then 32.
 *
 * @module
 */

import { privateKeyGate, publicKeyGate } from "./_rsa_gate.ts";
import { decodeBase64url, encodeBase64url } from "./base64url.ts";
import { ErrorCode, SocpError } from "./errors.ts";
import type { PrivateKey, PublicKey } from "./keys.ts";
import { OAEP_MAX_PLAINTEXT, PSS_SALT_SIGN, PSS_SALTS_VERIFY, RSA_BYTES } from "./limits.ts";
import { rsaBackend } from "./rsa_backend.ts";

/** Count and total milliseconds of one kind of RSA operation. */
export interface RsaOpStats {
  /** Operations done. */
  count: number;
  /** Total milliseconds they took. */
  ms: number;
}

/**
 * RSA work done by this process so far, for metrics and benchmarks.
 *
 * @example
 * ```ts
 * import { rsaStats } from "@socp/socp";
 * rsaStats.sign.count >= 0; // true
 * ```
 */
export const rsaStats: Readonly<Record<"sign" | "verify" | "encrypt" | "decrypt", RsaOpStats>> = {
  sign: { count: 0, ms: 0 },
  verify: { count: 0, ms: 0 },
  encrypt: { count: 0, ms: 0 },
  decrypt: { count: 0, ms: 0 },
};

function record(op: RsaOpStats, started: number): void {
  op.count++;
  op.ms += performance.now() - started;
}

function toBytes(data: Uint8Array | string): Uint8Array {
  return typeof data === "string" ? new TextEncoder().encode(data) : data;
}

/**
 * RSA-OAEP-encrypts at most 446 bytes (a string is UTF-8 encoded first) to a
 * recipient, returning 683 base64url characters.
 *
 * With `bulk`, the encryption waits until no other RSA operation of this
 * process is queued (key wraps of a rotation must not stall frame work).
 *
 * @throws {SocpError} `TOO_LARGE` above 446 bytes, so callers refuse or split.
 *
 * @example
 * ```ts
 * import { decryptWith, encryptFor, generateKeyPair } from "@socp/socp";
 * const bob = await generateKeyPair();
 * const ct = await encryptFor(bob.publicKey, "hi Bob");
 * new TextDecoder().decode((await decryptWith(bob.privateKey, ct))!); // "hi Bob"
 * ```
 */
export async function encryptFor(
  recipient: PublicKey,
  plaintext: Uint8Array | string,
  options: { bulk?: boolean } = {},
): Promise<string> {
  const bytes = toBytes(plaintext);
  if (bytes.length > OAEP_MAX_PLAINTEXT) {
    throw new SocpError(
      ErrorCode.TOO_LARGE,
      `plaintext is ${bytes.length} bytes; RSA-OAEP carries at most ${OAEP_MAX_PLAINTEXT}`,
    );
  }
  const ct = await publicKeyGate.run(async () => {
    const started = performance.now();
    const ct = await rsaBackend().encrypt(recipient, bytes);
    record(rsaStats.encrypt, started);
    return ct;
  }, options.bulk);
  return encodeBase64url(ct);
}

/**
 * RSA-OAEP-decrypts a base64url ciphertext. Returns `null` when it does not
 * decrypt under this key (wrong key, tampering, wrong parameters, bad text).
 *
 * @example
 * ```ts
 * import { decryptWith, generateKeyPair } from "@socp/socp";
 * const me = await generateKeyPair();
 * await decryptWith(me.privateKey, "AAAA"); // null
 * ```
 */
export async function decryptWith(key: PrivateKey, ciphertext: string): Promise<Uint8Array | null> {
  const bytes = decodeBase64url(ciphertext);
  if (!bytes || bytes.length !== RSA_BYTES) return null;
  return await privateKeyGate.run(async () => {
    const started = performance.now();
    try {
      return await rsaBackend().decrypt(key, bytes);
    } finally {
      record(rsaStats.decrypt, started);
    }
  });
}

/**
 * RSASSA-PSS-signs a message with salt 478, returning base64url.
 *
 * @example
 * ```ts
 * import { generateKeyPair, signBytes, verifyBytes } from "@socp/socp";
 * const me = await generateKeyPair();
 * const sig = await signBytes(me.privateKey, new TextEncoder().encode("x"));
 * await verifyBytes(me.publicKey, new TextEncoder().encode("x"), sig); // true
 * ```
 */
export async function signBytes(key: PrivateKey, message: Uint8Array): Promise<string> {
  const sig = await privateKeyGate.run(async () => {
    const started = performance.now();
    const sig = await rsaBackend().sign(key, message, PSS_SALT_SIGN);
    record(rsaStats.sign, started);
    return sig;
  });
  return encodeBase64url(sig);
}

/**
 * Decodes a signature and checks it is exactly 512 bytes; `null` otherwise.
 *
 * @example
 * ```ts
 * import { decodeSignature } from "@socp/socp";
 * decodeSignature("MDEyMzQ1Njc4OQ"); // null (10 bytes)
 * ```
 */
export function decodeSignature(sig: unknown): Uint8Array | null {
  if (typeof sig !== "string") return null;
  const bytes = decodeBase64url(sig);
  return bytes && bytes.length === RSA_BYTES ? bytes : null;
}

/**
 * Verifies an RSASSA-PSS signature over any of the candidate messages, trying
 * salt 478 then 32 for each, in order. Never throws.
 *
 * @example
 * ```ts
 * import { generateKeyPair, signBytes, verifyBytes } from "@socp/socp";
 * const me = await generateKeyPair();
 * const msg = new TextEncoder().encode("x");
 * await verifyBytes(me.publicKey, [new Uint8Array(1), msg], await signBytes(me.privateKey, msg)); // true
 * ```
 */
export async function verifyBytes(
  key: PublicKey,
  messages: Uint8Array | readonly Uint8Array[],
  sig: string | Uint8Array,
): Promise<boolean> {
  const sigBytes = typeof sig === "string" ? decodeSignature(sig) : sig;
  if (!sigBytes || sigBytes.length !== RSA_BYTES) return false;
  const candidates = messages instanceof Uint8Array ? [messages] : messages;
  return await publicKeyGate.run(async () => {
    const started = performance.now();
    try {
      return await rsaBackend().verify(key, candidates, sigBytes, PSS_SALTS_VERIFY);
    } catch {
      return false;
    } finally {
      record(rsaStats.verify, started);
    }
  });
}
