// The server-to-server links of the dialect B simulator (b_server.ts), from
// docs/DIALECT-FACTS.md §B.2–B.7 (our own code); what travels over them is
// _b_relay.ts. Every B server is an introducer; a joiner reads only WELCOME
// `servers` and then closes its JOIN socket (B's bug); links open with an
// unsigned SERVER_HELLO_LINK, dialled every 2 s. Where the sheet is silent,
// the choice made is said in a comment ("Silent:").

import { type Identity, isUuidV4, type PublicKey } from "../../mod.ts";
import { loadPem, type Loose, pemOf, signedFrame } from "./_wire.ts";
import {
  closeAndWait,
  closeSilent,
  frames,
  isObject,
  type Json,
  open,
  unsigned,
  welcomeOf,
} from "./_b_wire.ts";

/** Timers of a B server; the defaults are B's real values (§0, §B.3, §B.6). */
export interface BMeshOptions {
  /** JSON HEARTBEAT period on each server link (15 s). */
  heartbeatMs?: number;
  /** A link with no inbound frame for this long is closed with 1011 (45 s). */
  silenceMs?: number;
  /** Dial round period toward known but unlinked servers (2 s). */
  dialMs?: number;
  /** How long a joiner waits for SERVER_WELCOME (1 s). */
  welcomeWaitMs?: number;
  /** How long a dialler waits for one optional frame after SERVER_HELLO_LINK (1 s). */
  linkWaitMs?: number;
}

function withDefaults(o: BMeshOptions): Required<BMeshOptions> {
  return {
    heartbeatMs: o.heartbeatMs ?? 15_000,
    silenceMs: o.silenceMs ?? 45_000,
    dialMs: o.dialMs ?? 2_000,
    welcomeWaitMs: o.welcomeWaitMs ?? 1_000,
    linkWaitMs: o.linkWaitMs ?? 1_000,
  };
}

/** A link's life, as a test may assert it. `code` is the close code. */
export interface LinkEvent {
  peer: string;
  event: "joined" | "accepted" | "dialled" | "closed";
  code?: number;
}

/** What the mesh and the relay need of the server that composes them. */
export interface BLocal {
  readonly identity: Identity;
  readonly host: string;
  readonly port: number;
  /** Stored per-member keys (PEM text, unless a peer UPDATED overwrote them). */
  readonly keys: Map<string, string>;
  /** The public channel's version counter and the hazard flag. */
  readonly channel: { version: number; corrupted: boolean };
  readonly dropped: string[];
  send(socket: WebSocket | undefined, frame: Json): void;
  enqueue(task: () => Promise<void>): void;
  localSocket(userId: string): WebSocket | undefined;
  localIds(): string[];
}

/** Where a dialled link's frames go (BRelay.read). */
export type LinkReader = (socket: WebSocket, text: string) => Promise<void>;

interface Link {
  peer: string;
  socket: WebSocket;
  lastSeen: number;
}

interface Known {
  host: string;
  port: number;
  /** From the bootstrap list (the introducer given to join()). */
  bootstrap: boolean;
}

/** B's server links, composed by DialectBServer. */
export class BMesh {
  readonly #local: BLocal;
  readonly #read: LinkReader;
  readonly #opts: Required<BMeshOptions>;
  /** peer id → its registered link (the latest one registered wins). */
  readonly #links = new Map<string, Link>();
  readonly #bySocket = new Map<WebSocket, Link>();
  readonly #known = new Map<string, Known>();
  readonly #pins = new Map<string, { key: PublicKey; text: string }>();
  readonly #sockets = new Set<WebSocket>();
  readonly #timers: ReturnType<typeof setInterval>[] = [];
  readonly events: LinkEvent[] = [];
  #dialTimer?: ReturnType<typeof setTimeout>;
  #dialing: Promise<void> = Promise.resolve();
  #beating: Promise<void> = Promise.resolve();
  #stopped = false;

  constructor(local: BLocal, read: LinkReader, options: BMeshOptions = {}) {
    this.#local = local;
    this.#read = read;
    this.#opts = withDefaults(options);
    this.#timers.push(setInterval(() => {
      this.#beating = this.#beating.then(() => this.#heartbeat()).catch(() => {});
    }, this.#opts.heartbeatMs));
    // Silent: how often silence is checked; here 4 times per silence period, at most every 1 s.
    const every = Math.max(10, Math.min(1_000, this.#opts.silenceMs / 4));
    this.#timers.push(setInterval(() => this.#watchdog(), every));
    this.#scheduleDial();
  }

  get #id(): string {
    return this.#local.identity.id;
  }

