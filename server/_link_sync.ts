/**
 * The state side of a server link's life (SOCP.md §9.4): what a new link is
 * sent (link sync), and what is forgotten when a peer is lost. Builds effects
 * from the node's state; the mesh decides when.
 *
 * @module
 */

import type { FrameOf } from "../protocol/types.ts";
import { entryOfRow } from "./bindings.ts";
import { type NodeContext, signed } from "./context.ts";
import { type Effect, send } from "./effects.ts";
import type { Link } from "./link.ts";
import { removalEffects } from "./presence.ts";
import { BINDINGS_CAP, LOCAL } from "./state.ts";

/** Bindings per USER_BINDINGS frame (about 450 KB, under the 1 MiB dialect libraries accept). */
const BINDINGS_PER_FRAME = 500;

/**
 * Link sync: adverts of our local users, re-signed when too old for the
 * peer's clock window, the current public-channel frames verbatim, then the
 * user bindings we know.
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
  effects.push(...await bindingsSync(ctx, link));
  return effects;
}

/**
 * Every user binding this server knows (online or not), in USER_BINDINGS
 * frames, once per link and only to a peer that declared the capability.
 *
 * @example
 * ```ts
 * import { bindingsSync } from "./_link_sync.ts";
 * // effects.push(...await bindingsSync(ctx, link));
 * ```
 */
export async function bindingsSync(ctx: NodeContext, link: Link): Promise<Effect[]> {
  const peerId = link.peerId;
  if (link.bindingsSynced || !peerId || !ctx.state.peerCaps.get(peerId)?.has(BINDINGS_CAP)) {
    return [];
  }
  link.bindingsSynced = true;
  const effects: Effect[] = [];
  for (let after = "";;) {
    const rows = ctx.store.listBindings(after, BINDINGS_PER_FRAME);
    if (rows.length === 0) break;
    after = rows[rows.length - 1].user_id;
    const bindings = rows.map(entryOfRow);
    effects.push(send(link, await signed(ctx, "USER_BINDINGS", peerId, { bindings })));
  }
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
  for (const userId of gone) {
    state.userLocations.delete(userId);
    state.directory.delete(userId);
  }
  log.info("removed users of a lost server", { server: peerId, users: gone.length });
  return await removalEffects(ctx, gone, peerId);
}
