/**
 * `routeToUser` (SOCP.md §9.2): where a frame for a user goes from here.
 *
 * @module
 */

import type { NodeContext } from "./context.ts";
import type { Link } from "./link.ts";
import { LOCAL } from "./state.ts";

/** Where a frame for a user goes. */
export type RouteTarget =
  /** Hosted here: deliver on the user's link. */
  | { kind: "local"; link: Link }
  /** Hosted on another server with a live link that is not the arrival link. */
  | { kind: "remote"; serverId: string; link: Link }
  /** Registered here but not online. */
  | { kind: "offline" }
  /** Not known to be online anywhere reachable. */
  | { kind: "unknown" };

/**
 * Resolves the route to `userId`. A frame never goes back on `arrival`.
 *
 * @example
 * ```ts
 * import { routeToUser } from "./routing.ts";
 * // const target = routeToUser(ctx, recipient, arrivalLink);
 * ```
 */
export function routeToUser(ctx: NodeContext, userId: string, arrival?: Link): RouteTarget {
  const { state } = ctx;
  const location = state.userLocations.get(userId);
  if (location === LOCAL) {
    const link = state.localUsers.get(userId);
    if (link) return { kind: "local", link };
  } else if (location !== undefined) {
    const link = state.links.get(location);
    if (link && link !== arrival) return { kind: "remote", serverId: location, link };
  }
  return ctx.store.getUser(userId) ? { kind: "offline" } : { kind: "unknown" };
}

/**
 * The USER_NOT_FOUND detail for an unroutable target.
 *
 * @example
 * ```ts
 * import { notFoundDetail } from "./routing.ts";
 * notFoundDetail({ kind: "offline" }); // "recipient is registered here but offline"
 * ```
 */
export function notFoundDetail(target: RouteTarget): string {
  return target.kind === "offline"
    ? "recipient is registered here but offline"
    : "recipient is unknown or not online";
}
