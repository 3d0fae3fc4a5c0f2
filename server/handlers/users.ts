/**
 * Handlers of user ↔ server frames (SOCP.md §6.2): direct messages, `/list`
 * in both forms, lookups, and leaving. The hello is in `hello.ts`.
 *
 * @module
 */

import { buildServerDeliver, buildUserDeliver } from "../../protocol/builders.ts";
import { compareCodePoints } from "../../protocol/canonical.ts";
import { msgRef } from "../../protocol/dedup.ts";
import { toAbsentUser } from "./offline.ts";
import { displayName } from "../../protocol/display.ts";
import { ErrorCode } from "../../protocol/errors.ts";
import type { ListEntry } from "../../protocol/types.ts";
import {
  type NodeContext,
  rejection,
  type Route,
  signed,
  type Signers,
  validatedKey,
} from "../context.ts";
import { type Effect, error, send, sendAll } from "../effects.ts";
import type { Link } from "../link.ts";
import { verbatimPresenceLinks } from "../presence.ts";
import { notFoundDetail, routeToUser } from "../routing.ts";
import { LOCAL } from "../state.ts";

/**
 * Signers of a frame a local user sends on its own link: `from` must be the
 * bound user (else INVALID_SIG), signed by its registered key.
 *
 * @example
 * ```ts
 * import { boundUserSigner } from "./users.ts";
 * // boundUserSigner(ctx, frame, link) → [key] or a rejection
 * ```
 */
export function boundUserSigner(
  ctx: NodeContext,
  frame: { from: string; sig?: string },
  link: Link,
): Signers {
  if (frame.from !== link.peerId) {
    return rejection(ErrorCode.INVALID_SIG, "from is not the user bound to this link");
  }
  if (frame.sig === undefined && ctx.config.acceptUnsignedUserFrames) return "link";
  const entry = ctx.state.directory.get(frame.from);
  return entry ? [entry.pubkey] : rejection(ErrorCode.INVALID_SIG, "no key for this user");
}

/**
 * Signers of a user's frame relayed by a server (MSG_PUBLIC_CHANNEL, FILE_*):
 * the user's advertised key, or the link peer's key, since some dialects re-sign.
 *
 * @example
 * ```ts
 * import { relayedUserSigner } from "./users.ts";
 * // relayedUserSigner(ctx, frame, link) → keys
 * ```
 */
export function relayedUserSigner(ctx: NodeContext, frame: { from: string }, link: Link): Signers {
  const keys = [];
  const user = ctx.state.directory.get(frame.from);
  if (user) keys.push(user.pubkey);
  const peer = link.peerId ? ctx.state.pins.get(link.peerId) : undefined;
  if (peer) keys.push(peer);
  return keys.length
    ? keys
    : rejection(ErrorCode.INVALID_SIG, "frame from an unknown user", { silent: true });
}

/**
 * Links of the other servers that host at least one online user: where a
 * public message or public file goes, once each.
 *
 * @example
 * ```ts
 * import { memberServerLinks } from "./users.ts";
 * // sendAll(memberServerLinks(ctx), raw)
 * ```
 */
export function memberServerLinks(ctx: NodeContext): Link[] {
  const { state } = ctx;
  const hosting = new Set<string>();
  for (const entry of state.directory.values()) {
    if (entry.serverId !== state.self.id) hosting.add(entry.serverId);
  }
  return [...hosting].flatMap((id) => state.links.get(id) ?? []);
}

/** MSG_DIRECT (alias MSG_PRIVATE): routed to USER_DELIVER or SERVER_DELIVER, never opened. */
export const directRoute: Route<"MSG_DIRECT"> = {
  concurrent: true,
  signers: boundUserSigner,
  async handle(ctx, frame, link) {
    const { state } = ctx;
    const registered = state.directory.get(frame.from)?.pubkey;
    if (!registered) return []; // the sender left while this was verified
    if (!validatedKey(frame.payload.sender_pub).equals(registered)) {
      return [error(link, ErrorCode.BAD_KEY, "sender_pub is not your registered key")];
    }
    const target = routeToUser(ctx, frame.to);
    if (target.kind === "local") {
      return [send(target.link, await buildUserDeliver(state.self, frame))];
    }
    if (target.kind === "remote") {
      return [send(target.link, await buildServerDeliver(state.self, frame, target.serverId))];
    }
    const queued = await toAbsentUser(
      ctx,
      {
        recipient: frame.to,
        sender: frame.from,
        kind: "dm",
        item: JSON.stringify({
          ...(await buildServerDeliver(state.self, frame, "")).payload,
          orig_ts: frame.ts,
        }),
        ref: await msgRef(frame.payload),
        notify: true,
        counts: true,
      },
      { link, viaServer: false },
      async (home) => [
        send(home, await buildServerDeliver(state.self, frame, home.peerId!)),
      ],
    );
    return queued ?? [error(link, ErrorCode.USER_NOT_FOUND, notFoundDetail(target))];
  },
};

