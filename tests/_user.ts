// A small scripted SOCP user for server tests: signed-fresh hello, DMs,
// public messages, files, and the receive side (decrypt and verify). It is
// deliberately independent of client/ so server tests have their own oracle.

import {
  aesGcmDecrypt,
  aesGcmEncrypt,
  buildMsgDirect,
  buildMsgPublic,
  buildSigned,
  buildUserHello,
  decryptWith,
  dmSigFieldsOf,
  encryptFor,
  type Frame,
  type FrameOf,
  type Identity,
  importPublicKey,
  type KeyPair,
  type MessageType,
  type PayloadMap,
  type PublicKey,
  publicSigFieldsOf,
  sha256Hex,
  verifyDmContentSig,
  verifyPublicContentSig,
} from "../mod.ts";
import { FrameSocket } from "./_peer.ts";

/** A DM as received and opened. */
export interface ReceivedDm {
  from: string;
  text: string;
  ts: number;
  verified: boolean;
}

/** A scripted user connected to one server. */
export class TestUser {
  readonly identity: Identity;
  readonly name: string;
  socket!: FrameSocket;

  constructor(keys: KeyPair, name: string, id: string = crypto.randomUUID()) {
    this.identity = { id, keys };
    this.name = name;
  }

  get id(): string {
    return this.identity.id;
  }

  get publicKey(): PublicKey {
    return this.identity.keys.publicKey;
  }

  /** A frame signed by this user. */
  sign<T extends MessageType>(type: T, to: string, payload: PayloadMap[T]): Promise<FrameOf<T>> {
    return buildSigned(this.identity, type, to, payload);
  }

  /** Opens a link and sends a hello (by default signed-fresh); resolves with the ACK or ERROR. */
  async connect(
    url: string,
    client: Deno.HttpClient,
    hello?: object,
  ): Promise<Frame> {
    this.socket = await FrameSocket.open(url, client);
    this.socket.send(
      hello ?? await buildUserHello(this.identity, { meta: { display_name: this.name } }),
    );
    return await this.socket.next((f) => f.type === "ACK" || f.type === "ERROR");
  }

  /** Sends a DM. */
  async dm(to: TestUser, text: string): Promise<FrameOf<"MSG_DIRECT">> {
    const frame = await buildMsgDirect(this.identity, to.id, to.publicKey, text);
    this.socket.send(frame);
    return frame;
  }

  /** Waits for the next USER_DELIVER from index `after`, opens and verifies it. */
  async nextDm(after = 0, timeoutMs = 10_000): Promise<ReceivedDm> {
    const frame = await this.socket.next(
      (f) => f.type === "USER_DELIVER",
      timeoutMs,
      after,
    ) as FrameOf<"USER_DELIVER">;
    const plain = await decryptWith(this.identity.keys.privateKey, frame.payload.ciphertext);
    const sender = await importPublicKey(frame.payload.sender_pub);
    const verified = await verifyDmContentSig(
      sender,
      dmSigFieldsOf(frame),
      frame.payload.content_sig,
    );
    return {
      from: frame.payload.sender,
      text: new TextDecoder().decode(plain!),
      ts: frame.ts,
      verified,
    };
  }

  /**
   * Channel keys this user can unwrap from the UPDATED frames received so far,
   * winner first (highest version, then lowest creator): two servers may
   * announce the same version concurrently, each with its own key.
   */
  async channelKeys(): Promise<{ version: number; from: string; key: Uint8Array }[]> {
    const keys = [];
    for (const frame of this.socket.ofType("PUBLIC_CHANNEL_UPDATED")) {
      const mine = frame.payload.wraps.find((w) => w.member_id === this.id);
      const key = mine && await decryptWith(this.identity.keys.privateKey, mine.wrapped_key);
      if (key) keys.push({ version: frame.payload.version, from: frame.from, key });
    }
    return keys.sort((x, y) => y.version - x.version || (x.from < y.from ? -1 : 1));
  }

