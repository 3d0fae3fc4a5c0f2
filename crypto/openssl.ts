/**
 * An RSA backend on the system's OpenSSL 3 (`libcrypto.so.3`) through Deno
 * FFI (needs `--allow-ffi`). The RSA operations are declared `nonblocking`:
 * each runs on a thread of Deno's blocking pool, so several keep several
 * cores busy while the event loop goes on. Same algorithms as the WebCrypto
 * backend (PSS-SHA256 with MGF1-SHA256, OAEP-SHA256 with an empty label), so
 * either verifies and decrypts what the other made.
 *
 * Private keys reach OpenSSL as PKCS#8 bytes exported once per key (the
 * bytes are zeroed right after parsing; no secret becomes a JS string); the
 * parsed key is freed when the {@linkcode PrivateKey} is collected.
 *
 * @module
 */

import type { PrivateKey, PublicKey } from "../protocol/keys.ts";
import type { RsaBackend } from "../protocol/rsa_backend.ts";

/** Where libcrypto is looked for when no path is given. */
export const LIBCRYPTO_CANDIDATES: readonly string[] = [
  "libcrypto.so.3",
  "/usr/lib/x86_64-linux-gnu/libcrypto.so.3",
  "/usr/lib/aarch64-linux-gnu/libcrypto.so.3",
  "/usr/lib64/libcrypto.so.3",
  "/usr/lib/libcrypto.so.3",
  "/opt/homebrew/opt/openssl@3/lib/libcrypto.3.dylib",
  "/usr/local/opt/openssl@3/lib/libcrypto.3.dylib",
];

const SYMBOLS = {
  OpenSSL_version: { parameters: ["i32"], result: "pointer" },
  OpenSSL_version_num: { parameters: [], result: "u64" },
  ERR_clear_error: { parameters: [], result: "void" },
  EVP_sha256: { parameters: [], result: "pointer" },
  EVP_Digest: {
    parameters: ["buffer", "usize", "buffer", "pointer", "pointer", "pointer"],
    result: "i32",
  },
  d2i_PUBKEY: { parameters: ["pointer", "buffer", "i64"], result: "pointer" },
  d2i_AutoPrivateKey: { parameters: ["pointer", "buffer", "i64"], result: "pointer" },
  EVP_PKEY_get_bits: { parameters: ["pointer"], result: "i32" },
  EVP_PKEY_free: { parameters: ["pointer"], result: "void" },
  EVP_PKEY_up_ref: { parameters: ["pointer"], result: "i32" },
  EVP_PKEY_CTX_new: { parameters: ["pointer", "pointer"], result: "pointer" },
  EVP_PKEY_CTX_free: { parameters: ["pointer"], result: "void" },
  EVP_PKEY_sign_init: { parameters: ["pointer"], result: "i32" },
  EVP_PKEY_verify_init: { parameters: ["pointer"], result: "i32" },
  EVP_PKEY_encrypt_init: { parameters: ["pointer"], result: "i32" },
  EVP_PKEY_decrypt_init: { parameters: ["pointer"], result: "i32" },
  EVP_PKEY_CTX_set_rsa_padding: { parameters: ["pointer", "i32"], result: "i32" },
  EVP_PKEY_CTX_set_signature_md: { parameters: ["pointer", "pointer"], result: "i32" },
  EVP_PKEY_CTX_set_rsa_pss_saltlen: { parameters: ["pointer", "i32"], result: "i32" },
  EVP_PKEY_CTX_set_rsa_mgf1_md: { parameters: ["pointer", "pointer"], result: "i32" },
  EVP_PKEY_CTX_set_rsa_oaep_md: { parameters: ["pointer", "pointer"], result: "i32" },
  EVP_PKEY_sign: {
    parameters: ["pointer", "buffer", "buffer", "buffer", "usize"],
    result: "i32",
    nonblocking: true,
  },
  EVP_PKEY_verify: {
    parameters: ["pointer", "buffer", "usize", "buffer", "usize"],
    result: "i32",
    nonblocking: true,
  },
  EVP_PKEY_encrypt: {
    parameters: ["pointer", "buffer", "buffer", "buffer", "usize"],
    result: "i32",
    nonblocking: true,
  },
  EVP_PKEY_decrypt: {
    parameters: ["pointer", "buffer", "buffer", "buffer", "usize"],
    result: "i32",
    nonblocking: true,
  },
} as const satisfies Deno.ForeignLibraryInterface;

