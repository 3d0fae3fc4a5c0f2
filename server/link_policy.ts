/**
 * Link policy of the mesh (SOCP.md §9.4): reconnect backoff and which of two
 * duplicate links survives. Pure functions, shared by both ends' decisions.
 *
 * @module
 */

import { compareCodePoints } from "../protocol/canonical.ts";
import type { Link } from "./link.ts";

const BACKOFF_MS = [1000, 2000, 4000, 8000, 16000, 30000];

/**
 * The CTRL_CLOSE reason for the link that loses de-duplication. The receiver
 * learns the peer keeps another link, which may still be on its way.
 *
 * @example
 * ```ts
 * import { DUPLICATE_LINK } from "./link_policy.ts";
 * DUPLICATE_LINK; // "duplicate link"
 * ```
 */
export const DUPLICATE_LINK = "duplicate link";

/**
 * The reconnect delay of a given attempt: 1, 2, 4, 8, 16, then 30 s, ±20 %.
 *
 * @example
 * ```ts
 * import { backoffMs } from "./link_policy.ts";
 * const d = backoffMs(0);
 * d >= 800 && d <= 1200; // true
 * ```
 */
export function backoffMs(attempt: number, random: () => number = Math.random): number {
  const base = BACKOFF_MS[Math.min(attempt, BACKOFF_MS.length - 1)];
  return Math.round(base * (0.8 + 0.4 * random()));
}

/**
 * Which of two live links to one peer survives: the one dialled by the lower
 * server id; if the same side dialled both, the newer. Both ends decide alike.
 *
 * @example
 * ```ts
 * import { preferredLink } from "./link_policy.ts";
 * // preferredLink(selfId, existing, incoming) === existing or incoming
 * ```
 */
export function preferredLink(selfId: string, a: Link, b: Link): Link {
  const diallerA = a.dialledByUs ? selfId : a.peerId!;
  const diallerB = b.dialledByUs ? selfId : b.peerId!;
  if (diallerA !== diallerB) return compareCodePoints(diallerA, diallerB) < 0 ? a : b;
  return a.openedAt > b.openedAt || (a.openedAt === b.openedAt && a.id > b.id) ? a : b;
}
