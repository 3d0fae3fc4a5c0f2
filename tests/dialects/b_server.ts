// A dialect B server, simulated from docs/DIALECT-FACTS.md §B (our own code,
// one process). For its clients (§B.1–B.5): plain ws at any path, a strict
// envelope check, an unsigned hello (no ACK: ADD, UPDATED and adverts
// follow), adverts with the key only in `meta.pubkey`, DMs as USER_DELIVER,
// public messages re-emitted unencrypted as they came, files kept as sent and
// re-signed, and UNKNOWN_TYPE for what B does not handle from users
// (LIST_REQUEST…). Toward other servers (§B.2–B.6, links in _b_mesh.ts,
// what travels over them in _b_relay.ts): every B server is an introducer,
// joins close their JOIN socket, links open with an unsigned
// SERVER_HELLO_LINK, relays are re-signed by B with `from` kept, and
// verification is by the key pinned for `from`. It writes compact,
// key-sorted JSON; unsigned frames have no `sig` field.

import { canonicalJson, type Identity, type KeyPair, parsePublicKey } from "../../mod.ts";
import { type Loose, signedFrame } from "./_wire.ts";
import { type BLocal, BMesh, type BMeshOptions, type LinkEvent } from "./_b_mesh.ts";
import { BRelay } from "./_b_relay.ts";
import { envelopeProblem, type Json } from "./_b_wire.ts";

export type { LinkEvent } from "./_b_mesh.ts";

/** Timers of a simulated B server; every default is B's real value. */
export type DialectBServerOptions = BMeshOptions;

const HANDLED = new Set([
  "MSG_DIRECT",
  "MSG_PUBLIC_CHANNEL",
  "FILE_START",
  "FILE_CHUNK",
  "FILE_END",
]);

/** What a socket is to B: not yet said, a user, a server link, or a failed hello. */
interface SocketState {
  kind: "new" | "user" | "link" | "ignored";
  user?: string;
}

/** A simulated dialect B server: its clients and its server links. */
export class DialectBServer {
  readonly identity: Identity;
  readonly host = "127.0.0.1";
  readonly port: number;
  readonly url: string;
  /** Frames B dropped (or answered with an ERROR), and why. */
  readonly dropped: string[] = [];
  readonly #server: Deno.HttpServer<Deno.NetAddr>;
  /** user id → socket and PEM key (as B keeps `enc_pubkey`). */
  readonly #online = new Map<string, { socket: WebSocket; pem: string }>();
  /** The stored per-member keys, sent as `meta.pubkey` and in UPDATED wraps. */
  readonly #keys = new Map<string, string>();
  readonly #channel = { version: 0, corrupted: false };
  readonly #mesh: BMesh;
  readonly #relay: BRelay;
  #queue: Promise<void> = Promise.resolve();
  #stopped = false;

  /**
   * Listens on 127.0.0.1 at a free port. B persists its id and key in its
   * state dir: pass an Identity to fix both, or a KeyPair for a fresh id.
   */
  constructor(keys: KeyPair | Identity, options: DialectBServerOptions = {}) {
    this.identity = "keys" in keys ? keys : { id: crypto.randomUUID(), keys };
    this.#server = Deno.serve({
      hostname: this.host,
      port: 0,
      onListen: () => {},
      handler: (req) => {
        const { socket, response } = Deno.upgradeWebSocket(req);
        const state: SocketState = { kind: "new" };
        socket.onmessage = (e) => {
          this.#mesh.touch(socket);
          const text = String(e.data);
          this.#enqueue(() => this.#read(socket, state, text));
        };
        socket.onclose = (e) => {
          if (this.#mesh.isLink(socket)) return this.#mesh.closed(socket, e.code);
          const user = state.user;
          if (state.kind === "user" && user && this.#online.get(user)?.socket === socket) {
            this.#enqueue(() => this.#gone(user));
          }
        };
        return response;
      },
    });
    this.port = this.#server.addr.port;
    this.url = `ws://${this.host}:${this.port}/`;
    const local: BLocal = {
      identity: this.identity,
      host: this.host,
      port: this.port,
      keys: this.#keys,
      channel: this.#channel,
      dropped: this.dropped,
      send: (socket, frame) => this.#send(socket, frame),
      enqueue: (task) => this.#enqueue(task),
      localSocket: (id) => this.#online.get(id)?.socket,
      localIds: () => [...this.#online.keys()],
    };
    this.#mesh = new BMesh(local, (socket, text) => this.#relay.read(socket, text), options);
    this.#relay = new BRelay(local, this.#mesh);
  }

