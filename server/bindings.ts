/**
 * Mesh-wide user identity (docs/PROTOCOL.md decision 42): a user id is bound
 * to one key across the whole mesh, not per server. This module is the pure
 * rule deciding what a server does with a claimed binding it hears of, from
 * a live USER_ADVERTISE, a link sync (USER_BINDINGS) or a SERVER_WELCOME.
 *
 * - The **home** server (where the user registered and its password hash
 *   lives) is the only one whose word can change the key, and only to a
 *   higher `key_version`.
 * - Other servers' word (hearsay) can introduce an id this server does not
 *   know, never change one it knows.
 * - Two homes claiming one id: within the race window of this server first
 *   storing its binding, the earlier registration wins (then the lower home
 *   id, then the lower key), so concurrent registrations converge; after
 *   it, the established binding stands.
 *
 * @module
 */

import { compareCodePoints } from "../protocol/canonical.ts";
import type { BindingEntry, UserAdvertisePayload } from "../protocol/types.ts";
import type { BindingRow } from "./store.ts";

/**
 * How long after first storing a binding a conflicting registration from
 * another home is still treated as concurrent (and may win). Honest races
 * resolve within a mesh's propagation delay; a later claim is a takeover.
 */
export const RACE_WINDOW_MS = 10_000;

/** A binding as someone claims it; `via` is the server whose signed frame carried it. */
export interface BindingClaim {
  userId: string;
  pubkey: string;
  home: string;
  keyVersion: number;
  registeredAt: number;
  via: string;
}

/** What to do with a claim. */
export type BindingVerdict =
  /** Unknown here: store it. */
  | { kind: "new" }
  /** Same key as held; `update` when the claim improves what is held (confirmation, home). */
  | { kind: "same"; update: boolean }
  /** The home changed the key (or corrected hearsay): replace it; the old key's sessions end. */
  | { kind: "rekey" }
  /** Another home registered the id concurrently and wins: replace; the loser's sessions end. */
  | { kind: "won" }
  /** Keep what is held; the claim (and the frame carrying it) is refused. */
  | { kind: "refused"; reason: string };

/**
 * The claim a USER_ADVERTISE makes. Dialect servers send no binding fields:
 * the advertising server then counts as the home, with unnumbered keys.
 *
 * @example
 * ```ts
 * import { claimOfAdvert } from "./bindings.ts";
 * claimOfAdvert({ user_id: "u", server_id: "s" }, "MIIC…", "s", 5).home; // "s"
 * ```
 */
export function claimOfAdvert(
  payload: UserAdvertisePayload,
  pubkey: string,
  from: string,
  ts: number,
): BindingClaim {
  return {
    userId: payload.user_id,
    pubkey,
    home: payload.home ?? from,
    keyVersion: payload.key_version ?? 0,
    registeredAt: payload.registered_at ?? ts,
    via: from,
  };
}

/**
 * The claim a binding entry (USER_BINDINGS, SERVER_WELCOME) makes.
 *
 * @example
 * ```ts
 * import { claimOfEntry } from "./bindings.ts";
 * claimOfEntry({ user_id: "u", pubkey: "k", home: "h", key_version: 1, registered_at: 0 }, "s").via; // "s"
 * ```
 */
export function claimOfEntry(
  entry: BindingEntry,
  via: string,
  pubkey = entry.pubkey,
): BindingClaim {
  return {
    userId: entry.user_id,
    pubkey,
    home: entry.home,
    keyVersion: entry.key_version,
    registeredAt: entry.registered_at,
    via,
  };
}

/**
 * The wire entry of a stored binding.
 *
 * @example
 * ```ts
 * import { entryOfRow } from "./bindings.ts";
 * // payload.bindings = rows.map(entryOfRow)
 * ```
 */
export function entryOfRow(row: BindingRow): BindingEntry {
  return {
    user_id: row.user_id,
    pubkey: row.pubkey,
    home: row.home,
    key_version: row.key_version,
    registered_at: row.registered_at,
  };
}

/**
 * The row to store for an accepted claim (keeping first_seen and proof_ts of
 * a held row with the same key).
 *
 * @example
 * ```ts
 * import { rowOfClaim } from "./bindings.ts";
 * // store.putBinding(rowOfClaim(claim, held, now))
 * ```
 */
export function rowOfClaim(
  claim: BindingClaim,
  held: BindingRow | undefined,
  now: number,
): BindingRow {
  const sameKey = held?.pubkey === claim.pubkey;
  return {
    user_id: claim.userId,
    pubkey: claim.pubkey,
    home: claim.home,
    key_version: claim.keyVersion,
    registered_at: claim.registeredAt,
    first_seen: held && sameKey ? held.first_seen : now,
    confirmed: claim.via === claim.home || (sameKey && held?.confirmed === 1) ? 1 : 0,
    proof_ts: sameKey ? held?.proof_ts ?? 0 : 0,
  };
}

/** Whether registration `a` precedes `b` in the race order: earlier, then lower home id, then lower key. */
function precedes(a: BindingClaim, b: BindingRow): boolean {
  if (a.registeredAt !== b.registered_at) return a.registeredAt < b.registered_at;
  const byHome = compareCodePoints(a.home, b.home);
  if (byHome !== 0) return byHome < 0;
  return compareCodePoints(a.pubkey, b.pubkey) < 0;
}

/**
 * Decides a claimed binding against the one held here (see the module doc).
 *
 * @example
 * ```ts
 * import { judgeBinding } from "./bindings.ts";
 * const claim = { userId: "u", pubkey: "K", home: "A", keyVersion: 1, registeredAt: 0, via: "B" };
 * judgeBinding(undefined, claim, { self: "C", now: 0 }).kind; // "new"
 * ```
 */
export function judgeBinding(
  held: BindingRow | undefined,
  claim: BindingClaim,
  here: { self: string; now: number; raceWindowMs?: number },
): BindingVerdict {
  const fromHome = claim.via === claim.home;
  if (!held) {
    return claim.home === here.self
      ? { kind: "refused", reason: "names this server as home, which has no such registration" }
      : { kind: "new" };
  }
  const established = held.confirmed === 1 &&
    here.now - held.first_seen > (here.raceWindowMs ?? RACE_WINDOW_MS);
  if (held.pubkey === claim.pubkey) {
    if (!fromHome) return { kind: "same", update: false };
    if (claim.home === held.home) {
      return { kind: "same", update: held.confirmed === 0 || claim.keyVersion > held.key_version };
    }
    // A second home for the same key (data from before mesh-wide identity, or a
    // race): the home may change the key, so it moves only as a race would.
    return {
      kind: "same",
      update: held.confirmed === 0 || (!established && precedes(claim, held)),
    };
  }
  if (claim.home === held.home) {
    if (!fromHome) {
      return { kind: "refused", reason: "only the user's home server changes its key" };
    }
    if (held.confirmed === 0) return { kind: "rekey" }; // the home corrects hearsay
    const numbered = claim.keyVersion > held.key_version;
    const unnumbered = claim.keyVersion === 0 && held.key_version === 0; // dialect homes
    return numbered || unnumbered
      ? { kind: "rekey" }
      : { kind: "refused", reason: "key version is not newer than the bound key's" };
  }
  if (!fromHome) {
    return { kind: "refused", reason: "this id is bound to another key, homed elsewhere" };
  }
  if (established) {
    return { kind: "refused", reason: "this id is bound to another key, registered earlier" };
  }
  return precedes(claim, held)
    ? { kind: "won" }
    : { kind: "refused", reason: "this id was registered first with another key" };
}
