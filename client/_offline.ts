// Users known mesh-wide who are offline, with the keys our server vouches
// for (a signed `{"all":true}` list): whom a DM may be queued for, and whose
// queued messages can be verified after they left (offline delivery).

import { fingerprint } from "../protocol/keys.ts";
import type { OfflineUser } from "./_list.ts";
import type { Contact } from "./directory.ts";

/** How long a fetched list answers for users it does not name. */
const FRESH_MS = 10_000;

/** Offline users' contacts, from the last lists. */
export class OfflineContacts {
  readonly #known = new Map<string, Contact>();
  #fetchedAt = -Infinity;

  /** Takes one listed offline user. */
  async take(user: OfflineUser): Promise<void> {
    this.#known.set(user.userId, {
      userId: user.userId,
      serverId: user.home,
      name: user.userId,
      pubkey: user.pubkey,
      encKey: user.pubkey,
      fingerprint: await fingerprint(user.pubkey),
      caps: [],
      online: false,
    });
  }

  /** A list was fetched now. */
  fetched(now: number): void {
    this.#fetchedAt = now;
  }

  /** Whether a new list is worth asking for. */
  stale(now: number): boolean {
    return now - this.#fetchedAt > FRESH_MS;
  }

  /** The contact of an offline user, when listed. */
  get(userId: string): Contact | undefined {
    return this.#known.get(userId);
  }
}
