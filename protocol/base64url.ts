/**
 * base64url (RFC 4648 §5) as SOCP uses it: emitted without padding; decoded
 * with padding optional and the standard alphabet's `+` and `/` tolerated
 * (SOCP.md §4.2).
 *
 * @module
 */

/**
 * Encodes bytes as unpadded base64url.
 *
 * @example
 * ```ts
 * import { encodeBase64url } from "@socp/socp";
 * encodeBase64url(new Uint8Array([1, 2, 250])); // "AQL6"
 * ```
 */
export function encodeBase64url(bytes: Uint8Array): string {
  return bytes.toBase64({ alphabet: "base64url", omitPadding: true });
}

/**
 * Decodes base64url, accepting padding, ASCII whitespace and the standard
 * alphabet. Returns `null` for anything that is not base64 at all, so hostile
 * input never throws.
 *
 * @example
 * ```ts
 * import { decodeBase64url } from "@socp/socp";
 * decodeBase64url("AQL6"); // Uint8Array [1, 2, 250]
 * decodeBase64url("AQL+"); // standard alphabet tolerated
 * decodeBase64url("!!");   // null
 * ```
 */
export function decodeBase64url(text: string): Uint8Array | null {
  if (typeof text !== "string") return null;
  // Normalise the standard alphabet only when present: the common case stays a single pass.
  const normalised = /[+/]/.test(text) ? text.replaceAll("+", "-").replaceAll("/", "_") : text;
  try {
    return Uint8Array.fromBase64(normalised, { alphabet: "base64url" });
  } catch {
    return null;
  }
}

/**
 * Encodes a UTF-8 string's bytes as unpadded base64url.
 *
 * @example
 * ```ts
 * import { encodeBase64urlText } from "@socp/socp";
 * encodeBase64urlText("hi"); // "aGk"
 * ```
 */
export function encodeBase64urlText(text: string): string {
  return encodeBase64url(new TextEncoder().encode(text));
}
