import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { MIGRATIONS } from "../../server/_migrations.ts";
import { Store } from "../../server/store.ts";

async function tempDb(): Promise<{ path: string; cleanup: () => Promise<void> }> {
  const dir = await Deno.makeTempDir();
  return { path: `${dir}/socp.sqlite`, cleanup: () => Deno.remove(dir, { recursive: true }) };
}

Deno.test("Store.open migrates to the latest schema, in WAL mode, with the public row", async () => {
  const { path, cleanup } = await tempDb();
  const store = Store.open(path, 1234);
  assert.equal(store.schemaVersion, MIGRATIONS.length);
  assert.deepEqual(store.publicGroup(), {
    group_id: "public",
    creator_id: "system",
    created_at: 1234,
    meta: "{}",
    version: 0,
    key_creator: null,
  });
  store.close();
  const db = new DatabaseSync(path);
  assert.equal({ ...db.prepare("PRAGMA journal_mode").get() }.journal_mode, "wal");
  db.close();
  await cleanup();
});

Deno.test("reopening never clears data or resets the public row", async () => {
  const { path, cleanup } = await tempDb();
  const first = Store.open(path, 1);
  first.putUser({
    user_id: "u1",
    pubkey: "k",
    privkey_store: "",
    pake_password: "",
    meta: null,
    version: 3,
  });
  first.setPublicVersion(9, "s1", [{ member_id: "u1", wrapped_key: "w" }], 5);
  first.setSetting("server_id", "s1");
  first.close();
  const second = Store.open(path, 999);
  assert.equal(second.getUser("u1")?.version, 3);
  assert.equal(second.publicGroup().version, 9);
  assert.equal(second.publicGroup().created_at, 1);
  assert.equal(second.publicMembers().length, 1);
  assert.equal(second.getSetting("server_id"), "s1");
  second.close();
  await cleanup();
});

Deno.test("a pin never changes once set; address and last_seen do", () => {
  const store = Store.open(":memory:");
  store.pinServer({ server_id: "s", pubkey: "first", host: "h1", port: 1, source: "link" }, 10);
  store.pinServer(
    { server_id: "s", pubkey: "second", host: "h2", port: 2, source: "announce" },
    20,
  );
  assert.deepEqual(store.getServer("s"), {
    server_id: "s",
    pubkey: "first",
    host: "h2",
    port: 2,
    source: "link",
    first_seen: 10,
    last_seen: 20,
  });
  store.close();
});

Deno.test("values are bound as parameters, never spliced into SQL", () => {
  const store = Store.open(":memory:");
  const hostile = "x'); DROP TABLE users; --";
  store.putUser({
    user_id: hostile,
    pubkey: hostile,
    privkey_store: "",
    pake_password: "",
    meta: hostile,
    version: 1,
  });
  assert.equal(store.getUser(hostile)?.meta, hostile);
  assert.equal(store.listUsers().length, 1);
  store.close();
});

Deno.test("a failing transaction leaves nothing behind", () => {
  const store = Store.open(":memory:");
  assert.throws(() =>
    store.transaction(() => {
      store.setSetting("a", "1");
      throw new Error("boom");
    })
  );
  assert.equal(store.getSetting("a"), undefined);
  store.close();
});

Deno.test("a database from a newer socp is refused rather than downgraded", async () => {
  const { path, cleanup } = await tempDb();
  const db = new DatabaseSync(path);
  db.exec(`PRAGMA user_version = ${MIGRATIONS.length + 1}`);
  db.close();
  assert.throws(() => Store.open(path), /newer/);
  await cleanup();
});
