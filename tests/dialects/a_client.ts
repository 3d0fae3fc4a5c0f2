// A dialect A client, simulated from docs/DIALECT-FACTS.md §A (our own code):
// it logs in with a plaintext password and `"enc_pubkey": null`, sends PEM
// keys and Python's json.dumps text, takes keys from adverts' top-level
// `pubkey`, reads DMs and public messages from USER_DELIVER, runs /list as a
// COMMAND, sends 400-byte RSA file chunks, and parses as strictly as A: an
// unknown type, a foreign ERROR code or a missing field ends its reader for
// good (`readerDeath` then says why), as the real client's would.

import {
  aesGcmDecrypt,
  aesGcmEncrypt,
  decryptWith,
  dmContentSig,
  encryptFor,
  type Identity,
  type KeyPair,
  publicContentSig,
  type PublicKey,
  sha256Hex,
} from "../../mod.ts";
import { loadPem, type Loose, pemOf, pyDumps, signedFrame, v1, verifyMaxSalt } from "./_wire.ts";

/** The 22 types A parses; anything else is fatal to its reader. */
const KNOWN = new Set(
  ("FILE_START FILE_CHUNK FILE_END SERVER_HELLO_JOIN SERVER_WELCOME SERVER_ANNOUNCE SERVER_GOODBYE " +
    "USER_ADVERTISE USER_REMOVE SERVER_DELIVER HEARTBEAT ACK ERROR USER_HELLO USER_DELIVER " +
    "MSG_DIRECT MSG_PUBLIC_CHANNEL PUBLIC_CHANNEL_ADD PUBLIC_CHANNEL_UPDATED " +
    "PUBLIC_CHANNEL_KEY_SHARE COMMAND COMMAND_RESPONSE").split(" "),
);
const CODES = new Set([
  "USER_NOT_FOUND",
  "NAME_IN_USE",
  "FILE_TOO_BIG",
  "INVALID_PUBLIC_KEY",
  "INVALID_PASSWORD",
]);
const REQUIRED: Record<string, string[]> = {
  ERROR: ["code", "detail"],
  USER_ADVERTISE: ["user_id", "server_id", "pubkey"],
  USER_DELIVER: ["ciphertext", "sender", "sender_pub", "content_sig"],
  FILE_START: ["file_id", "name", "size", "sha256", "mode"],
  FILE_CHUNK: ["file_id", "index", "ciphertext"],
  PUBLIC_CHANNEL_KEY_SHARE: ["shares", "creator_pub", "content_sig"],
};
const DM_CHUNK = 400;

/** A message the simulated client read. */
export interface AReceived {
  kind: "dm" | "public";
  from: string;
  text: string;
}

/** A simulated dialect A client. */
export class DialectAClient {
  readonly identity: Identity;
  readonly socket: WebSocket;
  /** Why the reader died, if it did (then nothing more is read). */
  readerDeath?: string;
  /** Keys from adverts (PEM only; a DER key is kept as null and breaks /tell). */
  readonly keys = new Map<string, PublicKey | null>();
  readonly received: AReceived[] = [];
  readonly files: { name: string; bytes: Uint8Array }[] = [];
  readonly lists: string[][] = [];
  /** ERROR codes received. */
  readonly errors: string[] = [];
  #groupKey?: Uint8Array;
  #incoming = new Map<string, { start: Record<string, unknown>; chunks: Map<number, string> }>();
  #queue: Promise<void> = Promise.resolve();

  private constructor(identity: Identity, socket: WebSocket) {
    this.identity = identity;
    this.socket = socket;
    socket.onmessage = (e) => {
      const text = String(e.data);
      this.#queue = this.#queue.then(() => this.#read(text));
    };
  }

