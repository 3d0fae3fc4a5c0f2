/**
 * The client's user directory (SOCP.md §6.1, §12): who is online, where,
 * under which name and key. Keys come from USER_ADVERTISE (`pubkey` or
 * `meta.pubkey`); with the presence-lite extension, who is online comes from
 * PRESENCE frames and a key only from an advert looked up when needed. A
 * known user's key is never replaced silently: a different key is reported
 * and not adopted.
 *
 * @module
 */

import { displayName } from "../protocol/display.ts";
import { fingerprint, parsePublicKey, type PublicKey } from "../protocol/keys.ts";
import type { FrameOf, PresencePayload } from "../protocol/types.ts";

/** Someone online: who, where, under which name (the key may not be known yet). */
export interface Listing {
  /** The user's id. */
  userId: string;
  /** The server hosting the user. */
  serverId: string;
  /** The user's display name (sanitised). */
  name: string;
}

/** One user whose key is known. */
export interface Contact extends Listing {
  /** The advertised key, which signs the user's messages. */
  pubkey: PublicKey;
  /** Key to encrypt to (`meta.enc_pubkey` when advertised, else `pubkey`). */
  encKey: PublicKey;
  /** Hex SHA-256 of the key, shown to users. */
  fingerprint: string;
  /** Fingerprint of another key offered for this id (and refused: the first key is kept). */
  offeredFingerprint?: string;
  /** Capabilities from the user's advert. */
  caps: string[];
  /** Whether the user is online as far as this client knows. */
  online: boolean;
}

/** What changed in the directory. */
export type DirectoryChange =
  | { kind: "online"; contact: Listing }
  | { kind: "offline"; contact: Listing }
  | { kind: "key-changed"; contact: Contact; offeredFingerprint: string };

/** Result of {@linkcode Directory.resolve}. */
export type Resolution =
  | { ok: true; contact: Listing }
  | { ok: false; reason: "unknown" | "ambiguous"; candidates: Listing[] };

/**
 * Online users and their keys.
 *
 * @example
 * ```ts
 * import { Directory } from "@socp/socp/client";
 * const directory = new Directory();
 * directory.resolve("alice").ok; // false: nobody is known yet
 * ```
 */
export class Directory {
  readonly #contacts = new Map<string, Contact>();
  /** Online users announced by PRESENCE (presence-lite), keys or not. */
  readonly #present = new Map<string, Listing>();
  readonly #selfId?: string;

  /** A directory of the users other than `selfId`. */
  constructor(selfId?: string) {
    this.#selfId = selfId;
  }

  /** A contact (a user whose key is known) by exact user id. */
  get(userId: string): Contact | undefined {
    return this.#contacts.get(userId);
  }

  /** The display name of a user, if known. */
  name(userId: string): string | undefined {
    return this.#contacts.get(userId)?.name ?? this.#present.get(userId)?.name;
  }

  /** Whether a user is online as far as this client knows. */
  isOnline(userId: string): boolean {
    return this.#present.has(userId) || this.#contacts.get(userId)?.online === true;
  }

  /** Users currently online, by name. */
  online(): Listing[] {
    const all = new Map<string, Listing>(this.#present);
    for (const c of this.#contacts.values()) if (c.online) all.set(c.userId, c);
    return [...all.values()].sort((a, b) => a.name.localeCompare(b.name));
  }

  /**
   * Applies a USER_ADVERTISE. Returns what changed (null when nothing did, or
   * when the advert is malformed).
   */
  async advertise(frame: FrameOf<"USER_ADVERTISE">): Promise<DirectoryChange | null> {
    const { user_id: userId, server_id: serverId, meta = {} } = frame.payload;
    const parsed = parsePublicKey(frame.payload.pubkey ?? meta.pubkey);
    if (!parsed.ok) return null;
    const enc = meta.enc_pubkey ? parsePublicKey(meta.enc_pubkey) : undefined;
    const known = this.#contacts.get(userId);
    const wasOnline = this.isOnline(userId);
    if (known && !known.pubkey.equals(parsed.key)) {
      // Never replace a key silently (SOCP.md §6.1): keep the first, report the offer.
      known.online = true;
      known.serverId = serverId;
      known.offeredFingerprint = await fingerprint(parsed.key);
      return { kind: "key-changed", contact: known, offeredFingerprint: known.offeredFingerprint };
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
    return wasOnline ? null : { kind: "online", contact };
  }

  /** Applies a USER_REMOVE: the user goes offline; the key is kept so old messages still verify. */
  remove(userId: string): DirectoryChange | null {
    const listing = this.#present.get(userId) ?? this.#contacts.get(userId);
    if (!listing || !this.isOnline(userId)) return null;
    this.#present.delete(userId);
    const contact = this.#contacts.get(userId);
    if (contact) contact.online = false;
    return { kind: "offline", contact: contact ?? listing };
  }

  /**
   * Applies a PRESENCE frame (presence-lite): a `reset` first forgets who was
   * online. Returns who came online and who went offline.
   */
  presence(payload: PresencePayload): DirectoryChange[] {
    const before = new Map(this.online().map((l) => [l.userId, l]));
    if (payload.reset) this.clearPresence();
    for (const userId of payload.offline) this.remove(userId);
    for (const e of payload.online) {
      if (e.user_id === this.#selfId) continue;
      const listing = {
        userId: e.user_id,
        serverId: e.server_id,
        name: displayName(e.user_id, { display_name: e.display_name }),
      };
      this.#present.set(listing.userId, listing);
      const contact = this.#contacts.get(listing.userId);
      if (contact) Object.assign(contact, { online: true, serverId: listing.serverId });
    }
    const after = new Map(this.online().map((l) => [l.userId, l]));
    const changes: DirectoryChange[] = [];
    for (const [id, l] of after) if (!before.has(id)) changes.push({ kind: "online", contact: l });
    for (const [id, l] of before) if (!after.has(id)) changes.push({ kind: "offline", contact: l });
    return changes;
  }

  /** Marks everyone offline (after losing the connection). */
  clearPresence(): void {
    this.#present.clear();
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
