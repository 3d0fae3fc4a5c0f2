/**
 * The server's persistent state in embedded SQLite (`node:sqlite`, WAL):
 * local user registrations, the public channel row and membership, pinned
 * servers and settings (SOCP.md §10.5). Opening an existing database never
 * drops or clears data; the schema evolves through numbered migrations.
 * Every statement is parameterised.
 *
 * @module
 */

import { DatabaseSync, type StatementSync } from "node:sqlite";
import { MIGRATIONS } from "./_migrations.ts";

/** A row of `servers`: a pinned peer server. */
export interface ServerRow {
  server_id: string;
  pubkey: string;
  host: string | null;
  port: number | null;
  source: string | null;
  first_seen: number | null;
  last_seen: number | null;
}

/** A row of `users`: a local registration. */
export interface UserRow {
  user_id: string;
  pubkey: string;
  privkey_store: string;
  pake_password: string;
  meta: string | null;
  version: number;
}

/** A row of `known_users`: a user id's mesh-wide binding (docs/PROTOCOL.md decision 42). */
export interface BindingRow {
  user_id: string;
  /** The bound key, b64url DER. */
  pubkey: string;
  /** Server id where the user registered: the only one that may change the key. */
  home: string;
  /** Bumped by the home on each key change; 0 for homes that do not number them (dialects). */
  key_version: number;
  /** When the home registered the id (its clock). */
  registered_at: number;
  /** When this server first stored the binding (its clock; 0 for migrated rows). */
  first_seen: number;
  /** 1 once the home itself has vouched for it; 0 while only other servers have. */
  confirmed: number;
  /** Time of the newest presence proof of this user that verified here; 0 if none ever did. */
  proof_ts: number;
}

/** A row of `groups`. */
export interface GroupRow {
  group_id: string;
  creator_id: string;
  created_at: number | null;
  meta: string | null;
  version: number;
  key_creator: string | null;
}

/** A row of `group_members`. */
export interface MemberRow {
  group_id: string;
  member_id: string;
  role: string | null;
  wrapped_key: string;
  added_at: number | null;
}

/** How a server's pin was learned. */
export type PinSource = "bootstrap" | "welcome" | "announce" | "link";

// node:sqlite rows have a null prototype; copy them into plain objects.
function plain<T>(row: unknown): T | undefined {
  return row ? ({ ...(row as object) } as T) : undefined;
}

/**
 * Opens (creating if needed) and migrates the database at `path`.
 *
 * @example
 * ```ts
 * import { Store } from "./store.ts";
 * const store = Store.open(":memory:");
 * store.publicGroup().creator_id; // "system"
 * store.close();
 * ```
 */
export class Store {
  readonly #db: DatabaseSync;

  private constructor(db: DatabaseSync) {
    this.#db = db;
  }

  /**
   * Opens the database, enables WAL, runs pending migrations, ensures the
   * `public` row. `maxBytes` caps the database's size: a write beyond it
   * fails (as on a full disk) and is rolled back.
   */
  static open(path: string, now: number = Date.now(), maxBytes?: number): Store {
    const db = new DatabaseSync(path);
    db.exec("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;");
    db.exec("PRAGMA busy_timeout = 5000;");
    const store = new Store(db);
    store.#migrate();
    if (maxBytes !== undefined) {
      const { page_size } = db.prepare("PRAGMA page_size").get() as { page_size: number };
      db.exec(`PRAGMA max_page_count = ${Math.max(1, Math.floor(maxBytes / Number(page_size)))}`);
    }
    // Created once; INSERT OR IGNORE never resets an existing row.
    db.prepare(
      "INSERT OR IGNORE INTO groups (group_id, creator_id, created_at, meta, version, key_creator) VALUES ('public', 'system', ?, '{}', 0, NULL)",
    ).run(now);
    return store;
  }

  #migrate(): void {
    const current = Number(
      (this.#db.prepare("PRAGMA user_version").get() as { user_version: number }).user_version,
    );
    if (current > MIGRATIONS.length) {
      throw new Error(
        `database schema version ${current} is newer than this socp (${MIGRATIONS.length})`,
      );
    }
    for (let version = current + 1; version <= MIGRATIONS.length; version++) {
      this.transaction(() => {
        this.#db.exec(MIGRATIONS[version - 1]);
        this.#db.exec(`PRAGMA user_version = ${version}`);
      });
    }
  }

  /** Schema version (number of migrations applied). */
  get schemaVersion(): number {
    return Number(
      (this.#db.prepare("PRAGMA user_version").get() as { user_version: number }).user_version,
    );
  }

  /** Runs `fn` in one transaction: all its writes land, or none. */
  transaction<T>(fn: () => T): T {
    this.#db.exec("BEGIN IMMEDIATE");
    try {
      const result = fn();
      this.#db.exec("COMMIT");
      return result;
    } catch (e) {
      try {
        this.#db.exec("ROLLBACK");
      } catch {
        // SQLite already rolled back (a full database does that): keep the original error.
      }
      throw e;
    }
  }

  /** A prepared statement, for the store's sibling modules (server/offline_queue.ts). */
  prepare(sql: string): StatementSync {
    return this.#db.prepare(sql);
  }

  /** Closes the database. */
  close(): void {
    this.#db.close();
  }

  // settings

  /** A setting's value, or undefined. */
  getSetting(key: string): string | undefined {
    return plain<{ value: string }>(
      this.#db.prepare("SELECT value FROM settings WHERE key = ?").get(key),
    )?.value;
  }

  /** Sets a setting. */
  setSetting(key: string, value: string): void {
    this.#db.prepare(
      "INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
    ).run(key, value);
  }