/** Online users, sorted by user id in code-point order. */
function onlineUsers(ctx: NodeContext): ListEntry[] {
  return [...ctx.state.directory.values()]
    .map((e) => ({
      user_id: e.userId,
      server_id: e.serverId,
      display_name: displayName(e.userId, e.meta),
    }))
    .sort((a, b) => compareCodePoints(a.user_id, b.user_id));
}

/** Users known mesh-wide but online nowhere (for `{"all":true}`), with key and home. */
function knownOffline(ctx: NodeContext): ListEntry[] {
  const offline: ListEntry[] = [];
  for (const b of ctx.store.listBindings("", KNOWN_OFFLINE_LISTED)) {
    if (ctx.state.directory.has(b.user_id)) continue;
    offline.push({
      user_id: b.user_id,
      server_id: b.home,
      display_name: b.user_id,
      online: false,
      pubkey: b.pubkey,
    });
  }
  return offline;
}

/** Offline users listed at most by `{"all":true}`. */
const KNOWN_OFFLINE_LISTED = 1000;

/**
 * LIST_REQUEST → LIST_RESPONSE with every online user in the network; with
 * `{"all":true}` (offline delivery, project extension) also the users known
 * mesh-wide who are offline, each with its key and home server.
 */
export const listRoute: Route<"LIST_REQUEST"> = {
  concurrent: true,
  signers: boundUserSigner,
  async handle(ctx, frame, link) {
    const users = onlineUsers(ctx);
    if (frame.payload.all === true) users.push(...knownOffline(ctx));
    return [send(link, await signed(ctx, "LIST_RESPONSE", link.peerId!, { users }))];
  },
};

/** COMMAND `/list` (dialect form): the ids as JSON text. Other commands are unknown. */
export const commandRoute: Route<"COMMAND"> = {
  signers: boundUserSigner,
  async handle(ctx, frame, link) {
    if (frame.payload.command.trim().toLowerCase() !== "/list") {
      return [error(link, ErrorCode.UNKNOWN_TYPE, "unknown command")];
    }
    const response = JSON.stringify({ users: onlineUsers(ctx).map((u) => u.user_id) });
    return [
      send(
        link,
        await signed(ctx, "COMMAND_RESPONSE", link.peerId!, { command: "/list", response }),
      ),
    ];
  },
};

/**
 * USER_LOOKUP (presence-lite extension): the stored advert of each online
 * user asked for, verbatim; one USER_NOT_FOUND (with `msg_ref`) if any is not
 * online.
 */
export const lookupRoute: Route<"USER_LOOKUP"> = {
  concurrent: true,
  signers: boundUserSigner,
  async handle(ctx, frame, link) {
    const effects: Effect[] = [];
    let missing = 0;
    for (const userId of frame.payload.user_ids) {
      const entry = ctx.state.directory.get(userId);
      if (entry) effects.push(send(link, entry.advert));
      else missing++;
    }
    if (missing > 0) {
      effects.push({
        kind: "error",
        link,
        code: ErrorCode.USER_NOT_FOUND,
        detail: `${missing} of the users looked up are not online`,
        msgRef: await msgRef(frame.payload),
      });
    }
    return effects;
  },
};

/** Clients may send HEARTBEAT; servers ignore it. */
export const clientHeartbeatRoute: Route<"HEARTBEAT"> = { signers: () => "link", handle: () => [] };

/**
 * A local user is gone: forget them, tell everyone, and rotate the public
 * channel so the leaver's key opens no new messages.
 *
 * @example
 * ```ts
 * import { userLeft } from "./users.ts";
 * // const effects = await userLeft(ctx, link);
 * ```
 */
export async function userLeft(ctx: NodeContext, link: Link): Promise<Effect[]> {
  const { state } = ctx;
  const userId = link.peerId;
  if (link.kind !== "user" || !userId || state.localUsers.get(userId) !== link) return [];
  state.removeLocalUser(userId);
  // The id may already be elsewhere (a session closed because its binding moved): keep that.
  if (state.userLocations.get(userId) === LOCAL) state.userLocations.delete(userId);
  if (state.directory.get(userId)?.serverId === state.self.id) state.directory.delete(userId);
  for (const [key, transfer] of state.transfers) {
    if (transfer.from === userId) state.transfers.delete(key);
  }
  ctx.log.info("user left", { user: userId });
  const effects: Effect[] = [
    { kind: "presence", online: [], offline: [userId] },
    { kind: "rotate", reason: "leave" },
  ];
  const recipients = [...state.serverLinks(), ...verbatimPresenceLinks(ctx)];
  if (recipients.length === 0) return effects; // a signature nobody would read
  const remove = await signed(ctx, "USER_REMOVE", "*", {
    user_id: userId,
    server_id: state.self.id,
  });
  return [...sendAll(recipients, remove), ...effects];
}
