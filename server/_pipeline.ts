/**
 * Per-link frame pipelining. Frames of one link apply their effects in
 * arrival order, but read-only frames (a DM to route, a delivery to pass on)
 * may be verified and signed while earlier ones still are: with one frame at
 * a time a server link carries at most one RSA operation in flight, half of
 * what two cores do. Frames that change state wait for every earlier frame,
 * and every later frame waits for them.
 *
 * @module
 */

/**
 * An in-order pipeline with bounded concurrency for read-only items.
 *
 * @example
 * ```ts
 * import { Pipeline } from "./_pipeline.ts";
 * const out: number[] = [];
 * const pipe = new Pipeline<number>(4);
 * pipe.push(true, async () => 1, async (n) => void out.push(n));
 * await pipe.push(true, async () => 2, async (n) => void out.push(n));
 * // out is [1, 2], whichever computed first
 * ```
 */
export class Pipeline<T> {
  readonly #depth: number;
  /** Resolves once every item pushed so far has been applied. */
  #applied: Promise<void> = Promise.resolve();
  /** Resolves once the last exclusive item pushed so far has been applied. */
  #exclusiveApplied: Promise<void> = Promise.resolve();
  #running = 0;
  readonly #waiting: (() => void)[] = [];

  /** `depth`: most concurrent items computing at once. */
  constructor(depth: number) {
    this.#depth = Math.max(1, depth);
  }

  /**
   * Adds an item. `compute` starts once the exclusive items before it are
   * applied (`concurrent`) or once everything before it is (otherwise); it
   * gets a promise of everything before it being applied, to wait on if it
   * turns out to need exclusivity after all. `apply` runs in push order.
   * Neither should reject; if one does, the item's result is dropped.
   */
  push(
    concurrent: boolean,
    compute: (earlierApplied: Promise<void>) => Promise<T>,
    apply: (result: T) => Promise<void>,
  ): Promise<void> {
    const earlier = this.#applied;
    const result = concurrent
      ? this.#exclusiveApplied.then(() => this.#inSlot(() => compute(earlier)))
      : earlier.then(() => compute(earlier));
    const done = Promise.all([result, earlier]).then(([r]) => apply(r));
    this.#applied = done.catch(() => {});
    if (!concurrent) this.#exclusiveApplied = this.#applied;
    return done;
  }

  async #inSlot(task: () => Promise<T>): Promise<T> {
    if (this.#running >= this.#depth) {
      await new Promise<void>((resolve) => this.#waiting.push(resolve));
    } else {
      this.#running++;
    }
    try {
      return await task();
    } finally {
      // Hand the slot straight to the next waiter, in arrival order.
      const next = this.#waiting.shift();
      if (next) next();
      else this.#running--;
    }
  }
}
