/**
 * Throttling of password guesses (dialect logins, SOCP.md §10.3): failed
 * checks are counted per user id and per remote address; past a few free
 * failures, each key must wait a delay that doubles with every failure (up to
 * a maximum) before its next password is even checked. A success clears the
 * user's count; counts are forgotten after a quiet hour.
 *
 * @module
 */

/** Tuning of a {@linkcode PasswordThrottle}. */
export interface ThrottleOptions {
  /** Failures allowed before delays start. */
  freeFailures?: number;
  /** The first delay; each further failure doubles it. */
  baseDelayMs?: number;
  /** The longest delay. */
  maxDelayMs?: number;
  /** A key without failures for this long is forgotten. */
  forgetMs?: number;
  /** Most keys tracked; the oldest are dropped beyond it. */
  maxKeys?: number;
}

interface Failures {
  count: number;
  last: number;
  /** No password is checked for this key before then. */
  until: number;
}

/**
 * Counts failed password checks and says how long a key must wait.
 *
 * @example
 * ```ts
 * import { PasswordThrottle } from "./password_throttle.ts";
 * const throttle = new PasswordThrottle({ freeFailures: 1, baseDelayMs: 1000 });
 * throttle.failed(["user:u", "ip:1.2.3.4"], 0); // 0: the free failure
 * throttle.failed(["user:u", "ip:1.2.3.4"], 0); // 1000
 * throttle.waitMs(["user:u"], 500); // 500
 * ```
 */
export class PasswordThrottle {
  readonly #free: number;
  readonly #base: number;
  readonly #max: number;
  readonly #forget: number;
  readonly #maxKeys: number;
  readonly #keys = new Map<string, Failures>();

  constructor(options: ThrottleOptions = {}) {
    this.#free = options.freeFailures ?? 3;
    this.#base = options.baseDelayMs ?? 1000;
    this.#max = options.maxDelayMs ?? 300_000;
    this.#forget = options.forgetMs ?? 3_600_000;
    this.#maxKeys = options.maxKeys ?? 100_000;
  }

  /** How long until any of `keys` may have a password checked again; 0 if now. */
  waitMs(keys: readonly string[], now: number): number {
    let wait = 0;
    for (const key of keys) {
      const f = this.#live(key, now);
      if (f) wait = Math.max(wait, f.until - now);
    }
    return wait;
  }

  /** Records a failed check for each key; returns the delay now imposed. */
  failed(keys: readonly string[], now: number): number {
    let delay = 0;
    for (const key of keys) {
      const f = this.#live(key, now) ?? { count: 0, last: now, until: 0 };
      f.count++;
      f.last = now;
      const over = f.count - this.#free;
      const wait = over > 0 ? Math.min(this.#max, this.#base * 2 ** Math.min(over - 1, 30)) : 0;
      f.until = now + wait;
      this.#keys.delete(key); // re-insert: the map stays ordered by last failure
      this.#keys.set(key, f);
      delay = Math.max(delay, wait);
    }
    while (this.#keys.size > this.#maxKeys) this.#keys.delete(this.#keys.keys().next().value!);
    return delay;
  }

  /** Clears the count of `key` after a correct password. */
  succeeded(key: string): void {
    this.#keys.delete(key);
  }

  #live(key: string, now: number): Failures | undefined {
    const f = this.#keys.get(key);
    if (f && now - f.last > this.#forget) {
      this.#keys.delete(key);
      return undefined;
    }
    return f;
  }
}
