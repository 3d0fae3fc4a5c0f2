/**
 * Plausible public-channel versions (docs/PROTOCOL.md decision 44). Versions
 * only grow, one per rotation, and rotations are spaced: a state whose
 * version jumps far beyond the current one, faster than rotations can
 * happen, comes from a broken or hostile peer. Adopting it would make it
 * win forever (a higher version always wins, §7.3) and push later rotations
 * past the safe integers, so it is refused. Servers and clients use the
 * same rule.
 *
 * @module
 */

/** The highest version ever adopted: far below 2^53, so `version + 1` stays exact. */
export const MAX_CHANNEL_VERSION = 2 ** 48;
/** A jump this large is always plausible (a mesh that moved on while we were away). */
export const VERSION_JUMP = 10_000;
/** Plus this many versions per second since the current state was adopted. */
export const VERSIONS_PER_SEC = 100;

/**
 * Whether `version` may replace `current` (adopted `elapsedMs` ago). Before
 * any key exists (`current` 0) every version up to the cap is plausible.
 *
 * @example
 * ```ts
 * import { plausibleVersion } from "./channel_version.ts";
 * plausibleVersion(12, 11, 0); // true
 * plausibleVersion(2 ** 53 - 1, 11, 60_000); // false
 * ```
 */
export function plausibleVersion(version: number, current: number, elapsedMs: number): boolean {
  if (!Number.isSafeInteger(version) || version < 0 || version > MAX_CHANNEL_VERSION) return false;
  if (current <= 0) return true;
  const allowance = VERSION_JUMP + Math.floor((VERSIONS_PER_SEC * Math.max(0, elapsedMs)) / 1000);
  return version <= current + allowance;
}
