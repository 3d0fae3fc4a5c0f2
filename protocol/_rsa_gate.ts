/**
 * How many RSA operations run at once. WebCrypto runs each on a thread of its
 * own, so a burst (a channel rotation wraps a key for every member: thousands
 * of encryptions) would put thousands of threads on the CPU at once and leave
 * the event loop a sliver of it: every frame stalls for the whole burst. The
 * gates let cores + 2 private-key operations run at once (measured on 2
 * cores, 2 in flight sign 15 % slower than 4, because a core idles while the
 * event loop starts the next one), and four times as many of the short
 * public-key operations, in a gate of their own. Frame work goes first; `bulk` work (rotations)
 * fills the gaps, and holds up to a quarter of the slots (at least one) even
 * while frame work waits, so a busy node still finishes its rotations.
 *
 * @module
 */

/** A FIFO of waiting starts with O(1) push and shift. */
class Queue {
  #items: (() => void)[] = [];
  #head = 0;

  get size(): number {
    return this.#items.length - this.#head;
  }

  push(item: () => void): void {
    this.#items.push(item);
  }

  shift(): (() => void) | undefined {
    if (this.#head >= this.#items.length) return undefined;
    const item = this.#items[this.#head];
    this.#items[this.#head++] = undefined as never;
    if (this.#head > 1024 && this.#head * 2 > this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#head = 0;
    }
    return item;
  }
}

/**
 * A counting gate with two priorities; bulk work keeps a quarter of the slots (at least one).
 *
 * @example
 * ```ts
 * import { RsaGate } from "./_rsa_gate.ts";
 * const gate = new RsaGate(2);
 * await gate.run(() => Promise.resolve(1)); // 1
 * ```
 */
export class RsaGate {
  #free: number;
  readonly #bulkShare: number;
  #bulkRunning = 0;
  readonly #urgent = new Queue();
  readonly #bulk = new Queue();

  constructor(slots: number) {
    this.#free = Math.max(1, Math.floor(slots));
    this.#bulkShare = Math.max(1, Math.floor(this.#free / 4));
  }

  /** Operations waiting for a slot. */
  get waiting(): number {
    return this.#urgent.size + this.#bulk.size;
  }

  /** Runs `task` once a slot is free; `bulk` tasks go after others, within their share. */
  async run<T>(task: () => Promise<T>, bulk = false): Promise<T> {
    if (this.#free > 0 && (!bulk || this.#bulkMayStart())) {
      this.#free--;
      if (bulk) this.#bulkRunning++;
    } else {
      // Whoever frees a slot counts us in before we start (see below).
      await new Promise<void>((start) => (bulk ? this.#bulk : this.#urgent).push(start));
    }
    try {
      return await task();
    } finally {
      if (bulk) this.#bulkRunning--;
      this.#passSlot();
    }
  }

  /** Hands a freed slot straight to a waiting task, if any. */
  #passSlot(): void {
    if (this.#bulk.size > 0 && this.#bulkMayStart()) {
      this.#bulkRunning++;
      this.#bulk.shift()!();
      return;
    }
    const next = this.#urgent.shift(); // bulk waits only while urgent work does
    if (next) next();
    else this.#free++;
  }

  #bulkMayStart(): boolean {
    return this.#urgent.size === 0 || this.#bulkRunning < this.#bulkShare;
  }
}

/** Cores reported by the runtime (browsers and Deno both have it), at least 1. */
function cores(): number {
  const n = globalThis.navigator?.hardwareConcurrency;
  return typeof n === "number" && n > 0 ? n : 2;
}

/**
 * The process-wide gate of private-key operations (sign, decrypt: about 18 ms
 * each here).
 *
 * @example
 * ```ts
 * import { privateKeyGate } from "./_rsa_gate.ts";
 * privateKeyGate.waiting; // 0 when idle
 * ```
 */
export const privateKeyGate: RsaGate = new RsaGate(cores() + 2);

/**
 * The process-wide gate of public-key operations (verify, encrypt: about
 * 1 ms each). A separate, wider gate: a verification never queues behind
 * signatures, and short operations need more in flight to keep cores busy.
 *
 * @example
 * ```ts
 * import { publicKeyGate } from "./_rsa_gate.ts";
 * publicKeyGate.waiting; // 0 when idle
 * ```
 */
export const publicKeyGate: RsaGate = new RsaGate(4 * (cores() + 2));
