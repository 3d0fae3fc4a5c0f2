// A dialect A server, simulated from docs/DIALECT-FACTS.md §A (our own code).
// For its clients: wss at any path, a hello with a plaintext password and a
// PEM key (no ACK: adverts and key frames say it worked), adverts re-issued
// from itself with top-level PEM keys, a server-made AES key rewrapped at
// every join, DMs and public messages delivered as USER_DELIVER (the sender
// gets its own public echo), files forwarded unchanged, /list as COMMAND.
// Toward the mesh (§A.6): it joins an introducer (its JOIN socket is never
// read again), dials every listed server with SERVER_ANNOUNCE first, locates
// a user at the envelope `from` of its advert, re-issues adverts and
// SERVER_DELIVER as itself, and forwards user frames with their own `sig`.
// It verifies by `from`, with salt 478 only, and drops what it cannot check.

import {
  canonicalJson,
  encryptFor,
  generateAesKey,
  type Identity,
  type KeyPair,
  keyShareContentSig,
  type PublicKey,
} from "../../mod.ts";
import { loadPem, type Loose, pemOf, pyDumps, signedFrame, verifyMaxSalt } from "./_wire.ts";

type Json = Record<string, unknown>;

/** A simulated dialect A server. */
export class DialectAServer {
  identity: Identity;
  readonly url: string;
  readonly port: number;
  /** Frames it dropped, and why (A logs "bad payload shape" and carries on). */
  readonly dropped: string[] = [];
  readonly #server: Deno.HttpServer<Deno.NetAddr>;
  readonly #local = new Map<string, { socket: WebSocket; key: PublicKey }>();
  readonly #remote = new Map<string, { server: string; key: PublicKey }>();
  readonly #peers = new Map<string, { socket: WebSocket; key: PublicKey }>();
  readonly #passwords = new Map<string, string>();
  /** Public-channel members learned from peers' UPDATED wraps (dropped at every start). */
  readonly #members = new Set<string>();
  #joinSocket?: WebSocket;
  /** How long every frame to a peer takes (a slow network); 0 by default. */
  peerLatencyMs = 0;
  readonly #delayed = new Set<ReturnType<typeof setTimeout>>();
  #version = 0;
  #queue: Promise<void> = Promise.resolve();

