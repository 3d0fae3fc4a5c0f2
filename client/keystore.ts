/**
 * The client identity at rest (SOCP.md §10.1): a user id and an RSA-4096
 * key pair whose PKCS#8 private key is encrypted with AES-256-GCM under a
 * key derived from a password by PBKDF2-HMAC-SHA-256 (600 000 iterations,
 * 16-byte salt, 12-byte IV). Pure WebCrypto: the same object serves the CLI
 * (a 0600 file) and the browser (IndexedDB).
 *
 * @module
 */

import { decodeBase64url, encodeBase64url } from "../protocol/base64url.ts";
import type { Identity } from "../protocol/builders.ts";
import { ErrorCode, SocpError } from "../protocol/errors.ts";
import { isUuidV4 } from "../protocol/ids.ts";
import { exportPrivateKey, importPrivateKey } from "../protocol/keys.ts";

/** The stored form of an identity. */
export interface KeystoreFile {
  /** Format version. */
  v: 1;
  /** The user's id. */
  user_id: string;
  /** The user's public key (base64url SPKI DER), to check the decrypted key against. */
  pubkey: string;
  /** Key derivation: PBKDF2-HMAC-SHA-256. */
  kdf: "pbkdf2-sha256";
  /** PBKDF2 iterations. */
  iter: number;
  /** 16-byte PBKDF2 salt, base64url. */
  salt: string;
  /** 12-byte AES-GCM IV, base64url. */
  iv: string;
  /** The AES-256-GCM encrypted PKCS#8 private key, base64url. */
  ct: string;
  /** The display name chosen when the identity was made (informational). */
  name?: string;
}

/** PBKDF2 iterations for new keystores; fewer are refused when reading. */
export const PBKDF2_ITERATIONS = 600_000;

async function deriveKey(
  password: string,
  salt: Uint8Array,
  iterations: number,
): Promise<CryptoKey> {
  const material = await crypto.subtle.importKey(
    "raw",
    new TextEncoder().encode(password),
    "PBKDF2",
    false,
    ["deriveKey"],
  );
  return await crypto.subtle.deriveKey(
    { name: "PBKDF2", hash: "SHA-256", salt: salt as BufferSource, iterations },
    material,
    { name: "AES-GCM", length: 256 },
    false,
    ["encrypt", "decrypt"],
  );
}

/**
 * Encrypts an identity under a password.
 *
 * @example
 * ```ts
 * import { openIdentity, sealIdentity } from "@socp/socp/client";
 * import { generateKeyPair } from "@socp/socp";
 * const me = { id: crypto.randomUUID(), keys: await generateKeyPair() };
 * const stored = await sealIdentity(me, "pw", "Alice", 1000);
 * (await openIdentity(stored, "pw", 1000)).id === me.id; // true
 * ```
 */
export async function sealIdentity(
  identity: Identity,
  password: string,
  name?: string,
  iterations: number = PBKDF2_ITERATIONS,
): Promise<KeystoreFile> {
  const salt = crypto.getRandomValues(new Uint8Array(16));
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const key = await deriveKey(password, salt, iterations);
  const pkcs8 = await exportPrivateKey(identity.keys.privateKey);
  const ct = new Uint8Array(
    await crypto.subtle.encrypt({ name: "AES-GCM", iv }, key, pkcs8 as BufferSource),
  );
  pkcs8.fill(0);
  const file: KeystoreFile = {
    v: 1,
    user_id: identity.id,
    pubkey: identity.keys.publicKey.b64,
    kdf: "pbkdf2-sha256",
    iter: iterations,
    salt: encodeBase64url(salt),
    iv: encodeBase64url(iv),
    ct: encodeBase64url(ct),
  };
  if (name) file.name = name;
  return file;
}

/**
 * Decrypts a stored identity.
 *
 * @throws {SocpError} `AUTH_FAILED` for a wrong password; `BAD_REQUEST` for a
 * malformed or weakened file; `BAD_KEY` if the key does not match the file.
 *
 * @example
 * ```ts
 * import { openIdentity } from "@socp/socp/client";
 * await openIdentity({}, "pw").catch((e) => e.code); // "BAD_REQUEST"
 * ```
 */
export async function openIdentity(
  stored: unknown,
  password: string,
  minIterations: number = PBKDF2_ITERATIONS,
): Promise<Identity> {
  const f = stored as Partial<KeystoreFile> | null;
  const salt = decodeBase64url(f?.salt ?? "");
  const iv = decodeBase64url(f?.iv ?? "");
  const ct = decodeBase64url(f?.ct ?? "");
  if (
    f?.v !== 1 || f.kdf !== "pbkdf2-sha256" || !isUuidV4(f.user_id) ||
    typeof f.pubkey !== "string" ||
    !Number.isSafeInteger(f.iter) || !salt || salt.length !== 16 || !iv || iv.length !== 12 || !ct
  ) {
    throw new SocpError(
      ErrorCode.BAD_REQUEST,
      "the identity file is not a socp keystore (v1, pbkdf2-sha256)",
    );
  }
  if (f.iter! < minIterations) {
    throw new SocpError(
      ErrorCode.BAD_REQUEST,
      `the identity file uses ${f.iter} PBKDF2 iterations; at least ${minIterations} are required`,
    );
  }
  const key = await deriveKey(password, salt, f.iter!);
  let pkcs8: Uint8Array;
  try {
    pkcs8 = new Uint8Array(
      await crypto.subtle.decrypt(
        { name: "AES-GCM", iv: iv as BufferSource },
        key,
        ct as BufferSource,
      ),
    );
  } catch {
    throw new SocpError(ErrorCode.AUTH_FAILED, "wrong password for this identity");
  }
  const keys = await importPrivateKey(pkcs8);
  pkcs8.fill(0);
  if (keys.publicKey.b64 !== f.pubkey) {
    throw new SocpError(ErrorCode.BAD_KEY, "the identity file's key does not match its pubkey");
  }
  return { id: f.user_id!, keys };
}
