/**
 * {@linkcode WsSocket}: one open WebSocket connection over a byte stream, in
 * server or client mode, offering the subset of the browser `WebSocket` API the
 * node uses ({@linkcode LinkSocket}) plus `pause()`/`resume()` for
 * backpressure.
 *
 * @module
 */

import { FrameWriter } from "./_writer.ts";
import type { ByteConn } from "./conn.ts";
import {
  encodeClosePayload,
  encodeFrame,
  type FrameEvent,
  FrameReader,
  isSendableCloseCode,
  Opcode,
  type Role,
} from "./frames.ts";

/**
 * An event handler property. Checked method-style (bivariantly), so that
 * `WebSocket`, whose handlers take DOM events, is assignable to {@linkcode LinkSocket}.
 */
export type Handler<E> = { bivarianceHack(event: E): void }["bivarianceHack"];

/** A message event: text as a string, binary as bytes. */
export interface LinkMessageEvent {
  data: string | Uint8Array;
}

/** A close event: the peer's close code if it sent one, else ours, else 1006. */
export interface LinkCloseEvent {
  code: number;
  reason: string;
  wasClean?: boolean;
}

/** What `Link` needs of a socket; both `WebSocket` and {@linkcode WsSocket} satisfy it. */
export interface LinkSocket {
  /** 0–3, as `WebSocket.CONNECTING`/`OPEN`/`CLOSING`/`CLOSED`. */
  readonly readyState: number;
  /** Bytes queued for writing and not yet written. */
  readonly bufferedAmount: number;
  send(text: string): void;
  close(code?: number, reason?: string): void;
  onmessage: Handler<LinkMessageEvent> | null;
  onclose: Handler<LinkCloseEvent> | null;
  onerror: Handler<Event> | null;
}

/** Options of a {@linkcode WsSocket}. */
export interface WsSocketOptions {
  role: Role;
  maxMessageBytes: number;
  /**
   * After half of it in silence a ping goes out; if nothing answers within
   * the other half, the socket closes (1001). 0: never.
   */
  idleTimeoutMs: number;
  /** Bytes that arrived after the handshake head. */
  initial?: Uint8Array;
  /** How long a closing socket waits for the peer's close frame or for its writes. */
  closeTimeoutMs?: number;
  /**
   * A text message to send just before the close frame of a violation (the
   * protocol's own error, e.g. SOCP's ERROR TOO_LARGE); keep it cheap.
   */
  lastWords?: (code: number, reason: string) => string | undefined;
}

const CONNECTING = 0;
const OPEN = 1;
const CLOSING = 2;
const CLOSED = 3;
const MIN_READ = 4096;
const MAX_READ = 256 * 1024;
/** Most bytes read and dropped after a failure before the connection closes. */
const DRAIN_BYTES = 128 * 1024;
const encoder = new TextEncoder();

/**
 * One WebSocket connection over an upgraded conn (made by `serveWs` or
 * `dialWs`). Reading starts on the next macrotask, so handlers set right after
 * construction, or after awaiting `dialWs`, see every message.
 */
export class WsSocket implements LinkSocket {
  static readonly CONNECTING = CONNECTING;
  static readonly OPEN = OPEN;
  static readonly CLOSING = CLOSING;
  static readonly CLOSED = CLOSED;

  onmessage: Handler<LinkMessageEvent> | null = null;
  onclose: Handler<LinkCloseEvent> | null = null;
  onerror: Handler<Event> | null = null;
  /** The peer's address. */
  readonly remoteAddr: Deno.NetAddr;
  /** Settles (never rejects) with the close event once the connection is gone. */
  readonly closed: Promise<LinkCloseEvent>;

