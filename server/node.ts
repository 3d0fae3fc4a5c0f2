/**
 * A running SOCP node, server or introducer: the HTTP/WebSocket listener,
 * links and their ordered frame processing, the effect applier, health, and
 * shutdown. Everything with I/O meets here; handlers stay free of it.
 *
 * @module
 */

import { ErrorCode } from "../protocol/errors.ts";
import { fingerprint, parsePublicKey } from "../protocol/keys.ts";
import { signFrame } from "../protocol/transport_sig.ts";
import type { BootstrapEntry, NodeConfig } from "./config.ts";
import type { NodeContext } from "./context.ts";
import { mayRunConcurrently, receive, type RouteTables } from "./dispatch.ts";
import { type Effect, error } from "./effects.ts";
import { DataDirLock } from "./data_lock.ts";
import { Outbox } from "./_outbox.ts";
import { certificateProblem } from "./tls_cert.ts";
import { type CryptoInUse, selectCrypto } from "../crypto/select.ts";
import { loadOrCreateIdentity } from "./identity.ts";
import { Link } from "./link.ts";
import { createLogger, type Logger } from "./log.ts";
import { loadChannel, PublicChannel } from "./channel.ts";
import { expireTransfers } from "./handlers/files.ts";
import { userLeft } from "./handlers/users.ts";
import { ConnectionLimiter, type ConnectionTicket, type HttpEndpoint } from "./http.ts";
import { type AttachOptions, Mesh, type MeshHost } from "./mesh.ts";
import { Metrics } from "./metrics.ts";
import { PresenceFeed } from "./presence.ts";
import { metricsText } from "./prometheus.ts";
import { routeTables } from "./routes.ts";
import { type ServerAddress, ServerState } from "./state.ts";
import { transportErrors } from "./_transport_errors.ts";
import { Store } from "./store.ts";
import { readFrames } from "./_intake.ts";
import { dialPeer, listen } from "./_transport.ts";
import { expireQueue } from "./offline_queue.ts";
import { type TrimSchedule, trimScheduleFor } from "./memory_trim.ts";
import { FFI_NOT_GRANTED, tlsAcceptorFor } from "./tls_engine.ts";
import type { TlsAcceptor } from "./ws/conn.ts";
import type { WsServer } from "./ws/listener.ts";
import type { LinkSocket, WsSocket } from "./ws/socket.ts";

/** Files and overrides a node starts with (read by the caller from the config's paths). */
export interface NodeStartOptions {
  /** TLS certificate and key PEM texts (absent with `insecurePlain`). */
  tls?: { cert: string; key: string };
  /** CA certificates (PEM) trusted when dialling peers. */
  caCerts?: string[];
  /** The bootstrap list: `--introducer` entries, then the bootstrap file's. */
  bootstrap?: BootstrapEntry[];
  log?: Logger;
  now?: () => number;
}

/** Frames one link may have waiting for processing before its reading pauses. */
const MAX_QUEUED_FRAMES = 1024;

/**
 * A running node.
 *
 * @example
 * ```ts
 * import { SocpNode } from "./node.ts";
 * // const node = await SocpNode.start(config, { tls }); … await node.stop();
 * ```
 */
export class SocpNode implements MeshHost, HttpEndpoint {
  readonly ctx: NodeContext;
  readonly mesh: Mesh;
  readonly channel: PublicChannel;
  readonly presence: PresenceFeed;
  readonly #limiter: ConnectionLimiter;
  #sweep?: ReturnType<typeof setInterval>;
  readonly #tables: RouteTables;
  readonly #caCerts?: string[];
  readonly #lock: DataDirLock;
  readonly #outbox: Outbox;
  /** The signed ERROR sent before the transport closes a link that broke its rules. */
  #lastWords: (code: number) => string | undefined = () => undefined;
  readonly #firstFrameTimers = new Map<Link, ReturnType<typeof setTimeout>>();
  readonly #startedAt: number;
  #http?: WsServer;
  #stopped = false;
  #crypto: CryptoInUse = { backend: "webcrypto", version: "WebCrypto" };
  #trim: TrimSchedule | null = null;
  #tls: TlsAcceptor | undefined;

