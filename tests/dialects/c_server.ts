// A dialect C server, simulated from docs/DIALECT-FACTS.md §0, §C, §D (our own
// code). Links open with SERVER_HELLO_JOIN → WELCOME first, then an ANNOUNCE
// snapshot; frames are verified by the link peer's key (not `from`); adverts,
// removes and announces are relayed unchanged; SERVER_DELIVER (with orig_ts)
// and FILE_* are re-signed. Unhandled types, ERROR included, draw a signed
// ERROR UNKNOWN_TYPE, so two C servers answer each other's errors until
// stopped. addUser/dm/sendFile stand in for logged-in C users (C's client
// protocol is out of scope). Where the sheet is silent, see "Choice:".

import type { Identity, KeyPair, PublicKey } from "../../mod.ts";
import { pyDumps } from "./_wire.ts";
import {
  cFrame,
  type CInbox,
  CLIENT_FIRST,
  CLimits,
  type CLoose,
  closed,
  CUser,
  EXEMPT,
  floatSeconds,
  isCanonicalUuid,
  KNOWN,
  type Link,
  loadDer,
  parseC,
  verifyC,
  verifyV2,
} from "./_c_wire.ts";

type Json = Record<string, unknown>;

/** A simulated dialect C server with its hosted users. */
export class DialectCServer {
  identity: Identity;
  readonly port: number;
  readonly wsUri: string;
  /** What it, or a hosted user's client, dropped, and why. */
  readonly dropped: string[] = [];
  /** Types that drew its ERROR UNKNOWN_TYPE. */
  readonly unknownTypes: string[] = [];
  readonly errorsReceived: { from: string; code: string; detail: string }[] = [];
  /** user id → the server id it believes hosts the user (its own users: its own id). */
  readonly locations = new Map<string, string>();
  /** DMs and files its users' clients took. */
  readonly received: CInbox["received"] = [];
  readonly files: CInbox["files"] = [];
  /** Hosted user id → why its client's reader died (it reads nothing more). */
  readonly readerDeath = new Map<string, string>();
  readonly #server: Deno.HttpServer<Deno.NetAddr>;
  readonly #links = new Set<Link>();
  readonly #keys = new Map<string, PublicKey>();
  readonly #seenAt = new Map<string, number>();
  readonly #users = new Map<string, CUser>();
  readonly #limits = new CLimits();
  readonly #timers: ReturnType<typeof setInterval>[] = [];
  readonly #silenceMs: number;
  #version = 1; // Choice: the first join then sends version 2, as the example frame does.
  #queue: Promise<void> = Promise.resolve();
  #stopped = false;

