/**
 * The RSA primitives behind {@linkcode ./rsa.ts}, as a replaceable backend:
 * WebCrypto (the default, and the only one in a browser) or another one
 * installed with {@linkcode useRsaBackend} at start, such as the OpenSSL
 * backend of `crypto/openssl.ts`. Backends see bytes only; encoding, limits,
 * concurrency gates and statistics stay in `rsa.ts`.
 *
 * @module
 */

import type { PrivateKey, PublicKey } from "./keys.ts";

/** RSA-PSS-SHA256 and RSA-OAEP-SHA256 (MGF1-SHA256, empty label) on RSA-4096 keys. */
export interface RsaBackend {
  /** Short name for logs and health: `webcrypto` or `openssl`. */
  readonly name: string;
  /** A PSS signature over `message` with `saltLength` (512 bytes). */
  sign(key: PrivateKey, message: Uint8Array, saltLength: number): Promise<Uint8Array>;
  /** Whether `sig` is a PSS signature over any of `messages` with any of `salts`. */
  verify(
    key: PublicKey,
    messages: readonly Uint8Array[],
    sig: Uint8Array,
    salts: readonly number[],
  ): Promise<boolean>;
  /** OAEP ciphertext of `plaintext` (at most 446 bytes; 512 bytes out). */
  encrypt(key: PublicKey, plaintext: Uint8Array): Promise<Uint8Array>;
  /** The plaintext, or null when `ciphertext` does not decrypt under `key`. */
  decrypt(key: PrivateKey, ciphertext: Uint8Array): Promise<Uint8Array | null>;
}

const OAEP_PARAMS = { name: "RSA-OAEP" } as const; // empty label

/**
 * The WebCrypto backend.
 *
 * @example
 * ```ts
 * import { webCryptoBackend } from "./rsa_backend.ts";
 * webCryptoBackend.name; // "webcrypto"
 * ```
 */
export const webCryptoBackend: RsaBackend = {
  name: "webcrypto",
  async sign(key, message, saltLength) {
    const params = { name: "RSA-PSS", saltLength };
    return new Uint8Array(await crypto.subtle.sign(params, key.pss, message as BufferSource));
  },
  async verify(key, messages, sig, salts) {
    let pss: CryptoKey;
    try {
      pss = await key.pss();
    } catch {
      return false;
    }
    for (const message of messages) {
      for (const saltLength of salts) {
        // A malformed signature for one salt is just a failed attempt.
        const ok = await crypto.subtle.verify(
          { name: "RSA-PSS", saltLength },
          pss,
          sig as BufferSource,
          message as BufferSource,
        ).catch(() => false);
        if (ok) return true;
      }
    }
    return false;
  },
  async encrypt(key, plaintext) {
    const oaep = await key.oaep();
    return new Uint8Array(
      await crypto.subtle.encrypt(OAEP_PARAMS, oaep, plaintext as BufferSource),
    );
  },
  async decrypt(key, ciphertext) {
    try {
      const plain = await crypto.subtle.decrypt(OAEP_PARAMS, key.oaep, ciphertext as BufferSource);
      return new Uint8Array(plain);
    } catch {
      return null;
    }
  },
};

let current: RsaBackend = webCryptoBackend;

/**
 * Installs the backend every RSA operation of this process uses from now on.
 *
 * @example
 * ```ts
 * import { rsaBackend, useRsaBackend, webCryptoBackend } from "./rsa_backend.ts";
 * useRsaBackend(webCryptoBackend);
 * rsaBackend().name; // "webcrypto"
 * ```
 */
export function useRsaBackend(backend: RsaBackend): void {
  current = backend;
}

/** The backend in use. */
export function rsaBackend(): RsaBackend {
  return current;
}