  /** Connects and says hello with a password; A expects no ACK. */
  static async connect(
    url: string,
    client: Deno.HttpClient,
    options: { id: string; keys: KeyPair; password: string },
  ): Promise<DialectAClient> {
    const socket = new WebSocket(url, { client });
    await new Promise((resolve, reject) => {
      socket.onopen = resolve;
      socket.onerror = () => reject(new Error("A client could not connect"));
    });
    const me = new DialectAClient({ id: options.id, keys: options.keys }, socket);
    me.#send(
      await signedFrame(me.identity, "USER_HELLO", "server", {
        client: "local-cli-v1",
        pubkey: pemOf(options.keys.publicKey),
        enc_pubkey: null,
        password: options.password,
      }),
    );
    return me;
  }

  get id(): string {
    return this.identity.id;
  }

  /** Whether a group key has arrived (the last UPDATED wrap or KEY_SHARE share wins). */
  get hasGroupKey(): boolean {
    return this.#groupKey !== undefined;
  }

  #send(frame: Record<string, unknown>): void {
    this.socket.send(pyDumps(frame));
  }

  #die(why: string): void {
    this.readerDeath ??= why;
  }

  async #read(text: string): Promise<void> {
    if (this.readerDeath) return;
    let f: Loose;
    try {
      f = JSON.parse(text);
    } catch {
      return this.#die("not JSON");
    }
    if (!KNOWN.has(f.type)) return this.#die(`unknown type ${f.type}`);
    if (typeof f.from !== "string" || typeof f.to !== "string" || !Number.isInteger(f.ts)) {
      return this.#die(`bad envelope on ${f.type}`);
    }
    const missing = (REQUIRED[f.type] ?? []).find((k) => f.payload?.[k] === undefined);
    if (missing) return this.#die(`${f.type} without ${missing}`);
    const p = f.payload;
    switch (f.type) {
      case "ERROR":
        if (!CODES.has(p.code as string)) return this.#die(`ERROR code ${p.code}`);
        this.errors.push(p.code as string);
        return;
      case "USER_ADVERTISE":
        this.keys.set(p.user_id as string, loadPem(p.pubkey));
        return;
      case "USER_DELIVER":
        return await this.#deliver(f);
      case "COMMAND_RESPONSE": {
        if (typeof p.response !== "string") return this.#die("COMMAND_RESPONSE not a string");
        try {
          this.lists.push(JSON.parse(p.response).users);
        } catch {
          return this.#die("COMMAND_RESPONSE not JSON text");
        }
        return;
      }
      case "PUBLIC_CHANNEL_UPDATED": {
        const wraps = p.wraps as { member_id?: unknown; wrapped_key?: unknown }[];
        if (wraps.some((w) => typeof w.member_id !== "string")) return this.#die("bad wraps");
        const mine = wraps.find((w) => w.member_id === this.id);
        if (typeof mine?.wrapped_key === "string") await this.#takeKey(mine.wrapped_key);
        return;
      }
      case "PUBLIC_CHANNEL_KEY_SHARE": {
        const mine = (p.shares as Record<string, unknown>[]).find((s) => s.member === this.id);
        if (mine && typeof mine.wrapped_public_channel_key !== "string") {
          return this.#die("share without wrapped_public_channel_key");
        }
        if (mine) await this.#takeKey(mine.wrapped_public_channel_key as string);
        return;
      }
      case "FILE_START":
        this.#incoming.set(p.file_id as string, { start: p, chunks: new Map() });
        return;
      case "FILE_CHUNK":
        this.#incoming.get(p.file_id as string)?.chunks.set(
          p.index as number,
          p.ciphertext as string,
        );
        return;
      case "FILE_END":
        return await this.#fileEnd(p.file_id as string);
    }
  }

  async #takeKey(wrapped: string): Promise<void> {
    const key = await decryptWith(this.identity.keys.privateKey, wrapped);
    if (key && key.length === 32) this.#groupKey = key;
  }

  /** DM first; if that fails, a public message under the current key (A's only public form). */
  async #deliver(f: Loose): Promise<void> {
    const p = f.payload as Record<string, string>;
    const senderPub = loadPem(p.sender_pub);
    if (!senderPub) return; // "neither DM nor public": logged, not fatal
    const plain = await decryptWith(this.identity.keys.privateKey, p.ciphertext);
    const dmSigned = v1(p.ciphertext, p.sender, f.to, f.ts);
    if (plain && await verifyMaxSalt(senderPub, dmSigned, p.content_sig)) {
      this.received.push({ kind: "dm", from: p.sender, text: new TextDecoder().decode(plain) });
      return;
    }
    if (!this.#groupKey) return;
    const open = await aesGcmDecrypt(this.#groupKey, p.ciphertext);
    if (open && await verifyMaxSalt(senderPub, v1(p.ciphertext, p.sender, f.ts), p.content_sig)) {
      this.received.push({ kind: "public", from: p.sender, text: new TextDecoder().decode(open) });
    }
  }

  async #fileEnd(fileId: string): Promise<void> {
    const file = this.#incoming.get(fileId);
    if (!file) return;
    this.#incoming.delete(fileId);
    const parts: Uint8Array[] = [];
    for (const index of [...file.chunks.keys()].sort((a, b) => a - b)) {
      const ct = file.chunks.get(index)!;
      const plain = file.start.mode === "dm"
        ? await decryptWith(this.identity.keys.privateKey, ct)
        : this.#groupKey && await aesGcmDecrypt(this.#groupKey, ct);
      if (!plain) return;
      parts.push(plain);
    }
    const bytes = new Uint8Array(parts.reduce((n, x) => n + x.length, 0));
    parts.reduce((at, x) => (bytes.set(x, at), at + x.length), 0);
    // A compares the hex string as it is: an uppercase digest fails.
    if (bytes.length !== file.start.size || await sha256Hex(bytes) !== file.start.sha256) return;
    this.files.push({ name: String(file.start.name).split("/").pop()!, bytes });
  }

  /** `/tell`: a DM under the key from the recipient's advert (a DER key ends the client). */
  async tell(userId: string, text: string): Promise<void> {
    const key = this.keys.get(userId);
    if (!key) {
      this.#die(`no loadable key for ${userId}`);
      throw new Error(`A client exits: no PEM key for ${userId}`);
    }
    const ts = Date.now();
    const ciphertext = await encryptFor(key, text);
    const content_sig = await dmContentSig(this.identity.keys.privateKey, {
      ciphertext,
      from: this.id,
      to: userId,
      ts,
    });
    const payload = { ciphertext, sender_pub: pemOf(this.identity.keys.publicKey), content_sig };
    this.#send(await signedFrame(this.identity, "MSG_DIRECT", userId, payload, ts));
  }

  /** `/all`: an AES-GCM iv16 blob under the latest key, no `key_version`. */
  async all(text: string): Promise<void> {
    if (!this.#groupKey) throw new Error("A client has no group key yet");
    const ts = Date.now();
    const ciphertext = await aesGcmEncrypt(this.#groupKey, text);
    const content_sig = await publicContentSig(this.identity.keys.privateKey, {
      ciphertext,
      from: this.id,
      ts,
    });
    const payload = { ciphertext, sender_pub: pemOf(this.identity.keys.publicKey), content_sig };
    this.#send(await signedFrame(this.identity, "MSG_PUBLIC_CHANNEL", "public", payload, ts));
  }

  /** `/list`: COMMAND to "server"; the answer lands in {@linkcode DialectAClient.lists}. */
  async list(): Promise<void> {
    this.#send(await signedFrame(this.identity, "COMMAND", "server", { command: "/list" }));
  }

  /** `/file`: FILE_START, 400-byte OAEP chunks, FILE_END, all signed by the user. */
  async sendFile(userId: string, name: string, bytes: Uint8Array): Promise<void> {
    const key = this.keys.get(userId);
    if (!key) throw new Error(`A client exits: no PEM key for ${userId}`);
    const fileId = crypto.randomUUID();
    const sign = (type: string, payload: Record<string, unknown>) =>
      signedFrame(this.identity, type, userId, payload);
    this.#send(
      await sign("FILE_START", {
        file_id: fileId,
        name,
        size: bytes.length,
        sha256: await sha256Hex(bytes),
        mode: "dm",
      }),
    );
    for (let index = 0, at = 0; at < bytes.length; index++, at += DM_CHUNK) {
      const ciphertext = await encryptFor(key, bytes.subarray(at, at + DM_CHUNK));
      this.#send(await sign("FILE_CHUNK", { file_id: fileId, index, ciphertext }));
    }
    this.#send(await sign("FILE_END", { file_id: fileId }));
  }

  /** Closes the socket and waits for it to close. */
  async close(): Promise<void> {
    if (this.socket.readyState === WebSocket.CLOSED) return;
    const closed = new Promise((resolve) => this.socket.onclose = resolve);
    this.socket.close();
    await closed;
  }
}
