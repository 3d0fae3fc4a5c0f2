/**
 * The AES-256-GCM blob of the public channel, public files and fast file mode
 * (SOCP.md §4.4): base64url(iv(16) ‖ tag(16) ‖ ct). Decoding also accepts a
 * dialect web client's iv(12) ‖ tag(16) ‖ ct; the tag tells them apart.
 *
 * @module
 */

import { decodeBase64url, encodeBase64url } from "./base64url.ts";
import { ErrorCode, SocpError } from "./errors.ts";

/**
 * Bytes of an AES-256 key.
 *
 * @example
 * ```ts
 * import { AES_KEY_BYTES, generateAesKey } from "@socp/socp";
 * generateAesKey().length === AES_KEY_BYTES; // true
 * ```
 */
export const AES_KEY_BYTES = 32;
/**
 * IV length we send.
 *
 * @example
 * ```ts
 * import { AES_IV_BYTES } from "@socp/socp";
 * AES_IV_BYTES; // 16
 * ```
 */
export const AES_IV_BYTES = 16;
/**
 * GCM tag length.
 *
 * @example
 * ```ts
 * import { AES_TAG_BYTES } from "@socp/socp";
 * AES_TAG_BYTES; // 16
 * ```
 */
export const AES_TAG_BYTES = 16;
const IV_LAYOUTS = [16, 12] as const;

/** An AES key as raw bytes or an imported WebCrypto key. */
export type AesKey = Uint8Array | CryptoKey;

/**
 * 32 fresh CSPRNG bytes: a public-channel or per-file key.
 *
 * @example
 * ```ts
 * import { generateAesKey } from "@socp/socp";
 * generateAesKey().length; // 32
 * ```
 */
export function generateAesKey(): Uint8Array {
  return crypto.getRandomValues(new Uint8Array(AES_KEY_BYTES));
}

/**
 * Imports 32 raw bytes as a WebCrypto AES-GCM key (reuse it across messages).
 *
 * @throws {SocpError} `BAD_KEY` unless the key is exactly 32 bytes.
 *
 * @example
 * ```ts
 * import { generateAesKey, importAesKey } from "@socp/socp";
 * const key = await importAesKey(generateAesKey());
 * key.algorithm.name; // "AES-GCM"
 * ```
 */
export async function importAesKey(raw: Uint8Array): Promise<CryptoKey> {
  if (raw.length !== AES_KEY_BYTES) {
    throw new SocpError(ErrorCode.BAD_KEY, `AES key must be ${AES_KEY_BYTES} bytes`);
  }
  return await crypto.subtle.importKey("raw", raw as BufferSource, "AES-GCM", false, [
    "encrypt",
    "decrypt",
  ]);
}

async function asCryptoKey(key: AesKey): Promise<CryptoKey> {
  return key instanceof Uint8Array ? await importAesKey(key) : key;
}

function gcmParams(iv: Uint8Array, aad?: Uint8Array): AesGcmParams {
  const params: AesGcmParams = { name: "AES-GCM", iv: iv as BufferSource, tagLength: 128 };
  if (aad) params.additionalData = aad as BufferSource;
  return params;
}

/**
 * Encrypts under a fresh 16-byte IV and returns the blob
 * base64url(iv ‖ tag ‖ ct). A string plaintext is UTF-8 encoded.
 *
 * @example
 * ```ts
 * import { aesGcmDecrypt, aesGcmEncrypt, generateAesKey } from "@socp/socp";
 * const key = generateAesKey();
 * const blob = await aesGcmEncrypt(key, "hello all");
 * new TextDecoder().decode((await aesGcmDecrypt(key, blob))!); // "hello all"
 * ```
 */
export async function aesGcmEncrypt(
  key: AesKey,
  plaintext: Uint8Array | string,
  aad?: Uint8Array,
): Promise<string> {
  const data = typeof plaintext === "string" ? new TextEncoder().encode(plaintext) : plaintext;
  const iv = crypto.getRandomValues(new Uint8Array(AES_IV_BYTES));
  const sealed = new Uint8Array(
    await crypto.subtle.encrypt(gcmParams(iv, aad), await asCryptoKey(key), data as BufferSource),
  );
  // WebCrypto returns ct ‖ tag; the wire wants iv ‖ tag ‖ ct.
  const ctLen = sealed.length - AES_TAG_BYTES;
  const blob = new Uint8Array(AES_IV_BYTES + sealed.length);
  blob.set(iv, 0);
  blob.set(sealed.subarray(ctLen), AES_IV_BYTES);
  blob.set(sealed.subarray(0, ctLen), AES_IV_BYTES + AES_TAG_BYTES);
  return encodeBase64url(blob);
}

/**
 * Decrypts a blob, trying the 16-byte IV layout and then the 12-byte one.
 * Returns `null` if neither authenticates.
 *
 * @example
 * ```ts
 * import { aesGcmDecrypt, generateAesKey } from "@socp/socp";
 * await aesGcmDecrypt(generateAesKey(), "AAAA"); // null
 * ```
 */
export async function aesGcmDecrypt(
  key: AesKey,
  blob: string,
  aad?: Uint8Array,
): Promise<Uint8Array | null> {
  const bytes = decodeBase64url(blob);
  if (!bytes) return null;
  let cryptoKey: CryptoKey;
  try {
    cryptoKey = await asCryptoKey(key);
  } catch {
    return null;
  }
  for (const ivLen of IV_LAYOUTS) {
    if (bytes.length < ivLen + AES_TAG_BYTES) continue;
    const iv = bytes.subarray(0, ivLen);
    const tag = bytes.subarray(ivLen, ivLen + AES_TAG_BYTES);
    const ct = bytes.subarray(ivLen + AES_TAG_BYTES);
    const sealed = new Uint8Array(ct.length + AES_TAG_BYTES);
    sealed.set(ct, 0);
    sealed.set(tag, ct.length);
    try {
      const plain = await crypto.subtle.decrypt(
        gcmParams(iv, aad),
        cryptoKey,
        sealed as BufferSource,
      );
      return new Uint8Array(plain);
    } catch {
      // Not this layout (or not this key): try the next.
    }
  }
  return null;
}
