// What travels over the dialect B simulator's server links (b_server.ts,
// _b_mesh.ts), from docs/DIALECT-FACTS.md §B.2–B.5: presence, SERVER_DELIVER,
// the public channel's frames and files. B re-signs what it relays (keeping
// `from`) and verifies by the key pinned for `from`, so it cannot verify what
// another server relays. Where the sheet is silent, the choice made is said
// in a comment ("Silent:").

import { canonicalJson, isUuidV4, type PublicKey } from "../../mod.ts";
import { loadPem, type Loose, signedFrame, verifyMaxSalt } from "./_wire.ts";
import { envelopeProblem, isObject, type Json } from "./_b_wire.ts";
import type { BLocal } from "./_b_mesh.ts";

const DEDUP_MS = 120_000;
/** Types B verifies on a server link, by the key pinned for `from` (§B.2). */
const VERIFIED = new Set([
  "USER_ADVERTISE",
  "USER_REMOVE",
  "SERVER_DELIVER",
  "PUBLIC_CHANNEL_ADD",
  "PUBLIC_CHANNEL_UPDATED",
  "PUBLIC_CHANNEL_KEY_SHARE",
  "FILE_START",
  "FILE_CHUNK",
  "FILE_END",
]);

/** What the relay needs of the links it travels over (BMesh). */
export interface BLinks {
  /** The peer of a registered link socket. */
  peerOf(socket: WebSocket): string | undefined;
  /** The registered link to `server`, if it is open. */
  openTo(server: string): WebSocket | undefined;
  pinned(id: string): PublicKey | undefined;
  /** A SERVER_ANNOUNCE's server: its key pinned and, if that loads, its address known. */
  learn(id: string, pubkey: unknown, host: string, port: unknown): void;
  /** To every link but `except` (the arrival link and the origin). */
  toLinks(frame: Json, ...except: string[]): void;
}

interface Arrival {
  peer: string;
  socket: WebSocket;
}

type Drop = (code: string, why: string) => Promise<void>;

/** Whether `key` is new in a 120 s dedup table (and records it). */
function fresh(table: Map<string, number>, key: unknown): boolean {
  const now = Date.now();
  for (const [k, until] of table) {
    if (until > now) break;
    table.delete(k);
  }
  if (typeof key !== "string" || table.has(key)) return false;
  table.set(key, now + DEDUP_MS);
  return true;
}

/** The frames on B's server links and its users' traffic toward them, composed by DialectBServer. */
export class BRelay {
  readonly #local: BLocal;
  readonly #links: BLinks;
  readonly #seenSigs = new Set<string>();
  readonly #seenDeliver = new Map<string, number>();
  readonly #seenPublic = new Map<string, number>();
  readonly locations = new Map<string, string>();
  readonly unknownTypes: string[] = [];
  readonly peerErrors: string[] = [];

  constructor(local: BLocal, links: BLinks) {
    this.#local = local;
    this.#links = links;
  }

  async #error(socket: WebSocket, to: string, code: string, detail: string): Promise<void> {
    const error = await signedFrame(this.#local.identity, "ERROR", to, { code, detail });
    this.#local.send(socket, error);
  }

