/**
 * Handlers of user ↔ server frames (SOCP.md §6.2, §10.2): the authenticated
 * hello, direct messages, `/list` in both forms, and leaving.
 *
 * @module
 */

import { buildServerDeliver, buildUserDeliver } from "../../protocol/builders.ts";
import { canonicalJson, compareCodePoints } from "../../protocol/canonical.ts";
import { msgRef } from "../../protocol/dedup.ts";
import { displayName } from "../../protocol/display.ts";
import { ErrorCode } from "../../protocol/errors.ts";
import type { PublicKey } from "../../protocol/keys.ts";
import { verifyFrame } from "../../protocol/transport_sig.ts";
import { type ListEntry, PRESENCE_LITE_CAP, type UserMeta } from "../../protocol/types.ts";
import { decideHello, hashPassword, verifyPassword } from "../auth.ts";
import {
  type NodeContext,
  rejection,
  type Route,
  signed,
  type Signers,
  validatedKey,
} from "../context.ts";
import { type Effect, error, persist, send, sendAll } from "../effects.ts";
import type { Link } from "../link.ts";
import { presenceEntry, verbatimPresenceLinks } from "../presence.ts";
import { TokenBucket } from "../rate.ts";
import { notFoundDetail, routeToUser } from "../routing.ts";
import { type DirectoryEntry, LOCAL } from "../state.ts";

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

const OPTIONAL_META = ["extras", "avatar_url", "pronouns", "age"] as const;

/**
 * The `meta` of a user's advert: the hello's displayable fields plus the
 * key(s), trimmed of optional fields until it fits the 4 KiB receivers allow.
 */
function advertMeta(meta: UserMeta | undefined, pubkey: PublicKey, encKey: PublicKey): UserMeta {
  const out: UserMeta = {};
  for (const field of ["display_name", "caps", ...OPTIONAL_META] as const) {
    if (meta?.[field] !== undefined) (out as Record<string, unknown>)[field] = meta[field];
  }
  out.pubkey = pubkey.b64;
  if (!encKey.equals(pubkey)) out.enc_pubkey = encKey.b64;
  for (const field of OPTIONAL_META) {
    if (new TextEncoder().encode(canonicalJson(out)).length <= 4096) break;
    delete out[field];
  }
  return out;
}

