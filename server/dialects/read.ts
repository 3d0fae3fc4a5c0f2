/**
 * How we read each dialect (SOCP.md §12, docs/PROTOCOL.md decision 50): which
 * dialect a link speaks, recognised from its first frame. Everything a
 * dialect peer sends that the profile already accepts is handled by the
 * ordinary routes; what differs is recorded here, per dialect.
 *
 * @module
 */

import type { FrameOf, ServerAddressPayload } from "../../protocol/types.ts";

/**
 * A link's dialect: `socp` (the profile, our own clients and servers) or one
 * of the foreign implementations A, B and C (docs/DIALECT-FACTS.md).
 */
export type Dialect = "socp" | "A" | "B" | "C";

/** The prefix of base64url(PEM text): dialects A and B send keys so. */
const PEM_B64 = "LS0tLS1CRUdJTi";

/** Whether a key string is base64url of PEM text (dialects A and B) rather than DER (C, ours). */
export function isPemKeyText(key: unknown): boolean {
  return typeof key === "string" && key.startsWith(PEM_B64);
}

/**
 * The dialect of a user link, from its USER_HELLO:
 * - ours: `client` starts with `socp-ts/`;
 * - A: a plaintext `password` (A's only credential; `"enc_pubkey": null`, PEM key);
 * - B: unsigned, with a PEM key (`client:"cli-v1"`, `to` = its own id);
 * - anything else speaks the profile.
 *
 * @example
 * ```ts
 * import { helloDialect } from "./read.ts";
 * // link.dialect = helloDialect(frame);
 * ```
 */
export function helloDialect(frame: FrameOf<"USER_HELLO">): Dialect {
  const p = frame.payload;
  if (p.client.startsWith("socp-ts/")) return "socp";
  if (typeof p.password === "string") return "A";
  if (frame.sig === undefined && isPemKeyText(p.pubkey)) return "B";
  return "socp";
}

/**
 * The dialect of a server link, from the first frame of a server: ours
 * declare `caps`; dialect C names its `ws_uri`; dialect A opens links (and
 * joins) signed, with a PEM key and no `caps`; anything else speaks the
 * profile.
 *
 * @example
 * ```ts
 * import { serverDialect } from "./read.ts";
 * // link.dialect = serverDialect(frame);
 * ```
 */
export function serverDialect(
  frame: { sig?: string; payload: ServerAddressPayload & { ws_uri?: unknown } },
): Dialect {
  if (frame.payload.caps !== undefined) return "socp";
  if (typeof frame.payload.ws_uri === "string") return "C";
  if (!isPemKeyText(frame.payload.pubkey)) return "socp";
  return frame.sig === undefined ? "B" : "A"; // B never signs its hellos; A always does
}

/**
 * The dialect to dial a server listed in a WELCOME with: the entry's own
 * `dialect` (our introducers name A servers), or A for every server an A
 * introducer lists (a socp server among them answers our ANNOUNCE with its
 * own, and the link switches to the profile).
 *
 * @example
 * ```ts
 * import { welcomeEntryDialect } from "./read.ts";
 * welcomeEntryDialect({ dialect: "A" }, "socp"); // "A"
 * welcomeEntryDialect({}, "A"); // "A"
 * ```
 */
export function welcomeEntryDialect(entry: { dialect?: string }, via: Dialect): Dialect {
  if (entry.dialect === "A" || via === "A") return "A";
  return via === "B" ? "B" : "socp"; // a B server lists the B servers it links
}

/** Channel frames of dialect B servers: their wraps are members' PEM keys, not wrapped keys (§B.4). */
const B_CHANNEL_FRAMES: ReadonlySet<string> = new Set([
  "PUBLIC_CHANNEL_ADD",
  "PUBLIC_CHANNEL_UPDATED",
  "PUBLIC_CHANNEL_KEY_SHARE",
]);

/** Whether a server of `dialect` sends frames of `type` we must not act on (they are dropped). */
export function ignoredFromServer(dialect: Dialect, type: string): boolean {
  return dialect === "B" && B_CHANNEL_FRAMES.has(type);
}
