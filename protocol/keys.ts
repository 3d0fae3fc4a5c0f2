/**
 * RSA-4096 keys (SOCP.md §4.1): parsing every accepted key form, validation
 * (modulus exactly 4096 bits, e = 65537), generation, import and export. One
 * key pair serves both RSA-OAEP and RSASSA-PSS.
 *
 * @module
 */

import { decodeBase64url, encodeBase64url } from "./base64url.ts";
import { sha256Hex } from "./hash.ts";
import { ErrorCode, type ProtocolError, protocolError, SocpError } from "./errors.ts";
import { readRsaSpki, type RsaPublicKeyFields, wrapPkcs1 } from "./_der.ts";

/**
 * Modulus size every SOCP key must have.
 *
 * @example
 * ```ts
 * import { RSA_MODULUS_BITS } from "@socp/socp";
 * RSA_MODULUS_BITS; // 4096
 * ```
 */
export const RSA_MODULUS_BITS = 4096;
/**
 * Public exponent every SOCP key must have.
 *
 * @example
 * ```ts
 * import { RSA_EXPONENT } from "@socp/socp";
 * RSA_EXPONENT; // 65537
 * ```
 */
export const RSA_EXPONENT = 65537;

const PSS = { name: "RSA-PSS", hash: "SHA-256" } as const;
const OAEP = { name: "RSA-OAEP", hash: "SHA-256" } as const;
const PEM_PREFIX = "-----BEGIN";

/** Wire encodings of a public key. */
export type KeyFormat = "der" | "pem";

/**
 * A validated RSA-4096 public key. `b64` is the normalised form (base64url of
 * DER SPKI) used for comparison and storage. WebCrypto handles for PSS and
 * OAEP are imported for each use and not kept: an import costs about 20 µs,
 * a kept handle about 8 KB of native memory, and a server holds a key for
 * every online user.
 *
 * @example
 * ```ts
 * import { exportPublicKey, generateKeyPair, parsePublicKey } from "@socp/socp";
 * const { publicKey } = await generateKeyPair();
 * const viaPem = parsePublicKey(exportPublicKey(publicKey, "pem"));
 * viaPem.ok && viaPem.key.equals(publicKey); // true: same key, normalised
 * viaPem.ok && viaPem.key.b64 === publicKey.b64; // true
 * ```
 */
export class PublicKey {
  /** base64url(DER SPKI), unpadded: the normalised, emitted form. */
  readonly b64: string;

  /** Use {@linkcode importPublicKey} or {@linkcode parsePublicKey}; this trusts `der`. */
  constructor(der: Uint8Array) {
    this.b64 = encodeBase64url(der);
  }

  /** DER SubjectPublicKeyInfo bytes (decoded on each call; only `b64` is kept). */
  get der(): Uint8Array {
    return decodeBase64url(this.b64)!;
  }

  /** The key as a WebCrypto RSA-PSS verification key. */
  pss(): Promise<CryptoKey> {
    return crypto.subtle.importKey("spki", this.der as BufferSource, PSS, true, ["verify"]);
  }

  /** The key as a WebCrypto RSA-OAEP encryption key. */
  oaep(): Promise<CryptoKey> {
    return crypto.subtle.importKey("spki", this.der as BufferSource, OAEP, true, ["encrypt"]);
  }

  /** Whether two keys are the same key, whatever form they arrived in. */
  equals(other: PublicKey): boolean {
    return this.b64 === other.b64;
  }
}

/** A private key, usable for RSA-PSS signing and RSA-OAEP decryption. */
export interface PrivateKey {
  /** WebCrypto RSA-PSS signing key. */
  readonly pss: CryptoKey;
  /** WebCrypto RSA-OAEP decryption key. */
  readonly oaep: CryptoKey;
}

/** An identity key pair. */
export interface KeyPair {
  /** The public half, shared with peers. */
  readonly publicKey: PublicKey;
  /** The private half, which never leaves its owner unencrypted. */
  readonly privateKey: PrivateKey;
}

