/**
 * Frame identities: the duplicate-suppression key of SOCP.md §9.3 and the ACK
 * `msg_ref` of §6.5. Both hash canonical JSON, so re-serialising a forwarded
 * frame does not change them.
 *
 * @module
 */

import { CanonicalError, canonicalJson } from "./canonical.ts";
import { sha256Hex } from "./hash.ts";
import type { Envelope } from "./types.ts";

/**
 * The `seen_ids` key of a frame: hex SHA-256 of
 * `type\nfrom\nto\nstr(ts)\ncanonical(payload)`. `null` when the payload
 * cannot be canonicalised (such a frame can never verify).
 *
 * @example
 * ```ts
 * import { seenKey } from "@socp/socp";
 * const k = await seenKey({ type: "USER_REMOVE", from: "s", to: "*", ts: 1, payload: { user_id: "u", server_id: "s" } });
 * k!.length; // 64
 * ```
 */
export async function seenKey(frame: Envelope<string, unknown>): Promise<string | null> {
  let canonical: string;
  try {
    canonical = canonicalJson(frame.payload);
  } catch (e) {
    if (e instanceof CanonicalError) return null;
    throw e;
  }
  return await sha256Hex(
    `${frame.type}\n${frame.from}\n${frame.to}\n${String(frame.ts)}\n${canonical}`,
  );
}

/**
 * The ACK `msg_ref` of a payload: hex SHA-256 of its canonical form.
 *
 * @throws {CanonicalError} if the payload is not canonicalisable.
 *
 * @example
 * ```ts
 * import { msgRef } from "@socp/socp";
 * (await msgRef({})).length; // 64
 * ```
 */
export function msgRef(payload: unknown): Promise<string> {
  return sha256Hex(canonicalJson(payload));
}