  /** B's re-signed relay: the original `from`, `to`, `ts` and payload, B's signature. */
  #relay(f: Loose, to = f.to, payload: Json = f.payload, type = f.type): Promise<Json> {
    return signedFrame({ ...this.#local.identity, id: f.from }, type, to, payload, f.ts);
  }

  #toLocal(frame: Json): void {
    for (const id of this.#local.localIds()) this.#local.send(this.#local.localSocket(id), frame);
  }

  /** One frame on an established server link. */
  async read(socket: WebSocket, text: string): Promise<void> {
    const peer = this.#links.peerOf(socket);
    if (peer === undefined) return;
    const drop = async (code: string, why: string) => {
      this.#local.dropped.push(why);
      await this.#error(socket, peer, code, why);
    };
    let f: Loose;
    try {
      f = JSON.parse(text);
    } catch {
      return await drop("BAD_KEY", `link ${peer}: not JSON`);
    }
    const problem = envelopeProblem(f);
    if (problem) return await drop(problem, `link ${peer}: ${f.type} failed the envelope`);
    try {
      await this.#handle({ peer, socket }, f, drop);
    } catch (e) {
      await drop("BAD_KEY", `link ${peer}: ${f.type} handler failed: ${e}`);
    }
  }

  async #handle(link: Arrival, f: Loose, drop: Drop): Promise<void> {
    const p = f.payload;
    if (f.type === "HEARTBEAT") return; // not verified; it refreshed the link
    if (f.type === "ERROR") return void this.peerErrors.push(String(p.code)); // logged
    if (f.type === "SERVER_ANNOUNCE") {
      // Unsigned, not verified; may be on behalf of a third server. Silent: not relayed.
      if (typeof p.host !== "string" || !Number.isInteger(p.port)) {
        return await drop("BAD_KEY", "SERVER_ANNOUNCE without host/port");
      }
      return this.#links.learn(f.from, p.pubkey, p.host, p.port);
    }
    if (f.type === "MSG_PUBLIC_CHANNEL") {
      // Relayed public: no sig check, dedup by content_sig, to local members only.
      if (!fresh(this.#seenPublic, p.content_sig)) return;
      const relay = await this.#relay(f, "*", {
        ciphertext: p.ciphertext,
        sender_pub: p.sender_pub,
        content_sig: p.content_sig,
      });
      return this.#toLocal(relay);
    }
    if (!VERIFIED.has(f.type)) {
      // ACK, CTRL_CLOSE, WELCOME, HELLO_*, USER_HELLO, MSG_DIRECT, LIST_*… have no link handler.
      this.unknownTypes.push(f.type);
      return await this.#error(link.socket, link.peer, "UNKNOWN_TYPE", `no handler: ${f.type}`);
    }
    const pin = this.#links.pinned(f.from);
    const bytes = new TextEncoder().encode(canonicalJson(f.payload));
    if (!pin || !(await verifyMaxSalt(pin, bytes, f.sig))) {
      // The wrapped file SERVER_DELIVER (from = a user) and any relay of a relay end here.
      const why = pin ? "bad signature" : "no key pinned";
      return await drop("INVALID_SIG", `${f.type} from ${f.from}: ${why}`);
    }
    switch (f.type) {
      case "USER_ADVERTISE":
      case "USER_REMOVE":
        return await this.#presence(link, f, drop);
      case "SERVER_DELIVER":
        return await this.#serverDeliver(f, drop);
      case "PUBLIC_CHANNEL_UPDATED":
        this.#updated(p);
        return this.#links.toLinks(await this.#relay(f), link.peer, f.from);
      case "PUBLIC_CHANNEL_ADD":
        return this.#links.toLinks(await this.#relay(f), link.peer, f.from);
      case "PUBLIC_CHANNEL_KEY_SHARE":
        await this.#keyShare(p);
        return this.#links.toLinks(await this.#relay(f), link.peer, f.from);
      default: {
        // FILE_* signed by a server (rare: B's own files travel wrapped). Silent: delivered
        // re-signed to the local recipient, or to local members in public mode.
        const relay = await this.#relay(f);
        const to = this.#local.localSocket(f.to);
        if (to) return this.#local.send(to, relay);
        if (f.to === "public" || f.to === "*") this.#toLocal(relay);
        return;
      }
    }
  }

  async #presence(link: Arrival, f: Loose, drop: Drop): Promise<void> {
    const p = f.payload;
    const user = p.user_id, server = p.server_id;
    if (typeof user !== "string" || typeof server !== "string") {
      return await drop("BAD_KEY", `${f.type} without user_id/server_id`);
    }
    // Dedup by sig, checked after the verify so a forged frame cannot poison it.
    if (this.#seenSigs.has(f.sig!)) return;
    this.#seenSigs.add(f.sig!);
    if (f.type === "USER_ADVERTISE") {
      // Silent: an advert for a user online here is ignored.
      if (this.#local.localSocket(user)) {
        return void this.#local.dropped.push(`advert of local ${user}`);
      }
      this.locations.set(user, server);
      const meta = isObject(p.meta) ? p.meta : {};
      if (typeof meta.pubkey === "string") this.#local.keys.set(user, meta.pubkey);
    } else {
      // Silent: a USER_REMOVE that removes nothing is not relayed either.
      if (this.locations.get(user) !== server) return;
      this.locations.delete(user);
    }
    const relay = await this.#relay(f);
    this.#links.toLinks(relay, link.peer, f.from);
    this.#toLocal(relay);
  }

