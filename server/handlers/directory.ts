/**
 * The mesh-wide user directory on server links (SOCP.md §6.1, docs/PROTOCOL.md
 * decisions 42 and 43): USER_ADVERTISE and USER_REMOVE gossip, and the
 * USER_BINDINGS of link sync. An advert is relayed only once its key agrees
 * with the user's mesh-wide binding and its location is allowed
 * (server/moves.ts); everything else is dropped where it arrived.
 *
 * @module
 */

import { ErrorCode } from "../../protocol/errors.ts";
import { parsePublicKey } from "../../protocol/keys.ts";
import { verifyPresenceProof } from "../../protocol/presence_proof.ts";
import type { FrameOf } from "../../protocol/types.ts";
import { claimOfAdvert, claimOfEntry } from "../bindings.ts";
import { type NodeContext, pinnedSigner, rejection, type Route, validatedKey } from "../context.ts";
import { type Effect, error } from "../effects.ts";
import { displacedEffects, settleClaim } from "../identity_claims.ts";
import type { Link } from "../link.ts";
import { judgeMove } from "../moves.ts";
import { presenceEntry, verbatimPresenceLinks } from "../presence.ts";
import { LOCAL } from "../state.ts";
import { handOver } from "./offline.ts";
import { gossip } from "./server_links.ts";

type AdvertFrame = FrameOf<"USER_ADVERTISE">;

/** USER_ADVERTISE and USER_REMOVE must come from the server they name. */
function presenceSigner(ctx: NodeContext, frame: AdvertFrame | FrameOf<"USER_REMOVE">) {
  if ((frame.payload.server_id ?? frame.from) !== frame.from) {
    return rejection(ErrorCode.BAD_REQUEST, "payload.server_id must equal from");
  }
  return pinnedSigner(ctx, frame.from);
}

/** The advert's presence proof, if it is valid, names its sender (or `"*"`) and is newer than any seen. */
async function proofOf(
  ctx: NodeContext,
  frame: AdvertFrame,
  key: Parameters<typeof verifyPresenceProof>[0],
  newestSeen: number,
): Promise<"named" | "unnamed" | "none"> {
  const proof = frame.payload.presence;
  if (!proof || proof.ts <= newestSeen) return "none";
  if (proof.server_id !== frame.from && proof.server_id !== "*") return "none";
  if (proof.ts > ctx.now() + ctx.config.limits.clockWindowMs) return "none";
  if (!(await verifyPresenceProof(key, frame.payload.user_id, proof))) return "none";
  return proof.server_id === "*" ? "unnamed" : "named";
}

/**
 * Applies a verified USER_ADVERTISE: binding, location, directory, relay.
 * Also re-runs adverts that waited for their user's previous location.
 */
async function acceptAdvert(
  ctx: NodeContext,
  frame: AdvertFrame,
  link: Link,
  raw: string,
): Promise<Effect[]> {
  const { state } = ctx;
  const p = frame.payload;
  const userId = p.user_id;
  if (p.server_id === state.self.id) return [];
  const meta = p.meta ?? {};
  const pubkey = validatedKey(p.pubkey ?? meta.pubkey!);
  const settled = settleClaim(ctx, claimOfAdvert(p, pubkey.b64, frame.from, frame.ts));
  if (!settled.accepted) {
    return [error(link, ErrorCode.BAD_KEY, `advert of ${userId} refused: ${settled.reason}`)];
  }
  const effects: Effect[] = [];
  const replaced = settled.verdict === "rekey" || settled.verdict === "won";
  if (replaced) {
    const why = settled.verdict === "won"
      ? "this user id was registered at the same moment on another server, which keeps it"
      : "this user's key was changed at its home server";
    effects.push(...await displacedEffects(ctx, userId, pubkey.b64, why));
  }
  const row = settled.row;
  const proof = await proofOf(ctx, frame, pubkey, row.proof_ts);
  const current = state.userLocations.get(userId);
  const move = judgeMove({
    // A local session that just lost its key is being closed: it no longer holds the user.
    current: replaced && current === LOCAL ? undefined : current,
    currentLive: current !== undefined && state.links.has(current),
    from: frame.from,
    home: row.home,
    proof,
    proofCapable: row.proof_ts > 0,
  });
  if (move.kind === "refuse") {
    ctx.metrics.inc("adverts_refused", move.wait ? "live_elsewhere" : "no_proof");
    if (move.wait) state.pendingMoves.add(userId, { frame, raw, link }, ctx.now());
    ctx.log.debug("advert not applied", { user: userId, from: frame.from, reason: move.reason });
    return effects;
  }
  if (proof !== "none") {
    try {
      ctx.store.putBinding({ ...row, proof_ts: p.presence!.ts });
    } catch (e) {
      ctx.log.error("could not store a presence proof", { user: userId, error: String(e) });
      return effects;
    }
  }
  state.userLocations.set(userId, p.server_id);
  const encText = meta.enc_pubkey && meta.enc_pubkey !== pubkey.b64
    ? parsePublicKey(meta.enc_pubkey)
    : undefined;
  const encKey = encText?.ok ? encText.key : pubkey;
  const entry = { userId, serverId: p.server_id, pubkey, encKey, meta, advert: raw };
  state.directory.set(userId, entry);
  // One of our users is back, on another server: what waited for them goes there.
  const host = row.home === state.self.id ? state.links.get(p.server_id) : undefined;
  return [
    ...effects,
    ...gossip(ctx, frame, link, raw, verbatimPresenceLinks(ctx)),
    { kind: "presence", online: [presenceEntry(entry)], offline: [] },
    ...(host ? await handOver(ctx, userId, host, p.server_id) : []),
  ];
}