  private constructor(ctx: NodeContext, caCerts: string[] | undefined, lock: DataDirLock) {
    this.ctx = ctx;
    this.#caCerts = caCerts;
    this.#lock = lock;
    this.#outbox = new Outbox(ctx);
    this.#tables = routeTables(ctx.config);
    this.mesh = new Mesh(this);
    this.channel = new PublicChannel(this);
    this.presence = new PresenceFeed(this);
    this.#limiter = new ConnectionLimiter(ctx.config.limits);
    this.#startedAt = ctx.now();
  }

  /** Opens the data directory, loads the identity, listens, and joins the mesh. */
  static async start(config: NodeConfig, options: NodeStartOptions = {}): Promise<SocpNode> {
    const log = options.log ??
      createLogger({
        level: config.logLevel,
        format: config.logFormat,
        fields: { role: config.role },
      });
    // The backend is chosen before any key is used; a backend asked for and missing stops here.
    const crypto = selectCrypto(config.crypto);
    if (crypto.fallback) {
      log.warn("--crypto auto: OpenSSL did not load", { reason: crypto.fallback });
    }
    log.info("crypto backend", { backend: crypto.backend, version: crypto.version });
    await Deno.mkdir(config.dataDir, { recursive: true, mode: 0o700 });
    const lock = await DataDirLock.acquire(config.dataDir, config.role);
    const store = Store.open(`${config.dataDir}/socp.sqlite`, Date.now(), config.maxDbBytes);
    const self = await loadOrCreateIdentity(config.dataDir, store);
    const state = new ServerState(
      self,
      undefined,
      config.limits.helloReplayMs,
      config.limits.passwordBackoffMs,
    );
    state.channel = loadChannel(store, log);
    for (const row of store.listServers()) {
      const key = parsePublicKey(row.pubkey);
      if (key.ok) state.pins.set(row.server_id, key.key);
      if (row.host && row.port) {
        state.serverAddrs.set(row.server_id, { host: row.host, port: row.port });
      }
    }
    const ctx: NodeContext = {
      state,
      store,
      config,
      log,
      metrics: new Metrics(),
      now: options.now ?? Date.now,
    };
    const node = new SocpNode(ctx, options.caCerts?.length ? options.caCerts : undefined, lock);
    node.#crypto = crypto;
    node.#lastWords = await transportErrors(() => state.self, config.limits.maxFrameBytes);
    const certProblem = options.tls ? certificateProblem(options.tls.cert, Date.now()) : null;
    if (certProblem) log.warn(`${certProblem}: clients will refuse to connect`);
    if (options.tls) {
      const engine = tlsAcceptorFor(config.tlsEngine, options.tls);
      if ("error" in engine) {
        await node.stop();
        throw new Error(engine.error);
      }
      node.#tls = engine.acceptor;
      const { engine: name, version } = engine.acceptor;
      if (engine.fallback && engine.fallback !== FFI_NOT_GRANTED) {
        log.warn("--tls-engine auto: OpenSSL did not load", { reason: engine.fallback });
      }
      log.info("tls engine", { engine: name, version });
    }
    node.#listen(node.#tls);
    log.info("listening", {
      id: self.id,
      host: config.host,
      port: state.address.port,
      scheme: config.insecurePlain ? "ws" : "wss",
      // Logs name keys by fingerprint; the key itself is in /healthz and the bootstrap entry.
      key_fingerprint: await fingerprint(self.keys.publicKey),
    });
    if (node.servesWebClient) {
      const scheme = config.insecurePlain ? "http" : "https";
      log.info("web client", { url: `${scheme}://${config.host}:${state.address.port}/` });
    }
    const trim = trimScheduleFor(config.trimMemory, log);
    if ("error" in trim) {
      await node.stop();
      throw new Error(trim.error);
    }
    node.#trim = trim.schedule;
    node.mesh.start(options.bootstrap ?? config.introducers);
    node.#sweep = setInterval(() => {
      expireTransfers(ctx);
      expireOfflineItems(ctx);
      node.#trim?.tick().catch((e) => log.warn("memory trim failed", { error: String(e) }));
    }, 5_000);
    expireOfflineItems(ctx);
    return node;
  }

  /** Where peers reach this node. */
  get address(): ServerAddress {
    return this.ctx.state.address;
  }

  #listen(tls: TlsAcceptor | undefined): void {
    this.#http = listen(this, this.#limiter, tls, this.#lastWords);
    this.ctx.state.address = { host: this.ctx.config.publicHost, port: this.#http.addr.port };
  }

  /** Opens a WebSocket to a peer: `/ws`, then once at `/` if that path is refused. */
  connect(address: ServerAddress): Promise<LinkSocket> {
    return dialPeer(this.ctx.config, address, this.#caCerts, this.#lastWords);
  }

  /** Takes an inbound socket from the HTTP handler, with its connection ticket. */
  accept(socket: WsSocket, remote: string, ticket: ConnectionTicket): void {
    const link = this.attach(socket, { remote, dialledByUs: false, kind: "pending" });
    link.ticket = ticket;
  }

  /** Wraps a socket into a link whose frames run through the pipeline in order. */
  attach(socket: LinkSocket, options: AttachOptions): Link {
    const { state, config, log } = this.ctx;
    const link = new Link({
      socket,
      remote: options.remote,
      dialledByUs: options.dialledByUs,
      now: this.ctx.now(),
    });
    link.kind = options.kind;
    link.target = options.target;
    link.introducerKey = options.introducerKey;
    state.allLinks.add(link);
    this.#trim?.linkChanged();
    if (link.kind === "pending") {
      const timer = setTimeout(() => {
        this.#firstFrameTimers.delete(link);
        if (link.kind === "pending") {
          this.apply([error(link, ErrorCode.TIMEOUT, "no first frame in time", true)]);
        }
      }, config.limits.firstFrameTimeoutMs);
      this.#firstFrameTimers.set(link, timer);
    }
    const failed = (e: unknown) =>
      log.error("frame handling failed", { link: link.describe(), error: String(e) });
    readFrames(socket, {
      handle: async (data, earlier) => {
        try {
          return typeof data === "string"
            ? await receive(this.ctx, this.#tables, link, data, earlier)
            : [error(link, ErrorCode.BAD_REQUEST, "binary frames are not accepted")];
        } catch (e) {
          failed(e);
          return [];
        } finally {
          // A user link is identified once its hello is handled.
          if (link.kind !== "pending") link.ticket?.identified();
        }
      },
      apply: async (effects) => {
        try {
          await this.apply(effects);
        } catch (e) {
          failed(e);
        }
        // A server link is identified once its `bind` applied.
        if (link.kind !== "pending") link.ticket?.identified();
      },
      concurrent: (text) => mayRunConcurrently(this.#tables, link, text),
      maxQueuedBytes: config.limits.maxFrameBytes,
      maxQueuedFrames: MAX_QUEUED_FRAMES,
      closed: () => this.#lost(link),
    });
    socket.onerror = () => {}; // a close event follows
    return link;
  }

  /**
   * Applies handler effects: persistence first, in one transaction, then the
   * rest in order, or none of the rest if the transaction failed.
   */
  async apply(effects: Effect[]): Promise<void> {
    if (this.#stopped || effects.length === 0) return;
    const { store, log } = this.ctx;
    const writes = effects.filter((e) => e.kind === "persist");
    if (writes.length > 0) {
      try {
        store.transaction(() => writes.forEach((w) => w.write(store)));
      } catch (e) {
        // Nothing of what failed to be stored is acknowledged, forwarded or relayed.
        this.ctx.metrics.inc("writes_failed", "effects");
        log.error("database write failed; changes rolled back, frame not acted on", {
          error: String(e),
        });
        return;
      }
    }
    for (const effect of effects) {
      switch (effect.kind) {
        case "send":
          this.#outbox.send(effect.link, effect.frame);
          break;
        case "error":
          await this.#outbox.sendError(effect);
          if (effect.close) {
            const code = effect.code === ErrorCode.TOO_LARGE ? 1009 : 1008;
            this.closeLink(effect.link, code, effect.detail);
          }
          break;
        case "close":
          this.closeLink(effect.link, effect.code, effect.reason);
          break;
        case "bind":
          this.#clearFirstFrameTimer(effect.link);
          await this.apply(await this.mesh.bind(effect.link, effect.peerId));
          break;
        case "rotate":
          this.channel.request(effect.reason, effect.users);
          break;
        case "dial":
          this.mesh.ensureLink(effect.serverId, effect.when);
          break;
        case "presence":
          this.presence.change(effect.online, effect.offline);
          break;
        case "welcome":
          await this.presence.welcome(effect.link);
          break;
      }
    }
  }

  /** Sends a text frame on a link, counted in metrics. */
  sendText(link: Link, text: string): void {
    this.#outbox.send(link, text);
  }

  /** Closes a link now and runs its loss handling (without waiting for the close handshake). */
  closeLink(link: Link, code: number, reason: string): void {
    link.close(code, reason);
    this.#lost(link);
  }

  #clearFirstFrameTimer(link: Link): void {
    clearTimeout(this.#firstFrameTimers.get(link));
    this.#firstFrameTimers.delete(link);
  }

  #lost(link: Link): void {
    if (!this.ctx.state.allLinks.delete(link)) return; // already handled
    this.#trim?.linkChanged();
    this.#clearFirstFrameTimer(link);
    link.ticket?.release();
    if (this.#stopped) return;
    const cleanup = link.kind === "user" ? userLeft(this.ctx, link) : this.mesh.linkLost(link);
    cleanup
      .then((effects) => this.apply(effects))
      .catch((e) =>
        this.ctx.log.error("link cleanup failed", { link: link.describe(), error: String(e) })
      );
  }

  /** Servers serve the web client at `/`; the introducer does not. */
  get servesWebClient(): boolean {
    return this.ctx.config.role === "server";
  }

  /** Prometheus text for `GET /metrics`. */
  metrics(): string {
    return metricsText(this.ctx, this.ctx.now() - this.#startedAt);
  }

  /** JSON status for `GET /healthz`. */
  health(): Record<string, unknown> {
    const { state, config, metrics } = this.ctx;
    return {
      status: "ok",
      id: state.self.id,
      role: config.role,
      address: state.address,
      pubkey: state.self.keys.publicKey.b64,
      links: state.serverLinks().map((l) => l.peerId!).sort(),
      users: { local: state.localUsers.size, online: state.userLocations.size },
      uptime_ms: this.ctx.now() - this.#startedAt,
      crypto: this.#crypto.backend,
      memory: Deno.memoryUsage(),
      tls: this.#tls ? { engine: this.#tls.engine, version: this.#tls.version } : null,
      memory_trim: this.#trim
        ? { trims: this.#trim.trims, returned: this.#trim.returnedBytes }
        : null,
      frames: metrics.snapshot(),
    };
  }

  /** Closes every link with CTRL_CLOSE, stops the listener and closes the database. */
  async stop(): Promise<void> {
    if (this.#stopped) return;
    const { state, log } = this.ctx;
    this.mesh.stop();
    this.channel.stop();
    this.presence.stop();
    clearInterval(this.#sweep);
    this.#trim?.close();
    const links = [...state.allLinks];
    const goodbye = links.length === 0 ? "" : JSON.stringify(
      await signFrame(
        {
          type: "CTRL_CLOSE",
          from: state.self.id,
          to: "*",
          ts: this.ctx.now(),
          payload: { reason: "shutdown" },
        },
        state.self.keys.privateKey,
      ),
    );
    for (const link of links) {
      if (link.kind === "server" || link.kind === "user") link.send(goodbye);
      link.close(1000, "shutdown");
    }
    this.#stopped = true;
    for (const timer of this.#firstFrameTimers.values()) clearTimeout(timer);
    await this.#http?.shutdown();
    this.#tls?.close(); // frees OpenSSL's context once the last connection is gone
    this.ctx.store.close();
    this.#lock.release();
    log.info("stopped");
  }
}

/** Drops offline items past their expiry (a failing write is logged, and retried next sweep). */
function expireOfflineItems(ctx: NodeContext): void {
  try {
    const dropped = expireQueue(ctx.store, ctx.now());
    if (dropped) ctx.log.info("offline items expired", { items: dropped });
  } catch (e) {
    ctx.log.error("could not expire offline items", { error: String(e) });
  }
}
