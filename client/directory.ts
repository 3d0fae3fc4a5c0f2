/**
 * The client's user directory (SOCP.md §6.1, §12): who is online, where,
 * under which name and key. Keys come from USER_ADVERTISE (`pubkey` or
 * `meta.pubkey`). A known user's key is never replaced silently: a different
 * key is reported and not adopted.
 *
 * @module
 */

import { displayName } from "../protocol/display.ts";
import { fingerprint, parsePublicKey, type PublicKey } from "../protocol/keys.ts";
import type { FrameOf } from "../protocol/types.ts";

/** One known user. */
export interface Contact {
  userId: string;
  serverId: string;
  name: string;
  pubkey: PublicKey;
  /** Key to encrypt to (`meta.enc_pubkey` when advertised, else `pubkey`). */
  encKey: PublicKey;
  /** Hex SHA-256 of the key, shown to users. */
  fingerprint: string;
  caps: string[];
  online: boolean;
}

/** What changed in the directory. */
export type DirectoryChange =
  | { kind: "online"; contact: Contact }
  | { kind: "offline"; contact: Contact }
  | { kind: "key-changed"; contact: Contact; offeredFingerprint: string };

/** Result of {@linkcode Directory.resolve}. */
export type Resolution =
  | { ok: true; contact: Contact }
  | { ok: false; reason: "unknown" | "ambiguous"; candidates: Contact[] };

/**
 * Online users and their keys.
 *
 * @example
 * ```ts
 * import { Directory } from "./directory.ts";
 * const directory = new Directory();
 * directory.resolve("alice").ok; // false: nobody is known yet
 * ```
 */
export class Directory {
  readonly #contacts = new Map<string, Contact>();

  /** A contact by exact user id. */
  get(userId: string): Contact | undefined {
    return this.#contacts.get(userId);
  }

  /** Users currently online, by name. */
  online(): Contact[] {
    return [...this.#contacts.values()].filter((c) => c.online).sort((a, b) =>
      a.name.localeCompare(b.name)
    );
  }

  /**
   * Applies a USER_ADVERTISE. Returns what changed, or null when the advert
   * is malformed (no valid key).
   */
  async advertise(frame: FrameOf<"USER_ADVERTISE">): Promise<DirectoryChange | null> {
    const { user_id: userId, server_id: serverId, meta = {} } = frame.payload;
    const parsed = parsePublicKey(frame.payload.pubkey ?? meta.pubkey);
    if (!parsed.ok) return null;
    const enc = meta.enc_pubkey ? parsePublicKey(meta.enc_pubkey) : undefined;
    const known = this.#contacts.get(userId);
    if (known && !known.pubkey.equals(parsed.key)) {
      // Never replace a key silently (SOCP.md §6.1): keep the first, report the offer.
      known.online = true;
      known.serverId = serverId;
      return {
        kind: "key-changed",
        contact: known,
        offeredFingerprint: await fingerprint(parsed.key),
      };
    }
    const contact: Contact = {
      userId,
      serverId,
      name: displayName(userId, meta),
      pubkey: parsed.key,
      encKey: enc?.ok ? enc.key : parsed.key,
      fingerprint: known?.fingerprint ?? await fingerprint(parsed.key),
      caps: Array.isArray(meta.caps) ? meta.caps.filter((c) => typeof c === "string") : [],
      online: true,
    };
    this.#contacts.set(userId, contact);
    return { kind: "online", contact };
  }

  /** Applies a USER_REMOVE: the user goes offline; the key is kept so old messages still verify. */
  remove(userId: string): DirectoryChange | null {
    const contact = this.#contacts.get(userId);
    if (!contact || !contact.online) return null;
    contact.online = false;
    return { kind: "offline", contact };
  }

  /** Marks everyone offline (after losing the connection). */
  clearPresence(): void {
    for (const contact of this.#contacts.values()) contact.online = false;
  }

  /**
   * Resolves what a user typed: an exact id, a display name
   * (case-insensitive), or an id prefix of at least 4 characters. Only
   * online users resolve by name or prefix.
   */
  resolve(query: string): Resolution {
    const q = query.trim();
    const exact = this.#contacts.get(q);
    if (exact) return { ok: true, contact: exact };
    const online = this.online();
    const byName = online.filter((c) => c.name.toLowerCase() === q.toLowerCase());
    const matches = byName.length
      ? byName
      : q.length >= 4
      ? online.filter((c) => c.userId.startsWith(q.toLowerCase()))
      : [];
    if (matches.length === 1) return { ok: true, contact: matches[0] };
    return { ok: false, reason: matches.length ? "ambiguous" : "unknown", candidates: matches };
  }
}
