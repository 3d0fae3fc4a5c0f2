/**
 * Handlers of server ↔ server frames (SOCP.md §6.1, §9): link opening,
 * announcements, DM delivery between servers, heartbeats. Presence gossip
 * is in `directory.ts`.
 *
 * @module
 */

import { buildUserDeliver } from "../../protocol/builders.ts";
import { msgRef } from "../../protocol/dedup.ts";
import { ErrorCode } from "../../protocol/errors.ts";
import type {
  FrameOf,
  ServerAddressPayload,
  ServerDeliverDmPayload,
  ServerDeliverWrappedPayload,
} from "../../protocol/types.ts";
import {
  type NodeContext,
  pinnedSigner,
  rejection,
  type Route,
  type Signers,
  validatedKey,
} from "../context.ts";
import { type Effect, error, persist, send, sendAll } from "../effects.ts";
import type { Link } from "../link.ts";
import { DUPLICATE_LINK } from "../link_policy.ts";
import { bindingsSync, linkSync } from "../_link_sync.ts";
import { serverDialect } from "../dialects/read.ts";
import { notFoundDetail, routeToUser } from "../routing.ts";
import { HEARTBEAT_CAP } from "../state.ts";
import { toAbsentUser } from "./offline.ts";

type HelloFrame = FrameOf<"SERVER_HELLO_LINK"> | FrameOf<"SERVER_ANNOUNCE">;

/**
 * Servers known only from relayed announcements, at most: a peer could
 * otherwise announce fake servers without end, each a pin, a database row
 * and a dial every 30 s.
 */
const MAX_UNCONFIRMED_SERVERS = 256;

/** Records a server's address and pins its key on first use; returns the persist effect. */
function learnServer(
  ctx: NodeContext,
  serverId: string,
  payload: ServerAddressPayload,
  source: "announce" | "link",
): Effect {
  const key = validatedKey(payload.pubkey);
  if (!ctx.state.pins.has(serverId)) ctx.state.pins.set(serverId, key);
  if (payload.caps?.includes(HEARTBEAT_CAP)) ctx.state.heartbeatPeers.add(serverId);
  ctx.state.peerCaps.set(serverId, new Set(payload.caps ?? []));
  ctx.state.serverAddrs.set(serverId, { host: payload.host, port: payload.port });
  const now = ctx.now();
  return persist((store) =>
    store.pinServer({
      server_id: serverId,
      pubkey: key.b64,
      host: payload.host,
      port: payload.port,
      source,
    }, now)
  );
}

/**
 * The first frame of an inbound server link: SERVER_HELLO_LINK, or
 * SERVER_ANNOUNCE from dialects that open links with it. Verified under
 * `payload.pubkey`, which must match any existing pin.
 */
export const serverHelloRoute: Route<"SERVER_HELLO_LINK" | "SERVER_ANNOUNCE"> = {
  signers: (_ctx, frame) => [validatedKey(frame.payload.pubkey)],
  handle(ctx, frame: HelloFrame, link) {
    const { state, config } = ctx;
    const key = validatedKey(frame.payload.pubkey);
    if (frame.from === state.self.id) {
      return [error(link, ErrorCode.BAD_REQUEST, "a server cannot link to itself", true)];
    }
    // A link meant for another server (dialled at an address someone announced falsely).
    if (frame.to !== state.self.id && frame.to !== "*") {
      return [error(link, ErrorCode.BAD_REQUEST, "this link is addressed to another server", true)];
    }
    const pin = state.pins.get(frame.from);
    if (pin && !pin.equals(key)) {
      ctx.log.warn("refused link: key differs from the pinned key", { server: frame.from });
      return [
        error(link, ErrorCode.BAD_KEY, "key conflicts with the pinned key of this server", true),
      ];
    }
    if (!pin && config.requireKnownServers) {
      return [error(link, ErrorCode.BAD_KEY, "unknown server (require-known-servers)", true)];
    }
    link.dialect = serverDialect(frame);
    if (link.dialect !== "socp") state.peerDialects.set(frame.from, link.dialect);
    return [learnServer(ctx, frame.from, frame.payload, "link"), {
      kind: "bind",
      link,
      peerId: frame.from,
    }];
  },
};

