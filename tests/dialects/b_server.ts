// A dialect B server for its clients, simulated from ../shared/DIALECTS.md
// §B.1–B.5 (our own code, one process, no mesh): plain ws, a strict envelope
// check, an unsigned hello (no ACK: ADD, UPDATED and adverts follow), adverts
// with the key only in `meta.pubkey`, DMs as USER_DELIVER, public messages
// re-emitted unencrypted as they came, files kept as sent and re-signed,
// and UNKNOWN_TYPE for what B does not handle from users (LIST_REQUEST…).
// It writes compact, key-sorted JSON.

import { canonicalJson, type Identity, isUuidV4, type KeyPair, parsePublicKey } from "../../mod.ts";
import { type Loose, signedFrame } from "./_wire.ts";

const SIG = /^[A-Za-z0-9_-]+$/;
const HANDLED = new Set([
  "MSG_DIRECT",
  "MSG_PUBLIC_CHANNEL",
  "FILE_START",
  "FILE_CHUNK",
  "FILE_END",
]);

/** A simulated dialect B server (its clients only). */
export class DialectBServer {
  readonly identity: Identity;
  readonly url: string;
  readonly #server: Deno.HttpServer<Deno.NetAddr>;
  /** user id → socket and PEM key (as B keeps `enc_pubkey`). */
  readonly #online = new Map<string, { socket: WebSocket; pem: string }>();
  #version = 0;
  #queue: Promise<void> = Promise.resolve();

  constructor(keys: KeyPair) {
    this.identity = { id: crypto.randomUUID(), keys };
    this.#server = Deno.serve({
      hostname: "127.0.0.1",
      port: 0,
      onListen: () => {},
      handler: (req) => {
        const { socket, response } = Deno.upgradeWebSocket(req);
        let bound: string | undefined;
        socket.onmessage = (e) => {
          const text = String(e.data);
          this.#queue = this.#queue.then(async () => {
            bound = await this.#read(socket, text, bound);
          }).catch(() => {});
        };
        socket.onclose = () => {
          if (bound && this.#online.get(bound)?.socket === socket) this.#online.delete(bound);
        };
        return response;
      },
    });
    this.url = `ws://127.0.0.1:${this.#server.addr.port}/`;
  }

  #send(socket: WebSocket, frame: Record<string, unknown>): void {
    if (socket.readyState === WebSocket.OPEN) socket.send(canonicalJson(frame, { ascii: false }));
  }

  #signed(to: string, type: string, payload: Record<string, unknown>, ts?: number) {
    return signedFrame(this.identity, type, to, payload, ts);
  }

  async #error(socket: WebSocket, to: string, code: string, detail: string): Promise<void> {
    this.#send(socket, await this.#signed(to, "ERROR", { code, detail }));
  }

  /** Handles one frame; returns the user bound to the socket. */
  async #read(socket: WebSocket, text: string, bound?: string): Promise<string | undefined> {
    let f: Loose;
    try {
      f = JSON.parse(text);
    } catch {
      return bound;
    }
    const envelopeOk = isUuidV4(f.from) && Number.isInteger(f.ts) &&
      typeof f.payload === "object" &&
      (f.sig === undefined || f.sig === null || (typeof f.sig === "string" && SIG.test(f.sig)));
    if (!bound) {
      if (f.type !== "USER_HELLO" || !envelopeOk) {
        socket.close();
        return undefined;
      }
      return await this.#hello(socket, f);
    }
    if (!envelopeOk || f.sig == null) {
      await this.#error(socket, bound, "INVALID_SIG", "envelope check failed");
      return bound;
    }
    if (!HANDLED.has(f.type)) {
      await this.#error(socket, bound, "UNKNOWN_TYPE", `no handler for ${f.type}`);
      return bound;
    }
    if (f.from !== bound) {
      await this.#error(socket, bound, "INVALID_SIG", "from is not the bound user");
      return bound;
    }
    const p = f.payload;
    if (f.type === "MSG_DIRECT") {
      const to = this.#online.get(f.to);
      if (!to) {
        await this.#error(socket, bound, "USER_NOT_FOUND", "unknown recipient");
        return bound;
      }
      this.#send(
        to.socket,
        await this.#signed(f.to, "USER_DELIVER", {
          ciphertext: p.ciphertext,
          sender: f.from,
          sender_pub: p.sender_pub,
          content_sig: p.content_sig,
        }, f.ts),
      );
    } else if (f.type === "MSG_PUBLIC_CHANNEL") {
      const relay = await signedFrame({ ...this.identity, id: f.from }, "MSG_PUBLIC_CHANNEL", "*", {
        ciphertext: p.ciphertext,
        sender_pub: p.sender_pub,
        content_sig: p.content_sig,
      }, f.ts);
      for (const [id, user] of this.#online) if (id !== f.from) this.#send(user.socket, relay);
    } else {
      const to = this.#online.get(f.to);
      // Local delivery keeps from, to, ts and payload, with B's own signature.
      const relay = await signedFrame({ ...this.identity, id: f.from }, f.type, f.to, p, f.ts);
      if (to) this.#send(to.socket, relay);
    }
    return bound;
  }

  async #hello(socket: WebSocket, f: Loose): Promise<string | undefined> {
    const p = f.payload as Record<string, unknown>;
    if (typeof p.client !== "string" || typeof p.pubkey !== "string" || !("enc_pubkey" in p)) {
      await this.#error(socket, f.from, "BAD_KEY", "missing hello field");
      return undefined;
    }
    if (this.#online.has(f.from)) {
      await this.#error(socket, f.from, "NAME_IN_USE", "already connected");
      return undefined;
    }
    const pem = String(p.enc_pubkey ?? p.pubkey);
    if (!parsePublicKey(pem).ok) {
      await this.#error(socket, f.from, "BAD_KEY", "bad key");
      return undefined;
    }
    this.#online.set(f.from, { socket, pem });
    const version = ++this.#version;
    // B's UPDATED carries each member's public key where a wrap should be (its known hazard).
    const wraps = [...this.#online].map(([id, u]) => ({ member_id: id, wrapped_key: u.pem }));
    const add = await this.#signed("*", "PUBLIC_CHANNEL_ADD", {
      add: [f.from],
      if_version: version - 1,
    });
    const updated = await this.#signed("*", "PUBLIC_CHANNEL_UPDATED", { version, wraps });
    for (const user of this.#online.values()) {
      this.#send(user.socket, add);
      this.#send(user.socket, updated);
    }
    for (const [id, user] of this.#online) {
      if (id === f.from) continue;
      this.#send(socket, await this.#advert(id, user.pem, f.from, "local"));
    }
    for (const [id, user] of this.#online) {
      this.#send(user.socket, await this.#advert(f.from, pem, id, this.identity.id));
    }
    return f.from;
  }

  #advert(userId: string, pem: string, to: string, serverId: string) {
    return this.#signed(to, "USER_ADVERTISE", {
      user_id: userId,
      server_id: serverId,
      meta: { pubkey: pem },
    });
  }

  /** Stops listening. */
  async stop(): Promise<void> {
    for (const user of this.#online.values()) user.socket.close();
    await this.#server.shutdown();
  }
}