  /** Peer ids with an open link. */
  get links(): string[] {
    return [...this.#links.keys()].filter((peer) => this.openTo(peer));
  }

  isLink(socket: WebSocket): boolean {
    return this.#bySocket.has(socket);
  }

  // peerOf … learn, and toLinks: what BRelay needs of the links (its BLinks).

  peerOf(socket: WebSocket): string | undefined {
    return this.#bySocket.get(socket)?.peer;
  }

  openTo(server: string): WebSocket | undefined {
    const socket = this.#links.get(server)?.socket;
    return socket?.readyState === WebSocket.OPEN ? socket : undefined;
  }

  pinned(id: string): PublicKey | undefined {
    return this.#pins.get(id)?.key;
  }

  learn(id: string, pubkey: unknown, host: string, port: unknown): void {
    if (this.#pin(id, pubkey)) this.#know(id, host, port);
  }

  /** Any inbound frame refreshes a link (WS pongs don't). */
  touch(socket: WebSocket): void {
    const link = this.#bySocket.get(socket);
    if (link) link.lastSeen = Date.now();
  }

  /** To every link but `except` (the arrival link and the origin). */
  toLinks(frame: Json, ...except: string[]): void {
    for (const link of this.#links.values()) {
      if (!except.includes(link.peer)) this.#local.send(link.socket, frame);
    }
  }

  #address(): Json {
    const { host, port, identity } = this.#local;
    return { host, port, pubkey: pemOf(identity.keys.publicKey) };
  }

  #pin(id: string, text: unknown): boolean {
    const key = loadPem(text);
    if (!key || id === this.#id) return false;
    this.#pins.set(id, { key, text: text as string });
    return true;
  }

  #know(id: string, host: unknown, port: unknown, bootstrap = false): void {
    if (id === this.#id || typeof host !== "string" || !Number.isInteger(port)) return;
    const was = this.#known.get(id);
    this.#known.set(id, { host, port: port as number, bootstrap: bootstrap || !!was?.bootstrap });
  }

  #register(peer: string, socket: WebSocket, event: LinkEvent["event"]): void {
    // Silent: a second link to the same peer replaces the first as the one B sends on.
    const link = { peer, socket, lastSeen: Date.now() };
    this.#links.set(peer, link);
    this.#bySocket.set(socket, link);
    this.events.push({ peer, event });
  }