  readonly #conn: ByteConn;
  readonly #role: Role;
  readonly #reader: FrameReader;
  readonly #idleMs: number;
  readonly #closeTimeoutMs: number;
  readonly #lastWords?: (code: number, reason: string) => string | undefined;
  #state = OPEN;
  #initial: Uint8Array | null;
  #paused = false;
  #resume: (() => void) | null = null;
  #lastReceived = Date.now();
  #pingedAt = 0;
  #startTimer?: ReturnType<typeof setTimeout>;
  #idleTimer?: ReturnType<typeof setTimeout>;
  #closeTimer?: ReturnType<typeof setTimeout>;
  /** The code of the close frame we sent, to report if the peer sends none. */
  #sentCode = 0;
  #sentReason = "";
  #closeSent = false;
  /** The connection was failed: reading stopped at once. */
  #failed = false;
  /** Reading and dropping after a failure, before the connection closes. */
  #draining = false;
  readonly #writer: FrameWriter;
  #maskPool = new Uint8Array(0);
  #maskAt = 0;
  #settle!: (event: LinkCloseEvent) => void;

  constructor(conn: ByteConn, options: WsSocketOptions) {
    this.#conn = conn;
    this.#role = options.role;
    this.#reader = new FrameReader({
      role: options.role,
      maxMessageBytes: options.maxMessageBytes,
    });
    this.#idleMs = options.idleTimeoutMs > 0 && Number.isFinite(options.idleTimeoutMs)
      ? options.idleTimeoutMs
      : 0;
    this.#closeTimeoutMs = Math.min(options.closeTimeoutMs ?? 1000, 1000);
    this.#lastWords = options.lastWords;
    this.#initial = options.initial && options.initial.length > 0 ? options.initial : null;
    this.#writer = new FrameWriter(conn, (e) => this.#abort(e));
    const addr = conn.remoteAddr as Partial<Deno.NetAddr>;
    this.remoteAddr = {
      transport: "tcp",
      hostname: addr.hostname ?? "",
      port: addr.port ?? 0,
    };
    this.closed = new Promise((resolve) => this.#settle = resolve);
    this.#startTimer = setTimeout(() => {
      this.#startTimer = undefined;
      this.#readLoop().catch((e) => this.#abort(e));
    }, 0);
    if (this.#idleMs) this.#armIdle(this.#idleMs / 2);
  }

  get readyState(): number {
    return this.#state;
  }

  get bufferedAmount(): number {
    return this.#writer.queued;
  }

  /** Whether reading is paused. */
  get paused(): boolean {
    return this.#paused;
  }

  /** Queues a text (string) or binary message; ignored unless the socket is open. */
  send(data: string | Uint8Array): void {
    if (this.#state !== OPEN) return;
    const text = typeof data === "string";
    this.#writer.push(
      this.#frame(text ? Opcode.Text : Opcode.Binary, text ? encoder.encode(data) : data),
    );
  }

  /**
   * Starts the closing handshake: sends a close frame after what is queued,
   * waits up to a second for the peer's, then closes the connection.
   */
  close(code?: number, reason = ""): void {
    if (this.#state !== OPEN) return;
    this.#state = CLOSING;
    this.#sendClose(code ?? 1005, reason);
    this.#closeTimer = setTimeout(
      () => this.#finish(this.#sentCode, this.#sentReason, false),
      this.#closeTimeoutMs,
    );
  }

  /** Stops reading from the connection, so TCP pushes back on the peer. */
  pause(): void {
    this.#paused = true;
  }

  /** Reads again after {@linkcode WsSocket.pause}. */
  resume(): void {
    if (!this.#paused) return;
    this.#paused = false;
    this.#lastReceived = Date.now(); // we were not reading: the peer was not silent
    const resume = this.#resume;
    this.#resume = null;
    resume?.();
  }

  async #readLoop(): Promise<void> {
    if (this.#initial) {
      const initial = this.#initial;
      this.#initial = null;
      await this.#deliver(initial);
    }
    if (this.#conn.readChunk) return await this.#readChunks(this.#conn.readChunk.bind(this.#conn));
    let buffer = new Uint8Array(MIN_READ);
    while (this.#reading) {
      let n: number | null;
      try {
        n = await this.#conn.read(buffer);
      } catch (e) {
        return this.#abort(e);
      }
      if (n === null) return this.#abort(null);
      this.#lastReceived = Date.now();
      await this.#deliver(buffer.subarray(0, n));
      // Grow the buffer for bulk transfers; shrink it for the many idle sockets.
      if (n === buffer.length && buffer.length < MAX_READ) {
        buffer = new Uint8Array(buffer.length * 4);
      } else if (n < buffer.length / 16 && buffer.length > MIN_READ) {
        buffer = new Uint8Array(buffer.length / 4);
      }
    }
  }

  /** The read loop over a conn that hands out its own buffers (TLS). */
  async #readChunks(readChunk: () => Promise<Uint8Array | null>): Promise<void> {
    while (this.#reading) {
      let chunk: Uint8Array | null;
      try {
        chunk = await readChunk();
      } catch (e) {
        return this.#abort(e);
      }
      if (chunk === null) return this.#abort(null);
      this.#lastReceived = Date.now();
      await this.#deliver(chunk);
    }
  }

  /** Whether frames are still read: not after a failure, nor once closed. */
  get #reading(): boolean {
    return this.#state === OPEN || (this.#state === CLOSING && !this.#failed);
  }

  /** Feeds one chunk and handles what it completes; returns once the reader is done with it. */
  async #deliver(chunk: Uint8Array): Promise<void> {
    this.#reader.push(chunk);
    while (this.#reading) {
      if (this.#paused) {
        await new Promise<void>((resolve) => this.#resume = resolve);
        continue;
      }
      const event = this.#reader.next();
      if (!event) return;
      this.#handle(event);
    }
  }

  #handle(event: FrameEvent): void {
    switch (event.type) {
      case "text":
      case "binary":
        // Like browsers, nothing is delivered once closing has begun.
        if (this.#state === OPEN) this.#call(this.onmessage, { data: event.data });
        break;
      case "ping":
        // Only the latest ping needs an answer (RFC 6455 §5.5.3): a flood costs one slot.
        if (this.#state === OPEN) {
          this.#writer.control("pong", this.#frame(Opcode.Pong, event.data));
        }
        break;
      case "pong":
        break; // any bytes count as liveness; #lastReceived was set by the read
      case "close":
        if (this.#state === OPEN) {
          this.#state = CLOSING;
          this.#sendClose(event.code, "");
          this.#whenFlushed(() => this.#finish(event.code, event.reason, true));
        } else {
          this.#finish(event.code, event.reason, true);
        }
        break;
      case "violation":
        this.#fail(event.code, event.reason);
        break;
    }
  }

  /** Fails the connection: no more reading, queued data dropped, a close frame, then the end. */
  #fail(code: number, reason: string): void {
    if (this.#state === CLOSED) return;
    this.#state = CLOSING;
    this.#failed = true;
    // A write in progress completes; nothing else queued goes out, except our close frame.
    if (!this.#closeSent) this.#writer.drop();
    const resume = this.#resume;
    this.#resume = null;
    resume?.();
    if (!this.#closeSent) {
      let words: string | undefined;
      try {
        words = this.#lastWords?.(code, reason);
      } catch {
        words = undefined; // the close frame still says why
      }
      if (words !== undefined) this.#writer.push(this.#frame(Opcode.Text, encoder.encode(words)));
    }
    this.#sendClose(code, reason);
    this.#whenFlushed(() => this.#drainThenFinish(code, reason));
  }

  /**
   * After a failure: read and drop what the peer is still sending for a
   * moment, so the kernel does not answer it with a reset that destroys our
   * close frame (and the last words before it) unread.
   */
  async #drainThenFinish(code: number, reason: string): Promise<void> {
    if (this.#draining || this.#state === CLOSED) return;
    this.#draining = true;
    const timer = setTimeout(() => this.#finish(code, reason, false), this.#closeTimeoutMs);
    const scratch = new Uint8Array(16 * 1024);
    try {
      // A little, briefly: enough for what was in flight, not for a peer that never stops.
      for (let drained = 0; this.#state !== CLOSED && drained < DRAIN_BYTES;) {
        const n = await this.#conn.read(scratch);
        if (n === null) break;
        drained += n;
      }
    } catch {
      // closed by the timer, or by the peer
    }
    clearTimeout(timer);
    this.#finish(code, reason, false);
  }

  #sendClose(code: number, reason: string): void {
    if (this.#closeSent) return;
    this.#closeSent = true;
    this.#sentCode = code;
    this.#sentReason = reason;
    let wire = code === 1005 || isSendableCloseCode(code) ? code : 1000;
    // Browsers let scripts send only 1000 and 3000–4999; peers may hold clients to that.
    if (this.#role === "client" && wire !== 1005 && wire !== 1000 && (wire < 3000 || wire > 4999)) {
      wire = 1000;
    }
    this.#writer.push(this.#frame(Opcode.Close, encodeClosePayload(wire, reason)));
  }

  /** Runs `then` once the write queue is empty, or after the close timeout. */
  #whenFlushed(then: () => void): void {
    clearTimeout(this.#closeTimer);
    this.#closeTimer = setTimeout(then, this.#closeTimeoutMs);
    this.#writer.whenIdle(then);
  }

  /** A read or write failed, or the stream ended. */
  #abort(error: unknown): void {
    if (this.#state === CLOSED) return;
    if (this.#closeSent) return this.#finish(this.#sentCode, this.#sentReason, false);
    if (error !== null) {
      const message = error instanceof Error ? error.message : String(error);
      this.#call(this.onerror, new ErrorEvent("error", { message, error }));
    }
    this.#finish(1006, "", false);
  }

  #finish(code: number, reason: string, wasClean: boolean): void {
    if (this.#state === CLOSED) return;
    this.#state = CLOSED;
    clearTimeout(this.#startTimer);
    clearTimeout(this.#idleTimer);
    clearTimeout(this.#closeTimer);
    this.#writer.stop();
    try {
      this.#conn.close();
    } catch {
      // already closed
    }
    const resume = this.#resume;
    this.#resume = null;
    resume?.();
    const event = { code, reason, wasClean };
    this.#call(this.onclose, event);
    this.#settle(event);
  }

  #armIdle(delay: number): void {
    this.#idleTimer = setTimeout(() => this.#checkIdle(), Math.max(1, delay));
  }

  #checkIdle(): void {
    if (this.#state !== OPEN) return;
    const half = this.#idleMs / 2;
    if (this.#paused) return this.#armIdle(half); // not reading is our doing, not the peer's
    const now = Date.now();
    // Closed only when a ping went unanswered for half the timeout: silence
    // while this process was stalled (timers late) is not the peer's fault.
    if (this.#pingedAt > this.#lastReceived) {
      if (now - this.#pingedAt >= half) return this.#fail(1001, "idle timeout");
      return this.#armIdle(this.#pingedAt + half - now);
    }
    const silent = now - this.#lastReceived;
    if (silent >= half) {
      this.#pingedAt = now;
      this.#writer.control("ping", this.#frame(Opcode.Ping, new Uint8Array(0)));
      return this.#armIdle(half);
    }
    this.#armIdle(half - silent);
  }

  #frame(opcode: typeof Opcode[keyof typeof Opcode], payload: Uint8Array): Uint8Array {
    return encodeFrame(opcode, payload, this.#role === "client" ? { mask: this.#nextMask() } : {});
  }

  /** Random masks drawn from a pool, so each frame does not cost a getRandomValues call. */
  #nextMask(): Uint8Array {
    if (this.#maskAt + 4 > this.#maskPool.length) {
      this.#maskPool = crypto.getRandomValues(new Uint8Array(1024));
      this.#maskAt = 0;
    }
    const mask = this.#maskPool.subarray(this.#maskAt, this.#maskAt + 4);
    this.#maskAt += 4;
    return mask;
  }

  /** Calls an event handler; its exceptions are logged, never thrown into our loops. */
  #call<E>(handler: Handler<E> | null, event: E): void {
    if (!handler) return;
    try {
      handler.call(this, event);
    } catch (e) {
      console.error("WebSocket event handler threw:", e);
    }
  }
}
