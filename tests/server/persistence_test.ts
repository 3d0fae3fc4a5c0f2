// Restarts: identity, pins, users and the public channel row survive; a
// killed server rejoins with the same id and an intact database.

import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import type { FrameOf } from "../../mod.ts";
import { Cluster, waitUntil } from "../_cluster.ts";
import { TestUser } from "../_user.ts";
import { KEYS } from "../_vectors.ts";

function withDb<T>(dataDir: string, fn: (db: DatabaseSync) => T): T {
  const db = new DatabaseSync(`${dataDir}/socp.sqlite`);
  try {
    return fn(db);
  } finally {
    db.close();
  }
}

const row = (db: DatabaseSync, sql: string, ...args: string[]) => ({
  ...db.prepare(sql).get(...args),
});

Deno.test("a restart keeps the id, key, pins, users and the public row (no reset on boot)", async () => {
  const cluster = await Cluster.create(3);
  try {
    const intro = await cluster.introducer("intro");
    const s1 = await cluster.server("s1", [intro]);
    await cluster.waitForMesh([intro, s1]);
    const { id, pubkey } = s1;
    await s1.stop();
    const alice = crypto.randomUUID();
    const before = withDb(s1.dataDir, (db) => {
      db.prepare(
        "INSERT INTO users (user_id, pubkey, privkey_store, pake_password, meta, version) VALUES (?, ?, '', '', ?, 1)",
      )
        .run(alice, pubkey, '{"display_name":"Alice"}');
      db.prepare("UPDATE groups SET version = 7, key_creator = ? WHERE group_id = 'public'").run(
        id,
      );
      return {
        group: row(db, "SELECT * FROM groups WHERE group_id = 'public'"),
        user: row(db, "SELECT * FROM users WHERE user_id = ?", alice),
        pin: row(db, "SELECT server_id, pubkey FROM servers WHERE server_id = ?", intro.id),
      };
    });
    assert.equal(before.pin.pubkey, intro.pubkey, "the introducer's key was pinned");

    await s1.restart();
    assert.equal(s1.id, id, "same server id");
    assert.equal(s1.pubkey, pubkey, "same key");
    await cluster.waitForMesh([intro, s1]);
    await s1.stop();
    withDb(s1.dataDir, (db) => {
      assert.deepEqual(row(db, "SELECT * FROM groups WHERE group_id = 'public'"), before.group);
      assert.deepEqual(row(db, "SELECT * FROM users WHERE user_id = ?", alice), before.user);
      assert.deepEqual(
        row(db, "SELECT server_id, pubkey FROM servers WHERE server_id = ?", intro.id),
        before.pin,
      );
      assert.equal(row(db, "PRAGMA integrity_check").integrity_check, "ok");
    });
  } finally {
    await cluster.close();
  }
});

Deno.test("kill -9: peers drop the links at once; the restarted server rejoins with its id and an intact DB", async () => {
  const cluster = await Cluster.create(6);
  try {
    const intro = await cluster.introducer("intro");
    const servers = [
      await cluster.server("s1", [intro]),
      await cluster.server("s2", [intro]),
      await cluster.server("s3", [intro]),
    ];
    await cluster.waitForMesh([intro, ...servers]);
    const [s1, s2, s3] = servers;
    const { id, pubkey } = s3;
    await s3.kill9();
    await waitUntil(
      async () => {
        const [h1, h2] = [await s1.health(), await s2.health()];
        return !h1.links.includes(id) && !h2.links.includes(id);
      },
      2000 + 1500,
      "s1 and s2 to drop s3 within the link timeout",
    );
    await s3.restart();
    assert.equal(s3.id, id);
    assert.equal(s3.pubkey, pubkey);
    await cluster.waitForMesh([intro, ...servers]);
    withDb(
      s3.dataDir,
      (db) => assert.equal(row(db, "PRAGMA integrity_check").integrity_check, "ok"),
    );
  } finally {
    await cluster.close();
  }
});

Deno.test("a dead server's users are removed mesh-wide; local clients are told", async () => {
  const cluster = await Cluster.create(2);
  const ann = new TestUser(KEYS.A, "Ann");
  const dee = new TestUser(KEYS.B, "Dee");
  try {
    const intro = await cluster.introducer("intro");
    const s1 = await cluster.server("s1", [intro]);
    const s2 = await cluster.server("s2", [intro]);
    const s3 = await cluster.server("s3", [intro]);
    await cluster.waitForMesh([intro, s1, s2, s3]);
    await ann.connect(s1.url, cluster.client);
    await dee.connect(s3.url, cluster.client);
    await ann.socket.next((f) => f.type === "USER_ADVERTISE" && f.payload.user_id === dee.id);
    for (const s of [s1, s2]) {
      await waitUntil(
        async () => (await s.health()).users.online === 2,
        5000,
        `${s.name} sees both`,
      );
    }
    await s3.kill9();
    for (const s of [s1, s2]) {
      await waitUntil(
        async () => (await s.health()).users.online === 1,
        3500,
        `${s.name} drops Dee`,
      );
    }
    const notice = await ann.socket.next((f) =>
      f.type === "USER_REMOVE" && f.payload.user_id === dee.id
    ) as FrameOf<"USER_REMOVE">;
    assert.equal(notice.from, s1.id, "issued by Ann's own server");
    assert.equal(notice.payload.server_id, s3.id, "naming the lost server");
    const mark = ann.socket.frames.length;
    await ann.dm(dee, "still there?");
    await ann.socket.nextError("USER_NOT_FOUND", 5000, mark);
  } finally {
    await ann.close().catch(() => {});
    await dee.close().catch(() => {});
    await cluster.close();
  }
});

Deno.test("SIGTERM: users and peers get CTRL_CLOSE, the process exits 0, the database is closed cleanly", async () => {
  const cluster = await Cluster.create(8);
  const ann = new TestUser(KEYS.A, "Ann");
  try {
    const intro = await cluster.introducer("intro");
    const s1 = await cluster.server("s1", [intro]);
    await cluster.waitForMesh([intro, s1]);
    await ann.connect(s1.url, cluster.client);
    assert.equal(await s1.stop(), 0);
    const goodbye = await ann.socket.next((f) => f.type === "CTRL_CLOSE") as FrameOf<"CTRL_CLOSE">;
    assert.deepEqual(goodbye.payload, { reason: "shutdown" });
    assert.equal(goodbye.from, s1.id);
    await ann.socket.closed();
    assert.ok(s1.entries().some((e) => e.msg === "stopped"));
    // The last connection closed: SQLite checkpointed and removed its write-ahead log.
    await assert.rejects(Deno.stat(`${s1.dataDir}/socp.sqlite-wal`), Deno.errors.NotFound);
    await waitUntil(
      async () => !(await intro.health()).links.includes(s1.id),
      3000,
      "the introducer to see s1 leave",
    );
  } finally {
    await cluster.close();
  }
});
