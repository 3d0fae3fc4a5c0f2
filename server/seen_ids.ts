/**
 * The `seen_ids` duplicate and loop suppression cache (SOCP.md §9.3): keys
 * expire after a TTL, and when the cache is full the oldest entry is evicted.
 * Time is passed in, so the cache is deterministic to test.
 *
 * @module
 */

import { DEFAULT_LIMITS } from "../protocol/limits.ts";

/**
 * A TTL-and-capacity bounded set of frame keys, oldest first.
 *
 * @example
 * ```ts
 * import { SeenIds } from "./seen_ids.ts";
 * const seen = new SeenIds(2, 1000);
 * seen.add("a", 0);
 * seen.has("a", 500); // true
 * seen.has("a", 1500); // false: expired
 * ```
 */
export class SeenIds {
  readonly cap: number;
  readonly ttlMs: number;
  // Insertion order is expiry order, because every entry gets the same TTL.
  #expiry = new Map<string, number>();

  constructor(
    cap: number = DEFAULT_LIMITS.seenIdsCap,
    ttlMs: number = DEFAULT_LIMITS.seenIdsTtlMs,
  ) {
    this.cap = cap;
    this.ttlMs = ttlMs;
  }

  /** Entries currently held (expired ones may linger until the next prune). */
  get size(): number {
    return this.#expiry.size;
  }

  /** Whether `key` was added and has not expired. */
  has(key: string, now: number = Date.now()): boolean {
    const expires = this.#expiry.get(key);
    if (expires === undefined) return false;
    if (expires <= now) {
      this.#expiry.delete(key);
      return false;
    }
    return true;
  }

  /** Adds `key` (refreshing it if present), evicting expired and, if full, oldest entries. */
  add(key: string, now: number = Date.now()): void {
    this.#expiry.delete(key);
    this.#prune(now);
    while (this.#expiry.size >= this.cap) {
      this.#expiry.delete(this.#expiry.keys().next().value!);
    }
    this.#expiry.set(key, now + this.ttlMs);
  }

  #prune(now: number): void {
    for (const [key, expires] of this.#expiry) {
      if (expires > now) break;
      this.#expiry.delete(key);
    }
  }
}