type Lib = Deno.DynamicLibrary<typeof SYMBOLS>["symbols"];
type Ptr = Deno.PointerValue;

const RSA_PKCS1_OAEP_PADDING = 4;
const RSA_PKCS1_PSS_PADDING = 6;
const RSA_BYTES = 512;
/** Parsed public keys kept (OpenSSL 3 takes ~90 µs to parse one, longer than a verify). */
const PUBLIC_KEYS_KEPT = 1024;
/** Messages up to this size are hashed in place; larger ones off the event loop. */
const SYNC_DIGEST_BYTES = 64 * 1024;

/** Why the OpenSSL backend could not be loaded. */
export class OpenSslUnavailable extends Error {
  override name = "OpenSslUnavailable";
}

/** The loaded backend, with the library it came from. */
export interface OpenSslBackend extends RsaBackend {
  /** The library file that was loaded. */
  readonly path: string;
  /** OpenSSL's version text, e.g. "OpenSSL 3.0.13 30 Jan 2024". */
  readonly version: string;
  /** Closes the library (tests); the backend must not be used afterwards. */
  close(): void;
}

/**
 * Loads libcrypto (OpenSSL ≥ 3) from `path`, or from the usual places.
 *
 * @throws {OpenSslUnavailable} when FFI is not permitted or no usable libcrypto loads.
 *
 * @example
 * ```ts
 * import { loadOpenSsl } from "./openssl.ts";
 * // const backend = loadOpenSsl(); useRsaBackend(backend);
 * ```
 */
export function loadOpenSsl(path?: string): OpenSslBackend {
  const tried: string[] = [];
  for (const candidate of path ? [path] : LIBCRYPTO_CANDIDATES) {
    let lib: Deno.DynamicLibrary<typeof SYMBOLS>;
    try {
      lib = Deno.dlopen(candidate, SYMBOLS);
    } catch (e) {
      if (e instanceof Deno.errors.NotCapable || e instanceof Deno.errors.PermissionDenied) {
        throw new OpenSslUnavailable("loading OpenSSL needs --allow-ffi");
      }
      tried.push(`${candidate}: ${e instanceof Error ? e.message.split("\n")[0] : e}`);
      continue;
    }
    // 0xMNN00PP0L: major in the top nibble.
    if (lib.symbols.OpenSSL_version_num() < 0x3000_0000n) {
      lib.close();
      tried.push(`${candidate}: OpenSSL older than 3.0`);
      continue;
    }
    return new Backend(lib, candidate);
  }
  throw new OpenSslUnavailable(`no usable libcrypto (OpenSSL 3): ${tried.join("; ")}`);
}

class Backend implements OpenSslBackend {
  readonly name = "openssl";
  readonly path: string;
  readonly version: string;
  readonly #lib: Deno.DynamicLibrary<typeof SYMBOLS>;
  readonly #c: Lib;
  readonly #sha256: Ptr;
  readonly #privateKeys = new WeakMap<PrivateKey, Promise<Ptr>>();
  /** base64url DER → parsed key, least recently used first; each holds one reference. */
  readonly #publicKeys = new Map<string, Ptr>();
  readonly #freeKey: FinalizationRegistry<bigint>;
  #closed = false;

