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
 * Link sync: adverts of our local users with a fresh ts, the current
 * public-channel frames verbatim, then the user bindings we know.
 *
 * @example
 * ```ts
 * import { linkSync } from "./_link_sync.ts";
 * // node.apply(await linkSync(ctx, link));
 * ```
 */
export async function linkSync(ctx: NodeContext, link: Link): Promise<Effect[]> {
  const { state } = ctx;
  const effects: Effect[] = [];
  const now = ctx.now();
  for (const [userId, location] of state.userLocations) {
    const entry = location === LOCAL ? state.directory.get(userId) : undefined;
    if (!entry) continue;
    // A fresh ts (not signed: the signature covers the payload only), so the
    // peer's clock window accepts it and its seen_ids, which may still hold
    // this advert from before a quick redial, does not drop it.
    const advert = JSON.parse(entry.advert) as FrameOf<"USER_ADVERTISE">;
    effects.push(send(link, JSON.stringify({ ...advert, ts: now })));
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
 * Forgets the users hosted by a lost peer; returns who they were, and the
 * presence change and USER_REMOVE notices (issued by this server, naming the
 * lost one) for local clients that take presence verbatim.
 *
 * @example
 * ```ts
 * import { forgetPeerUsers } from "./_link_sync.ts";
 * // const { gone, effects } = await forgetPeerUsers(ctx, "server-b");
 * ```
 */
export async function forgetPeerUsers(
  ctx: NodeContext,
  peerId: string,
): Promise<{ gone: string[]; effects: Effect[] }> {
  const { state, log } = ctx;
  const gone = [...state.userLocations].filter(([, at]) => at === peerId).map(([userId]) => userId);
  if (gone.length === 0) return { gone, effects: [] };
  for (const userId of gone) {
    state.userLocations.delete(userId);
    state.directory.delete(userId);
  }
  log.info("removed users of a lost server", { server: peerId, users: gone.length });
  return { gone, effects: await removalEffects(ctx, gone, peerId) };
}