  /** Waits until this user holds a channel key of at least `minVersion`; returns the winning one. */
  async currentChannelKey(
    minVersion = 1,
    timeoutMs = 10_000,
  ): Promise<{ version: number; key: Uint8Array }> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const [winner] = await this.channelKeys();
      if (winner && winner.version >= minVersion) return winner;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`${this.name} has no channel key ≥ v${minVersion}`);
  }

  /** Sends a public-channel message under the newest key held. */
  async publicMessage(text: string): Promise<FrameOf<"MSG_PUBLIC_CHANNEL">> {
    const { version, key } = await this.currentChannelKey();
    const frame = await buildMsgPublic(this.identity, key, version, text);
    this.socket.send(frame);
    return frame;
  }

  /** Tries to open a public message with the keys held; null if none opens it. */
  async openPublic(
    frame: FrameOf<"MSG_PUBLIC_CHANNEL">,
  ): Promise<{ text: string; verified: boolean } | null> {
    for (const { key } of await this.channelKeys()) {
      const plain = await aesGcmDecrypt(key, frame.payload.ciphertext);
      if (plain) {
        const sender = await importPublicKey(frame.payload.sender_pub);
        const verified = await verifyPublicContentSig(
          sender,
          publicSigFieldsOf(frame),
          frame.payload.content_sig,
        );
        return { text: new TextDecoder().decode(plain), verified };
      }
    }
    return null;
  }

  /** Sends a file in `dm` mode (RSA chunks of 446 bytes) to `to`, or in `public` mode. */
  async sendFile(to: TestUser | "public", bytes: Uint8Array, name = "file.bin"): Promise<string> {
    const fileId = crypto.randomUUID();
    const target = to === "public" ? "public" : to.id;
    const mode = to === "public" ? "public" : "dm";
    const sign = <T extends "FILE_START" | "FILE_CHUNK" | "FILE_END">(
      type: T,
      payload: Parameters<typeof buildSigned<T>>[3],
    ) => buildSigned(this.identity, type, target, payload);
    this.socket.send(
      await sign("FILE_START", {
        file_id: fileId,
        name,
        size: bytes.length,
        sha256: await sha256Hex(bytes),
        mode,
      }),
    );
    const chunk = to === "public" ? 16_384 : 446;
    const groupKey = to === "public" ? (await this.currentChannelKey()).key : undefined;
    for (let index = 0, at = 0; at < bytes.length; index++, at += chunk) {
      const part = bytes.subarray(at, at + chunk);
      const ciphertext = to === "public"
        ? await aesGcmEncrypt(groupKey!, part)
        : await encryptFor(to.publicKey, part);
      this.socket.send(await sign("FILE_CHUNK", { file_id: fileId, index, ciphertext }));
    }
    this.socket.send(await sign("FILE_END", { file_id: fileId }));
    return fileId;
  }

  /** Waits for a whole file (START…END) and reassembles it; checks size and SHA-256. */
  async receiveFile(fileId: string, timeoutMs = 15_000): Promise<Uint8Array> {
    const isOurs = (f: Frame) => (f.payload as { file_id?: string }).file_id === fileId;
    const start = await this.socket.next(
      (f) => f.type === "FILE_START" && isOurs(f),
      timeoutMs,
    ) as FrameOf<"FILE_START">;
    await this.socket.next((f) => f.type === "FILE_END" && isOurs(f), timeoutMs);
    const chunks = this.socket.frames.filter((f) =>
      f.type === "FILE_CHUNK" && isOurs(f)
    ) as FrameOf<"FILE_CHUNK">[];
    const groupKeys = (await this.channelKeys()).map((k) => k.key);
    const parts: Uint8Array[] = [];
    for (const c of chunks.sort((a, b) => a.payload.index - b.payload.index)) {
      let plain = start.payload.mode === "dm"
        ? await decryptWith(this.identity.keys.privateKey, c.payload.ciphertext)
        : null;
      for (const key of groupKeys) plain ??= await aesGcmDecrypt(key, c.payload.ciphertext);
      if (!plain) throw new Error(`chunk ${c.payload.index} does not open`);
      parts.push(plain);
    }
    const bytes = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
    let at = 0;
    for (const p of parts) {
      bytes.set(p, at);
      at += p.length;
    }
    if (bytes.length !== start.payload.size || await sha256Hex(bytes) !== start.payload.sha256) {
      throw new Error("reassembled file does not match FILE_START");
    }
    return bytes;
  }

  /** Closes the link. */
  close(): Promise<void> {
    return this.socket.close();
  }
}
