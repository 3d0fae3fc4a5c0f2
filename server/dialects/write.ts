/**
 * How we write to each dialect (docs/PROTOCOL.md decision 50): every frame
 * for a dialect peer passes {@linkcode DialectWriter.render}, which keeps,
 * transforms or drops it. Keys go out in the form the peer can load, frames
 * the peer does not know are not sent, and public messages take the form its
 * client reads. A transformed payload is signed by this server, once per
 * form for all recipients (the envelope `to` is not signed, SOCP.md §5.1).
 *
 * @module
 */

import { ErrorCode, toStandardCode } from "../../protocol/errors.ts";
import { signPayload } from "../../protocol/transport_sig.ts";
import type { Identity } from "../../protocol/builders.ts";
import type { Frame } from "../../protocol/types.ts";
import type { Dialect } from "./read.ts";
import { forCServer } from "./_write_c.ts";
import { forBServer } from "./_write_b.ts";
import { pem } from "./_pem.ts";

/** The 22 types a dialect A client parses; anything else ends its reader for good. */
const A_CLIENT_TYPES: ReadonlySet<string> = new Set([
  "FILE_START",
  "FILE_CHUNK",
  "FILE_END",
  "SERVER_HELLO_JOIN",
  "SERVER_WELCOME",
  "SERVER_ANNOUNCE",
  "SERVER_GOODBYE",
  "USER_ADVERTISE",
  "USER_REMOVE",
  "SERVER_DELIVER",
  "HEARTBEAT",
  "ACK",
  "ERROR",
  "USER_HELLO",
  "USER_DELIVER",
  "MSG_DIRECT",
  "MSG_PUBLIC_CHANNEL",
  "PUBLIC_CHANNEL_ADD",
  "PUBLIC_CHANNEL_UPDATED",
  "PUBLIC_CHANNEL_KEY_SHARE",
  "COMMAND",
  "COMMAND_RESPONSE",
]);

/** The ERROR codes a dialect A client accepts, from ours; others are not sent. */
const A_CLIENT_CODES: ReadonlyMap<string, string> = new Map([
  [ErrorCode.USER_NOT_FOUND, "USER_NOT_FOUND"],
  [ErrorCode.NAME_IN_USE, "NAME_IN_USE"],
  [ErrorCode.TOO_LARGE, "FILE_TOO_BIG"],
  [ErrorCode.BAD_KEY, "INVALID_PUBLIC_KEY"],
  [ErrorCode.AUTH_FAILED, "INVALID_PASSWORD"],
  [ErrorCode.INVALID_SIG, "INVALID_PASSWORD"],
]);

/**
 * What a B client reads. Its public channel is plaintext by design: it reads
 * other B users' messages and fails (harmlessly) on encrypted ones; it
 * ignores the channel's key frames and ACKs.
 */
const B_CLIENT_TYPES: ReadonlySet<string> = new Set([
  "USER_ADVERTISE",
  "USER_REMOVE",
  "USER_DELIVER",
  "MSG_PUBLIC_CHANNEL",
  "FILE_START",
  "FILE_CHUNK",
  "FILE_END",
  "ERROR",
]);

/** What rendering needs of the node. */
export interface WriterHost {
  self(): Identity;
  /** The adopted public-channel state: A clients take the last key they get, so only it. */
  channel(): { version: number; creator: string | null; keyShare?: string };
  /** Where a dialect C server can reach us (C dials the `ws_uri` it is given). */
  wsUri(): string;
}

/** Signatures kept for transformed payloads (each is one RSA signature saved). */
const SIGNATURES_KEPT = 2048;

type Json = Record<string, unknown>;

/**
 * Renders frames for dialect peers.
 *
 * @example
 * ```ts
 * import { DialectWriter } from "./write.ts";
 * // const text = await writer.render("A", link.peerId, frame);  // null: not for this peer
 * ```
 */
export class DialectWriter {
  readonly #host: WriterHost;
  readonly #signatures = new Map<string, Promise<string>>();

  constructor(host: WriterHost) {
    this.#host = host;
  }

  /** The code an ERROR for a `dialect` client carries, or null when it must not get one. */
  errorCode(dialect: Dialect, code: ErrorCode): string | null {
    if (dialect === "A") return A_CLIENT_CODES.get(code) ?? null;
    if (dialect === "C") return null; // C answers an ERROR with an ERROR: refusals are logged only
    return dialect === "socp" ? code : toStandardCode(code);
  }

