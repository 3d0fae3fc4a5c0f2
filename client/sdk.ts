/**
 * The socp client SDK: connect with a signed-fresh hello, track presence,
 * send and receive end-to-end encrypted DMs, public messages and files, and
 * reconnect with backoff. Platform calls (sockets, files) go through a
 * {@linkcode ClientAdapter}, so the same SDK runs in Deno and the browser.
 * Programs import it from `@socp/socp/client` (client/mod.ts).
 *
 * @module
 */

import { buildMsgDirect, buildMsgPublic, type Identity } from "../protocol/builders.ts";
import { CHANNEL_KEY_CAP } from "../protocol/channel_key.ts";
import { ErrorCode, SocpError } from "../protocol/errors.ts";
import { OAEP_MAX_PLAINTEXT } from "../protocol/limits.ts";
import {
  ADVERT_ACK_CAP,
  type Envelope,
  FILE_ACK_CAP,
  type FrameOf,
  PRESENCE_LITE_CAP,
} from "../protocol/types.ts";
import { PendingAcks } from "./_acks.ts";
import { answeredWithin, welcomeAck } from "./_welcome.ts";
import {
  FAST_FILES as FAST_FILES_CAP,
  fileFrames,
  type FileTarget,
  sendFileFrames,
} from "./_file_send.ts";

import { frameOrNull } from "./_frames.ts";
import { askList, lookUp } from "./_list.ts";
import { recipientOf, resolveTarget } from "./_recipient.ts";
import { OfflineContacts } from "./_offline.ts";
import { ChannelKeys } from "./channel_keys.ts";
import { type Contact, Directory, type Listing } from "./directory.ts";
import { EventHub, type UserListing } from "./events.ts";
import { RECEIVE, type ReceiveContext } from "./receive.ts";
import { IncomingTransfers } from "./transfers.ts";
import {
  acksHello,
  helloFor,
  publicChannelProblem,
  type ServerDialect,
  writeForServer,
} from "./server_dialect.ts";

export { fileFrames, type FileTarget };

/** Platform services the SDK needs. */
export interface ClientAdapter {
  /** Opens a WebSocket to `url` (resolving once open). */
  connect(url: string): Promise<WebSocket>;
  /** Stores a received, verified file; never overwrites; returns where it went. */
  saveFile(name: string, bytes: Uint8Array): Promise<string>;
}

/** Options of {@linkcode SocpClient}. */
export interface ClientOptions {
  /** Server endpoint, e.g. `wss://127.0.0.1:8443/ws`. */
  url: string;
  /** The user's id and key pair (see `loadOrCreateIdentity`). */
  identity: Identity;
  /** The name other users see. */
  displayName: string;
  /** Sockets and files for this platform, e.g. a `DenoAdapter`. */
  adapter: ClientAdapter;
  /** Reconnect with backoff after the connection drops (default true). */
  reconnect?: boolean;
  /**
   * Capabilities to advertise (default `["file-aesgcm", "channel-key",
   * "presence-lite"]`: fast file mode, only our own wrap of each
   * public-channel key, and presence without every user's advert).
   */
  caps?: string[];
  /** The server's dialect (default ours; docs/DIALECTS.md). */
  serverDialect?: ServerDialect;
  /** A password for servers that check one (dialect A); sent only when given. */
  password?: string;
}

/** The capability that enables fast (AES-GCM) DM files (SOCP.md §8.5). */
export const FAST_FILES: string = FAST_FILES_CAP;
const BACKOFF_MS = [1000, 2000, 4000, 8000, 16000, 30000];
const MAX_BUFFERED = 1024 * 1024; // back-pressure: SOCP.md §8.1
const MAX_PUBLIC_TEXT = 16 * 1024;
const LOOKUP_TIMEOUT_MS = 5000;
const HELLO_TIMEOUT_MS = 15_000;

/**
 * A connected user.
 */
export class SocpClient implements ReceiveContext {
  /** The user this client connects as. */
  readonly identity: Identity;
  /** Who is online, and the keys known. */
  readonly directory: Directory;
  /** The public-channel keys held. */
  readonly channel: ChannelKeys;
  /** Files being received. */
  readonly incoming: IncomingTransfers;
  /** Everything the client reports: subscribe with `on` or iterate `stream()`. */
  readonly events: EventHub = new EventHub();
  /** The connected server's id (unset while disconnected) and key (from the hello ACK). */
  readonly server: { id?: string; key?: import("../protocol/keys.ts").PublicKey } = {};
  readonly #options: ClientOptions;
  /** Confirmations awaited from the server. */
  readonly #acks = new PendingAcks();
  readonly #dialect: ServerDialect;
  #socket?: WebSocket;
  /** Frames rewritten for a dialect server, sent in order. */
  #outgoing: Promise<void> = Promise.resolve();
  #closed = false;
  #attempt = 0;
  #retry?: ReturnType<typeof setTimeout>;
  #queue: Promise<void> = Promise.resolve();
  /** Whether our server sends PRESENCE, and so answers USER_LOOKUP. */
  #presenceLite = false;
  readonly #lookups = new Map<string, Promise<Contact | undefined>>();
  readonly #offline = new OfflineContacts();