/**
 * Re-runs the advert that waited for `userId`'s previous location to end,
 * once it has (its link must still be up).
 *
 * @example
 * ```ts
 * import { releasePendingMove } from "./directory.ts";
 * // effects.push(...await releasePendingMove(ctx, userId));
 * ```
 */
export async function releasePendingMove(ctx: NodeContext, userId: string): Promise<Effect[]> {
  const pending = ctx.state.pendingMoves.take(userId, ctx.now());
  if (!pending || pending.link.closed || ctx.state.userLocations.has(userId)) return [];
  return await acceptAdvert(ctx, pending.frame, pending.link, pending.raw);
}

const advertiseRoute: Route<"USER_ADVERTISE"> = {
  signers: presenceSigner,
  handle: acceptAdvert,
};

const removeRoute: Route<"USER_REMOVE"> = {
  signers: presenceSigner,
  async handle(ctx, frame, link, raw) {
    const { state } = ctx;
    const { user_id: userId, server_id: serverId = frame.from } = frame.payload;
    // Only a mapping that still points at that server: the user may have moved,
    // and a remove for a location the user is not at is not passed on either
    // (clients would drop the user's presence on it).
    if (state.locationOf(userId) !== serverId) return [];
    state.userLocations.delete(userId);
    state.directory.delete(userId);
    return [
      ...gossip(ctx, frame, link, raw, verbatimPresenceLinks(ctx)),
      { kind: "presence", online: [], offline: [userId] },
      ...await releasePendingMove(ctx, userId),
    ];
  },
};

/** USER_BINDINGS from the link peer: bindings it knows, judged one by one. */
const bindingsRoute: Route<"USER_BINDINGS"> = {
  signers: (ctx, frame, link) =>
    frame.from === link.peerId
      ? pinnedSigner(ctx, frame.from)
      : rejection(ErrorCode.BAD_REQUEST, "USER_BINDINGS must come from the link peer"),
  async handle(ctx, frame) {
    const effects: Effect[] = [];
    let refused = 0;
    for (const entry of frame.payload.bindings) {
      const key = validatedKey(entry.pubkey);
      const settled = settleClaim(ctx, claimOfEntry(entry, frame.from, key.b64));
      if (!settled.accepted) {
        refused++;
        continue;
      }
      if (settled.verdict === "rekey" || settled.verdict === "won") {
        effects.push(
          ...await displacedEffects(
            ctx,
            entry.user_id,
            key.b64,
            "this user id is bound to another key in the mesh",
          ),
        );
      }
    }
    if (refused > 0) {
      ctx.log.info("link sync: some bindings were refused", { server: frame.from, refused });
    }
    return effects;
  },
  noDedup: true,
};

/** Directory routes of a bound server link. */
export const DIRECTORY_SERVER_ROUTES = {
  USER_ADVERTISE: advertiseRoute,
  USER_REMOVE: removeRoute,
  USER_BINDINGS: bindingsRoute,
} as const;