  /** Starts on 127.0.0.1 with TLS; a fresh id at every start, as A does. */
  constructor(keys: KeyPair, tls: { cert: string; key: string }) {
    this.identity = { id: crypto.randomUUID(), keys };
    this.#server = Deno.serve({
      hostname: "127.0.0.1",
      port: 0,
      onListen: () => {},
      ...tls,
      handler: (req) => {
        const { socket, response } = Deno.upgradeWebSocket(req);
        this.#reading(socket, (f) => this.#accepted(socket, f));
        socket.onclose = () => this.#gone(socket);
        return response;
      },
    });
    this.port = this.#server.addr.port;
    this.url = `wss://127.0.0.1:${this.port}/ws`;
  }

  #reading(socket: WebSocket, handle: (f: Loose) => Promise<void>): void {
    socket.onmessage = (e) => {
      const text = String(e.data);
      this.#queue = this.#queue.then(async () => {
        let f: Loose;
        try {
          f = JSON.parse(text);
        } catch {
          return void this.dropped.push("not JSON");
        }
        await handle(f);
      }).catch((err) => {
        this.dropped.push(String(err));
      });
    };
  }

  #send(socket: WebSocket | undefined, frame: Json): void {
    const toPeer = [...this.#peers.values()].some((peer) => peer.socket === socket);
    if (!toPeer || this.peerLatencyMs === 0) return this.#sendNow(socket, frame);
    const timer = setTimeout(() => {
      this.#delayed.delete(timer);
      this.#sendNow(socket, frame);
    }, this.peerLatencyMs);
    this.#delayed.add(timer);
  }

  #sendNow(socket: WebSocket | undefined, frame: Json): void {
    if (socket?.readyState === WebSocket.OPEN) socket.send(pyDumps(frame));
  }

  /** Public-channel members it learned from peers' UPDATED wraps. */
  get channelMembers(): ReadonlySet<string> {
    return this.#members;
  }

  #signed(to: string, type: string, payload: Json, ts?: number) {
    return signedFrame(this.identity, type, to, payload, ts);
  }

  #verified(key: PublicKey | undefined, f: Loose): Promise<boolean> {
    if (!key) return Promise.resolve(false);
    return verifyMaxSalt(key, new TextEncoder().encode(canonicalJson(f.payload ?? {})), f.sig);
  }

  #keyOf(userId: string): PublicKey | undefined {
    return this.#local.get(userId)?.key ?? this.#remote.get(userId)?.key;
  }

  // --- the mesh ----------------------------------------------------------------

  /** Joins an introducer, then dials every server of its WELCOME with SERVER_ANNOUNCE. */
  async join(introducer: { host: string; port: number }, client: Deno.HttpClient): Promise<void> {
    const where = `${introducer.host}:${introducer.port}`;
    const socket = await open(`wss://${where}/ws`, client);
    const welcome = new Promise<Loose>((resolve) => {
      socket.onmessage = (e) => resolve(JSON.parse(String(e.data)));
    });
    this.#send(socket, await this.#signed(where, "SERVER_HELLO_JOIN", this.#address()));
    const w = await welcome;
    socket.onmessage = null; // never read again
    this.#joinSocket = socket;
    this.identity = { ...this.identity, id: String(w.payload.assigned_id) };
    for (const c of w.payload.clients as Json[]) {
      const key = loadPem(c.pubkey);
      if (key) this.#remote.set(String(c.user_id), { server: String(c.server_id), key });
    }
    for (const s of w.payload.servers as Json[]) {
      const key = loadPem(s.pubkey);
      if (!key) continue;
      const link = await open(`wss://${s.host}:${s.port}/ws`, client);
      const id = String(s.server_id);
      this.#peers.set(id, { socket: link, key });
      this.#reading(link, (f) => this.#fromPeer(f));
      this.#send(link, await this.#signed(id, "SERVER_ANNOUNCE", this.#address()));
    }
  }

  #address(): Json {
    return { host: "127.0.0.1", port: this.port, pubkey: pemOf(this.identity.keys.publicKey) };
  }

  /** Its own adverts and removes go to every peer and (written, never read) to the introducer. */
  #toMesh(frame: Json): void {
    this.#toPeers(frame);
    this.#send(this.#joinSocket, frame);
  }

  #toPeers(frame: Json): void {
    for (const peer of this.#peers.values()) this.#send(peer.socket, frame);
  }

  /** A peer's frame, unchanged, to every local client. */
  #toLocal(f: Loose): void {
    for (const user of this.#local.values()) this.#send(user.socket, f as unknown as Json);
  }

  /** A socket dialled to it: a server once it sent SERVER_ANNOUNCE (never verified), else a client. */
  #accepted(socket: WebSocket, f: Loose): Promise<void> {
    const peer = [...this.#peers.values()].find((p) => p.socket === socket);
    if (f.type === "SERVER_ANNOUNCE") {
      const key = loadPem(f.payload.pubkey);
      if (key) this.#peers.set(f.from, { socket, key }); // the announced key replaces any pin
      return Promise.resolve();
    }
    return peer ? this.#fromPeer(f) : this.#fromClient(socket, f);
  }

  async #fromPeer(f: Loose): Promise<void> {
    const p = f.payload as Json;
    const peer = this.#peers.get(f.from);
    const serverSigned = [
      "USER_ADVERTISE",
      "USER_REMOVE",
      "SERVER_DELIVER",
      "PUBLIC_CHANNEL_UPDATED",
      "PUBLIC_CHANNEL_KEY_SHARE",
    ];
    if (serverSigned.includes(f.type)) {
      if (!(await this.#verified(peer?.key, f))) return void this.dropped.push(`${f.type} sig`);
    } else if (["MSG_PUBLIC_CHANNEL", "FILE_START", "FILE_CHUNK", "FILE_END"].includes(f.type)) {
      if (!(await this.#verified(this.#keyOf(f.from), f))) {
        return void this.dropped.push(`${f.type} sig`);
      }
    } else {
      return; // ERROR, HEARTBEAT…: not needed here; unknown ones are dropped
    }
    switch (f.type) {
      case "USER_ADVERTISE": {
        const key = loadPem(p.pubkey);
        if (!key || this.#local.has(String(p.user_id))) return;
        this.#remote.set(String(p.user_id), { server: f.from, key });
        for (const [id, user] of this.#local) {
          this.#send(user.socket, await this.#advert(String(p.user_id), key, id));
        }
        return;
      }
      case "USER_REMOVE":
        if (this.#remote.get(String(p.user_id))?.server !== f.from) return;
        this.#remote.delete(String(p.user_id));
        return await this.#removed(String(p.user_id));
      case "SERVER_DELIVER": {
        const to = this.#local.get(String(p.user_id));
        const { user_id: _u, ...deliver } = p;
        if (to) {
          this.#send(
            to.socket,
            await this.#signed(String(p.user_id), "USER_DELIVER", deliver, f.ts),
          );
        }
        return;
      }
      case "MSG_PUBLIC_CHANNEL":
        return await this.#publicToLocal(f);
      case "PUBLIC_CHANNEL_UPDATED":
        // Version ≥ its own: the wraps' ids become members (its own version is kept).
        if (Number(p.version) < this.#version) return;
        for (const w of p.wraps as Json[]) this.#members.add(String(w.member_id));
        return this.#toLocal(f);
      case "PUBLIC_CHANNEL_KEY_SHARE":
        return this.#toLocal(f);
      default: {
        const to = this.#local.get(f.to);
        if (to) this.#send(to.socket, f as unknown as Json);
      }
    }
  }

  // --- its clients ---------------------------------------------------------------

  async #fromClient(socket: WebSocket, f: Loose): Promise<void> {
    const p = f.payload ?? {};
    if (f.type === "USER_HELLO") return await this.#hello(socket, f);
    if (!(await this.#verified(this.#local.get(f.from)?.key, f))) {
      return void this.dropped.push(`${f.type}: unknown sender or bad signature`);
    }
    switch (f.type) {
      case "MSG_DIRECT": {
        const deliver = {
          ciphertext: p.ciphertext,
          sender: f.from,
          sender_pub: p.sender_pub,
          content_sig: p.content_sig,
        };
        const local = this.#local.get(f.to);
        if (local) {
          return this.#send(local.socket, await this.#signed(f.to, "USER_DELIVER", deliver, f.ts));
        }
        const remote = this.#remote.get(f.to);
        if (!remote) return; // A logs only: no ERROR
        return this.#send(
          this.#peers.get(remote.server)?.socket,
          await this.#signed(remote.server, "SERVER_DELIVER", { user_id: f.to, ...deliver }, f.ts),
        );
      }
      case "MSG_PUBLIC_CHANNEL":
        await this.#publicToLocal(f);
        return this.#toPeers({ ...f, to: "*" });
      case "FILE_START":
      case "FILE_CHUNK":
      case "FILE_END": {
        // Unchanged: user from, user sig, original ts; to a local user or its server.
        const local = this.#local.get(f.to)?.socket;
        const remote = this.#peers.get(this.#remote.get(f.to)?.server ?? "")?.socket;
        return this.#send(local ?? remote, f as unknown as Json);
      }
      case "COMMAND": {
        if (String(p.command).trim() !== "/list") return;
        const users = [...this.#local.keys(), ...this.#remote.keys()].sort();
        return this.#send(
          socket,
          await this.#signed(f.from, "COMMAND_RESPONSE", {
            command: "/list",
            response: pyDumps({ users }),
          }),
        );
      }
      default:
        this.dropped.push(`bad payload shape: ${f.type}`);
    }
  }

  /** Public messages reach local clients (the sender too) as USER_DELIVER. */
  async #publicToLocal(f: Loose): Promise<void> {
    const p = f.payload as Json;
    for (const [id, user] of this.#local) {
      this.#send(
        user.socket,
        await this.#signed(id, "USER_DELIVER", {
          ciphertext: p.ciphertext,
          sender: f.from,
          sender_pub: p.sender_pub,
          content_sig: p.content_sig,
        }, f.ts),
      );
    }
  }

  async #hello(socket: WebSocket, f: Loose): Promise<void> {
    const p = f.payload as Json;
    if (typeof p.client !== "string" || typeof p.pubkey !== "string") return;
    if (typeof p.password !== "string") {
      return void this.dropped.push("hello without password: model error, no ERROR, no close");
    }
    const fail = async (code: string, detail: string) => {
      this.#send(socket, await this.#signed(f.from, "ERROR", { code, detail }));
      socket.close();
    };
    const key = loadPem(p.pubkey);
    if (!key) return await fail("INVALID_PUBLIC_KEY", "cannot load the public key");
    const known = this.#passwords.get(f.from);
    if (known !== undefined && known !== p.password) {
      return await fail("INVALID_PASSWORD", "wrong password");
    }
    if (this.#local.has(f.from) || this.#remote.has(f.from)) {
      return await fail("NAME_IN_USE", "already online");
    }
    this.#passwords.set(f.from, p.password);
    this.#local.set(f.from, { socket, key });
    this.#toMesh(
      await this.#signed("*", "USER_ADVERTISE", {
        user_id: f.from,
        server_id: this.identity.id,
        pubkey: pemOf(key),
        meta: {},
      }),
    );
    // No ACK: catch-up adverts, the newcomer's advert to everyone (itself too), new key frames.
    for (const [id, user] of [...this.#local, ...this.#remote]) {
      if (id !== f.from) this.#send(socket, await this.#advert(id, user.key, f.from));
    }
    for (const [id, user] of this.#local) {
      this.#send(user.socket, await this.#advert(f.from, key, id));
    }
    await this.#rotate();
  }

  #advert(userId: string, key: PublicKey, to: string) {
    return this.#signed(to, "USER_ADVERTISE", {
      user_id: userId,
      server_id: this.identity.id,
      pubkey: pemOf(key),
      meta: {},
    });
  }

  /**
   * A fresh AES key at every local join, wrapped to every member it knows a
   * key for (local users, and ids from peers' UPDATED wraps), as UPDATED and
   * KEY_SHARE to its clients and its peers.
   */
  async #rotate(): Promise<void> {
    const key = generateAesKey();
    const version = ++this.#version;
    const wraps = [];
    for (const id of new Set([...this.#local.keys(), ...this.#members])) {
      const memberKey = this.#keyOf(id);
      if (memberKey) wraps.push({ member_id: id, wrapped_key: await encryptFor(memberKey, key) });
    }
    const shares = wraps.map((w) => ({
      member: w.member_id,
      wrapped_public_channel_key: w.wrapped_key,
    }));
    const creatorPub = pemOf(this.identity.keys.publicKey);
    const contentSig = await keyShareContentSig(this.identity.keys.privateKey, {
      shares,
      creatorPub,
    });
    const updated = await this.#signed("*", "PUBLIC_CHANNEL_UPDATED", { version, wraps });
    const share = await this.#signed("*", "PUBLIC_CHANNEL_KEY_SHARE", {
      shares,
      creator_pub: creatorPub,
      content_sig: contentSig,
    });
    for (const socket of [...this.#local.values(), ...this.#peers.values()].map((u) => u.socket)) {
      this.#send(socket, updated);
      this.#send(socket, share);
    }
  }

  async #removed(userId: string): Promise<void> {
    for (const [other, u] of this.#local) {
      this.#send(
        u.socket,
        await this.#signed(other, "USER_REMOVE", { user_id: userId, server_id: this.identity.id }),
      );
    }
  }

  async #gone(socket: WebSocket): Promise<void> {
    for (const [id, peer] of this.#peers) if (peer.socket === socket) this.#peers.delete(id);
    for (const [id, user] of this.#local) {
      if (user.socket !== socket) continue;
      this.#local.delete(id);
      this.#toMesh(
        await this.#signed("*", "USER_REMOVE", {
          user_id: id,
          server_id: this.identity.id,
        }),
      );
      await this.#removed(id);
    }
  }

  /** Whether its JOIN socket to the introducer is still open (A re-joins at once otherwise). */
  get joinSocketOpen(): boolean {
    return this.#joinSocket?.readyState === WebSocket.OPEN;
  }

  /** Stops listening and closes every socket. */
  async stop(): Promise<void> {
    for (const timer of this.#delayed) clearTimeout(timer);
    for (const user of this.#local.values()) user.socket.close();
    for (const peer of this.#peers.values()) peer.socket.close();
    this.#joinSocket?.close();
    await this.#server.shutdown();
  }
}

function open(url: string, client: Deno.HttpClient): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url, { client });
    socket.onopen = () => resolve(socket);
    socket.onerror = () => reject(new Error(`cannot reach ${url}`));
  });
}