  // servers

  /** Pins a server's key (first time) or refreshes its address and last_seen. The pin itself never changes here. */
  pinServer(
    row: { server_id: string; pubkey: string; host?: string; port?: number; source: PinSource },
    now: number,
  ): void {
    this.#db.prepare(
      `INSERT INTO servers (server_id, pubkey, host, port, source, first_seen, last_seen) VALUES (?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT(server_id) DO UPDATE SET host = COALESCE(excluded.host, host), port = COALESCE(excluded.port, port),
       last_seen = excluded.last_seen`,
    ).run(row.server_id, row.pubkey, row.host ?? null, row.port ?? null, row.source, now, now);
  }

  /** Forgets a pinned server (one that was only ever announced, and never answered). */
  deleteServer(serverId: string): void {
    this.#db.prepare("DELETE FROM servers WHERE server_id = ?").run(serverId);
  }

  /** Updates when a server was last heard from. */
  touchServer(serverId: string, now: number): void {
    this.#db.prepare("UPDATE servers SET last_seen = ? WHERE server_id = ?").run(now, serverId);
  }

  /** One pinned server. */
  getServer(serverId: string): ServerRow | undefined {
    return plain<ServerRow>(
      this.#db.prepare("SELECT * FROM servers WHERE server_id = ?").get(serverId),
    );
  }

  /** Every pinned server. */
  listServers(): ServerRow[] {
    return this.#db.prepare("SELECT * FROM servers ORDER BY server_id").all().map((r) =>
      plain<ServerRow>(r)!
    );
  }

  // users

  /** A local registration. */
  getUser(userId: string): UserRow | undefined {
    return plain<UserRow>(this.#db.prepare("SELECT * FROM users WHERE user_id = ?").get(userId));
  }

  /** Every local registration. */
  listUsers(): UserRow[] {
    return this.#db.prepare("SELECT * FROM users ORDER BY user_id").all().map((r) =>
      plain<UserRow>(r)!
    );
  }

  /** Inserts or replaces a registration. */
  putUser(row: UserRow): void {
    this.#db.prepare(
      `INSERT INTO users (user_id, pubkey, privkey_store, pake_password, meta, version) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT(user_id) DO UPDATE SET pubkey = excluded.pubkey, pake_password = excluded.pake_password,
       meta = excluded.meta, version = excluded.version`,
    ).run(row.user_id, row.pubkey, row.privkey_store, row.pake_password, row.meta, row.version);
  }

  /** Removes a local registration (a registration that lost a race for its id). */
  deleteUser(userId: string): void {
    this.#db.prepare("DELETE FROM users WHERE user_id = ?").run(userId);
  }

  // known users

  /** The binding of a user id, if any. */
  getBinding(userId: string): BindingRow | undefined {
    return plain<BindingRow>(
      this.#db.prepare("SELECT * FROM known_users WHERE user_id = ?").get(userId),
    );
  }

  /** Inserts or replaces a binding. */
  putBinding(row: BindingRow): void {
    this.#db.prepare(
      `INSERT INTO known_users (user_id, pubkey, home, key_version, registered_at, first_seen, confirmed, proof_ts)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT(user_id) DO UPDATE SET pubkey = excluded.pubkey, home = excluded.home,
       key_version = excluded.key_version, registered_at = excluded.registered_at,
       first_seen = excluded.first_seen, confirmed = excluded.confirmed, proof_ts = excluded.proof_ts`,
    ).run(
      row.user_id,
      row.pubkey,
      row.home,
      row.key_version,
      row.registered_at,
      row.first_seen,
      row.confirmed,
      row.proof_ts,
    );
  }

  /** Up to `limit` bindings with user ids after `after`, in id order (for paging link sync). */
  listBindings(after: string, limit: number): BindingRow[] {
    return this.#db.prepare(
      "SELECT * FROM known_users WHERE user_id > ? ORDER BY user_id LIMIT ?",
    ).all(after, limit).map((r) => plain<BindingRow>(r)!);
  }

  /** Re-homes local bindings after the introducer assigned this server a new id. */
  renameHome(from: string, to: string): void {
    this.#db.prepare("UPDATE known_users SET home = ? WHERE home = ?").run(to, from);
  }

  // groups

  /** The `public` channel row (created at open, never reset). */
  publicGroup(): GroupRow {
    return plain<GroupRow>(
      this.#db.prepare("SELECT * FROM groups WHERE group_id = 'public'").get(),
    )!;
  }

  /** Records a new current public-channel version and its creator, with the member wraps. */
  setPublicVersion(
    version: number,
    keyCreator: string,
    members: { member_id: string; wrapped_key: string }[],
    now: number,
  ): void {
    this.#db.prepare("UPDATE groups SET version = ?, key_creator = ? WHERE group_id = 'public'")
      .run(version, keyCreator);
    this.#db.prepare("DELETE FROM group_members WHERE group_id = 'public'").run();
    const insert = this.#db.prepare(
      "INSERT INTO group_members (group_id, member_id, role, wrapped_key, added_at) VALUES ('public', ?, 'member', ?, ?)",
    );
    for (const m of members) insert.run(m.member_id, m.wrapped_key, now);
  }

  /** Members of the public channel. */
  publicMembers(): MemberRow[] {
    return this.#db.prepare(
      "SELECT * FROM group_members WHERE group_id = 'public' ORDER BY member_id",
    ).all()
      .map((r) => plain<MemberRow>(r)!);
  }
}