/** A later SERVER_HELLO_LINK on a bound link changes nothing but the address. */
const laterHelloRoute: Route<"SERVER_HELLO_LINK"> = {
  signers: (ctx, frame, link) =>
    frame.from === link.peerId
      ? pinnedSigner(ctx, frame.from)
      : rejection(ErrorCode.BAD_REQUEST, "hello from another server", { silent: true }),
  handle: (ctx, frame) => {
    ctx.state.serverAddrs.set(frame.from, { host: frame.payload.host, port: frame.payload.port });
    return [];
  },
  noDedup: true,
};

/** SERVER_ANNOUNCE on a bound link: learn the address, forward broadcasts, link up. */
const announceRoute: Route<"SERVER_ANNOUNCE"> = {
  signers(ctx, frame): Signers {
    const pin = ctx.state.pins.get(frame.from);
    if (pin) return [pin];
    if (ctx.config.requireKnownServers) {
      return rejection(ErrorCode.BAD_KEY, "unknown server (require-known-servers)");
    }
    return [validatedKey(frame.payload.pubkey)]; // pin on first use
  },
  async handle(ctx, frame, link, raw) {
    const { state } = ctx;
    if (frame.from === state.self.id) return [];
    const pin = state.pins.get(frame.from);
    if (pin && !pin.equals(validatedKey(frame.payload.pubkey))) {
      return [error(link, ErrorCode.BAD_KEY, "announced key conflicts with the pinned key")];
    }
    if (!pin && link.peerId !== frame.from) {
      // Only relayed so far: pinned on trust, until a link to it proves it exists.
      if (state.unconfirmedServers.size >= MAX_UNCONFIRMED_SERVERS) {
        ctx.metrics.inc("announces_dropped");
        return [];
      }
      state.unconfirmedServers.add(frame.from);
      // Dialect C takes only a JOIN as a link's first frame: dial it so.
      const dialect = serverDialect(frame);
      if (dialect !== "socp") state.peerDialects.set(frame.from, dialect);
    }
    const effects: Effect[] = [learnServer(ctx, frame.from, frame.payload, "announce")];
    if (link.peerId === frame.from && link.dialect !== "socp" && serverDialect(frame) === "socp") {
      // Dialled as A (an A introducer listed it), it answered as ours: sync again in our form.
      link.dialect = "socp";
      state.peerDialects.delete(frame.from);
      effects.push(...await linkSync(ctx, link));
    }
    // The peer we dialled answers with its own ANNOUNCE: now we know its capabilities.
    if (link.peerId === frame.from) effects.push(...await bindingsSync(ctx, link));
    if (frame.to === "*") {
      effects.push(...sendAll(state.serverLinksExcept(link, state.links.get(frame.from)), raw));
    }
    if (!state.links.has(frame.from)) {
      // Relayed: the announcer is joining or redialling, and dials every server itself (§9.4).
      const when = link.peerId === frame.from ? "due" : "announced";
      effects.push({ kind: "dial", serverId: frame.from, when });
    }
    return effects;
  },
};

/**
 * Forward to other servers (never back, never to the origin) and relay to
 * local clients (by default all of them).
 *
 * @example
 * ```ts
 * import { gossip } from "./server_links.ts";
 * // return gossip(ctx, frame, link, raw);
 * ```
 */
export function gossip(
  ctx: NodeContext,
  frame: { from: string },
  link: Link,
  raw: string,
  localLinks: Link[] = ctx.state.localUserLinks(),
): Effect[] {
  const { state } = ctx;
  return [
    ...sendAll(state.serverLinksExcept(link, state.links.get(frame.from)), raw),
    ...sendAll(localLinks, raw),
  ];
}

