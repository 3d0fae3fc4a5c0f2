/**
 * Where an advertised user is allowed to be (docs/PROTOCOL.md decision 43).
 * A server peer's USER_ADVERTISE may place a user on that peer only if the
 * user is not live on another linked server, or if the advert carries a
 * newer presence proof of the user naming that peer; the user's home server
 * is trusted for its own users. Adverts refused because the user is live
 * elsewhere wait briefly, so a move whose USER_REMOVE arrives second still
 * lands.
 *
 * @module
 */

import { LOCAL } from "./state.ts";

/** What is known when an advert would move (or place) a user. */
export interface MoveFacts {
  /** The user's current location: {@linkcode LOCAL}, a server id, or none. */
  current: string | undefined;
  /** A live link exists to the current location's server. */
  currentLive: boolean;
  /** The advertising server. */
  from: string;
  /** The user's home server. */
  home: string;
  /** The advert's presence proof: newer than any seen here and valid, naming `from` or `"*"`. */
  proof: "named" | "unnamed" | "none";
  /** A proof of this user verified here before: it uses a project client, which always sends one. */
  proofCapable: boolean;
}

/** Whether the advert may place the user; `wait` when it may once the current location ends. */
export type MoveVerdict = { kind: "accept" } | { kind: "refuse"; reason: string; wait: boolean };

/**
 * Decides a move.
 *
 * @example
 * ```ts
 * import { judgeMove } from "./moves.ts";
 * judgeMove({ current: "B", currentLive: true, from: "X", home: "A", proof: "none",
 *   proofCapable: false }).kind; // "refuse"
 * ```
 */
export function judgeMove(f: MoveFacts): MoveVerdict {
  if (f.current === LOCAL) {
    return { kind: "refuse", reason: "the user is connected to this server", wait: false };
  }
  if (f.current === f.from || f.from === f.home) return { kind: "accept" };
  if (f.current !== undefined && f.currentLive) {
    return f.proof === "named" ? { kind: "accept" } : {
      kind: "refuse",
      reason: "the user is live on another server and the advert has no proof naming its sender",
      wait: true,
    };
  }
  if (f.proofCapable && f.proof === "none") {
    return { kind: "refuse", reason: "a roaming advert without the user's proof", wait: false };
  }
  return { kind: "accept" };
}

/** One advert waiting for a user's current location to end. */
export interface PendingMove<T> {
  userId: string;
  item: T;
  at: number;
}

/**
 * Adverts refused with `wait`, by user (the newest per user), bounded in
 * number and age.
 *
 * @example
 * ```ts
 * import { PendingMoves } from "./moves.ts";
 * const moves = new PendingMoves<string>(2, 1000);
 * moves.add("u", "advert", 0);
 * moves.take("u", 500); // "advert"
 * ```
 */
export class PendingMoves<T> {
  readonly #max: number;
  readonly #ttlMs: number;
  readonly #byUser = new Map<string, PendingMove<T>>();

  constructor(max = 1000, ttlMs = 30_000) {
    this.#max = max;
    this.#ttlMs = ttlMs;
  }

  /** Keeps `item` for `userId`, replacing an older one; evicts the oldest when full. */
  add(userId: string, item: T, now: number): void {
    this.#byUser.delete(userId);
    if (this.#byUser.size >= this.#max) {
      this.#byUser.delete(this.#byUser.keys().next().value!);
    }
    this.#byUser.set(userId, { userId, item, at: now });
  }

  /** Removes and returns the item waiting for `userId`, if it is still fresh. */
  take(userId: string, now: number): T | undefined {
    const pending = this.#byUser.get(userId);
    if (!pending) return undefined;
    this.#byUser.delete(userId);
    return now - pending.at <= this.#ttlMs ? pending.item : undefined;
  }

  /** How many are waiting. */
  get size(): number {
    return this.#byUser.size;
  }
}
