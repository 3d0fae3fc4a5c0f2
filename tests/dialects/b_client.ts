// A dialect B client, simulated from docs/DIALECT-FACTS.md §B (our own code):
// an unsigned hello to its own id with PEM keys, every later frame signed,
// compact key-sorted JSON, keys only from adverts' `meta.pubkey`, /list kept
// client-side from adverts, 190-byte RSA file chunks, and a public channel
// that is base64url plaintext. Frames failing B's strict envelope check are
// dropped (counted in `dropped`), as B's client does.

import {
  canonicalJson,
  decodeBase64url,
  decryptWith,
  dmContentSig,
  encodeBase64url,
  encryptFor,
  type Identity,
  isUuidV4,
  type KeyPair,
  publicContentSig,
  type PublicKey,
  sha256Hex,
} from "../../mod.ts";
import { loadPem, type Loose, pemOf, signedFrame, v1, verifyMaxSalt } from "./_wire.ts";

const DM_CHUNK = 190;
const SIG = /^[A-Za-z0-9_-]+$/;

/** A simulated dialect B client. */
export class DialectBClient {
  readonly identity: Identity;
  readonly socket: WebSocket;
  /** Online users and their keys, from adverts and removes (B's /list). */
  readonly online = new Map<string, PublicKey | null>();
  readonly dms: { from: string; text: string }[] = [];
  readonly publics: { from: string; text: string }[] = [];
  readonly files: { name: string; bytes: Uint8Array }[] = [];
  /** Frames dropped by B's envelope check, and ERROR codes shown. */
  dropped = 0;
  readonly errors: string[] = [];
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

  /** Connects and says an unsigned hello to its own id; B expects no ACK. */
  static async connect(
    url: string,
    client: Deno.HttpClient,
    keys: KeyPair,
  ): Promise<DialectBClient> {
    const socket = new WebSocket(url, { client });
    await new Promise((resolve, reject) => {
      socket.onopen = resolve;
      socket.onerror = () => reject(new Error("B client could not connect"));
    });
    const me = new DialectBClient({ id: crypto.randomUUID(), keys }, socket);
    const key = pemOf(keys.publicKey);
    me.#send({
      type: "USER_HELLO",
      from: me.id,
      to: me.id,
      ts: Date.now(),
      payload: { client: "cli-v1", pubkey: key, enc_pubkey: key, meta: {} },
    });
    return me;
  }

  get id(): string {
    return this.identity.id;
  }

  /** B writes compact, key-sorted JSON. */
  #send(frame: Record<string, unknown>): void {
    this.socket.send(canonicalJson(frame, { ascii: false }));
  }

  #envelopeOk(f: Loose): boolean {
    const to = f.to;
    return isUuidV4(f.from) && Number.isInteger(f.ts) && typeof f.payload === "object" &&
      (to === "*" || to === "public" || isUuidV4(to)) &&
      (f.sig === undefined || f.sig === null || (typeof f.sig === "string" && SIG.test(f.sig)));
  }

  async #read(text: string): Promise<void> {
    let f: Loose;
    try {
      f = JSON.parse(text);
    } catch {
      this.dropped++;
      return;
    }
    if (!this.#envelopeOk(f)) {
      this.dropped++;
      return;
    }
    const p = f.payload;
    switch (f.type) {
      case "USER_ADVERTISE":
        this.online.set(p.user_id as string, loadPem((p.meta as Record<string, unknown>)?.pubkey));
        return;
      case "USER_REMOVE":
        this.online.delete(p.user_id as string);
        return;
      case "ERROR":
        this.errors.push(String(p.code));
        return;
      case "USER_DELIVER":
        return await this.#deliver(f);
      case "MSG_PUBLIC_CHANNEL": {
        const bytes = decodeBase64url(String(p.ciphertext));
        const text = bytes && new TextDecoder("utf-8", { fatal: true }).decode(bytes);
        if (text) this.publics.push({ from: f.from, text });
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

  /** B verifies V1 over ct + sender + its own id + ts with `sender_pub` (PEM), then decrypts. */
  async #deliver(f: Loose): Promise<void> {
    const p = f.payload as Record<string, string>;
    if (!p.ciphertext || !p.sender || !p.sender_pub || !p.content_sig) return;
    const key = loadPem(p.sender_pub);
    if (
      !key || !(await verifyMaxSalt(key, v1(p.ciphertext, p.sender, this.id, f.ts), p.content_sig))
    ) {
      return; // "Rejected DM"
    }
    const plain = await decryptWith(this.identity.keys.privateKey, p.ciphertext);
    if (plain) this.dms.push({ from: p.sender, text: new TextDecoder().decode(plain) });
  }

  async #fileEnd(fileId: string): Promise<void> {
    const file = this.#incoming.get(fileId);
    if (!file || file.start.mode !== "dm") return;
    this.#incoming.delete(fileId);
    const parts: Uint8Array[] = [];
    for (const index of [...file.chunks.keys()].sort((a, b) => a - b)) {
      const plain = await decryptWith(this.identity.keys.privateKey, file.chunks.get(index)!);
      if (!plain) return;
      parts.push(plain);
    }
    const bytes = new Uint8Array(parts.reduce((n, x) => n + x.length, 0));
    parts.reduce((at, x) => (bytes.set(x, at), at + x.length), 0);
    if (await sha256Hex(bytes) !== String(file.start.sha256).toLowerCase()) return;
    this.files.push({ name: String(file.start.name), bytes });
  }

  /** A DM under the key from the recipient's advert. */
  async tell(userId: string, text: string): Promise<void> {
    const key = this.online.get(userId);
    if (!key) throw new Error(`B client: no PEM key for ${userId}`);
    const ts = Date.now();
    const ciphertext = await encryptFor(key, text);
    const fields = { ciphertext, from: this.id, to: userId, ts };
    const payload = {
      ciphertext,
      sender_pub: pemOf(this.identity.keys.publicKey),
      content_sig: await dmContentSig(this.identity.keys.privateKey, fields),
    };
    this.#send(await signedFrame(this.identity, "MSG_DIRECT", userId, payload, ts));
  }

  /** A public message: B's ciphertext is the base64url of the plaintext. */
  async all(text: string): Promise<void> {
    const ts = Date.now();
    const ciphertext = encodeBase64url(new TextEncoder().encode(text));
    const payload = {
      ciphertext,
      sender_pub: pemOf(this.identity.keys.publicKey),
      content_sig: await publicContentSig(this.identity.keys.privateKey, {
        ciphertext,
        from: this.id,
        ts,
      }),
    };
    this.#send(await signedFrame(this.identity, "MSG_PUBLIC_CHANNEL", "public", payload, ts));
  }

  /** A DM-mode file in 190-byte OAEP chunks. */
  async sendFile(userId: string, name: string, bytes: Uint8Array): Promise<void> {
    const key = this.online.get(userId);
    if (!key) throw new Error(`B client: no PEM key for ${userId}`);
    const fileId = crypto.randomUUID();
    const sign = (type: string, payload: Record<string, unknown>) =>
      signedFrame(this.identity, type, userId, payload);
    const start = { file_id: fileId, name, size: bytes.length, sha256: await sha256Hex(bytes) };
    this.#send(await sign("FILE_START", { ...start, mode: "dm" }));
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
