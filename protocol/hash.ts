/**
 * SHA-256 and hex helpers used by fingerprints, `msg_ref`, dedup keys and
 * file checksums.
 *
 * @module
 */

/**
 * Lowercase hex of some bytes.
 *
 * @example
 * ```ts
 * import { toHex } from "@socp/socp";
 * toHex(new Uint8Array([0, 255])); // "00ff"
 * ```
 */
export function toHex(bytes: Uint8Array): string {
  return bytes.toHex();
}

/**
 * Hex SHA-256 of some bytes or of a string's UTF-8 bytes.
 *
 * @example
 * ```ts
 * import { sha256Hex } from "@socp/socp";
 * await sha256Hex(""); // "e3b0c442…b855"
 * ```
 */
export async function sha256Hex(data: Uint8Array | string): Promise<string> {
  return toHex(await sha256(data));
}

/**
 * SHA-256 of some bytes or of a string's UTF-8 bytes.
 *
 * @example
 * ```ts
 * import { sha256 } from "@socp/socp";
 * (await sha256("abc")).length; // 32
 * ```
 */
export async function sha256(data: Uint8Array | string): Promise<Uint8Array> {
  const bytes = typeof data === "string" ? new TextEncoder().encode(data) : data;
  return new Uint8Array(await crypto.subtle.digest("SHA-256", bytes as BufferSource));
}
