/**
 * Joining the mesh (SOCP.md §6.1): the introducer's handling of
 * SERVER_HELLO_JOIN, and the newcomer's handling of SERVER_WELCOME.
 *
 * @module
 */

import { ErrorCode } from "../../protocol/errors.ts";
import { newId } from "../../protocol/ids.ts";
import { parsePublicKey } from "../../protocol/keys.ts";
import type { BindingEntry, ClientEntry, ServerEntry } from "../../protocol/types.ts";
import { type NodeContext, rejection, type Route, signed, validatedKey } from "../context.ts";
import { type Effect, error, persist, send } from "../effects.ts";
import { saveServerId } from "../identity.ts";
import { claimOfEntry, entryOfRow } from "../bindings.ts";
import { serverDialect, welcomeEntryDialect } from "../dialects/read.ts";
import { displacedEffects, settleClaim } from "../identity_claims.ts";
import { BINDINGS_CAP, HEARTBEAT_CAP, LOCAL } from "../state.ts";

/** The SERVER_WELCOME lists: live servers and online users, capped to stay under 1 MiB. */
function welcomeLists(
  ctx: NodeContext,
  newcomer: string,
): { servers: ServerEntry[]; clients: ClientEntry[] } {
  const { state, config } = ctx;
  const self = state.self;
  const servers: ServerEntry[] = [];
  const addressOf = (id: string) => id === self.id ? state.address : state.serverAddrs.get(id);
  if (config.hostsUsers) {
    servers.push({ server_id: self.id, ...addressOf(self.id)!, pubkey: self.keys.publicKey.b64 });
  }
  for (const id of state.links.keys()) {
    const addr = state.serverAddrs.get(id);
    const pin = state.pins.get(id);
    if (id !== newcomer && addr && pin) {
      const dialect = state.peerDialects.get(id) === "A" ? { dialect: "A" as const } : {};
      servers.push({
        server_id: id,
        host: addr.host,
        port: addr.port,
        pubkey: pin.b64,
        ...dialect,
      });
    }
  }
  const clients: ClientEntry[] = [];
  let budget = config.limits.sendFrameBytes - 64 * 1024 - servers.length * 900;
  for (const [userId, entry] of state.directory) {
    const serverId = state.userLocations.get(userId) === LOCAL ? self.id : entry.serverId;
    const addr = addressOf(serverId);
    if (!addr) continue;
    budget -= 900 + JSON.stringify(entry.meta).length;
    if (budget < 0) break; // link sync delivers the full presence anyway
    clients.push({
      user_id: userId,
      server_id: serverId,
      host: addr.host,
      port: addr.port,
      pubkey: entry.pubkey.b64,
    });
  }
  return { servers, clients };
}

/** Known user bindings for a newcomer's welcome, within `budget` bytes (link sync sends them all). */
function welcomeBindings(ctx: NodeContext, budget: number): BindingEntry[] {
  const out: BindingEntry[] = [];
  for (const row of ctx.store.listBindings("", ctx.config.limits.maxListEntries)) {
    budget -= 900;
    if (budget < 0) break;
    out.push(entryOfRow(row));
  }
  return out;
}

/**
 * SERVER_HELLO_JOIN, first frame at an introducer; at any server from
 * dialect C, which opens every link with one.
 */
export const joinRoute: Route<"SERVER_HELLO_JOIN"> = {
  signers(ctx, frame) {
    if (!ctx.config.acceptJoins && serverDialect(frame) !== "C") {
      const detail = "SERVER_HELLO_JOIN is not allowed as a first frame";
      return rejection(ErrorCode.UNKNOWN_TYPE, detail, { close: true });
    }
    return frame.sig === undefined
      ? rejection(ErrorCode.INVALID_SIG, "SERVER_HELLO_JOIN must be signed", { close: true })
      : [validatedKey(frame.payload.pubkey)];
  },
  async handle(ctx, frame, link) {
    const { state } = ctx;
    const dialect = serverDialect(frame);
    const key = validatedKey(frame.payload.pubkey);
    if (key.equals(state.self.keys.publicKey)) {
      return [error(link, ErrorCode.BAD_REQUEST, "a node cannot join itself", true)];
    }
    // Keep the requested id when it is free, or already this key's; otherwise assign a fresh one.
    const pin = state.pins.get(frame.from);
    // Dialect C's first server may still be called "auto": it takes the id it is given.
    const keep = frame.from !== state.self.id && frame.from !== "auto" && (!pin || pin.equals(key));
    const assigned = keep ? frame.from : newId();
    const { host, port } = frame.payload;
    state.pins.set(assigned, key);
    state.serverAddrs.set(assigned, { host, port });
    if (frame.payload.caps?.includes(HEARTBEAT_CAP)) state.heartbeatPeers.add(assigned);
    state.peerCaps.set(assigned, new Set(frame.payload.caps ?? []));
    link.dialect = dialect;
    if (dialect !== "socp") state.peerDialects.set(assigned, dialect);
    if (link.dialect === "A") {
      // A never reads its join socket again, and re-joins at once if it is closed.
      link.unread = true;
    }
    const now = ctx.now();
    const lists = welcomeLists(ctx, assigned);
    const welcome = await signed(ctx, "SERVER_WELCOME", assigned, {
      assigned_id: assigned,
      ...lists,
      server_pub: state.self.keys.publicKey.b64,
      caps: [HEARTBEAT_CAP, BINDINGS_CAP],
      ...(frame.payload.caps?.includes(BINDINGS_CAP)
        ? { bindings: welcomeBindings(ctx, ctx.config.limits.sendFrameBytes / 2) }
        : {}),
    });
    ctx.log.info("welcomed a server", { server: assigned, requested: frame.from, host, port });
    return [
      persist((store) =>
        store.pinServer({ server_id: assigned, pubkey: key.b64, host, port, source: "link" }, now)
      ),
      send(link, welcome),
      // The newcomer dialled this socket; it stays as their link.
      { kind: "bind", link, peerId: assigned },
    ];
  },
};