/** Result of {@linkcode parsePublicKey}. */
export type ParsedKey = { ok: true; key: PublicKey } | { ok: false; error: ProtocolError };

function badKey(detail: string): ParsedKey {
  return { ok: false, error: protocolError(ErrorCode.BAD_KEY, detail) };
}

function pemToDer(pem: string): RsaPublicKeyFields | null {
  const m = /-----BEGIN (RSA )?PUBLIC KEY-----([\s\S]*?)-----END \1?PUBLIC KEY-----/.exec(pem);
  if (!m) return null;
  const body = decodeBase64url(m[2]);
  if (!body) return null;
  return m[1] ? wrapPkcs1(body) : readRsaSpki(body);
}

/**
 * Parses and validates a public key in any accepted form: base64url (padded or
 * not, standard alphabet tolerated) of DER SPKI, of PEM text, or of PKCS#1
 * PEM. Synchronous and total: every failure is a `BAD_KEY` value.
 *
 * @example
 * ```ts
 * import { parsePublicKey } from "@socp/socp";
 * const r = parsePublicKey("not-a-key");
 * if (!r.ok) console.log(r.error.code); // "BAD_KEY"
 * ```
 */
export function parsePublicKey(text: unknown): ParsedKey {
  if (typeof text !== "string" || text.length === 0) return badKey("key is not a string");
  if (text.length > 8192) return badKey("key text too long");
  const bytes = decodeBase64url(text);
  if (!bytes || bytes.length === 0) return badKey("key is not base64url");
  let fields: RsaPublicKeyFields | null;
  if (bytes.length > PEM_PREFIX.length && isPemPrefix(bytes)) {
    fields = pemToDer(new TextDecoder().decode(bytes));
  } else {
    fields = readRsaSpki(bytes);
  }
  if (!fields) return badKey("key is not an RSA SubjectPublicKeyInfo");
  if (fields.modulusBits !== RSA_MODULUS_BITS) {
    return badKey(`RSA modulus is ${fields.modulusBits} bits; 4096 required`);
  }
  if (fields.exponent !== RSA_EXPONENT) return badKey("RSA public exponent must be 65537");
  return { ok: true, key: new PublicKey(fields.spki) };
}

function isPemPrefix(bytes: Uint8Array): boolean {
  for (let i = 0; i < PEM_PREFIX.length; i++) {
    if (bytes[i] !== PEM_PREFIX.charCodeAt(i)) return false;
  }
  return true;
}

/**
 * Imports and validates a public key from its wire text or DER bytes, and
 * checks that WebCrypto accepts it.
 *
 * @throws {SocpError} with code `BAD_KEY` when the key is malformed or weak.
 *
 * @example
 * ```ts
 * import { generateKeyPair, importPublicKey } from "@socp/socp";
 * const { publicKey } = await generateKeyPair();
 * const again = await importPublicKey(publicKey.b64);
 * again.equals(publicKey); // true
 * ```
 */
export async function importPublicKey(key: string | Uint8Array): Promise<PublicKey> {
  const parsed = parsePublicKey(typeof key === "string" ? key : encodeBase64url(key));
  if (!parsed.ok) throw new SocpError(parsed.error.code, parsed.error.detail);
  try {
    await parsed.key.pss();
  } catch {
    throw new SocpError(ErrorCode.BAD_KEY, "key rejected by WebCrypto");
  }
  return parsed.key;
}

/**
 * Exports a public key in its wire form: base64url of DER SPKI (default) or,
 * for peers of dialects A and B, base64url of the PEM text.
 *
 * @example
 * ```ts
 * import { exportPublicKey, generateKeyPair } from "@socp/socp";
 * const { publicKey } = await generateKeyPair();
 * exportPublicKey(publicKey).startsWith("MIICIjANBgkq"); // true
 * exportPublicKey(publicKey, "pem").startsWith("LS0tLS1CRUdJTi"); // true
 * ```
 */
