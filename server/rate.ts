/**
 * Rate limiting primitives for links (SOCP.md §11): a token bucket for frame
 * rates and a sliding-window counter for events such as invalid signatures.
 * Time is passed in.
 *
 * @module
 */

/**
 * A token bucket: `ratePerSec` tokens refill continuously up to `burst`.
 *
 * @example
 * ```ts
 * import { TokenBucket } from "./rate.ts";
 * const bucket = new TokenBucket(1, 2, 0);
 * bucket.take(0); bucket.take(0); // true, true
 * bucket.take(0); // false: burst spent
 * bucket.take(1000); // true: one token refilled
 * ```
 */
export class TokenBucket {
  readonly ratePerSec: number;
  readonly burst: number;
  #tokens: number;
  #last: number;

  constructor(ratePerSec: number, burst: number, now: number = Date.now()) {
    this.ratePerSec = ratePerSec;
    this.burst = burst;
    this.#tokens = burst;
    this.#last = now;
  }

  /** Takes one token if available. */
  take(now: number = Date.now()): boolean {
    const elapsed = Math.max(0, now - this.#last);
    this.#last = now;
    this.#tokens = Math.min(this.burst, this.#tokens + (elapsed * this.ratePerSec) / 1000);
    if (this.#tokens < 1) return false;
    this.#tokens -= 1;
    return true;
  }
}

/**
 * Counts events in the last `windowMs`.
 *
 * @example
 * ```ts
 * import { WindowCounter } from "./rate.ts";
 * const c = new WindowCounter(60_000);
 * c.hit(0); c.hit(1000);
 * c.count(30_000); // 2
 * c.count(61_000); // 1
 * ```
 */
export class WindowCounter {
  readonly windowMs: number;
  #times: number[] = [];

  constructor(windowMs: number) {
    this.windowMs = windowMs;
  }

  /** Records one event and returns the count in the window. */
  hit(now: number = Date.now()): number {
    this.#times.push(now);
    return this.count(now);
  }

  /** Events within the window ending at `now`. */
  count(now: number = Date.now()): number {
    const from = now - this.windowMs;
    while (this.#times.length > 0 && this.#times[0] <= from) this.#times.shift();
    return this.#times.length;
  }
}
