/**
 * The server mesh (SOCP.md §9.4, §9.5): joining through the bootstrap list,
 * dialling peers (the lower id dials; backoff 1–30 s with jitter), binding
 * and de-duplicating links, link sync, heartbeats and dead-link detection,
 * and cleaning up after a lost link. This is an edge module: it owns sockets
 * and timers, and hands frames it builds to the node as effects.
 *
 * @module
 */

import { compareCodePoints } from "../protocol/canonical.ts";
import { backoffMs, DUPLICATE_LINK, preferredLink } from "./link_policy.ts";
import { exportPublicKey, type PublicKey } from "../protocol/keys.ts";
import { signPayload } from "../protocol/transport_sig.ts";
import type { FrameOf, ServerAddressPayload } from "../protocol/types.ts";
import type { BootstrapEntry } from "./config.ts";
import { MeshJoin } from "./_mesh_join.ts";
import { type NodeContext, signed } from "./context.ts";
import { type DialWhen, type Effect, send } from "./effects.ts";
import { forgetPeerUsers, linkSync } from "./_link_sync.ts";
import { releasePendingMove } from "./handlers/directory.ts";
import { addressTaken, forgetAnnouncedServer, UnreachableHosts } from "./_mesh_upkeep.ts";
import type { Link, LinkKind } from "./link.ts";
import type { LinkSocket } from "./ws/socket.ts";
import { TokenBucket } from "./rate.ts";
import { BINDINGS_CAP, HEARTBEAT_CAP, type ServerAddress } from "./state.ts";
import { dialOpening } from "./dialects/write.ts";

/** What the mesh needs from its node. */
export interface MeshHost {
  readonly ctx: NodeContext;
  /** Wraps a dialled socket into a link whose frames go through the node's pipeline. */
  attach(socket: LinkSocket, options: AttachOptions): Link;
  /** Applies effects (sends, errors, closes, persistence). */
  apply(effects: Effect[]): Promise<void>;
  /** Opens a WebSocket to a peer (wss unless configured plain). */
  connect(address: ServerAddress): Promise<LinkSocket>;
}

/** How a socket is attached as a link. */
export interface AttachOptions {
  remote: string;
  dialledByUs: boolean;
  kind: LinkKind;
  target?: ServerAddress;
  introducerKey?: PublicKey | null;
}

/** How long the lower id waits for an announced server to dial it first. */
const ANNOUNCED_WAIT_MS = 3_000;
/** How long a link closed as the peer's duplicate waits for the kept one before the peer counts as lost. */
const SUPERSEDED_WAIT_MS = 5_000;
/** A link that lived this long resets its peer's redial backoff. */
const STABLE_LINK_MS = 30_000;
/** Failed dials after which a server known only from announcements is forgotten (about 1 min). */
const UNCONFIRMED_ATTEMPTS = 6;

interface RetryState {
  attempt: number;
  timer?: ReturnType<typeof setTimeout>;
}

/**
 * Maintains this node's links to every other server.
 *
 * @example
 * ```ts
 * import { Mesh } from "./mesh.ts";
 * // const mesh = new Mesh(node); mesh.start(); … mesh.stop();
 * ```
 */
export class Mesh {
  readonly #host: MeshHost;
  readonly #retries = new Map<string, RetryState>();
  readonly #dialing = new Set<string>();
  /** Peers whose link closed as their duplicate, until the kept link binds or the wait ends. */
  readonly #awaitingKept = new Set<string>();
  readonly #joins: MeshJoin;
  readonly #unreachable = new UnreachableHosts();
  readonly #sleepers = new Set<() => void>();
  #heartbeatTimer?: ReturnType<typeof setInterval>;
  #stopped = false;
  readonly #helloSigs = new Map<"der" | "pem", Promise<string>>();
  #heartbeatSig?: Promise<string>;