const serverDeliverRoute: Route<"SERVER_DELIVER"> = {
  concurrent: true,
  signers: (ctx, frame) => pinnedSigner(ctx, frame.from),
  async handle(ctx, frame, link, raw) {
    const payload = frame.payload;
    // Dialect B wraps FILE_* frames (§8.3): unwrap, then route the file frame itself.
    const wrapped = "type" in payload;
    const target = routeToUser(ctx, payload.user_id, link);
    if (target.kind === "local") {
      if (wrapped) return [send(target.link, JSON.stringify(unwrapFileFrame(payload)))];
      const dm = frame as FrameOf<"SERVER_DELIVER"> & { payload: ServerDeliverDmPayload };
      return [send(target.link, await buildUserDeliver(ctx.state.self, dm))];
    }
    if (target.kind === "remote") {
      return [send(target.link, wrapped ? JSON.stringify(unwrapFileFrame(payload)) : raw)];
    }
    if (!wrapped) {
      // A DM for one of our users who is away: into our queue (we are the home).
      const p = payload as ServerDeliverDmPayload;
      const { ciphertext, sender_pub, content_sig } = p;
      const queued = await toAbsentUser(
        ctx,
        {
          recipient: p.user_id,
          sender: p.sender,
          kind: "dm",
          item: JSON.stringify({ ...p, orig_ts: p.orig_ts ?? frame.ts, queued_at: undefined }),
          ref: await msgRef({ ciphertext, sender_pub, content_sig }),
          notify: true,
          counts: true,
        },
        { link, viaServer: true },
        () => Promise.resolve([]),
      );
      if (queued) return queued;
    }
    return [{
      kind: "error",
      link,
      code: ErrorCode.USER_NOT_FOUND,
      detail: notFoundDetail(target),
      to: frame.from,
    }];
  },
};

/** The FILE_* frame inside a wrapped SERVER_DELIVER, as it travels unwrapped. */
function unwrapFileFrame(p: ServerDeliverWrappedPayload): Record<string, unknown> {
  const inner: Record<string, unknown> = {
    type: p.type,
    from: p.from,
    to: p.to,
    ts: p.ts,
    payload: p.payload,
  };
  if (p.sig) inner.sig = p.sig;
  return inner;
}

const heartbeatRoute: Route<"HEARTBEAT"> = {
  signers: (ctx, frame, link) =>
    frame.from === link.peerId
      ? pinnedSigner(ctx, frame.from)
      : rejection(ErrorCode.BAD_REQUEST, "HEARTBEAT must come from the link peer"),
  handle(ctx, frame, link) {
    link.sawHeartbeat = true;
    ctx.state.heartbeatPeers.add(frame.from);
    const now = ctx.now();
    return [persist((store) => store.touchServer(frame.from, now))];
  },
  noDedup: true,
};

/** CTRL_CLOSE is link-local: it arrived on this link, so the peer sent it. */
const ctrlCloseRoute: Route<"CTRL_CLOSE"> = {
  signers: () => "link",
  handle: (ctx, frame, link) => {
    ctx.log.info("peer closed the link", {
      link: link.describe(),
      reason: frame.payload.reason ?? "",
    });
    link.supersededByPeer = frame.payload.reason === DUPLICATE_LINK;
    return [{ kind: "close", link, code: 1000, reason: "CTRL_CLOSE" }];
  },
  noDedup: true,
};

/** ERROR and ACK from a peer are point-to-point and only logged. */
const peerErrorRoute: Route<"ERROR"> = {
  signers: () => "link",
  handle: (ctx, frame, link) => {
    ctx.log.info("peer reported an error", {
      link: link.describe(),
      code: frame.payload.code.slice(0, 64),
    });
    return [];
  },
  noDedup: true,
};

const ackRoute: Route<"ACK"> = { signers: () => "link", handle: () => [], noDedup: true };

/** Routes of a bound server link. */
export const SERVER_LINK_ROUTES = {
  SERVER_HELLO_LINK: laterHelloRoute,
  SERVER_ANNOUNCE: announceRoute,
  SERVER_DELIVER: serverDeliverRoute,
  HEARTBEAT: heartbeatRoute,
  CTRL_CLOSE: ctrlCloseRoute,
  ERROR: peerErrorRoute,
  ACK: ackRoute,
} as const;