  // --- what a test reads ------------------------------------------------------------

  /** Peer server ids with an open link. */
  get links(): string[] {
    return this.#mesh.links;
  }

  /** Remote users → their server (payload.server_id of their advert). */
  get locations(): ReadonlyMap<string, string> {
    return this.#relay.locations;
  }

  /** Types that drew ERROR UNKNOWN_TYPE on a server link. */
  get unknownTypes(): readonly string[] {
    return this.#relay.unknownTypes;
  }

  /** ERROR codes received on server links (B only logs them). */
  get peerErrors(): readonly string[] {
    return this.#relay.peerErrors;
  }

  /** Links joined, accepted, dialled and closed, in order. */
  get linkEvents(): readonly LinkEvent[] {
    return this.#mesh.events;
  }

  /** True once a peer UPDATED stored a `wrapped_key` that is not a PEM key (§B.4). */
  get keyTableCorrupted(): boolean {
    return this.#channel.corrupted;
  }

  /** Joins `introducer` (any B server is one); see BMesh.join. */
  join(introducer: { host: string; port: number; pubkey?: string }): Promise<boolean> {
    return this.#mesh.join(introducer);
  }

  // --- plumbing -------------------------------------------------------------------

  #enqueue(task: () => Promise<void>): void {
    if (this.#stopped) return;
    this.#queue = this.#queue.then(task).catch((e) => void this.dropped.push(String(e)));
  }