/** SERVER_WELCOME on our join socket, verified under the pinned introducer key. */
export const welcomeRoute: Route<"SERVER_WELCOME"> = {
  signers(ctx, frame, link) {
    // A dialect A introducer signs with a key it never publishes (--accept-unverified-welcome).
    if (link.unverifiedIntroducer) return "link";
    if (link.introducerKey) return [link.introducerKey];
    const offered = frame.payload.server_pub;
    if (ctx.config.allowUnpinnedIntroducer && offered) return [validatedKey(offered)];
    return rejection(ErrorCode.BAD_KEY, "introducer key unknown: pin it in the bootstrap list", {
      close: true,
    });
  },
  async handle(ctx, frame, link) {
    const { state } = ctx;
    const unverified = link.unverifiedIntroducer;
    const introducerKey = unverified
      ? null
      : link.introducerKey ?? validatedKey(frame.payload.server_pub!);
    const stored = state.pins.get(frame.from);
    if (introducerKey && stored && !stored.equals(introducerKey)) {
      ctx.log.error("introducer key conflicts with its pinned key; refusing", {
        introducer: frame.from,
      });
      return [{ kind: "close", link, code: 1008, reason: "introducer key conflict" }];
    }
    const now = ctx.now();
    const effects: Effect[] = [];
    const assigned = frame.payload.assigned_id;
    if (assigned !== state.self.id && unverified) {
      ctx.log.warn("an unverified introducer assigned another id; keeping ours", { assigned });
    } else if (assigned !== state.self.id) {
      ctx.log.info("adopting the id the introducer assigned", {
        previous: state.self.id,
        assigned,
      });
      const previous = state.self.id;
      state.self = { ...state.self, id: assigned };
      effects.push(persist((store) => {
        saveServerId(store, assigned);
        store.renameHome(previous, assigned);
      }));
    }
    if (introducerKey) {
      state.pins.set(frame.from, introducerKey);
      if (frame.payload.caps?.includes(HEARTBEAT_CAP)) state.heartbeatPeers.add(frame.from);
      state.peerCaps.set(frame.from, new Set(frame.payload.caps ?? []));
      if (link.target) state.serverAddrs.set(frame.from, link.target);
      effects.push(
        persist((store) =>
          store.pinServer({
            server_id: frame.from,
            pubkey: introducerKey.b64,
            ...link.target,
            source: "bootstrap",
          }, now)
        ),
      );
    }
    if (link.dialect !== "socp") state.peerDialects.set(frame.from, link.dialect);
    // An unverified introducer is kept as a link too: our adverts go to it (A lists users so).
    effects.push({ kind: "bind", link, peerId: frame.from });

    for (const entry of frame.payload.servers ?? []) {
      if (entry.server_id === state.self.id || entry.server_id === frame.from) continue;
      const key = parsePublicKey(entry.pubkey);
      const pin = state.pins.get(entry.server_id);
      if (!key.ok || (pin && !pin.equals(key.key))) {
        ctx.log.warn("ignored a welcome entry that conflicts with a pin", {
          server: entry.server_id,
        });
        continue;
      }
      state.pins.set(entry.server_id, key.key);
      state.serverAddrs.set(entry.server_id, { host: entry.host, port: entry.port });
      const dialect = welcomeEntryDialect(entry, link.dialect);
      if (dialect !== "socp") state.peerDialects.set(entry.server_id, dialect);
      const row = {
        server_id: entry.server_id,
        pubkey: key.key.b64,
        host: entry.host,
        port: entry.port,
      };
      effects.push(persist((store) => store.pinServer({ ...row, source: "welcome" }, now)));
      effects.push({ kind: "dial", serverId: entry.server_id, when: "now" });
    }
    // Routing hints only, never over a known location: each server's link sync
    // brings the adverts themselves, which the location rules then judge.
    const hint = (userId: string, serverId: string) => {
      if (serverId !== state.self.id && !state.userLocations.has(userId)) {
        state.userLocations.set(userId, serverId);
      }
    };
    for (const client of frame.payload.clients ?? []) hint(client.user_id, client.server_id);
    for (const [userId, serverId] of Object.entries(frame.payload.snapshot?.user_locations ?? {})) {
      hint(userId, serverId);
    }
    // Known users first, so a hello that comes before link sync finds them bound.
    for (const entry of frame.payload.bindings ?? []) {
      const key = validatedKey(entry.pubkey);
      const settled = settleClaim(ctx, claimOfEntry(entry, frame.from, key.b64));
      if (settled.accepted && (settled.verdict === "rekey" || settled.verdict === "won")) {
        effects.push(
          ...await displacedEffects(ctx, entry.user_id, key.b64, "bound to another key"),
        );
      }
    }
    return effects;
  },
};
