// The write side of a WsSocket: one write at a time, in order, small frames coalesced.

import type { ByteConn } from "./conn.ts";

/** Frames smaller than this are copied together into one write. */
const COALESCE_BELOW = 16 * 1024;
const BATCH_BYTES = 64 * 1024;

/**
 * Serialises frame writes to a connection. Data frames go in order; a pending
 * pong and a pending ping each have one slot that jumps the queue, so a ping
 * flood from a peer that does not read costs one frame, not a queue.
 */
export class FrameWriter {
  readonly #conn: ByteConn;
  readonly #onError: (error: unknown) => void;
  #queue: Uint8Array[] = [];
  #head = 0;
  #queued = 0;
  #pong: Uint8Array | null = null;
  #ping: Uint8Array | null = null;
  #writing = false;
  #stopped = false;
  #idle: (() => void) | null = null;

  constructor(conn: ByteConn, onError: (error: unknown) => void) {
    this.#conn = conn;
    this.#onError = onError;
  }

  /** Bytes of data frames queued and not yet written (pongs and pings not counted). */
  get queued(): number {
    return this.#queued;
  }

  /** Queues a frame after the others. */
  push(frame: Uint8Array): void {
    if (this.#stopped) return;
    this.#queue.push(frame);
    this.#queued += frame.length;
    this.#kick();
  }

  /** Sets the pong slot (replacing an unsent pong), or the ping slot. */
  control(kind: "pong" | "ping", frame: Uint8Array): void {
    if (this.#stopped) return;
    if (kind === "pong") this.#pong = frame;
    else this.#ping = frame;
    this.#kick();
  }

  /** Drops the queued frames; a write in progress completes. */
  drop(): void {
    this.#queue = [];
    this.#head = 0;
    this.#queued = 0;
    this.#pong = this.#ping = null;
  }

  /** Calls `then` once everything queued is written (at once if nothing is). */
  whenIdle(then: () => void): void {
    if (this.#writing) this.#idle = then;
    else then();
  }

  /** Drops everything and writes nothing more. */
  stop(): void {
    this.#stopped = true;
    this.drop();
    this.#idle = null;
  }

  #kick(): void {
    if (this.#writing) return;
    this.#writing = true;
    this.#flush().catch(this.#onError);
  }

  async #flush(): Promise<void> {
    try {
      while (!this.#stopped) {
        let batch: Uint8Array;
        let counted = false;
        if (this.#pong) {
          batch = this.#pong;
          this.#pong = null;
        } else if (this.#ping) {
          batch = this.#ping;
          this.#ping = null;
        } else if (this.#head < this.#queue.length) {
          batch = this.#take();
          counted = true;
        } else {
          break;
        }
        // Partial writes are resumed where they stopped.
        for (let at = 0; at < batch.length;) {
          const n = await this.#conn.write(at === 0 ? batch : batch.subarray(at));
          at += n;
          if (counted) this.#queued = Math.max(0, this.#queued - n);
        }
      }
    } catch (e) {
      this.#onError(e);
    } finally {
      this.#writing = false;
    }
    const idle = this.#idle;
    this.#idle = null;
    idle?.();
  }

  /** The next frame, or several small ones copied into one buffer. */
  #take(): Uint8Array {
    const queue = this.#queue;
    let end = this.#head;
    let size = 0;
    while (end < queue.length && queue[end].length < COALESCE_BELOW) {
      if (size + queue[end].length > BATCH_BYTES) break;
      size += queue[end++].length;
    }
    let batch: Uint8Array;
    if (end - this.#head <= 1) {
      batch = queue[this.#head];
      end = this.#head + 1;
    } else {
      batch = new Uint8Array(size);
      for (let i = this.#head, at = 0; i < end; i++) {
        batch.set(queue[i], at);
        at += queue[i].length;
      }
    }
    this.#head = end;
    if (end === queue.length) {
      this.#queue = [];
      this.#head = 0;
    } else if (end > 1024 && end * 2 > queue.length) {
      // Compact now and then rather than shift() per frame.
      this.#queue = queue.slice(end);
      this.#head = 0;
    }
    return batch;
  }
}