  #send(socket: WebSocket | undefined, frame: Json): void {
    if (socket?.readyState === WebSocket.OPEN) socket.send(canonicalJson(frame, { ascii: false }));
  }

  #signed(to: string, type: string, payload: Json, ts?: number) {
    return signedFrame(this.identity, type, to, payload, ts);
  }

  async #error(socket: WebSocket, to: string, code: string, detail: string): Promise<void> {
    this.#send(socket, await this.#signed(to, "ERROR", { code, detail }));
  }

  // --- its clients ------------------------------------------------------------------

  /** One frame on an accepted socket. */
  async #read(socket: WebSocket, state: SocketState, text: string): Promise<void> {
    if (state.kind === "ignored") return;
    if (state.kind === "link") return await this.#relay.read(socket, text);
    let f: Loose;
    try {
      f = JSON.parse(text);
    } catch {
      if (state.kind === "new") socket.close();
      return;
    }
    const problem = envelopeProblem(f);
    if (state.kind === "new") {
      // First frame: USER_HELLO, SERVER_HELLO_JOIN or SERVER_HELLO_LINK, else a close, no ERROR.
      // (B's 30 s first-frame deadline is not modelled.)
      if (problem) return socket.close();
      if (f.type === "USER_HELLO") return await this.#hello(socket, state, f);
      if (f.type === "SERVER_HELLO_JOIN" || f.type === "SERVER_HELLO_LINK") {
        if (this.#mesh.accept(socket, f)) state.kind = "link";
        else socket.close();
        return;
      }
      return socket.close();
    }
    const bound = state.user!;
    if (problem) {
      this.dropped.push(`user ${bound}: ${f.type} failed the envelope`);
      return await this.#error(socket, bound, problem, "envelope check failed");
    }
    if (!HANDLED.has(f.type)) {
      return await this.#error(socket, bound, "UNKNOWN_TYPE", `no handler for ${f.type}`);
    }
    if (f.from !== bound) {
      return await this.#error(socket, bound, "INVALID_SIG", "from is not the bound user");
    }
    try {
      await this.#fromUser(socket, bound, f);
    } catch (e) {
      await this.#error(socket, bound, "BAD_KEY", `handler failed: ${e}`);
    }
  }

  async #fromUser(socket: WebSocket, bound: string, f: Loose): Promise<void> {
    const p = f.payload;
    if (f.type === "MSG_DIRECT") {
      const to = this.#online.get(f.to);
      if (to) {
        const deliver = {
          ciphertext: p.ciphertext,
          sender: f.from,
          sender_pub: p.sender_pub,
          content_sig: p.content_sig,
        };
        return this.#send(to.socket, await this.#signed(f.to, "USER_DELIVER", deliver, f.ts));
      }
      if (await this.#relay.sendDm(f)) return;
      return await this.#error(socket, bound, "USER_NOT_FOUND", "unknown recipient");
    }
    if (f.type === "MSG_PUBLIC_CHANNEL") {
      // Re-signed by B, `from` kept, to local members but the sender and to all server links.
      const relay = await signedFrame({ ...this.identity, id: f.from }, "MSG_PUBLIC_CHANNEL", "*", {
        ciphertext: p.ciphertext,
        sender_pub: p.sender_pub,
        content_sig: p.content_sig,
      }, f.ts);
      for (const [id, user] of this.#online) if (id !== f.from) this.#send(user.socket, relay);
      return this.#mesh.toLinks(relay);
    }
    // FILE_*: local delivery keeps from, to, ts and payload, with B's own signature.
    const to = this.#online.get(f.to);
    if (to) {
      return this.#send(
        to.socket,
        await signedFrame({ ...this.identity, id: f.from }, f.type, f.to, p, f.ts),
      );
    }
    if (f.to === "public") {
      // Public mode: a new ts and to:"*", to local members. Silent: not sent to servers.
      const relay = await signedFrame({ ...this.identity, id: f.from }, f.type, "*", p);
      for (const [id, user] of this.#online) if (id !== f.from) this.#send(user.socket, relay);
      return;
    }
    await this.#relay.sendFile(f); // the wrapped SERVER_DELIVER; silent: else dropped, no ERROR
  }

  async #hello(socket: WebSocket, state: SocketState, f: Loose): Promise<void> {
    const p = f.payload;
    const refuse = async (code: string, detail: string) => {
      await this.#error(socket, f.from, code, detail);
      state.kind = "ignored"; // the socket stays open, later frames are ignored
    };
    if (typeof p.client !== "string" || typeof p.pubkey !== "string" || !("enc_pubkey" in p)) {
      return await refuse("BAD_KEY", "missing hello field");
    }
    if (this.#online.has(f.from)) return await refuse("NAME_IN_USE", "already connected");
    const pem = String(p.enc_pubkey ?? p.pubkey);
    if (!parsePublicKey(pem).ok) return await refuse("BAD_KEY", "bad key");
    state.kind = "user";
    state.user = f.from;
    this.#online.set(f.from, { socket, pem });
    this.#keys.set(f.from, pem);
    const version = ++this.#channel.version;
    // B's UPDATED carries each member's stored key where a wrap should be (its known hazard).
    const wraps = [...this.#online.keys()].map((id) => ({
      member_id: id,
      wrapped_key: this.#keys.get(id),
    }));
    const add = await this.#signed("*", "PUBLIC_CHANNEL_ADD", {
      add: [f.from],
      if_version: version - 1,
    });
    const updated = await this.#signed("*", "PUBLIC_CHANNEL_UPDATED", { version, wraps });
    for (const user of this.#online.values()) {
      this.#send(user.socket, add);
      this.#send(user.socket, updated);
    }
    this.#mesh.toLinks(add);
    this.#mesh.toLinks(updated);
    // Catch-up: local users as server_id "local", remote ones at their location.
    for (const id of this.#online.keys()) {
      if (id !== f.from) this.#send(socket, await this.#advert(id, f.from, "local"));
    }
    for (const [id, server] of this.#relay.locations) {
      this.#send(socket, await this.#advert(id, f.from, server));
    }
    // The newcomer's advert to all server links and every local client.
    this.#mesh.toLinks(await this.#advert(f.from, "*", this.identity.id));
    for (const [id, user] of this.#online) {
      this.#send(user.socket, await this.#advert(f.from, id, this.identity.id));
    }
  }

  /** A USER_ADVERTISE from B; `meta.pubkey` is the stored key, omitted if unknown. */
  #advert(userId: string, to: string, serverId: string) {
    const pubkey = this.#keys.get(userId);
    return this.#signed(to, "USER_ADVERTISE", {
      user_id: userId,
      server_id: serverId,
      meta: pubkey === undefined ? {} : { pubkey },
    });
  }

  /** A local user left: USER_REMOVE to the server links and the local clients. */
  async #gone(userId: string): Promise<void> {
    this.#online.delete(userId);
    const payload = { user_id: userId, server_id: this.identity.id };
    this.#mesh.toLinks(await this.#signed("*", "USER_REMOVE", payload));
    for (const [id, user] of this.#online) {
      this.#send(user.socket, await this.#signed(id, "USER_REMOVE", payload));
    }
  }

  /** Closes every socket, clears every timer, and stops listening. */
  async stop(): Promise<void> {
    this.#stopped = true; // no new work; what is queued finishes
    for (const user of this.#online.values()) user.socket.close();
    await this.#mesh.stop();
    await this.#queue;
    await this.#server.shutdown();
  }
}
