/**
 * The state side of a server link's life (SOCP.md §9.4): what a new link is
 * sent (link sync), and what is forgotten when a peer is lost. Builds effects
 * from the node's state; the mesh decides when.
 *
 * @module
 */

import type { FrameOf } from "../protocol/types.ts";
import { type NodeContext, signed } from "./context.ts";
import { type Effect, send, sendAll } from "./effects.ts";
import type { Link } from "./link.ts";
import { verbatimPresenceLinks } from "./presence.ts";
import { LOCAL } from "./state.ts";

/**
 * Link sync: adverts of our local users, re-signed when too old for the
 * peer's clock window, then the current public-channel frames verbatim.
 *
 * @example
 * ```ts
 * import { linkSync } from "./_link_sync.ts";
 * // node.apply(await linkSync(ctx, link));
 * ```
 */
export async function linkSync(ctx: NodeContext, link: Link): Promise<Effect[]> {
  const { state, config } = ctx;
  const effects: Effect[] = [];
  const staleBefore = ctx.now() - config.limits.clockWindowMs / 2;
  for (const [userId, location] of state.userLocations) {
    const entry = location === LOCAL ? state.directory.get(userId) : undefined;
    if (!entry) continue;
    const advert = JSON.parse(entry.advert) as FrameOf<"USER_ADVERTISE">;
    if (advert.ts < staleBefore) {
      entry.advert = JSON.stringify(await signed(ctx, "USER_ADVERTISE", "*", advert.payload));
    }
    effects.push(send(link, entry.advert));
  }
  const { updated, keyShare } = state.channel;
  if (updated) effects.push(send(link, updated));
  if (keyShare) effects.push(send(link, keyShare));
  return effects;
}

/**
 * Forgets the users hosted by a lost peer and returns the presence change and
 * USER_REMOVE notices (issued by this server, naming the lost one) for local
 * clients that take presence verbatim.
 *
 * @example
 * ```ts
 * import { forgetPeerUsers } from "./_link_sync.ts";
 * // node.apply(await forgetPeerUsers(ctx, "server-b"));
 * ```
 */
export async function forgetPeerUsers(ctx: NodeContext, peerId: string): Promise<Effect[]> {
  const { state, log } = ctx;
  const gone = [...state.userLocations].filter(([, at]) => at === peerId).map(([userId]) => userId);
  if (gone.length === 0) return [];
  const effects: Effect[] = [{ kind: "presence", online: [], offline: gone }];
  const clients = verbatimPresenceLinks(ctx);
  for (const userId of gone) {
    state.userLocations.delete(userId);
    state.directory.delete(userId);
    if (clients.length === 0) continue;
    const notice = await signed(ctx, "USER_REMOVE", "*", { user_id: userId, server_id: peerId });
    effects.push(...sendAll(clients, notice));
  }
  log.info("removed users of a lost server", { server: peerId, users: gone.length });
  return effects;
}