  constructor(host: MeshHost) {
    this.#host = host;
    const isStopped = () => this.#stopped;
    this.#joins = new MeshJoin({
      get ctx() {
        return host.ctx;
      },
      attach: (socket, options) => host.attach(socket, options),
      connect: (address) => host.connect(address),
      joinFrame: (to, form) => this.helloFrame("SERVER_HELLO_JOIN", to, form),
      sleep: (ms) => this.#sleep(ms),
      get stopped() {
        return isStopped();
      },
    });
  }

  get #ctx(): NodeContext {
    return this.#host.ctx;
  }

  /** Starts heartbeats and the bootstrap walk. */
  start(bootstrap: BootstrapEntry[]): void {
    this.#heartbeatTimer = setInterval(() => this.#tick(), this.#ctx.config.limits.heartbeatMs);
    this.#joins.bootstrap(bootstrap).catch((e) =>
      this.#ctx.log.error("bootstrap failed", { error: String(e) })
    );
  }

  /** Stops timers and retries; links are closed by the node. */
  stop(): void {
    this.#stopped = true;
    clearInterval(this.#heartbeatTimer);
    for (const wake of this.#sleepers) wake();
    for (const retry of this.#retries.values()) clearTimeout(retry.timer);
    this.#joins.stop();
  }

  /**
   * The payload of SERVER_HELLO_JOIN, SERVER_HELLO_LINK and SERVER_ANNOUNCE;
   * with the key as PEM for dialect A peers (who ignore `caps`).
   */
  helloPayload(keyForm: "der" | "pem" = "der"): ServerAddressPayload {
    const { address, self } = this.#ctx.state;
    return {
      host: address.host,
      port: address.port,
      pubkey: keyForm === "pem"
        ? exportPublicKey(self.keys.publicKey, "pem")
        : self.keys.publicKey.b64,
      caps: [HEARTBEAT_CAP, BINDINGS_CAP],
    };
  }

  /** A hello-type frame. The payload never changes, so its signature is made once per key form. */
  async helloFrame<T extends "SERVER_HELLO_JOIN" | "SERVER_HELLO_LINK" | "SERVER_ANNOUNCE">(
    type: T,
    to: string,
    keyForm: "der" | "pem" = "der",
  ): Promise<FrameOf<T>> {
    const payload = this.helloPayload(keyForm);
    let signing = this.#helloSigs.get(keyForm);
    if (!signing) {
      signing = signPayload(this.#ctx.state.self.keys.privateKey, payload);
      this.#helloSigs.set(keyForm, signing);
    }
    const sig = await signing;
    return {
      type,
      from: this.#ctx.state.self.id,
      to,
      ts: this.#ctx.now(),
      payload,
      sig,
    } as FrameOf<T>;
  }

  // --- dialling --------------------------------------------------------------

  /**
   * Makes sure a link to `serverId` exists or will be dialled: at once when
   * `now`, after backoff when this node has the lower id (or a short wait when
   * the peer was `announced` and is dialling us), otherwise only after a grace
   * period in which the peer should have dialled us.
   */
  ensureLink(serverId: string, when: DialWhen = "due"): void {
    const { state, config } = this.#ctx;
    if (this.#stopped || serverId === state.self.id || state.links.has(serverId)) return;
    if (this.#dialing.has(serverId) || !state.serverAddrs.has(serverId)) return;
    const retry = this.#retries.get(serverId) ?? { attempt: 0 };
    this.#retries.set(serverId, retry);
    if (retry.timer !== undefined) {
      if (when !== "now") return;
      clearTimeout(retry.timer);
    }
    const weDial = compareCodePoints(state.self.id, serverId) < 0;
    const backoff = retry.attempt === 0
      ? (when === "announced" ? ANNOUNCED_WAIT_MS : 0)
      : backoffMs(retry.attempt - 1);
    const grace = Math.min(30_000, 2 * config.limits.linkTimeoutMs);
    const delay = when === "now" ? 0 : weDial ? backoff : Math.max(grace, backoff);
    retry.timer = setTimeout(() => {
      retry.timer = undefined;
      this.#dial(serverId).catch((e) =>
        this.#ctx.log.error("dial failed", { server: serverId, error: String(e) })
      );
    }, delay);
  }

  async #dial(serverId: string): Promise<void> {
    const { state, log } = this.#ctx;
    const address = state.serverAddrs.get(serverId);
    if (this.#stopped || !address || state.links.has(serverId)) return;
    const taken = addressTaken(this.#ctx.state, serverId, address);
    if (taken) {
      log.warn("not dialling a server at an address another server holds", {
        server: serverId,
        holder: taken,
      });
      if (state.unconfirmedServers.has(serverId)) {
        await this.#host.apply(this.#forgetServer(serverId));
      }
      return;
    }
    // Every dial counts, successful or not: a peer that accepts and drops the
    // link at once is redialled with backoff, not in a loop.
    const retry = this.#retries.get(serverId) ?? { attempt: 0 };
    retry.attempt++;
    this.#retries.set(serverId, retry);
    this.#dialing.add(serverId);
    try {
      const socket = await this.#host.connect(address);
      if (this.#stopped) return socket.close();
      const remote = `${address.host}:${address.port}`;
      const link = this.#host.attach(socket, {
        remote,
        dialledByUs: true,
        kind: "server",
        target: address,
      });
      const dialect = state.peerDialects.get(serverId);
      if (dialect && dialect !== "socp") link.dialect = dialect;
      for (const opening of dialOpening(dialect)) {
        const to = opening.to === "peer" ? serverId : "*";
        const frame = await this.helloFrame(opening.type, to, opening.keyForm);
        if (opening.render) await this.#host.apply([send(link, frame)]);
        else link.send(JSON.stringify(frame));
      }
      await this.#host.apply([{ kind: "bind", link, peerId: serverId }]);
    } catch (e) {
      log.debug("could not dial server", {
        server: serverId,
        attempt: retry.attempt,
        error: String(e),
      });
      this.#dialing.delete(serverId);
      if (state.unconfirmedServers.has(serverId) && retry.attempt >= UNCONFIRMED_ATTEMPTS) {
        await this.#host.apply(this.#forgetServer(serverId));
        return;
      }
      this.ensureLink(serverId);
      return;
    }
    this.#dialing.delete(serverId);
  }

  /** Forgets an announced server that never answered, with its retries. */
  #forgetServer(serverId: string): Effect[] {
    clearTimeout(this.#retries.get(serverId)?.timer);
    this.#retries.delete(serverId);
    return forgetAnnouncedServer(this.#ctx, serverId);
  }

  // --- binding and loss ------------------------------------------------------

  /** Binds a link to a peer server: de-duplicates, then returns the link-sync frames. */
  async bind(link: Link, peerId: string): Promise<Effect[]> {
    const { state, config, log } = this.#ctx;
    const wasJoining = link.kind === "joining";
    link.kind = "server";
    link.peerId = peerId;
    link.rate = new TokenBucket(
      config.limits.serverRatePerSec,
      config.limits.serverBurst,
      this.#ctx.now(),
    );
    this.#joins.settle(link, true);
    const effects: Effect[] = [];
    const existing = state.links.get(peerId);
    let keep = link;
    if (existing?.unread || link.unread) {
      // A dialect A join socket stays open beside the link A dialled (closing it makes A
      // re-join in a loop); the link that is read carries our frames.
      keep = link.unread && existing && !existing.closed ? existing : link;
    } else if (existing && existing !== link && !existing.closed) {
      keep = preferredLink(state.self.id, existing, link);
      const loser = keep === existing ? link : existing;
      log.info("duplicate link: keeping one", { server: peerId, kept: keep.id, closed: loser.id });
      effects.push(
        send(loser, await signed(this.#ctx, "CTRL_CLOSE", peerId, { reason: DUPLICATE_LINK })),
      );
      effects.push({ kind: "close", link: loser, code: 1000, reason: DUPLICATE_LINK });
    }
    state.links.set(peerId, keep);
    state.unconfirmedServers.delete(peerId);
    this.#awaitingKept.delete(peerId);
    this.#unreachable.linked(peerId);
    keep.boundAt = this.#ctx.now();
    // The attempt count survives until the link has proved itself (see linkLost).
    clearTimeout(this.#retries.get(peerId)?.timer);
    const retry = this.#retries.get(peerId);
    if (retry) retry.timer = undefined;
    if (keep !== link) return effects;
    log.info("server link up", { server: peerId, link: link.id, dialled: link.dialledByUs });
    // A first HEARTBEAT at once tells the peer this link is heartbeat-monitored.
    effects.push(send(link, await this.#heartbeat(peerId)));
    if (wasJoining) effects.push(send(link, await this.helloFrame("SERVER_ANNOUNCE", "*")));
    // A peer that dialled us learns our capabilities (it bound before hearing from us).
    else if (!link.dialledByUs) {
      effects.push(send(link, await this.helloFrame("SERVER_ANNOUNCE", peerId)));
    }
    effects.push(...await linkSync(this.#ctx, link));
    return effects;
  }

  /**
   * After a server link is gone: forget the peer's users, tell local clients,
   * and schedule a redial. Returns the effects (USER_REMOVE notices). A link
   * the peer closed as a duplicate first waits for the link the peer kept.
   */
  async linkLost(link: Link): Promise<Effect[]> {
    const { state, log } = this.#ctx;
    this.#joins.settle(link, false);
    const peerId = link.peerId;
    if (link.kind !== "server" || !peerId || state.links.get(peerId) !== link) return [];
    state.links.delete(peerId);
    if (this.#ctx.now() - link.boundAt >= STABLE_LINK_MS) this.#retries.delete(peerId);
    if (link.supersededByPeer) {
      // The peer kept the other link of a duplicate pair, which we have not
      // bound yet: give it time to arrive before dropping the peer's users.
      log.info("link superseded by the peer's duplicate", { server: peerId, link: link.id });
      this.#awaitingKept.add(peerId);
      this.#sleep(SUPERSEDED_WAIT_MS).then(async () => {
        // Bound meanwhile (and maybe lost again, which that loss handled).
        if (!this.#awaitingKept.delete(peerId) || this.#stopped) return;
        await this.#host.apply(await this.#forgetPeer(peerId, link));
      }).catch((e) => log.error("cleanup after a lost link failed", { error: String(e) }));
      return [];
    }
    return await this.#forgetPeer(peerId, link);
  }

  async #forgetPeer(peerId: string, link: Link): Promise<Effect[]> {
    this.#ctx.log.warn("server link lost", { server: peerId, link: link.id });
    const { gone, effects } = await forgetPeerUsers(this.#ctx, peerId);
    // Adverts that waited for these users' location to end can land now.
    for (const userId of gone) effects.push(...await releasePendingMove(this.#ctx, userId));
    this.ensureLink(peerId);
    return effects;
  }

  // --- heartbeats ------------------------------------------------------------

  /** A HEARTBEAT to `peerId`. Its payload is always `{}`, so one signature serves every heartbeat. */
  async #heartbeat(peerId: string): Promise<FrameOf<"HEARTBEAT">> {
    const { state } = this.#ctx;
    this.#heartbeatSig ??= signPayload(state.self.keys.privateKey, {});
    return {
      type: "HEARTBEAT",
      from: state.self.id,
      to: peerId,
      ts: this.#ctx.now(),
      payload: {},
      sig: await this.#heartbeatSig,
    };
  }

  /**
   * Every heartbeat interval: send HEARTBEATs, and close links silent for
   * longer than the timeout. Peers that never sent a HEARTBEAT (dialects that
   * rely on WebSocket pings, SOCP.md §9.5) are exempt.
   */
  async #tick(): Promise<void> {
    const { state, config, log } = this.#ctx;
    const now = this.#ctx.now();
    const effects: Effect[] = await this.#unreachable.sweep(this.#ctx, now, this.#awaitingKept);
    for (const link of state.serverLinks()) {
      const subject = link.sawHeartbeat || state.heartbeatPeers.has(link.peerId!);
      if (subject && now - link.lastValidAt > config.limits.linkTimeoutMs) {
        log.warn("server link silent too long; closing", {
          server: link.peerId,
          silent_ms: now - link.lastValidAt,
        });
        effects.push({ kind: "close", link, code: 1001, reason: "heartbeat timeout" });
        continue;
      }
      effects.push(send(link, await this.#heartbeat(link.peerId!)));
    }
    await this.#host.apply(effects);
  }

  /** Sleeps `ms`, or until {@linkcode Mesh.stop}. */
  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        this.#sleepers.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      this.#sleepers.add(wake);
    });
  }
}