  async #serverDeliver(f: Loose, drop: Drop): Promise<void> {
    const p = f.payload;
    if (!isUuidV4(p.user_id)) return await drop("BAD_KEY", "SERVER_DELIVER user_id not UUIDv4");
    const fields = ["ciphertext", "sender", "sender_pub", "content_sig"];
    if (!fields.every((k) => typeof p[k] === "string" && p[k] !== "")) {
      return await drop("BAD_KEY", "SERVER_DELIVER missing a field");
    }
    if (!fresh(this.#seenDeliver, p.content_sig)) return;
    const to = this.#local.localSocket(p.user_id);
    // Silent: a SERVER_DELIVER for a user not online here draws USER_NOT_FOUND.
    if (!to) return await drop("USER_NOT_FOUND", `SERVER_DELIVER for absent ${p.user_id}`);
    const deliver = {
      ciphertext: p.ciphertext,
      sender: p.sender,
      sender_pub: p.sender_pub,
      content_sig: p.content_sig,
    };
    this.#local.send(
      to,
      await signedFrame(this.#local.identity, "USER_DELIVER", p.user_id, deliver, f.ts),
    );
  }

  /**
   * The hazard (§B.4): a peer UPDATED whose version exceeds the counter
   * overwrites the stored per-member keys with its `wrapped_key` values.
   * Silent: the counter is B's one channel version (its own joins bump it too),
   * and it takes the peer's version.
   */
  #updated(p: Json): void {
    if (!Number.isInteger(p.version) || (p.version as number) <= this.#local.channel.version) {
      return;
    }
    this.#local.channel.version = p.version as number;
    for (const w of Array.isArray(p.wraps) ? p.wraps : []) {
      if (!isObject(w) || typeof w.member_id !== "string" || typeof w.wrapped_key !== "string") {
        continue;
      }
      this.#local.keys.set(w.member_id, w.wrapped_key);
      if (!loadPem(w.wrapped_key)) this.#local.channel.corrupted = true;
    }
  }

  /** A verified KEY_SHARE goes to each local member, trimmed to its own share. */
  async #keyShare(p: Json): Promise<void> {
    for (const s of Array.isArray(p.shares) ? p.shares : []) {
      if (!isObject(s) || typeof s.member !== "string") continue;
      const to = this.#local.localSocket(s.member);
      if (!to) continue;
      // Silent: the trimmed frame comes from B itself, to the member.
      this.#local.send(
        to,
        await signedFrame(this.#local.identity, "PUBLIC_CHANNEL_KEY_SHARE", s.member, {
          wrapped_public_channel_key: s.wrapped_public_channel_key,
          creator_pub: p.creator_pub,
          content_sig: p.content_sig,
        }),
      );
    }
  }

  // --- its users' traffic toward the mesh -----------------------------------------

  #linkFor(userId: string): Arrival | undefined {
    const server = this.locations.get(userId);
    const socket = server === undefined ? undefined : this.#links.openTo(server);
    return socket && { peer: server!, socket };
  }

  /**
   * A local user's DM to a remote user: SERVER_DELIVER with the original ts,
   * signed by B, to the recipient's server. False if there is no live link
   * (silent: the caller answers USER_NOT_FOUND, as for an unknown recipient).
   */
  async sendDm(f: Loose): Promise<boolean> {
    const link = this.#linkFor(f.to);
    if (!link) return false;
    const p = f.payload;
    this.#local.send(
      link.socket,
      await signedFrame(this.#local.identity, "SERVER_DELIVER", link.peer, {
        user_id: f.to,
        ciphertext: p.ciphertext,
        sender: f.from,
        sender_pub: p.sender_pub,
        content_sig: p.content_sig,
      }, f.ts),
    );
    return true;
  }

  /**
   * A local user's FILE_* frame to a remote user, in B's wrapped form: `from`
   * the user, `to` the recipient, payload the whole original envelope plus
   * `user_id`, signed by B's server key; the wrapper keeps the original ts.
   */
  async sendFile(f: Loose): Promise<boolean> {
    const link = this.#linkFor(f.to);
    if (!link) return false;
    const { type, from, to, ts, payload, sig } = f;
    const inner = { type, from, to, ts, payload, sig };
    this.#local.send(
      link.socket,
      await this.#relay(f, f.to, { ...inner, user_id: f.to }, "SERVER_DELIVER"),
    );
    return true;
  }
}
