/**
 * The transport signature `sig` (SOCP.md §5.1): RSASSA-PSS over the UTF-8
 * bytes of the canonical payload. Verification tries the canonical form with
 * salt 478 then 32, and, when the payload has characters ≥ U+007F, the raw
 * UTF-8 alternative form.
 *
 * @module
 */

import { CanonicalError, canonicalJson, hasNonAscii } from "./canonical.ts";
import type { PrivateKey, PublicKey } from "./keys.ts";
import { signBytes, verifyBytes } from "./rsa.ts";
import type { Envelope } from "./types.ts";

const encoder = new TextEncoder();

/**
 * Signs a payload: base64url(PSS-478(canonical(payload))).
 *
 * @throws {CanonicalError} if the payload holds floats or other unsignable values.
 *
 * @example
 * ```ts
 * import { generateKeyPair, signPayload, verifyPayload } from "@socp/socp";
 * const server = await generateKeyPair();
 * const sig = await signPayload(server.privateKey, { user_id: "u", server_id: "s" });
 * await verifyPayload(server.publicKey, { server_id: "s", user_id: "u" }, sig); // true
 * ```
 */
export async function signPayload(key: PrivateKey, payload: unknown): Promise<string> {
  return await signBytes(key, encoder.encode(canonicalJson(payload)));
}

/**
 * Verifies a transport signature over a payload. Returns `false` (never
 * throws) for a missing, malformed or wrong signature, or an unsignable payload.
 *
 * @example
 * ```ts
 * import { generateKeyPair, verifyPayload } from "@socp/socp";
 * const someone = await generateKeyPair();
 * await verifyPayload(someone.publicKey, {}, "not a signature"); // false
 * ```
 */
export async function verifyPayload(
  key: PublicKey,
  payload: unknown,
  sig: string | undefined | null,
): Promise<boolean> {
  if (typeof sig !== "string" || sig === "") return false;
  let ascii: string;
  try {
    ascii = canonicalJson(payload);
  } catch (e) {
    if (e instanceof CanonicalError) return false;
    throw e;
  }
  const candidates = [encoder.encode(ascii)];
  if (hasNonAscii(payload)) {
    candidates.push(encoder.encode(canonicalJson(payload, { ascii: false })));
  }
  return await verifyBytes(key, candidates, sig);
}

/**
 * Returns a copy of `frame` carrying a transport signature by `key`.
 *
 * @example
 * ```ts
 * import { generateKeyPair, makeFrame, signFrame } from "@socp/socp";
 * const s = await generateKeyPair();
 * const hb = await signFrame(makeFrame("HEARTBEAT", crypto.randomUUID(), crypto.randomUUID(), {}), s.privateKey);
 * hb.sig!.length; // 683
 * ```
 */
export async function signFrame<F extends Envelope<string, unknown>>(
  frame: F,
  key: PrivateKey,
): Promise<F> {
  return { ...frame, sig: await signPayload(key, frame.payload) };
}

/**
 * Verifies a frame's own `sig` over its payload.
 *
 * @example
 * ```ts
 * import { generateKeyPair, makeFrame, signFrame, verifyFrame } from "@socp/socp";
 * const s = await generateKeyPair();
 * const hb = await signFrame(makeFrame("HEARTBEAT", crypto.randomUUID(), crypto.randomUUID(), {}), s.privateKey);
 * await verifyFrame(s.publicKey, hb); // true
 * ```
 */
export function verifyFrame(key: PublicKey, frame: Envelope<string, unknown>): Promise<boolean> {
  return verifyPayload(key, frame.payload, frame.sig);
}
