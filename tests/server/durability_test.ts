// Durability against a hostile environment: a write that fails is never
// acknowledged (a database at its size cap behaves as on a full disk), and a
// data directory serves one process at a time.

import assert from "node:assert/strict";
import type { Frame } from "../../mod.ts";
import { Cluster, fixtureKeys, waitUntil } from "../_cluster.ts";
import { TestUser } from "../_user.ts";
import { KEYS } from "../_vectors.ts";

Deno.test("a hello whose registration cannot be stored is refused, never ACKed or advertised", async () => {
  const cluster = await Cluster.create(0);
  const intro = await cluster.introducer("intro");
  // A small cap on a's database: every registration takes some of it.
  const a = await cluster.server("a", [intro], [
    "--max-db-bytes",
    String(160 * 1024),
    "--max-conns-per-ip", // every registered user stays connected, from 127.0.0.1
    "1000",
  ]);
  const b = await cluster.server("b", [intro]);
  const observer = new TestUser(KEYS.B, "Observer");
  const users: TestUser[] = [];
  try {
    await cluster.waitForMesh([intro, a, b]);
    await observer.connect(b.url, cluster.client);
    let refused: { user: TestUser; reply: Frame } | undefined;
    for (let i = 0; i < 400 && !refused; i++) {
      const user = new TestUser(await fixtureKeys(i % 4), `user ${i}`);
      const reply = await user.connect(a.url, cluster.client);
      if (reply.type === "ACK") users.push(user);
      else refused = { user, reply };
    }
    assert.ok(refused, "the database filled up");
    assert.ok(users.length > 5, `${users.length} registrations fit first`);
    assert.equal(refused.reply.type, "ERROR");
    assert.equal((refused.reply.payload as { code: string }).code, "SERVER_ERROR");
    await refused.user.socket.closed();
    assert.ok(!refused.user.socket.frames.some((f) => f.type === "ACK"), "never acknowledged");
    // Every accepted user reached b's observer; the refused one never did, anywhere.
    const last = users[users.length - 1];
    await observer.socket.next((f) => f.type === "USER_ADVERTISE" && f.payload.user_id === last.id);
    await new Promise((r) => setTimeout(r, 500));
    assert.ok(
      !observer.socket.frames.some((f) =>
        f.type === "USER_ADVERTISE" && f.payload.user_id === refused!.user.id
      ),
      "the refused user was not advertised",
    );
    assert.equal((await b.health()).users.online, users.length + 1);
    // What was acknowledged was stored: after a crash, the ids are still bound.
    for (const u of users) await u.close();
    await a.kill9();
    await a.restart();
    for (const u of [users[0], last]) {
      const impostor = new TestUser(KEYS.A, "impostor", u.id);
      const answer = await impostor.connect(a.url, cluster.client);
      assert.equal((answer.payload as { code?: string }).code, "BAD_KEY");
      await impostor.close().catch(() => {});
    }
  } finally {
    for (const u of users) await u.close().catch(() => {});
    await observer.close().catch(() => {});
    await cluster.close();
  }
});

Deno.test("a second process on a running node's data directory is refused, naming the holder", async () => {
  const cluster = await Cluster.create(3);
  try {
    const a = await cluster.server("a", []);
    const before = await a.health();
    const child = new Deno.Command(Deno.execPath(), {
      args: a.denoArgs(),
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
      env: { NO_COLOR: "1" },
    }).spawn();
    // Without the lock it would start and keep running: stop it after a while.
    const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
    const second = await child.output();
    clearTimeout(timer);
    const stderr = new TextDecoder().decode(second.stderr);
    assert.equal(second.code, 1, stderr);
    assert.match(stderr, new RegExp(`in use by server process ${a.pid}`));
    // The running node is untouched.
    const after = await a.health();
    assert.equal(after.id, before.id);
    await waitUntil(async () => (await a.health()).status === "ok", 2000, "a healthy");
  } finally {
    await cluster.close();
  }
});