  /**
   * The text to send a peer of `dialect` for `frame` (or its wire text), or
   * null when that peer must not get it. `peer` says whether the link is a
   * user's or a server's, and whom.
   */
  render(
    dialect: Dialect,
    peer: { kind: "user" | "server" | "other"; id?: string },
    frame: Frame | string,
  ): string | null | Promise<string | null> {
    if (dialect === "socp") return typeof frame === "string" ? frame : JSON.stringify(frame);
    const f = (typeof frame === "string" ? JSON.parse(frame) : frame) as Frame;
    if (dialect === "C") {
      const self = this.#host.self();
      const id = { id: self.id, pubkey: self.keys.publicKey.b64, wsUri: this.#host.wsUri() };
      return forCServer(f, id, (form, frame) => this.#resigned(form, frame));
    }
    // A pending link gets only its hello's answer: a WELCOME (a server) or an ERROR (either).
    if (dialect === "A") {
      const raw = typeof frame === "string" ? frame : undefined;
      return peer.kind === "user" ? this.#forA(f, peer.id, raw) : this.#forAServer(f, peer.id);
    }
    if (peer.kind === "server") {
      return forBServer(f, this.#host.self().id, (form, frame) => this.#resigned(form, frame));
    }
    return this.#forB(f);
  }

  /**
   * A dialect A server loads only PEM keys, verifies every frame by its
   * `from`, and locates a user at the envelope `from` of its advert: adverts
   * and removes go to it re-issued by us (its DMs for those users then come
   * to us), keys as PEM, and what it does not know is not sent.
   */
  #forAServer(f: Frame, peerId: string | undefined): string | null | Promise<string | null> {
    const self = this.#host.self().id;
    switch (f.type) {
      case "PUBLIC_CHANNEL_UPDATED":
      case "PUBLIC_CHANNEL_KEY_SHARE":
        // Its own state coming back ({@linkcode echoesAdoptedState}): as ours, so A passes it on.
        return f.from === peerId ? this.#adoptedAsOurs(f) : JSON.stringify(f);
      case "SERVER_WELCOME":
        return this.#resigned("A-welcome", {
          ...f,
          payload: {
            ...f.payload,
            servers: f.payload.servers?.map((e) => ({ ...e, pubkey: pem(e.pubkey) })) ?? [],
            clients: f.payload.clients?.map((e) => ({ ...e, pubkey: pem(e.pubkey ?? "") })) ?? [],
          },
        });
      case "SERVER_ANNOUNCE":
        return this.#resigned("A-announce", {
          ...f,
          payload: { ...f.payload, pubkey: pem(f.payload.pubkey) },
        });
      case "USER_ADVERTISE": {
        const key = pem(f.payload.pubkey ?? f.payload.meta?.pubkey ?? "");
        const meta: Json = {};
        if (f.payload.meta?.display_name !== undefined) {
          meta.display_name = f.payload.meta.display_name;
        }
        return this.#resigned("A-peer-advert", {
          type: "USER_ADVERTISE",
          from: self,
          to: "*",
          ts: f.ts,
          payload: { user_id: f.payload.user_id, server_id: self, pubkey: key, meta },
        });
      }
      case "USER_REMOVE":
        return this.#resigned("A-peer-remove", {
          type: "USER_REMOVE",
          from: self,
          to: "*",
          ts: f.ts,
          payload: { user_id: f.payload.user_id, server_id: self },
        });
      case "SERVER_DELIVER":
        if ("type" in f.payload) return JSON.stringify(f);
        return this.#resigned("A-deliver", {
          ...f,
          from: self,
          payload: { ...f.payload, sender_pub: pem(f.payload.sender_pub) },
        });
      case "MSG_PUBLIC_CHANNEL":
      case "FILE_START":
      case "FILE_CHUNK":
      case "FILE_END":
      case "ERROR":
        return JSON.stringify(f); // unchanged: A verifies the originator's own signature
      default:
        return null; // HELLO_LINK, HEARTBEAT, ACK, ADD, CTRL_CLOSE, our extensions: unknown to A
    }
  }

  /** The adopted state's wraps in an UPDATED signed by us, at the adopted version. */
  #adoptedAsOurs(
    f: Frame & { type: "PUBLIC_CHANNEL_UPDATED" | "PUBLIC_CHANNEL_KEY_SHARE" },
  ): Promise<string | null> {
    const wraps = f.type === "PUBLIC_CHANNEL_UPDATED"
      ? f.payload.wraps
      : f.payload.shares.map((s) => ({
        member_id: s.member,
        wrapped_key: s.wrapped_public_channel_key ?? s.wrapped ?? "",
      }));
    return this.#resigned("A-state", {
      type: "PUBLIC_CHANNEL_UPDATED",
      from: this.#host.self().id,
      to: "*",
      ts: f.ts,
      payload: { version: this.#host.channel().version, wraps },
    });
  }

  /**
   * Whether a key frame belongs to the adopted channel state. A versionless
   * KEY_SHARE (dialect A's form) is matched by its text: each one is a state.
   */
  #ofAdoptedState(f: Frame, raw: string | undefined): boolean {
    const current = this.#host.channel();
    if (f.from !== current.creator) return false;
    const version = "version" in f.payload ? f.payload.version : undefined;
    if (version !== undefined) return version === current.version;
    return raw !== undefined && raw === current.keyShare;
  }

  #forA(
    f: Frame,
    userId: string | undefined,
    raw: string | undefined,
  ): string | null | Promise<string | null> {
    if (!A_CLIENT_TYPES.has(f.type)) return null;
    switch (f.type) {
      case "USER_ADVERTISE":
        return this.#advert(f, "A");
      case "USER_DELIVER":
        return this.#pemSenderPub(f, "A");
      case "MSG_PUBLIC_CHANNEL":
        // A clients read public messages only as USER_DELIVER, from their own server.
        return this.#resigned("A-public", {
          type: "USER_DELIVER",
          from: this.#host.self().id,
          to: userId ?? "*",
          ts: f.ts,
          payload: {
            ciphertext: f.payload.ciphertext,
            sender: f.from,
            sender_pub: pem(f.payload.sender_pub),
            content_sig: f.payload.content_sig,
          },
        });
      case "PUBLIC_CHANNEL_UPDATED":
      case "PUBLIC_CHANNEL_KEY_SHARE":
        return this.#ofAdoptedState(f, raw) ? raw ?? JSON.stringify(f) : null;
      default:
        return JSON.stringify(f);
    }
  }

  #forB(f: Frame): string | null | Promise<string | null> {
    if (!B_CLIENT_TYPES.has(f.type)) return null;
    if (f.type === "USER_ADVERTISE") return this.#advert(f, "B");
    if (f.type === "USER_DELIVER") return this.#pemSenderPub(f, "B");
    return JSON.stringify(f);
  }

  /** An advert re-issued by this server, with the user's key as PEM where the dialect reads it. */
  #advert(f: Frame & { type: "USER_ADVERTISE" }, form: "A" | "B"): Promise<string | null> {
    const p = f.payload;
    const key = pem(p.pubkey ?? p.meta?.pubkey ?? "");
    const meta: Json = { pubkey: key };
    if (p.meta?.display_name !== undefined) meta.display_name = p.meta.display_name;
    return this.#resigned(`${form}-advert`, {
      type: "USER_ADVERTISE",
      from: this.#host.self().id,
      to: f.to,
      ts: f.ts,
      payload: { user_id: p.user_id, server_id: p.server_id, pubkey: key, meta },
    });
  }

  #pemSenderPub(f: Frame & { type: "USER_DELIVER" }, form: "A" | "B"): Promise<string | null> {
    return this.#resigned(`${form}-deliver`, {
      ...f,
      from: this.#host.self().id,
      payload: { ...f.payload, sender_pub: pem(f.payload.sender_pub) },
    });
  }

  /** `frame` signed by this server; the signature of one payload is made once. */
  async #resigned(form: string, frame: Json & { payload: Json }): Promise<string | null> {
    const { sig: _old, ...unsigned } = frame;
    const cacheKey = `${form}:${JSON.stringify(unsigned.payload)}`;
    let sig = this.#signatures.get(cacheKey);
    if (!sig) {
      sig = signPayload(this.#host.self().keys.privateKey, unsigned.payload);
      this.#signatures.set(cacheKey, sig);
      if (this.#signatures.size > SIGNATURES_KEPT) {
        this.#signatures.delete(this.#signatures.keys().next().value!);
      }
    }
    try {
      return JSON.stringify({ ...unsigned, sig: await sig });
    } catch {
      this.#signatures.delete(cacheKey);
      return null; // an unsignable payload: nothing goes out
    }
  }
}

