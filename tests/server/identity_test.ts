// One identity across the mesh (docs/PROTOCOL.md decision 42): a user id is
// bound to one key on every server, whoever hosts the user, whatever restarted
// or joined later; two concurrent registrations of one id converge on one.

import assert from "node:assert/strict";
import { buildSigned, buildUserHello, type Frame } from "../../mod.ts";
import { Cluster, fixtureKeys, type NodeProcess, waitUntil } from "../_cluster.ts";
import { TestUser } from "../_user.ts";
import { KEYS } from "../_vectors.ts";

const mesh = (names: string[], firstKey: number) => Cluster.mesh(names, firstKey);

/** Says hello as `id` with `keys` on `node`; resolves with the ACK or ERROR. */
async function helloAs(
  cluster: Cluster,
  node: NodeProcess,
  id: string,
  keys: TestUser["identity"]["keys"],
): Promise<{ user: TestUser; reply: Frame }> {
  const user = new TestUser(keys, "someone", id);
  const reply = await user.connect(node.url, cluster.client);
  return { user, reply };
}

const codeOf = (f: Frame) => f.type === "ERROR" ? f.payload.code : f.type;

/** How many bindings `node` has stored of each kind (the `bindings_stored` metric). */
async function bindingsStored(node: NodeProcess): Promise<number> {
  const frames = (await node.health()).frames as Record<string, Record<string, number>>;
  return Object.values(frames.bindings_stored ?? {}).reduce((n, v) => n + v, 0);
}

/** alice registers on `home` and leaves, once `observer` (elsewhere) has seen her advert. */
async function registerAndLeave(cluster: Cluster, home: NodeProcess, observer: TestUser) {
  const alice = new TestUser(KEYS.A, "Alice");
  assert.equal((await alice.connect(home.url, cluster.client)).type, "ACK");
  await observer.socket.next((f) => f.type === "USER_ADVERTISE" && f.payload.user_id === alice.id);
  await alice.close();
  return alice;
}

Deno.test("an offline user's id cannot be taken on another server; its own key still logs in there", async () => {
  const { cluster, nodes: [a, b] } = await mesh(["a", "b"], 0);
  const observer = new TestUser(KEYS.B, "Obs");
  try {
    await observer.connect(b.url, cluster.client);
    const alice = await registerAndLeave(cluster, a, observer);
    // The attacker's own key and alice's id, on the server alice never used.
    const mallory = await helloAs(cluster, b, alice.id, KEYS.B);
    assert.equal(codeOf(mallory.reply), "BAD_KEY");
    await mallory.user.socket.closed();
    // alice herself may roam: the bound key and a signed-fresh hello.
    const back = new TestUser(KEYS.A, "Alice", alice.id);
    assert.equal((await back.connect(b.url, cluster.client)).type, "ACK");
    await back.close();
    // A password cannot stand in for the key away from the home server.
    const guess = new TestUser(KEYS.B, "x", alice.id);
    const hello = { ...(await buildUserHello(guess.identity)), sig: undefined };
    hello.payload.password = "hunter2";
    assert.equal(codeOf(await guess.connect(b.url, cluster.client, hello)), "BAD_KEY");
    await guess.close();
  } finally {
    await observer.close().catch(() => {});
    await cluster.close();
  }
});

Deno.test("a restarted server still knows ids registered elsewhere, with their home down", async () => {
  const { cluster, nodes: [a, b] } = await mesh(["a", "b"], 3);
  const observer = new TestUser(KEYS.B, "Obs");
  try {
    await observer.connect(b.url, cluster.client);
    const alice = await registerAndLeave(cluster, a, observer);
    await observer.close();
    await a.stop(); // its home cannot vouch for it any more
    await b.kill9();
    await b.restart();
    const mallory = await helloAs(cluster, b, alice.id, KEYS.B);
    assert.equal(codeOf(mallory.reply), "BAD_KEY");
    await mallory.user.close().catch(() => {});
  } finally {
    await observer.close().catch(() => {});
    await cluster.close();
  }
});