export function exportPublicKey(key: PublicKey, format: KeyFormat = "der"): string {
  if (format === "der") return key.b64;
  const body = key.der.toBase64().match(/.{1,64}/g)!.join("\n");
  const pem = `-----BEGIN PUBLIC KEY-----\n${body}\n-----END PUBLIC KEY-----\n`;
  return encodeBase64url(new TextEncoder().encode(pem));
}

/**
 * The fingerprint shown to users: hex SHA-256 of the DER SPKI.
 *
 * @example
 * ```ts
 * import { fingerprint, generateKeyPair } from "@socp/socp";
 * const { publicKey } = await generateKeyPair();
 * (await fingerprint(publicKey)).length; // 64
 * ```
 */
export function fingerprint(key: PublicKey): Promise<string> {
  return sha256Hex(key.der);
}

/**
 * Generates a fresh RSA-4096 (e = 65537) key pair usable for both PSS and
 * OAEP. Takes 0.5–4.5 s; generate once and reuse.
 *
 * @example
 * ```ts
 * import { generateKeyPair } from "@socp/socp";
 * const pair = await generateKeyPair();
 * pair.publicKey.der.length; // 550
 * ```
 */
export async function generateKeyPair(): Promise<KeyPair> {
  const generated = await crypto.subtle.generateKey(
    { ...PSS, modulusLength: RSA_MODULUS_BITS, publicExponent: new Uint8Array([1, 0, 1]) },
    true,
    ["sign", "verify"],
  );
  const pkcs8 = new Uint8Array(await crypto.subtle.exportKey("pkcs8", generated.privateKey));
  return await importPrivateKey(pkcs8);
}

/**
 * Imports a PKCS#8 private key (bytes, or base64url of the bytes), validates
 * it as RSA-4096 with e = 65537, and derives its public key.
 *
 * @throws {SocpError} with code `BAD_KEY` for anything else.
 *
 * @example
 * ```ts
 * import { exportPrivateKey, generateKeyPair, importPrivateKey } from "@socp/socp";
 * const pair = await generateKeyPair();
 * const again = await importPrivateKey(await exportPrivateKey(pair.privateKey));
 * again.publicKey.equals(pair.publicKey); // true
 * ```
 */
export async function importPrivateKey(pkcs8: Uint8Array | string): Promise<KeyPair> {
  const bytes = typeof pkcs8 === "string" ? decodeBase64url(pkcs8) : pkcs8;
  if (!bytes) throw new SocpError(ErrorCode.BAD_KEY, "private key is not base64url");
  let pss: CryptoKey, oaep: CryptoKey;
  try {
    pss = await crypto.subtle.importKey("pkcs8", bytes as BufferSource, PSS, true, ["sign"]);
    oaep = await crypto.subtle.importKey("pkcs8", bytes as BufferSource, OAEP, true, ["decrypt"]);
  } catch {
    throw new SocpError(ErrorCode.BAD_KEY, "private key is not an RSA PKCS#8 key");
  }
  const jwk = await crypto.subtle.exportKey("jwk", pss);
  const publicJwk = { kty: "RSA", n: jwk.n, e: jwk.e, ext: true };
  const pub = await crypto.subtle.importKey("jwk", publicJwk, PSS, true, ["verify"]);
  const der = new Uint8Array(await crypto.subtle.exportKey("spki", pub));
  const parsed = parsePublicKey(encodeBase64url(der));
  if (!parsed.ok) throw new SocpError(ErrorCode.BAD_KEY, parsed.error.detail);
  return { publicKey: parsed.key, privateKey: { pss, oaep } };
}

/**
 * Exports a private key as PKCS#8 DER bytes, e.g. for an encrypted keystore.
 *
 * @example
 * ```ts
 * import { exportPrivateKey, generateKeyPair } from "@socp/socp";
 * const { privateKey } = await generateKeyPair();
 * (await exportPrivateKey(privateKey)).length > 2000; // true
 * ```
 */
export async function exportPrivateKey(key: PrivateKey): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.exportKey("pkcs8", key.pss));
}