/**
 * Whether a server of `dialect` gets back the channel state we adopted from
 * it. Dialect A clients take the last key they receive, and an A server
 * passes on a peer's state after its own: so its own key, sent back as our
 * state, is the last its clients get, and both sides hold one key.
 */
export function echoesAdoptedState(dialect: Dialect): boolean {
  return dialect === "A";
}

/**
 * Whether users hosted on a server of `dialect` need public messages to
 * carry the sender's key as PEM: an A server passes `sender_pub` to its
 * clients as it came (the sender signed it), and they load only PEM.
 */
export function needsPemSenderPub(dialect: Dialect | undefined): boolean {
  return dialect === "A";
}

/** One frame that opens a link we dialled: which hello, to whom, with which key form. */
export interface OpeningFrame {
  type: "SERVER_HELLO_JOIN" | "SERVER_HELLO_LINK" | "SERVER_ANNOUNCE";
  /** `peer`: the server dialled; `*`: anyone. */
  to: "peer" | "*";
  keyForm: "der" | "pem";
  /** Through the dialect's writer (B wants LINK in its own form), or as built. */
  render: boolean;
}

/**
 * The frames that open a link to a server of `dialect` (decisions 51–55):
 * A opens and takes links with SERVER_ANNOUNCE, its key as PEM, and answers
 * nothing (a socp server listed as A answers with its own and is switched);
 * C takes only a JOIN to `*` as a link's first frame, B only its LINK; socp
 * peers get LINK and ANNOUNCE.
 */
export function dialOpening(dialect: Dialect | undefined): OpeningFrame[] {
  switch (dialect) {
    case "A":
      return [{ type: "SERVER_ANNOUNCE", to: "peer", keyForm: "pem", render: false }];
    case "C":
      return [{ type: "SERVER_HELLO_JOIN", to: "*", keyForm: "der", render: true }];
    case "B":
      return [{ type: "SERVER_HELLO_LINK", to: "peer", keyForm: "der", render: true }];
    default:
      return [
        { type: "SERVER_HELLO_LINK", to: "peer", keyForm: "der", render: false },
        { type: "SERVER_ANNOUNCE", to: "*", keyForm: "der", render: false },
      ];
  }
}