Deno.test("a server that joins after the owner registered learns the id from link sync", async () => {
  const { cluster, intro, nodes: [a, b] } = await mesh(["a", "b"], 5);
  const observer = new TestUser(KEYS.B, "Obs");
  try {
    await observer.connect(b.url, cluster.client);
    const alice = await registerAndLeave(cluster, a, observer);
    await a.stop(); // c hears of alice only from the others
    const c = await cluster.server("c", [intro]);
    await cluster.waitForMesh([intro, b, c]);
    // (Without mesh-wide identity nothing is ever stored: go on and show the takeover.)
    await waitUntil(async () => await bindingsStored(c) >= 1, 5000, "bindings").catch(() => {});
    const mallory = await helloAs(cluster, c, alice.id, KEYS.B);
    assert.equal(codeOf(mallory.reply), "BAD_KEY");
    await mallory.user.close().catch(() => {});
  } finally {
    await observer.close().catch(() => {});
    await cluster.close();
  }
});

Deno.test("two servers registering one new id at the same moment converge on one key", async () => {
  const { cluster, nodes: [a, b] } = await mesh(["a", "b"], 7);
  const observers = [new TestUser(KEYS.A, "Obs A"), new TestUser(KEYS.B, "Obs B")];
  try {
    await observers[0].connect(a.url, cluster.client);
    await observers[1].connect(b.url, cluster.client);
    const id = crypto.randomUUID();
    const [one, two] = await Promise.all([
      helloAs(cluster, a, id, await fixtureKeys(1)),
      helloAs(cluster, b, id, await fixtureKeys(2)),
    ]);
    // Whoever was accepted, exactly one session survives; the other is told and closed.
    const sessions = [one, two];
    await waitUntil(
      () => sessions.filter((s) => !s.user.socket.isClosed).length === 1,
      10_000,
      "one session to remain",
    );
    const loser = sessions.find((s) => s.user.socket.isClosed)!;
    const winner = sessions.find((s) => !s.user.socket.isClosed)!;
    assert.equal(winner.reply.type, "ACK");
    const told = loser.user.socket.frames.filter((f) => f.type === "ERROR");
    assert.ok(told.length > 0, "the losing session got an ERROR");
    assert.equal(codeOf(told[told.length - 1]), "BAD_KEY");
    // Both observers see the id online with the winner's key.
    for (const observer of observers) {
      await waitUntil(
        () => {
          const adverts = observer.socket.ofType("USER_ADVERTISE").filter((f) =>
            f.payload.user_id === id
          );
          return adverts.at(-1)?.payload.pubkey === winner.user.publicKey.b64;
        },
        10_000,
        `${observer.name} to see the winner`,
      );
    }
    // Every server binds the id to the winner's key: the loser's key is refused everywhere.
    await winner.user.close();
    for (const node of [a, b]) {
      const retry = await helloAs(cluster, node, id, loser.user.identity.keys);
      assert.equal(codeOf(retry.reply), "BAD_KEY", `${node.name} refuses the losing key`);
      await retry.user.close().catch(() => {});
    }
  } finally {
    for (const o of observers) await o.close().catch(() => {});
    await cluster.close();
  }
});

Deno.test("a key change at the home server (password) re-pins the id on every server", async () => {
  const { cluster, nodes: [a, b] } = await mesh(["a", "b"], 2);
  const observer = new TestUser(KEYS.B, "Obs");
  try {
    await observer.connect(b.url, cluster.client);
    // A dialect-A style user: a password, and a new key on each run.
    const id = crypto.randomUUID();
    const passwordHello = (keys: typeof KEYS.A) =>
      buildSigned({ id, keys }, "USER_HELLO", "server", {
        client: "cli-v1",
        pubkey: keys.publicKey.b64,
        password: "a long passphrase",
      });
    const run1 = new TestUser(KEYS.A, "Dee", id);
    assert.equal(
      (await run1.connect(a.url, cluster.client, await passwordHello(KEYS.A))).type,
      "ACK",
    );
    await run1.close();
    const newKeys = await fixtureKeys(8);
    const run2 = new TestUser(newKeys, "Dee", id);
    assert.equal(
      (await run2.connect(a.url, cluster.client, await passwordHello(newKeys))).type,
      "ACK",
    );
    await observer.socket.next((f) =>
      f.type === "USER_ADVERTISE" && f.payload.user_id === id &&
      f.payload.pubkey === newKeys.publicKey.b64
    );
    await run2.close();
    // b took the new key from the home's advert: the old key is refused there, the new one roams.
    const old = await helloAs(cluster, b, id, KEYS.A);
    assert.equal(codeOf(old.reply), "BAD_KEY");
    await old.user.close().catch(() => {});
    const roaming = await helloAs(cluster, b, id, newKeys);
    assert.equal(roaming.reply.type, "ACK");
    await roaming.user.close();
  } finally {
    await observer.close().catch(() => {});
    await cluster.close();
  }
});
