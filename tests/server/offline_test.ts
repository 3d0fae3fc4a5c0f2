// Offline delivery across two servers, with real clients and SQLite: bob
// (home s2) is away; alice on s1 sends three DMs and a file; they survive
// a restart of the home server; bob comes back on s1 and gets all four, in
// order, verified, once. Then kill -9 right after "queued", quotas,
// expiry, and a user nobody knows.

import assert from "node:assert/strict";
import { randomBytes } from "../_bytes.ts";
import { ClientProcess, type JsonEvent } from "../_client_proc.ts";
import { Cluster, fixtureKeys, type NodeProcess, waitUntil } from "../_cluster.ts";

const dmsFrom = (c: ClientProcess, from: string) =>
  c.events.filter((e) => e.event === "dm" && e.from === from);

/** bob registers at `home`, then leaves. */
async function awayUser(cluster: Cluster, home: NodeProcess, name: string, key: number) {
  const bob = await ClientProcess.start(cluster, home, name, await fixtureKeys(key));
  assert.equal(await bob.quit(), 0);
  return bob;
}

Deno.test("offline delivery: three DMs and a file wait for bob across a restart, then arrive in order, once", async () => {
  const { cluster, nodes: [s1, s2] } = await Cluster.mesh(["s1", "s2"]);
  let alice: ClientProcess | undefined;
  let bob: ClientProcess | undefined;
  try {
    const away = await awayUser(cluster, s2, "bob", 1);
    const outbox = `${cluster.dir}/outbox`;
    await Deno.mkdir(outbox);
    const bytes = randomBytes(5000);
    await Deno.writeFile(`${outbox}/notes.bin`, bytes);
    alice = await ClientProcess.start(cluster, s1, "alice", await fixtureKeys(0), [outbox]);
    for (const text of ["first", "second", "third"]) {
      await alice.send(`/tell ${away.userId} ${text}`);
    }
    await waitUntil(
      () => alice!.events.filter((e) => e.event === "queued").length === 3,
      15_000,
      "three queued answers",
    );
    assert.ok(!alice.events.some((e) => e.event === "error"), JSON.stringify(alice.events));
    await alice.send(`/file ${away.userId} ${outbox}/notes.bin`);
    await alice.next((e) => e.event === "sent" && e.kind === "file", 20_000);
    await waitUntil(
      () => alice!.events.filter((e) => e.event === "queued").length === 4,
      15_000,
      "the file queued",
    );
    const queued = alice.events.filter((e) => e.event === "queued");
    assert.ok(queued.every((e) => e.to === away.userId && typeof e.queued_at === "number"));

    // The home server restarts: nothing is lost.
    await s2.stop();
    await s2.restart();
    await cluster.waitForMesh([s1, s2]);

    // bob comes back on the other server.
    bob = await ClientProcess.again(cluster, s1, away);
    await waitUntil(
      () =>
        dmsFrom(bob!, alice!.userId).length === 3 && bob!.events.some((e) => e.event === "file"),
      20_000,
      "three DMs and a file",
    );
    const dms = dmsFrom(bob, alice.userId);
    assert.deepEqual(dms.map((e) => e.text), ["first", "second", "third"]);
    assert.ok(dms.every((e) => e.verified === true), JSON.stringify(dms));
    assert.ok(dms.every((e) => typeof e.queued_at === "number"), "marked as delivered later");
    const order = bob.events.filter((e) => e.event === "dm" || e.event === "file");
    assert.equal(order.at(-1)!.event, "file", "the file was sent last, and comes last");
    const file = order.at(-1) as JsonEvent;
    assert.deepEqual(await Deno.readFile(String(file.path)), bytes);
    assert.equal(file.verified, true);

    // Exactly once: another login delivers nothing more.
    assert.equal(await bob.quit(), 0);
    bob = await ClientProcess.again(cluster, s2, away);
    await new Promise((r) => setTimeout(r, 1500));
    assert.deepEqual(dmsFrom(bob, alice.userId), [], "the queue was emptied");
  } finally {
    await alice?.quit();
    await bob?.quit();
    await cluster.close();
  }
});