  /** A client for `options`; nothing happens until {@linkcode SocpClient.connect}. */
  constructor(options: ClientOptions) {
    this.#options = options;
    this.#dialect = options.serverDialect ?? "socp";
    this.identity = options.identity;
    this.directory = new Directory(options.identity.id);
    this.channel = new ChannelKeys(options.identity.id, options.identity.keys.privateKey);
    this.incoming = new IncomingTransfers(
      options.identity.id,
      options.identity.keys.privateKey,
      this.channel,
    );
  }

  #caps(): string[] {
    return this.#options.caps ??
      [FAST_FILES, CHANNEL_KEY_CAP, PRESENCE_LITE_CAP, ADVERT_ACK_CAP, FILE_ACK_CAP];
  }

  /** Reports an event to every listener. */
  emit(event: Parameters<EventHub["emit"]>[0]): void {
    this.events.emit(event);
  }

  /** Takes a verified ACK from our server. */
  acknowledge(msgRef: string): void {
    this.#acks.take(msgRef);
  }

  /** Takes a refusal naming something we sent; true when a send was waiting for it. */
  refused(msgRef: string, code: string, detail: string): boolean {
    return this.#acks.refuse(msgRef, { code, detail });
  }

  /** Saves a received file through the adapter. */
  saveFile(name: string, bytes: Uint8Array): Promise<string> {
    return this.#options.adapter.saveFile(name, bytes);
  }

  /**
   * Connects and says hello. Resolves once the server accepts (ACK); rejects
   * with a {@linkcode SocpError} carrying the server's code if it refuses.
   */
  async connect(): Promise<void> {
    this.#closed = false;
    this.#presenceLite = false;
    const socket = await this.#options.adapter.connect(this.#options.url);
    this.#socket = socket;
    const meta = {
      display_name: this.#options.displayName,
      caps: this.#caps(),
    };
    const to = this.server.id ?? "*";
    const hello = await helloFor(this.#dialect, this.identity, {
      meta,
      to,
      password: this.#options.password,
    });
    const accepted = new Promise<void>((resolve, reject) => {
      const ready = (serverId: string) => {
        this.server.id = serverId;
        this.#attempt = 0;
        this.emit({ type: "ready", userId: this.identity.id, serverId, server: this.#options.url });
        resolve();
      };
      socket.onmessage = (event) => {
        const frame = frameOrNull(event.data);
        if (!frame) return;
        if (frame.type === "PRESENCE") this.#presenceLite = true;
        if (this.server.id === undefined && frame.type === "ACK") {
          // Taken (an unsigned one only with our own advert) before anything after it is handled.
          const ack = frame;
          this.#queue = this.#queue.then(async () => {
            const taken = await welcomeAck(ack, hello);
            if (typeof taken === "string") {
              reject(new SocpError(ErrorCode.BAD_KEY, taken));
              return socket.close();
            }
            this.server.key = taken.key;
            ready(ack.from);
          });
          return;
        } else if (
          this.server.id === undefined && frame.type !== "ERROR" && !acksHello(this.#dialect)
        ) {
          // Dialect servers send no ACK: the first frame that is not a refusal is the welcome.
          ready(frame.from);
        } else if (this.server.id === undefined && frame.type === "ERROR") {
          reject(new SocpError(frame.payload.code as ErrorCode, frame.payload.detail ?? "refused"));
        }
        this.#queue = this.#queue.then(() => this.#receive(frame)).catch((e) =>
          this.emit({
            type: "error",
            code: "CLIENT",
            detail: `could not handle ${frame.type}: ${e}`,
          })
        );
      };
      socket.onclose = (event) => {
        reject(
          new SocpError(
            ErrorCode.TIMEOUT,
            `connection closed (${event.code}${event.reason ? ` ${event.reason}` : ""})`,
          ),
        );
        this.#lost(event.reason || `code ${event.code}`);
      };
    });
    socket.send(JSON.stringify(hello));
    await answeredWithin(accepted, HELLO_TIMEOUT_MS, () => socket.close());
  }

  async #receive(frame: NonNullable<ReturnType<typeof frameOrNull>>): Promise<void> {
    const handler = RECEIVE[frame.type] as
      | ((ctx: ReceiveContext, f: typeof frame) => Promise<void> | void)
      | undefined;
    await handler?.(this, frame);
  }

  #lost(reason: string): void {
    const wasReady = this.server.id !== undefined;
    this.server.id = undefined;
    this.#socket = undefined;
    this.directory.clearPresence();
    if (this.#closed || this.#options.reconnect === false || !wasReady) {
      if (wasReady) this.emit({ type: "disconnected", reason });
      return;
    }
    const base = BACKOFF_MS[Math.min(this.#attempt++, BACKOFF_MS.length - 1)];
    const retryInMs = Math.round(base * (0.8 + 0.4 * Math.random()));
    this.emit({ type: "disconnected", reason, retryInMs });
    this.#retry = setTimeout(() => this.#reconnect(), retryInMs);
  }

  async #reconnect(): Promise<void> {
    if (this.#closed) return;
    try {
      await this.connect();
    } catch (e) {
      if (this.#closed) return;
      // What waiting cannot heal (an adapter's `retryable: false`, e.g. a certificate) ends here.
      if ((e as { retryable?: boolean }).retryable === false) {
        return this.emit({ type: "error", code: "CONNECT", detail: (e as Error).message });
      }
      const base = BACKOFF_MS[Math.min(this.#attempt++, BACKOFF_MS.length - 1)];
      const retryInMs = Math.round(base * (0.8 + 0.4 * Math.random()));
      this.emit({ type: "disconnected", reason: String((e as Error).message), retryInMs });
      this.#retry = setTimeout(() => this.#reconnect(), retryInMs);
    }
  }

  /** Whether the server has accepted us and the socket is open. */
  get connected(): boolean {
    return this.server.id !== undefined && this.#socket?.readyState === WebSocket.OPEN;
  }

  /** Closes the connection for good (no reconnect). */
  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#retry);
    const socket = this.#socket;
    if (socket && socket.readyState <= WebSocket.OPEN) {
      const closed = new Promise((r) => socket.addEventListener("close", r, { once: true }));
      socket.close(1000);
      await closed;
    }
    await this.#queue;
  }

  #send(frame: unknown): void {
    const socket = this.#socket;
    if (!socket || !this.connected) throw new SocpError(ErrorCode.TIMEOUT, "not connected");
    if (this.#dialect === "socp") return socket.send(JSON.stringify(frame));
    const rewritten = writeForServer(this.#dialect, this.identity, frame as Envelope);
    this.#outgoing = this.#outgoing.then(async () => socket.send(JSON.stringify(await rewritten)))
      .catch(() => {}); // a closed socket: the frame is lost with it
  }

  /** Waits until at most `limit` bytes (default 1 MiB, SOCP.md §8.1) wait in the socket. */
  async #drain(limit = MAX_BUFFERED): Promise<void> {
    while (this.#socket && this.#socket.bufferedAmount > limit) {
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  /**
   * A user's contact (key, caps): from the directory, else, when our server
   * supports presence-lite, from their advert looked up on the server.
   * Undefined when the user is unknown or offline.
   */
  contact(userId: string): Promise<Contact | undefined> {
    const known = this.directory.get(userId);
    if (known) return Promise.resolve(known);
    let pending = this.#lookups.get(userId);
    if (!pending) {
      // Someone a fresh list showed offline has no advert to look up.
      const knownAway = this.#offline.get(userId) && !this.#offline.stale(Date.now()) &&
        !this.directory.isOnline(userId);
      const online = this.#presenceLite && !knownAway
        ? this.#lookup(userId)
        : Promise.resolve(undefined);
      pending = online.then((c) => c ?? this.#offlineContact(userId))
        .finally(() => this.#lookups.delete(userId));
      this.#lookups.set(userId, pending);
    }
    return pending;
  }

  /** A known offline user's contact (our dialect), from a fresh `all` list when needed. */
  async #offlineContact(userId: string): Promise<Contact | undefined> {
    if (this.#dialect !== "socp" || !this.#socket) return undefined;
    if (!this.#offline.get(userId) && this.#offline.stale(Date.now())) {
      await this.list(LOOKUP_TIMEOUT_MS, { all: true }, false).catch(() => {});
    }
    return this.#offline.get(userId);
  }

  /** Sends USER_LOOKUP and waits for the advert, a USER_NOT_FOUND for it, or a timeout. */
  #lookup(userId: string): Promise<Contact | undefined> {
    const socket = this.#socket;
    if (!socket) return Promise.resolve(undefined);
    return lookUp(this, socket, userId, (frame) => this.#send(frame), LOOKUP_TIMEOUT_MS);
  }

  /** Resolves a name, id or id prefix to an online user, or throws a clear error. */
  resolve(target: string): Listing {
    return resolveTarget(this.directory, target);
  }

  /** The contact of an online user, or a USER_NOT_FOUND error. */
  #recipient(target: string): Promise<Contact> {
    return recipientOf(this, target, this.#options.displayName);
  }

  /** Sends an end-to-end encrypted DM (at most 446 UTF-8 bytes: one RSA block). */
  async sendDm(target: string, text: string): Promise<FrameOf<"MSG_DIRECT">> {
    const contact = await this.#recipient(target);
    const bytes = new TextEncoder().encode(text).length;
    if (bytes > OAEP_MAX_PLAINTEXT) {
      throw new SocpError(
        ErrorCode.TOO_LARGE,
        `message is ${bytes} bytes; a DM carries at most ${OAEP_MAX_PLAINTEXT} bytes (one RSA block)`,
      );
    }
    const frame = await buildMsgDirect(this.identity, contact.userId, contact.encKey, text);
    this.#send(frame);
    return frame;
  }

  /** Sends a public-channel message under the current channel key. */
  async sendPublic(text: string): Promise<FrameOf<"MSG_PUBLIC_CHANNEL">> {
    const problem = publicChannelProblem(this.#dialect);
    if (problem) throw new SocpError(ErrorCode.BAD_REQUEST, problem);
    const current = this.channel.current();
    if (!current) {
      throw new SocpError(
        ErrorCode.BAD_REQUEST,
        "no public channel key yet; wait a moment after connecting",
      );
    }
    const bytes = new TextEncoder().encode(text).length;
    if (bytes > MAX_PUBLIC_TEXT) {
      throw new SocpError(
        ErrorCode.TOO_LARGE,
        `message is ${bytes} bytes; the limit is ${MAX_PUBLIC_TEXT}`,
      );
    }
    const frame = await buildMsgPublic(this.identity, current.key, current.version, text, {
      senderPubForm: current.senderPubForm,
    });
    this.#send(frame);
    return frame;
  }

  /**
   * Sends a file to a user (fast AES-GCM mode when they advertise it, else
   * RSA mode) or to `"public"`. Reports progress; resolves with the file id
   * once our server confirmed it took the whole file (`file-ack`; a dialect
   * server, which cannot confirm, once every frame is written). `signal`
   * stops it between chunks (the recipient discards the partial file).
   *
   * @throws {SocpError} `TIMEOUT` when the server did not confirm the file.
   */
  async sendFile(
    target: string,
    name: string,
    bytes: Uint8Array,
    onProgress?: (sent: number) => void,
    signal?: AbortSignal,
  ): Promise<string> {
    const to: FileTarget = target === "public"
      ? { channel: this.channel.current() }
      : { contact: await this.#recipient(target) };
    const expectAck = acksHello(this.#dialect) && this.#caps().includes(FILE_ACK_CAP);
    return await sendFileFrames(
      {
        send: (frame) => this.#send(frame),
        drain: (limit) => this.#drain(limit),
        acks: expectAck ? this.#acks : undefined,
        progress: (fileId, sent) => {
          onProgress?.(sent);
          this.emit({ type: "progress", fileId, sent, total: bytes.length });
        },
      },
      this.identity,
      to,
      name,
      bytes,
      signal,
    );
  }

  /**
   * Asks the server who is online; resolves with the list (also emitted as a
   * `users` event unless `report` is false). `all` (our dialect) adds the
   * known users who are offline, to whom DMs are queued.
   */
  async list(
    timeoutMs = 10_000,
    options: { all?: boolean } = {},
    report = true,
  ): Promise<UserListing[]> {
    const socket = this.#socket;
    if (!socket) throw new SocpError(ErrorCode.TIMEOUT, "not connected");
    const taken: Promise<void>[] = [];
    const users = await askList(
      {
        identity: this.identity,
        directory: this.directory,
        dialect: this.#dialect,
        serverId: this.server.id,
        serverKey: this.server.key,
        socket,
        send: (frame) => this.#send(frame),
      },
      timeoutMs,
      options.all,
      (user) => taken.push(this.#offline.take(user)),
    );
    await Promise.all(taken);
    if (options.all) this.#offline.fetched(Date.now());
    if (report) this.emit({ type: "users", users });
    return users;
  }
}