  constructor(lib: Deno.DynamicLibrary<typeof SYMBOLS>, path: string) {
    this.#lib = lib;
    this.#c = lib.symbols;
    this.path = path;
    const text = this.#c.OpenSSL_version(0);
    this.version = text ? Deno.UnsafePointerView.getCString(text) : "OpenSSL 3";
    this.#sha256 = this.#c.EVP_sha256();
    this.#freeKey = new FinalizationRegistry((address) => {
      if (!this.#closed) this.#c.EVP_PKEY_free(Deno.UnsafePointer.create(address));
    });
  }

  close(): void {
    this.#closed = true;
    for (const pkey of this.#publicKeys.values()) this.#c.EVP_PKEY_free(pkey);
    this.#publicKeys.clear();
    this.#lib.close();
  }

  async sign(key: PrivateKey, message: Uint8Array, saltLength: number): Promise<Uint8Array> {
    const pkey = await this.#privateKey(key);
    const digest = await this.#digest(message);
    const ctx = this.#ctx(
      pkey,
      (c) => this.#c.EVP_PKEY_sign_init(c) === 1 && this.#pss(c, saltLength),
    );
    try {
      const sig = new Uint8Array(RSA_BYTES);
      const len = new BigUint64Array([BigInt(RSA_BYTES)]);
      if (await this.#c.EVP_PKEY_sign(ctx, sig, len, digest, BigInt(digest.length)) !== 1) {
        throw this.#failure("PSS signing failed");
      }
      return sig.subarray(0, Number(len[0]));
    } finally {
      this.#c.EVP_PKEY_CTX_free(ctx);
    }
  }

  async verify(
    key: PublicKey,
    messages: readonly Uint8Array[],
    sig: Uint8Array,
    salts: readonly number[],
  ): Promise<boolean> {
    const pkey = this.#publicKey(key);
    if (!pkey) return false;
    try {
      for (const message of messages) {
        const digest = await this.#digest(message);
        for (const salt of salts) {
          const ctx = this.#ctx(
            pkey,
            (c) => this.#c.EVP_PKEY_verify_init(c) === 1 && this.#pss(c, salt),
          );
          try {
            const ok = await this.#c.EVP_PKEY_verify(
              ctx,
              sig,
              BigInt(sig.length),
              digest,
              BigInt(digest.length),
            );
            if (ok === 1) return true;
            this.#c.ERR_clear_error();
          } finally {
            this.#c.EVP_PKEY_CTX_free(ctx);
          }
        }
      }
      return false;
    } finally {
      this.#c.EVP_PKEY_free(pkey);
    }
  }

  async encrypt(key: PublicKey, plaintext: Uint8Array): Promise<Uint8Array> {
    const pkey = this.#publicKey(key);
    if (!pkey) throw this.#failure("public key rejected by OpenSSL");
    try {
      const ctx = this.#ctx(pkey, (c) => this.#c.EVP_PKEY_encrypt_init(c) === 1 && this.#oaep(c));
      try {
        const out = new Uint8Array(RSA_BYTES);
        const len = new BigUint64Array([BigInt(RSA_BYTES)]);
        const input = plaintext.slice(); // kept alive and unshared while another thread reads it
        if (await this.#c.EVP_PKEY_encrypt(ctx, out, len, input, BigInt(input.length)) !== 1) {
          throw this.#failure("OAEP encryption failed");
        }
        return out.subarray(0, Number(len[0]));
      } finally {
        this.#c.EVP_PKEY_CTX_free(ctx);
      }
    } finally {
      this.#c.EVP_PKEY_free(pkey);
    }
  }

  async decrypt(key: PrivateKey, ciphertext: Uint8Array): Promise<Uint8Array | null> {
    if (ciphertext.length !== RSA_BYTES) return null;
    const pkey = await this.#privateKey(key);
    const ctx = this.#ctx(pkey, (c) => this.#c.EVP_PKEY_decrypt_init(c) === 1 && this.#oaep(c));
    try {
      const out = new Uint8Array(RSA_BYTES);
      const len = new BigUint64Array([BigInt(RSA_BYTES)]);
      const input = ciphertext.slice();
      if (await this.#c.EVP_PKEY_decrypt(ctx, out, len, input, BigInt(input.length)) !== 1) {
        this.#c.ERR_clear_error();
        return null;
      }
      return out.slice(0, Number(len[0]));
    } finally {
      this.#c.EVP_PKEY_CTX_free(ctx);
    }
  }

  /** A fresh operation context on `pkey`, set up by `init`, or an error. */
  #ctx(pkey: Ptr, init: (ctx: Ptr) => boolean): Ptr {
    const ctx = this.#c.EVP_PKEY_CTX_new(pkey, null);
    if (!ctx) throw this.#failure("EVP_PKEY_CTX_new failed");
    if (!init(ctx)) {
      this.#c.EVP_PKEY_CTX_free(ctx);
      throw this.#failure("could not set up the RSA operation");
    }
    return ctx;
  }

  #pss(ctx: Ptr, salt: number): boolean {
    return this.#c.EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PSS_PADDING) === 1 &&
      this.#c.EVP_PKEY_CTX_set_signature_md(ctx, this.#sha256) === 1 &&
      this.#c.EVP_PKEY_CTX_set_rsa_mgf1_md(ctx, this.#sha256) === 1 &&
      this.#c.EVP_PKEY_CTX_set_rsa_pss_saltlen(ctx, salt) === 1;
  }

  #oaep(ctx: Ptr): boolean {
    return this.#c.EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_OAEP_PADDING) === 1 &&
      this.#c.EVP_PKEY_CTX_set_rsa_oaep_md(ctx, this.#sha256) === 1 &&
      this.#c.EVP_PKEY_CTX_set_rsa_mgf1_md(ctx, this.#sha256) === 1;
  }

  /** SHA-256 of `message`: in place when small, else by WebCrypto off the event loop. */
  async #digest(message: Uint8Array): Promise<Uint8Array> {
    if (message.length > SYNC_DIGEST_BYTES) {
      return new Uint8Array(await crypto.subtle.digest("SHA-256", message as BufferSource));
    }
    const out = new Uint8Array(32);
    if (this.#c.EVP_Digest(message, BigInt(message.length), out, null, this.#sha256, null) !== 1) {
      throw this.#failure("SHA-256 failed");
    }
    return out;
  }

  /**
   * The key parsed by OpenSSL, with a reference the caller frees; null if
   * OpenSSL refuses it. Recently used keys stay parsed.
   */
  #publicKey(key: PublicKey): Ptr | null {
    let pkey = this.#publicKeys.get(key.b64);
    if (pkey) {
      this.#publicKeys.delete(key.b64);
    } else {
      const der = key.der;
      pkey = this.#c.d2i_PUBKEY(null, pointerTo(der), BigInt(der.length));
      if (!pkey) {
        this.#c.ERR_clear_error();
        return null;
      }
      if (this.#publicKeys.size >= PUBLIC_KEYS_KEPT) {
        const [oldest, evicted] = this.#publicKeys.entries().next().value!;
        this.#publicKeys.delete(oldest);
        this.#c.EVP_PKEY_free(evicted); // operations still running hold their own reference
      }
    }
    this.#publicKeys.set(key.b64, pkey);
    this.#c.EVP_PKEY_up_ref(pkey);
    return pkey;
  }

  /** The private key as OpenSSL's, parsed once per key from its PKCS#8 export. */
  #privateKey(key: PrivateKey): Promise<Ptr> {
    let parsed = this.#privateKeys.get(key);
    if (!parsed) {
      parsed = this.#parsePrivate(key);
      this.#privateKeys.set(key, parsed);
      parsed.catch(() => this.#privateKeys.delete(key));
    }
    return parsed;
  }

  async #parsePrivate(key: PrivateKey): Promise<Ptr> {
    const pkcs8 = new Uint8Array(await crypto.subtle.exportKey("pkcs8", key.pss));
    try {
      const pkey = this.#c.d2i_AutoPrivateKey(null, pointerTo(pkcs8), BigInt(pkcs8.length));
      if (!pkey) throw this.#failure("private key rejected by OpenSSL");
      if (this.#c.EVP_PKEY_get_bits(pkey) !== RSA_BYTES * 8) {
        this.#c.EVP_PKEY_free(pkey);
        throw this.#failure("private key is not RSA-4096");
      }
      this.#freeKey.register(key, BigInt(Deno.UnsafePointer.value(pkey)));
      return pkey;
    } finally {
      pkcs8.fill(0);
    }
  }

  #failure(what: string): Error {
    this.#c.ERR_clear_error();
    return new Error(`OpenSSL: ${what}`);
  }
}

/** A `const unsigned char **` for d2i_*: a buffer holding the address of `bytes`. */
function pointerTo(bytes: Uint8Array): BigUint64Array {
  return new BigUint64Array([BigInt(Deno.UnsafePointer.value(Deno.UnsafePointer.of(bytes)))]);
}