  /** A link socket closed (either end). */
  closed(socket: WebSocket, code: number): void {
    const link = this.#bySocket.get(socket);
    this.#sockets.delete(socket);
    if (!link) return;
    this.#bySocket.delete(socket);
    if (this.#links.get(link.peer) === link) this.#links.delete(link.peer);
    // Silent: B keeps the peer's users in `locations` (it re-links, and sends no snapshot).
    this.events.push({ peer: link.peer, event: "closed", code });
  }

  // --- opening links --------------------------------------------------------------

  /**
   * A first frame SERVER_HELLO_JOIN or SERVER_HELLO_LINK (already through the
   * envelope check). Returns false when the socket is to be closed (no ERROR).
   * Silent: a missing field or a key that does not load refuses the socket.
   */
  accept(socket: WebSocket, f: Loose): boolean {
    const p = f.payload;
    const bad = f.from === this.#id || typeof p.host !== "string" || !Number.isInteger(p.port);
    if (bad || !this.#pin(f.from, p.pubkey)) return false;
    this.#know(f.from, p.host, p.port);
    if (f.type === "SERVER_HELLO_LINK") {
      this.#register(f.from, socket, "accepted"); // no reply
      return true;
    }
    // Every B server is an introducer: keep the socket as the link, WELCOME at once
    // (unsigned; no clients, no server_pub). Silent: assigned_id = the joiner's own
    // id, and `servers` lists every other server it holds a key for (not itself).
    this.#register(f.from, socket, "joined");
    const servers: Json[] = [];
    for (const [id, { host, port }] of this.#known) {
      const pin = this.#pins.get(id);
      if (id !== f.from && pin) servers.push({ server_id: id, host, port, pubkey: pin.text });
    }
    const welcome = { assigned_id: f.from, servers };
    this.#local.send(socket, unsigned("SERVER_WELCOME", this.#id, f.from, welcome));
    const { host, port, pubkey } = p;
    this.toLinks(unsigned("SERVER_ANNOUNCE", f.from, "*", { host, port, pubkey }), f.from);
    return true;
  }

  /**
   * Bootstrap through one introducer (§B.6): an unsigned JOIN, a WELCOME wait
   * of welcomeWaitMs, then B closes the JOIN socket (its bug), so that link is
   * dead. `pubkey` is the introducer's key from B's bootstrap list (its only
   * pin for it: the WELCOME has no key). B keeps its own id (it reads only
   * `servers`). Returns whether a valid WELCOME came in time; without one B
   * carries on unlinked.
   */
  async join(introducer: { host: string; port: number; pubkey?: string }): Promise<boolean> {
    const where = `${introducer.host}:${introducer.port}`;
    const socket = await open(`ws://${where}`).catch(() => undefined);
    if (!socket) {
      this.#local.dropped.push(`join: ${where} unreachable`);
      return false;
    }
    this.#sockets.add(socket);
    socket.onclose = () => this.#sockets.delete(socket);
    this.#local.send(socket, unsigned("SERVER_HELLO_JOIN", this.#id, where, this.#address()));
    const [text] = await frames(socket, this.#opts.welcomeWaitMs);
    socket.close(); // B's bug: the JOIN socket closes as soon as bootstrap ends
    const w = welcomeOf(text);
    if (!w) {
      this.#local.dropped.push(`join: no valid SERVER_WELCOME from ${where} in time`);
      return false;
    }
    this.#know(w.from, introducer.host, introducer.port, true);
    if (introducer.pubkey !== undefined) this.#pin(w.from, introducer.pubkey);
    for (const s of w.payload.servers as unknown[]) {
      if (!isObject(s) || !isUuidV4(s.server_id)) continue;
      if (this.#pin(s.server_id, s.pubkey)) this.#know(s.server_id, s.host, s.port);
    }
    return true;
  }

  #scheduleDial(): void {
    if (this.#stopped) return;
    this.#dialTimer = setTimeout(() => {
      this.#dialing = this.#dialRound().finally(() => this.#scheduleDial());
    }, this.#opts.dialMs);
  }

  /**
   * One dial round, one server after another. "Only for bootstrap servers does
   * the lower id dial" (§B.6), read as: toward its bootstrap introducer B dials
   * only if its id is the lower (so an introducer must dial B back, §B.7.5);
   * every other known but unlinked server it dials whatever the ids.
   */
  async #dialRound(): Promise<void> {
    for (const [id, k] of [...this.#known]) {
      if (this.#stopped) return;
      if (this.links.includes(id) || (k.bootstrap && !(this.#id < id))) continue;
      await this.#dial(id, k);
    }
  }

  async #dial(peer: string, k: Known): Promise<void> {
    const socket = await open(`ws://${k.host}:${k.port}`).catch(() => undefined);
    if (!socket) return; // unreachable: tried again next round
    this.#sockets.add(socket);
    socket.onclose = (e) => this.closed(socket, e.code);
    if (this.#stopped) return socket.close();
    this.#local.send(socket, unsigned("SERVER_HELLO_LINK", this.#id, peer, this.#address()));
    // Then it waits for one optional frame; silent: the link counts from then on, and a
    // frame that came is handled as the link's first frame.
    const early = await frames(socket, this.#opts.linkWaitMs);
    if (socket.readyState !== WebSocket.OPEN || this.#stopped) return;
    this.#register(peer, socket, "dialled");
    for (const text of early) this.#local.enqueue(() => this.#read(socket, text));
    socket.onmessage = (e) => {
      this.touch(socket);
      const text = String(e.data);
      this.#local.enqueue(() => this.#read(socket, text));
    };
  }

  // --- timers ---------------------------------------------------------------------

  async #heartbeat(): Promise<void> {
    for (const link of [...this.#links.values()]) {
      const beat = await signedFrame(this.#local.identity, "HEARTBEAT", link.peer, {});
      this.#local.send(link.socket, beat);
    }
  }

  #watchdog(): void {
    const now = Date.now();
    for (const link of this.#bySocket.values()) {
      if (now - link.lastSeen <= this.#opts.silenceMs) continue;
      link.lastSeen = now; // close once
      this.#local.dropped.push(`link ${link.peer}: silent for ${this.#opts.silenceMs} ms`);
      closeSilent(link.socket);
    }
  }

  /** Closes every link and clears every timer. */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#dialTimer);
    for (const t of this.#timers) clearInterval(t);
    const sockets = () => [...new Set([...this.#sockets, ...this.#bySocket.keys()])];
    for (const socket of sockets()) socket.close(); // also ends a dial's or join's wait
    await this.#dialing.catch(() => {});
    await this.#beating;
    await Promise.all(sockets().map(closeAndWait));
  }
}