/** USER_HELLO, the first frame of a user link. Authentication is this handler's (§10.2). */
export const helloRoute: Route<"USER_HELLO"> = {
  signers: () => "link",
  ownClock: true,
  async handle(ctx, frame, link) {
    const { state, store, config } = ctx;
    const { limits } = config;
    const p = frame.payload;
    const userId = frame.from;
    link.client = p.client;
    const refuse = (code: ErrorCode, detail: string) => [error(link, code, detail, true)];
    if (state.localUsers.has(userId)) {
      return refuse(ErrorCode.NAME_IN_USE, "this user is already connected here");
    }
    const location = state.userLocations.get(userId);
    if (location !== undefined && location !== LOCAL) {
      return refuse(ErrorCode.NAME_IN_USE, "this user is connected to another server");
    }
    if (state.localUsers.size >= limits.maxLocalUsers) {
      return refuse(ErrorCode.RATE_LIMITED, "server is full");
    }

    const now = ctx.now();
    const pubkey = validatedKey(p.pubkey);
    const encKey = p.enc_pubkey && p.enc_pubkey !== p.pubkey ? validatedKey(p.enc_pubkey) : pubkey;
    // The signature and msg_ref cover the payload as received, password included.
    const sigValid = frame.sig !== undefined && await verifyFrame(pubkey, frame);
    const reference = await msgRef(p);
    const password = p.password;
    delete p.password; // checked below, then gone: never stored, logged or echoed
    const nonceKey = `${userId}:${p.nonce}`;
    const signedFresh = sigValid && p.auth_ts === frame.ts &&
      Math.abs(now - frame.ts) <= limits.clockWindowMs &&
      typeof p.nonce === "string" && !state.helloNonces.has(nonceKey, now);
    const row = store.getUser(userId);
    const registration = !row ? "none" : row.pubkey === pubkey.b64 ? "same-key" : "other-key";
    const passwordMatches = password !== undefined && !!row?.pake_password &&
      await verifyPassword(password, row.pake_password);
    const decision = decideHello({
      signed: frame.sig !== undefined,
      sigValid,
      signedFresh,
      passwordGiven: password !== undefined,
      passwordMatches,
      registration,
      allowUnsignedHello: config.allowUnsignedHello,
    });
    if (!decision.accept) {
      ctx.log.info("refused a hello", { user: userId, code: decision.code });
      return refuse(decision.code, decision.detail);
    }
    if (signedFresh) state.helloNonces.add(nonceKey, now);
    // The hello may have waited on crypto: re-check the session rule before binding.
    if (state.localUsers.has(userId)) {
      return refuse(ErrorCode.NAME_IN_USE, "this user is already connected here");
    }

    const passwordHash = decision.register && password !== undefined
      ? await hashPassword(password)
      : row?.pake_password ?? "";
    const metaText = JSON.stringify(p.meta ?? {});
    const changed = decision.replaceKey ||
      (row !== undefined && (row.meta !== metaText || row.pake_password !== passwordHash));
    const userRow = {
      user_id: userId,
      pubkey: pubkey.b64,
      privkey_store: "",
      pake_password: passwordHash,
      meta: metaText,
      version: row ? row.version + (changed ? 1 : 0) : 1,
    };

    link.kind = "user";
    link.peerId = userId;
    link.caps = new Set(p.meta?.caps ?? []);
    link.rate = new TokenBucket(limits.userRatePerSec, limits.userBurst, now);
    state.addLocalUser(userId, link);
    state.userLocations.set(userId, LOCAL);
    const meta = advertMeta(p.meta, pubkey, encKey);
    // Both signatures at once: one per core, half the hello's latency.
    const [advertFrame, ack] = await Promise.all([
      signed(ctx, "USER_ADVERTISE", "*", {
        user_id: userId,
        server_id: state.self.id,
        pubkey: pubkey.b64,
        meta,
      }),
      signed(ctx, "ACK", userId, {
        msg_ref: reference,
        server_pub: state.self.keys.publicKey.b64,
      }),
    ]);
    const advert = JSON.stringify(advertFrame);
    const entry: DirectoryEntry = { userId, serverId: state.self.id, pubkey, encKey, meta, advert };
    state.directory.set(userId, entry);
    ctx.log.info("user joined", {
      user: userId,
      registered: decision.register,
      key_replaced: decision.replaceKey,
    });
    // Presence-lite clients get a snapshot instead of every other user's advert.
    const catchUp: Effect[] = link.caps.has(PRESENCE_LITE_CAP)
      ? [{ kind: "welcome", link }]
      : [...state.directory.values()].filter((e) => e.userId !== userId).map((e) =>
        send(link, e.advert)
      );
    return [
      persist((s) => s.putUser(userRow)),
      send(link, ack),
      ...sendAll(state.serverLinks(), advert),
      ...sendAll(verbatimPresenceLinks(ctx, userId), advert),
      { kind: "presence", online: [presenceEntry(entry)], offline: [] },
      ...catchUp,
      { kind: "rotate", reason: "join", users: [userId] },
    ];
  },
};

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
    return [error(link, ErrorCode.USER_NOT_FOUND, notFoundDetail(target))];
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

/** LIST_REQUEST → LIST_RESPONSE with every online user in the network. */
export const listRoute: Route<"LIST_REQUEST"> = {
  concurrent: true,
  signers: boundUserSigner,
  async handle(ctx, _frame, link) {
    return [
      send(link, await signed(ctx, "LIST_RESPONSE", link.peerId!, { users: onlineUsers(ctx) })),
    ];
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
  state.userLocations.delete(userId);
  state.directory.delete(userId);
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
