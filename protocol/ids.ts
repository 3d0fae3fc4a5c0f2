/**
 * Identifiers and timestamps (SOCP.md §3).
 *
 * @module
 */

const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/i;
const PEER_ID = /^[A-Za-z0-9._:@-]{1,64}$/;
const HOST_PORT = /^[^\s:/]{1,253}:\d{1,5}$|^\[[0-9A-Fa-f:.]{2,45}\]:\d{1,5}$/;
const RESERVED_IDS: ReadonlySet<string> = new Set(["*", "public", "system"]);

/**
 * Whether `id` is a UUID version 4 (case-insensitive, as SOCP.md §3 and the
 * vectors accept; ids are emitted lowercase).
 *
 * @example
 * ```ts
 * import { isUuidV4 } from "@socp/socp";
 * isUuidV4("0f1e2d3c-4b5a-4968-8776-655443322110"); // true
 * isUuidV4("6ba7b810-9dad-11d1-80b4-00c04fd430c8"); // false (version 1)
 * ```
 */
export function isUuidV4(id: unknown): id is string {
  return typeof id === "string" && UUID_V4.test(id);
}

/**
 * Whether `id` is acceptable as a user or server id learned from a peer:
 * a UUIDv4, or a dialect free name matching `^[A-Za-z0-9._:@-]{1,64}$`.
 * `"*"`, `"public"` and `"system"` are never ids.
 *
 * @example
 * ```ts
 * import { isPeerId } from "@socp/socp";
 * isPeerId("Bob"); // true
 * isPeerId("public"); // false
 * ```
 */
export function isPeerId(id: unknown): id is string {
  return typeof id === "string" && PEER_ID.test(id) && !RESERVED_IDS.has(id);
}

/**
 * Whether `to` is a `host:port` address, allowed only on SERVER_HELLO_JOIN.
 *
 * @example
 * ```ts
 * import { isHostPort } from "@socp/socp";
 * isHostPort("192.0.2.10:8443"); // true
 * ```
 */
export function isHostPort(to: unknown): to is string {
  if (typeof to !== "string" || !HOST_PORT.test(to)) return false;
  const port = Number(to.slice(to.lastIndexOf(":") + 1));
  return port >= 1 && port <= 65535;
}

/**
 * A fresh lowercase UUIDv4 from the CSPRNG.
 *
 * @example
 * ```ts
 * import { newId, isUuidV4 } from "@socp/socp";
 * isUuidV4(newId()); // true
 * ```
 */
export function newId(): string {
  return crypto.randomUUID();
}

/**
 * The current time as integer Unix milliseconds, the `ts` of new frames.
 *
 * @example
 * ```ts
 * import { nowMs } from "@socp/socp";
 * Number.isSafeInteger(nowMs()); // true
 * ```
 */
export function nowMs(): number {
  return Date.now();
}

/**
 * Interprets a `ts` for display: values below 10^11 are probably seconds
 * (SOCP.md §3). Never use this when checking a signature.
 *
 * @example
 * ```ts
 * import { displayTime } from "@socp/socp";
 * displayTime(1700000000).getTime(); // 1700000000000
 * ```
 */
export function displayTime(ts: number): Date {
  return new Date(ts < 1e11 ? ts * 1000 : ts);
}
