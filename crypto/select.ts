/**
 * Choosing the RSA backend at start (`--crypto webcrypto|openssl|auto`, env
 * `SOCP_CRYPTO`): WebCrypto by default; OpenSSL when asked, failing clearly
 * when it cannot load (never a silent fallback); `auto` takes OpenSSL when
 * it loads and says which it took.
 *
 * @module
 */

import { useRsaBackend, webCryptoBackend } from "../protocol/rsa_backend.ts";
import { loadOpenSsl, OpenSslUnavailable } from "./openssl.ts";

/** What `--crypto` may say. */
export type CryptoChoice = "webcrypto" | "openssl" | "auto";

/** The values of `--crypto`. */
export const CRYPTO_CHOICES: readonly CryptoChoice[] = ["webcrypto", "openssl", "auto"];

/** The backend in use after {@linkcode selectCrypto}. */
export interface CryptoInUse {
  backend: "webcrypto" | "openssl";
  /** OpenSSL's version text, or "WebCrypto". */
  version: string;
  /** Why `auto` stayed on WebCrypto. */
  fallback?: string;
}

/** Whether `value` is a {@linkcode CryptoChoice}. */
export function isCryptoChoice(value: unknown): value is CryptoChoice {
  return CRYPTO_CHOICES.includes(value as CryptoChoice);
}

/**
 * Installs the backend `choice` asks for, process-wide.
 *
 * @throws {Error} when `openssl` was asked for and cannot be loaded (the message says why).
 *
 * @example
 * ```ts
 * import { selectCrypto } from "./select.ts";
 * selectCrypto("webcrypto").backend; // "webcrypto"
 * ```
 */
export function selectCrypto(choice: CryptoChoice): CryptoInUse {
  if (choice === "webcrypto") {
    useRsaBackend(webCryptoBackend);
    return { backend: "webcrypto", version: "WebCrypto" };
  }
  try {
    const openssl = loadOpenSsl();
    useRsaBackend(openssl);
    return { backend: "openssl", version: openssl.version };
  } catch (e) {
    if (!(e instanceof OpenSslUnavailable)) throw e;
    if (choice === "openssl") throw new Error(`--crypto openssl: ${e.message}`);
    useRsaBackend(webCryptoBackend);
    return { backend: "webcrypto", version: "WebCrypto", fallback: e.message };
  }
}