Deno.test("offline delivery: kill -9 after queued loses nothing; quotas, expiry and unknown users answer clearly", async () => {
  const { cluster, nodes: [s1] } = await Cluster.mesh(["s1"], 0, [
    "--queue-messages",
    "2",
    "--queue-bytes",
    "40000",
  ]);
  let alice: ClientProcess | undefined;
  let bob: ClientProcess | undefined;
  try {
    const away = await awayUser(cluster, s1, "bob", 1);
    const outbox = `${cluster.dir}/outbox`;
    await Deno.mkdir(outbox);
    await Deno.writeFile(`${outbox}/big.bin`, randomBytes(30_000));
    alice = await ClientProcess.start(cluster, s1, "alice", await fixtureKeys(0), [outbox]);
    await alice.send(`/tell ${away.userId} before the crash`);
    await alice.next((e) => e.event === "queued");
    await s1.kill9();
    await s1.restart();
    await alice.next(
      (e) => e.event === "ready" && alice!.events.filter((r) => r.event === "ready").length > 1,
      30_000,
    );

    // A file counts with its declared size: 30 kB (about 42 kB queued) is over 40000 bytes.
    await alice.send(`/file ${away.userId} ${outbox}/big.bin`);
    const tooBig = await alice.next((e) => e.event === "error");
    assert.equal(tooBig.code, "RATE_LIMITED");
    assert.match(String(tooBig.detail), /offline queue is full \(40000 bytes\)/);
    await new Promise((r) => setTimeout(r, 1100)); // one ERROR per second per link

    // Quota: the second fits, the third is refused with a clear error.
    await alice.send(`/tell ${away.userId} second`);
    await alice.next((e) =>
      e.event === "queued" && alice!.events.filter((q) => q.event === "queued").length === 2
    );
    await alice.send(`/tell ${away.userId} third`);
    const full = await alice.next((e) => e.event === "error" && e !== tooBig);
    assert.equal(full.code, "RATE_LIMITED");
    assert.match(String(full.detail), /offline queue is full \(2 items\)/);

    // Nobody knows this id: USER_NOT_FOUND, not queued.
    await alice.send(`/tell ${crypto.randomUUID()} anyone?`);
    const unknown = await alice.next((e) => e.event === "error" && e.code === "USER_NOT_FOUND");
    assert.equal(unknown.code, "USER_NOT_FOUND");

    bob = await ClientProcess.again(cluster, s1, away);
    await waitUntil(() => dmsFrom(bob!, alice!.userId).length === 2, 15_000, "bob's two DMs");
    assert.deepEqual(dmsFrom(bob, alice.userId).map((e) => e.text), ["before the crash", "second"]);
  } finally {
    await alice?.quit();
    await bob?.quit();
    await cluster.close();
  }
});

Deno.test("offline delivery: items expire", async () => {
  const { cluster, nodes: [s1] } = await Cluster.mesh(["s1"], 0, ["--queue-expiry-ms", "1000"]);
  let alice: ClientProcess | undefined;
  let bob: ClientProcess | undefined;
  try {
    const away = await awayUser(cluster, s1, "bob", 1);
    alice = await ClientProcess.start(cluster, s1, "alice", await fixtureKeys(0));
    await alice.send(`/tell ${away.userId} too late`);
    await alice.next((e) => e.event === "queued");
    await waitUntil(
      () => s1.entries().some((e) => e.msg === "offline items expired"),
      15_000,
      "the sweep",
    );
    bob = await ClientProcess.again(cluster, s1, away);
    await new Promise((r) => setTimeout(r, 1000));
    assert.deepEqual(dmsFrom(bob, alice.userId), []);
  } finally {
    await alice?.quit();
    await bob?.quit();
    await cluster.close();
  }
});
