// Numbered schema migrations. Migration N brings the schema from version N-1
// to N (tracked in PRAGMA user_version). Never edit a shipped migration: add
// a new one. None of them may drop or clear data.

export const MIGRATIONS: readonly string[] = [
  // 1: the spec tables (SOCP.md §10.5), the project's `servers` and `settings`.
  `
  CREATE TABLE IF NOT EXISTS users (
    user_id TEXT PRIMARY KEY,
    pubkey TEXT NOT NULL,
    privkey_store TEXT NOT NULL DEFAULT '',
    pake_password TEXT NOT NULL DEFAULT '',
    meta TEXT,
    version INTEGER NOT NULL DEFAULT 1
  );
  CREATE TABLE IF NOT EXISTS groups (
    group_id TEXT PRIMARY KEY,
    creator_id TEXT NOT NULL,
    created_at INTEGER,
    meta TEXT,
    version INTEGER NOT NULL,
    key_creator TEXT
  );
  CREATE TABLE IF NOT EXISTS group_members (
    group_id TEXT NOT NULL,
    member_id TEXT NOT NULL,
    role TEXT,
    wrapped_key TEXT NOT NULL,
    added_at INTEGER,
    PRIMARY KEY (group_id, member_id)
  );
  CREATE TABLE IF NOT EXISTS servers (
    server_id TEXT PRIMARY KEY,
    pubkey TEXT NOT NULL,
    host TEXT,
    port INTEGER,
    source TEXT,
    first_seen INTEGER,
    last_seen INTEGER
  );
  CREATE TABLE IF NOT EXISTS settings (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
  );
  `,
  // 2: mesh-wide user bindings (docs/PROTOCOL.md decision 42). Local registrations are
  // seeded as this server's own, established (first_seen 0) and confirmed.
  `
  CREATE TABLE IF NOT EXISTS known_users (
    user_id TEXT PRIMARY KEY,
    pubkey TEXT NOT NULL,
    home TEXT NOT NULL,
    key_version INTEGER NOT NULL,
    registered_at INTEGER NOT NULL,
    first_seen INTEGER NOT NULL,
    confirmed INTEGER NOT NULL,
    proof_ts INTEGER NOT NULL DEFAULT 0
  );
  INSERT OR IGNORE INTO known_users (user_id, pubkey, home, key_version, registered_at, first_seen, confirmed)
    SELECT user_id, pubkey, (SELECT value FROM settings WHERE key = 'server_id'), 1, 0, 0, 1
    FROM users WHERE EXISTS (SELECT 1 FROM settings WHERE key = 'server_id');
  `,
  // 3: offline delivery (docs/PROTOCOL.md decision 64): what waits for an absent user whose
  // home is this server. `item` is the frame to hand on (a DM as SERVER_DELIVER payload JSON, or a
  // FILE_* frame as sent); the rest is the minimum metadata: recipient, sender, size, times.
  `
  CREATE TABLE IF NOT EXISTS offline_queue (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    recipient TEXT NOT NULL,
    sender TEXT NOT NULL,
    kind TEXT NOT NULL,
    item TEXT NOT NULL,
    bytes INTEGER NOT NULL,
    queued_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
  );
  CREATE INDEX IF NOT EXISTS offline_queue_recipient ON offline_queue (recipient, seq);
  CREATE INDEX IF NOT EXISTS offline_queue_sender ON offline_queue (sender);
  `,
];