  constructor(
    keys: KeyPair,
    options: { id?: string; heartbeatMs?: number; silenceMs?: number } = {},
  ) {
    this.identity = { id: options.id ?? crypto.randomUUID(), keys };
    this.#silenceMs = options.silenceMs ?? 45_000;
    this.#server = Deno.serve({
      hostname: "127.0.0.1",
      port: 0,
      onListen: () => {},
      handler: (req) => {
        const { socket, response } = Deno.upgradeWebSocket(req);
        const link: Link = { socket, started: false, lastSeen: Date.now() };
        const first = setTimeout(() => {
          this.dropped.push("no first frame within 120 s: closed");
          socket.close();
        }, 120_000);
        this.#attach(link, () => clearTimeout(first));
        return response;
      },
    });
    this.port = this.#server.addr.port;
    this.wsUri = `ws://127.0.0.1:${this.port}/`;
    const every = (ms: number, task: () => Promise<void>) =>
      this.#timers.push(setInterval(() => this.#enqueue(task), ms));
    every(options.heartbeatMs ?? 15_000, () => this.#heartbeat());
    every(Math.max(50, Math.min(1000, this.#silenceMs / 4)), () => this.#watchdog());
  }

  /** Peer server ids with a live link and a pinned key. */
  get links(): string[] {
    return [...this.#links].filter((l) => this.#keyOf(l) && this.#open(l)).map((l) => l.peer!);
  }

  /** A hosted user's key, from its own database only (all a C client can look up). */
  keyOf(userId: string): PublicKey | undefined {
    return this.#users.get(userId)?.keys.publicKey;
  }

  #attach(link: Link, onFirst: () => void): void {
    this.#links.add(link);
    link.socket.onmessage = (e) => {
      const text = String(e.data);
      this.#enqueue(() => this.#read(link, text, onFirst));
    };
    link.socket.onerror = () => {};
    link.socket.onclose = () => {
      onFirst();
      this.#links.delete(link);
      link.pending?.("socket closed");
    };
  }

  /** One queue for socket frames, user frames and timers, which stop() drains. */
  #enqueue<T>(task: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(task);
    this.#queue = run.then(() => {}, (e) => void this.dropped.push(`error: ${e}`));
    return run;
  }

  #drop(why: string): void {
    this.dropped.push(why);
  }

  #open(link: Link): boolean {
    return link.socket.readyState === WebSocket.OPEN;
  }

  #keyOf(link: Link): PublicKey | undefined {
    return link.peer === undefined ? undefined : this.#keys.get(link.peer);
  }

  #send(link: Link | undefined, frame: Json | CLoose): void {
    if (link && this.#open(link)) link.socket.send(pyDumps(frame));
  }

  #signed(type: string, to: string, payload: Json, ts?: number, from = this.identity.id) {
    return cFrame(this.identity, type, from, to, payload, ts);
  }

  #linkTo(serverId: string | undefined, except?: Link): Link | undefined {
    return [...this.#links].find((l) =>
      serverId !== undefined && l.peer === serverId && l !== except && this.#open(l)
    );
  }

  #toLinks(frame: Json | CLoose, except?: Link): void {
    for (const l of this.#links) if (l !== except && this.#keyOf(l)) this.#send(l, frame);
  }

  #locate(uid: string, sid: string, ts = floatSeconds()): void {
    if (this.#users.has(uid)) return; // its own users stay its own
    this.locations.set(uid, sid);
    this.#seenAt.set(uid, ts);
  }

  #merge(locations: unknown): void {
    for (const [uid, loc] of Object.entries((locations ?? {}) as Record<string, Json | null>)) {
      if (typeof loc?.server_id !== "string") continue;
      this.#locate(uid, loc.server_id, typeof loc.ts === "number" ? loc.ts : undefined);
    }
  }

  async #error(link: Link, to: string, code: string, detail: string): Promise<void> {
    this.#send(link, await this.#signed("ERROR", to, { code, detail }));
  }

  // --- server links -------------------------------------------------------------------

  /** Dials with SERVER_HELLO_JOIN; resolves with the peer id once a WELCOME pinned its key. */
  async link(target: { wsUri: string }): Promise<string> {
    const socket = new WebSocket(target.wsUri);
    const link: Link = { socket, dialled: target.wsUri, started: true, lastSeen: Date.now() };
    const why = await new Promise<string | null>((resolve) => {
      const timer = setTimeout(() => done(`no reply within 5 s`), 5_000);
      const done = (why: string | null) => {
        clearTimeout(timer);
        link.pending = undefined;
        resolve(why);
      };
      link.pending = done;
      this.#attach(link, () => {});
      socket.onopen = () =>
        this.#enqueue(async () => {
          if (this.#stopped) return socket.close();
          // Choice: `ws_uri` is the address dialled, as in the example frame.
          const pubkey = this.identity.keys.publicKey.b64;
          const hello = { host: "127.0.0.1", port: this.port, pubkey, ws_uri: target.wsUri };
          this.#send(link, await this.#signed("SERVER_HELLO_JOIN", "*", hello));
        });
    });
    if (why === null) return link.peer!;
    this.dropped.push(`link to ${target.wsUri}: ${why}`);
    throw new Error(why);
  }

  /** The dialler's first reply must be SERVER_WELCOME with a DER `server_pub`. */
  async #welcomed(link: Link, f: CLoose): Promise<string | null> {
    const p = f.payload;
    if (f.type !== "SERVER_WELCOME") return `first reply was ${f.type}: no key for that peer`;
    const key = loadDer(p.server_pub);
    if ("why" in key) return `WELCOME server_pub: ${key.why}: no key for that peer`;
    link.peer = String(p.server_id ?? f.from);
    this.#keys.set(link.peer, key.key);
    // Choice: a server still called "auto" adopts the assigned id it is given.
    if (this.identity.id === "auto" && isCanonicalUuid(p.assigned_id)) {
      this.identity = { ...this.identity, id: p.assigned_id };
    }
    this.#merge((p.snapshot as Json | undefined)?.user_locations);
    // Choice: it then broadcasts its own ANNOUNCE. That has no user_locations, so the
    // side it dialled learns its existing users only from later adverts.
    const { id, keys } = this.identity;
    const me = { server_id: id, host: "127.0.0.1", port: this.port, pubkey: keys.publicKey.b64 };
    this.#toLinks(await this.#signed("SERVER_ANNOUNCE", "*", { ...me, ws_uri: this.wsUri }));
    return null;
  }

  async #read(link: Link, text: string, onFirst: () => void): Promise<void> {
    const f = parseC(text);
    if (typeof f === "string") return this.#drop(f);
    link.lastSeen = Date.now(); // any frame refreshes a link
    const why = await this.#limits.admit(f);
    if (why) return this.#drop(`${f.type} from ${f.from}: ${why}`);
    if (link.pending) {
      const failed = await this.#welcomed(link, f);
      if (failed) this.dropped.push(`${f.type} from ${f.from}: ${failed}`);
      return link.pending?.(failed);
    }
    if (link.started) return await this.#fromLink(link, f);
    link.started = true;
    onFirst();
    if (f.type === "SERVER_HELLO_JOIN") return await this.#join(link, f);
    const what = CLIENT_FIRST.has(f.type) ? "C's client protocol is not simulated" : "refused";
    this.dropped.push(`first frame ${f.type}: ${what}; closed without ERROR`);
    link.socket.close();
  }

  async #join(link: Link, f: CLoose): Promise<void> {
    const key = loadDer(f.payload.pubkey);
    const badId = !isCanonicalUuid(f.from) && f.from !== "auto";
    if (badId || "why" in key) {
      // Choice: an unloadable key ends the handler too: closed, no reply.
      const why = badId ? "not a canonical UUIDv4" : `pubkey ${(key as { why: string }).why}`;
      this.#drop(`SERVER_HELLO_JOIN from ${f.from}: ${why}; closed`);
      return link.socket.close();
    }
    // Choice: "auto" gets a fresh assigned id, under which C then knows it; a UUID gets null.
    const peer = f.from === "auto" ? crypto.randomUUID() : f.from;
    link.peer = peer;
    this.#keys.set(peer, key.key);
    const user_locations: Json = {};
    for (const [uid, sid] of this.locations) {
      user_locations[uid] = { server_id: sid, ts: this.#seenAt.get(uid) };
    }
    const welcome = {
      server_id: this.identity.id,
      server_pub: this.identity.keys.publicKey.b64,
      snapshot: { user_locations },
      assigned_id: f.from === "auto" ? peer : null,
    };
    this.#send(link, await this.#signed("SERVER_WELCOME", f.from, welcome));
    const announce = { server_id: this.identity.id, user_locations };
    this.#send(link, await this.#signed("SERVER_ANNOUNCE", peer, announce));
  }

  async #fromLink(link: Link, f: CLoose): Promise<void> {
    const p = f.payload;
    // A dialler whose first reply was no proper WELCOME has no key: it drops everything.
    const key = this.#keyOf(link);
    if (!key) return this.#drop(`${f.type} from ${f.from}: no key for this peer`);
    if (!KNOWN.has(f.type)) {
      if (f.type === "ERROR") {
        this.errorsReceived.push({ from: f.from, code: String(p.code), detail: String(p.detail) });
      }
      this.unknownTypes.push(f.type);
      return await this.#error(link, link.peer!, "UNKNOWN_TYPE", `unknown type ${f.type}`);
    }
    // Choice: the type check comes before verification (by the link's key, never `from`).
    if (!EXEMPT.has(f.type) && !(await verifyC(key, f))) {
      return this.#drop(`${f.type} from ${f.from}: bad or missing sig`);
    }
    switch (f.type) {
      case "HEARTBEAT":
        return;
      case "SERVER_ANNOUNCE": {
        if (typeof p.server_id !== "string") return this.#drop("ANNOUNCE: no server_id");
        const announced = p.pubkey === undefined ? null : loadDer(p.pubkey);
        if (announced && "key" in announced) this.#keys.set(p.server_id, announced.key);
        else if (announced) this.dropped.push(`ANNOUNCE of ${p.server_id}: ${announced.why}`);
        this.#merge(p.user_locations);
        return this.#toLinks(f, link);
      }
      case "USER_ADVERTISE":
        if (typeof p.user_id !== "string" || typeof p.server_id !== "string") {
          return this.#drop("USER_ADVERTISE without user_id or server_id");
        }
        this.#locate(p.user_id, p.server_id); // the payload's server_id; adverts carry no key
        return this.#toLinks(f, link);
      case "USER_REMOVE": {
        const sid = typeof p.server_id === "string" ? p.server_id : f.from;
        const uid = String(p.user_id);
        // Choice: removed only if located at that server (the sheet gives only the default).
        if (this.locations.get(uid) === sid && !this.#users.has(uid)) this.locations.delete(uid);
        return this.#toLinks(f, link);
      }
      case "SERVER_DELIVER":
        return await this.#serverDeliver(link, f);
      case "FILE_START":
      case "FILE_CHUNK":
      case "FILE_END":
        return await this.#routeFile(f, link);
      case "CTRL_CLOSE":
        return link.socket.close();
      default:
        this.dropped.push(`${f.type} from ${f.from}: C handles it; the simulator does not`);
    }
  }

  async #serverDeliver(link: Link, f: CLoose): Promise<void> {
    const p = f.payload;
    const uid = String(p.user_id);
    if (this.#users.has(uid)) {
      // orig_ts becomes the USER_DELIVER ts; without it C re-stamps (and the content sig fails).
      const ts = Number.isSafeInteger(p.orig_ts) ? p.orig_ts as number : Date.now();
      const { ciphertext, sender, sender_pub, content_sig } = p;
      const deliver = { ciphertext, sender, sender_pub, content_sig };
      return await this.#toClient(uid, await this.#signed("USER_DELIVER", uid, deliver, ts));
    }
    // Choice: one for someone else goes on, re-signed, toward that user's server.
    const next = this.#linkTo(this.locations.get(uid), link);
    if (!next) return this.#drop(`SERVER_DELIVER for ${uid}: no route`);
    this.#send(next, await this.#signed("SERVER_DELIVER", next.peer!, p, f.ts));
  }

  /** FILE_* keep from, to, ts and payload, re-signed by this server (no SERVER_DELIVER wrap). */
  async #routeFile(f: CLoose, arrival?: Link): Promise<void> {
    const copy = await this.#signed(f.type, f.to, f.payload, f.ts, f.from);
    if (this.#users.has(f.to)) return await this.#toClient(f.to, copy);
    const next = this.#linkTo(this.locations.get(f.to), arrival);
    if (!next) return this.#drop(`${f.type} to ${f.to}: no route`); // Choice: silent
    this.#send(next, copy);
  }

  async #heartbeat(): Promise<void> {
    for (const l of this.#links) {
      const now = Math.floor(Date.now() / 1000);
      if (!this.#stopped && l.peer) this.#send(l, await this.#signed("HEARTBEAT", l.peer, { now }));
    }
  }

  async #watchdog(): Promise<void> {
    for (const l of [...this.#links]) {
      if (this.#stopped || !l.started || !this.#open(l)) continue;
      if (Date.now() - l.lastSeen <= this.#silenceMs) continue;
      this.dropped.push(`link ${l.peer}: silent > ${this.#silenceMs} ms: ERROR TIMEOUT, closed`);
      await this.#error(l, l.peer ?? "*", "TIMEOUT", "no frames within timeout");
      l.socket.close();
      if (l.dialled) this.link({ wsUri: l.dialled }).catch(() => {}); // C redials ws_uri
    }
  }

  // --- hosted users -------------------------------------------------------------------

  /** Stores a user in its database, advertises it (no key) and sends UPDATED `added`. */
  async addUser(id: string, keys: KeyPair): Promise<void> {
    if (!isCanonicalUuid(id)) throw new Error("C user ids are canonical UUIDv4");
    this.#users.set(id, new CUser(id, keys));
    this.locations.set(id, this.identity.id);
    this.#seenAt.set(id, floatSeconds());
    await this.#presence("USER_ADVERTISE", { user_id: id, server_id: this.identity.id }, "added");
  }

  /** The user logs off: USER_REMOVE `{user_id}` (no server_id) and UPDATED `removed`. */
  async removeUser(id: string): Promise<void> {
    if (!this.#users.delete(id)) return;
    this.locations.delete(id);
    await this.#presence("USER_REMOVE", { user_id: id }, "removed");
  }

  async #presence(type: string, payload: Json, change: "added" | "removed"): Promise<void> {
    this.#toLinks(await this.#signed(type, "*", payload));
    const updated = { version: ++this.#version, [change]: [payload.user_id] };
    this.#toLinks(await this.#signed("PUBLIC_CHANNEL_UPDATED", "*", updated));
  }

  #user(id: string, to: string, given?: PublicKey): [CUser, PublicKey] {
    const user = this.#users.get(id);
    if (!user) throw new Error(`${id} is not a user of this C server`);
    const key = given ?? this.keyOf(to);
    if (!key) throw new Error("No pubkey"); // what C's client prints
    return [user, key];
  }

  /** The user sends MSG_DIRECT (V2, DER sender_pub, `sig:""`); its server routes it. */
  async dm(fromUser: string, toUser: string, text: string, key?: PublicKey): Promise<void> {
    const [user, recipientKey] = this.#user(fromUser, toUser, key);
    await this.#fromUser(await user.dm(toUser, text, recipientKey));
  }

  /** The user sends a file, C's way (§C.4); resolves with its file_id once all is routed. */
  async sendFile(
    fromUser: string,
    toUser: string,
    name: string,
    bytes: Uint8Array,
    recipientKey?: PublicKey,
  ): Promise<string> {
    const [user, key] = this.#user(fromUser, toUser, recipientKey);
    let fileId = "";
    for await (const f of user.file(toUser, name, bytes, key)) {
      fileId = String(f.payload.file_id);
      await this.#fromUser(f);
    }
    return fileId;
  }

  /** A frame from a hosted user: the same limits as any frame, then routing. */
  #fromUser(f: CLoose): Promise<void> {
    return this.#enqueue(async () => {
      const why = await this.#limits.admit(f);
      if (why) return this.#drop(`${f.type} from ${f.from}: ${why}`);
      if (f.type !== "MSG_DIRECT") return await this.#routeFile(f);
      const p = f.payload;
      const key = loadDer(p.sender_pub);
      const ok = "key" in key &&
        await verifyV2(key.key, p.content_sig, p.ciphertext, f.from, f.to, f.ts);
      if (!ok) return this.#drop(`MSG_DIRECT from ${f.from}: content_sig is not V2`);
      const { ciphertext, sender_pub, content_sig } = p;
      const deliver = { ciphertext, sender: f.from, sender_pub, content_sig };
      if (this.#users.has(f.to)) {
        return await this.#toClient(f.to, await this.#signed("USER_DELIVER", f.to, deliver, f.ts));
      }
      const next = this.#linkTo(this.locations.get(f.to));
      // C answers ERROR USER_NOT_FOUND to the user's client, which only prints it.
      if (!next) return this.#drop(`MSG_DIRECT to ${f.to}: ERROR USER_NOT_FOUND to ${f.from}`);
      const ts = Math.max(Date.now(), f.ts + 1); // a new envelope ts, never the original
      const payload = { user_id: f.to, ...deliver, orig_ts: f.ts };
      this.#send(next, await this.#signed("SERVER_DELIVER", next.peer!, payload, ts));
    });
  }

  /** Hands a frame to a hosted user's client; an exception there ends its reader. */
  async #toClient(uid: string, frame: Json): Promise<void> {
    if (this.readerDeath.has(uid)) return this.#drop(`${frame.type} to ${uid}: reader is dead`);
    const user = this.#users.get(uid)!;
    try {
      await user.read(JSON.parse(pyDumps(frame)), this.identity.keys.publicKey, this);
    } catch (e) {
      this.readerDeath.set(uid, e instanceof Error ? e.message : String(e));
    }
  }

  /** Closes every socket and the listener, clears its timers and drains its queue. */
  async stop(): Promise<void> {
    this.#stopped = true;
    for (const t of this.#timers) clearInterval(t);
    await Promise.all([...this.#links].map((l) => closed(l.socket)));
    await this.#server.shutdown();
    await this.#queue;
  }
}
