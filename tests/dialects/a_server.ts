// A dialect A server for its clients, simulated from ../shared/DIALECTS.md
// §A.3–A.5 (our own code, one process, no mesh): wss at any path, a hello
// with a plaintext password and a PEM key (no ACK: adverts and key frames say
// it worked), adverts re-issued from itself with top-level PEM keys, a
// server-made AES key rewrapped at every join, DMs and public messages
// delivered as USER_DELIVER (the sender gets its own public echo), files
// forwarded unchanged, /list as COMMAND. It verifies signatures with salt 478
// only and drops what it cannot parse, as A does.

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

interface AUser {
  socket: WebSocket;
  key: PublicKey;
}

/** A simulated dialect A server (its clients only). */
export class DialectAServer {
  readonly identity: Identity;
  readonly url: string;
  /** Frames it dropped, and why (A logs "bad payload shape" and carries on). */
  readonly dropped: string[] = [];
  readonly #server: Deno.HttpServer<Deno.NetAddr>;
  readonly #online = new Map<string, AUser>();
  readonly #passwords = new Map<string, string>();
  #version = 0;
  #queue: Promise<void> = Promise.resolve();

  /** Starts on 127.0.0.1 (a fresh id at every start, as A does), with TLS. */
  constructor(keys: KeyPair, tls: { cert: string; key: string }) {
    this.identity = { id: crypto.randomUUID(), keys };
    this.#server = Deno.serve({
      hostname: "127.0.0.1",
      port: 0,
      onListen: () => {},
      ...tls,
      handler: (req) => {
        const { socket, response } = Deno.upgradeWebSocket(req);
        socket.onmessage = (e) => {
          const text = String(e.data);
          this.#queue = this.#queue.then(() => this.#read(socket, text)).catch((err) => {
            this.dropped.push(String(err));
          });
        };
        socket.onclose = () => this.#gone(socket);
        return response;
      },
    });
    this.url = `wss://127.0.0.1:${this.#server.addr.port}/ws`;
  }

  #send(socket: WebSocket, frame: Record<string, unknown>): void {
    if (socket.readyState === WebSocket.OPEN) socket.send(pyDumps(frame));
  }

  async #signed(to: string, type: string, payload: Record<string, unknown>, ts?: number) {
    return await signedFrame(this.identity, type, to, payload, ts);
  }

  async #read(socket: WebSocket, text: string): Promise<void> {
    let f: Loose;
    try {
      f = JSON.parse(text);
    } catch {
      return void this.dropped.push("not JSON");
    }
    const p = f.payload ?? {};
    if (f.type === "USER_HELLO") return await this.#hello(socket, f);
    const sender = this.#online.get(f.from);
    const signed = sender &&
      await verifyMaxSalt(sender.key, new TextEncoder().encode(canonicalJson(p)), f.sig);
    if (!signed) return void this.dropped.push(`${f.type}: unknown sender or bad signature`);
    switch (f.type) {
      case "MSG_DIRECT": {
        const to = this.#online.get(f.to);
        if (!to) return; // A logs only: no ERROR
        return this.#send(
          to.socket,
          await this.#signed(f.to, "USER_DELIVER", {
            ciphertext: p.ciphertext,
            sender: f.from,
            sender_pub: p.sender_pub,
            content_sig: p.content_sig,
          }, f.ts),
        );
      }
      case "MSG_PUBLIC_CHANNEL":
        for (const [id, user] of this.#online) {
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
        return;
      case "FILE_START":
      case "FILE_CHUNK":
      case "FILE_END": {
        const to = this.#online.get(f.to);
        // Unchanged: user from, user sig, original ts.
        if (to) this.#send(to.socket, f as unknown as Record<string, unknown>);
        return;
      }
      case "COMMAND": {
        if (String(p.command).trim() !== "/list") return;
        const users = [...this.#online.keys()].sort();
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

  async #hello(socket: WebSocket, f: Loose): Promise<void> {
    const p = f.payload as Record<string, unknown>;
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
    if (this.#online.has(f.from)) return await fail("NAME_IN_USE", "already online");
    this.#passwords.set(f.from, p.password);
    this.#online.set(f.from, { socket, key });
    // No ACK: catch-up adverts, the newcomer's advert to everyone (itself too), new key frames.
    for (const [id, user] of this.#online) {
      if (id !== f.from) this.#send(socket, await this.#advert(id, user, f.from));
    }
    for (const [id, user] of this.#online) {
      this.#send(user.socket, await this.#advert(f.from, { socket, key }, id));
    }
    await this.#rotate();
  }

  #advert(userId: string, user: AUser, to: string) {
    return this.#signed(to, "USER_ADVERTISE", {
      user_id: userId,
      server_id: this.identity.id,
      pubkey: pemOf(user.key),
      meta: {},
    });
  }

  /** A fresh AES key at every join, wrapped to every member, as UPDATED and KEY_SHARE. */
  async #rotate(): Promise<void> {
    const key = generateAesKey();
    const version = ++this.#version;
    const wraps = [];
    for (const [id, user] of this.#online) {
      wraps.push({ member_id: id, wrapped_key: await encryptFor(user.key, key) });
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
    for (const user of this.#online.values()) {
      this.#send(user.socket, updated);
      this.#send(user.socket, share);
    }
  }

  async #gone(socket: WebSocket): Promise<void> {
    for (const [id, user] of this.#online) {
      if (user.socket !== socket) continue;
      this.#online.delete(id);
      for (const [other, u] of this.#online) {
        this.#send(
          u.socket,
          await this.#signed(other, "USER_REMOVE", { user_id: id, server_id: this.identity.id }),
        );
      }
    }
  }

  /** Stops listening. */
  async stop(): Promise<void> {
    for (const user of this.#online.values()) user.socket.close();
    await this.#server.shutdown();
  }
}
