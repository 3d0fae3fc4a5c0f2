// The user side of real servers: hello and authentication, direct messages
// across servers, errors, /list. Users are scripted test clients.

import assert from "node:assert/strict";
import { msgRef } from "../../protocol/dedup.ts";
import { buildUserHello, type Frame, type FrameOf, signFrame } from "../../mod.ts";
import { Cluster, fixtureKeys, type NodeProcess, waitUntil } from "../_cluster.ts";
import { TestUser } from "../_user.ts";
import { KEYS, V } from "../_vectors.ts";

interface Pair {
  cluster: Cluster;
  a: NodeProcess;
  b: NodeProcess;
}

async function twoServers(firstKey: number, args: string[] = []): Promise<Pair> {
  const cluster = await Cluster.create(firstKey);
  const intro = await cluster.introducer("intro");
  const a = await cluster.server("a", [intro], args);
  const b = await cluster.server("b", [intro], args);
  await cluster.waitForMesh([intro, a, b]);
  return { cluster, a, b };
}

const isAdvertOf = (user: TestUser) => (f: Frame) =>
  f.type === "USER_ADVERTISE" && f.payload.user_id === user.id;

Deno.test("alice on A and bob on B exchange DMs; content_sig verifies with the original ts; no server sees plaintext", async () => {
  const { cluster, a, b } = await twoServers(0);
  const alice = new TestUser(KEYS.A, "Alice");
  const bob = new TestUser(KEYS.B, "Bob");
  try {
    assert.equal((await alice.connect(a.url, cluster.client)).type, "ACK");
    const ack = await bob.connect(b.url, cluster.client) as FrameOf<"ACK">;
    assert.equal(ack.payload.server_pub, b.pubkey);
    await alice.socket.next(isAdvertOf(bob)); // presence crossed the mesh
    await bob.socket.next(isAdvertOf(alice)); // catch-up adverts on hello

    const secrets = ["meet at the old mill α", "bring the map 🗺"];
    const sent = await alice.dm(bob, secrets[0]);
    const got = await bob.nextDm();
    assert.deepEqual(got, { from: alice.id, text: secrets[0], ts: sent.ts, verified: true });
    const reply = await bob.dm(alice, secrets[1]);
    assert.deepEqual(await alice.nextDm(), {
      from: bob.id,
      text: secrets[1],
      ts: reply.ts,
      verified: true,
    });

    // The ciphertext, sender_pub and content_sig arrive exactly as sent.
    const delivered = bob.socket.ofType("USER_DELIVER")[0];
    assert.equal(delivered.payload.ciphertext, sent.payload.ciphertext);
    assert.equal(delivered.payload.content_sig, sent.payload.content_sig);
    assert.equal(delivered.payload.sender_pub, sent.payload.sender_pub);
    assert.equal(delivered.to, bob.id);

    // Plaintext appears nowhere a server wrote: frames, logs, databases.
    await a.stop();
    await b.stop();
    const everything = [
      ...alice.socket.texts,
      ...bob.socket.texts,
      ...a.lines,
      ...b.lines,
      await Deno.readTextFile(`${a.dataDir}/socp.sqlite`).catch(() => ""),
      await Deno.readTextFile(`${b.dataDir}/socp.sqlite-wal`).catch(() => ""),
    ].join("\n");
    for (const secret of secrets) assert.ok(!everything.includes(secret), "plaintext leaked");
  } finally {
    await alice.close().catch(() => {});
    await bob.close().catch(() => {});
    await cluster.close();
  }
});

Deno.test("an unknown recipient gets USER_NOT_FOUND, an offline one MSG_QUEUED; a forged from is not routed", async () => {
  const { cluster, a, b } = await twoServers(3);
  const alice = new TestUser(KEYS.A, "Alice");
  const carol = new TestUser(await fixtureKeys(8), "Carol");
  const bob = new TestUser(KEYS.B, "Bob");
  try {
    await carol.connect(a.url, cluster.client);
    await carol.close(); // registered on A, now offline
    await alice.connect(a.url, cluster.client);
    await bob.connect(b.url, cluster.client);
    await alice.socket.next(isAdvertOf(bob));

    const stranger = new TestUser(await fixtureKeys(9), "Stranger");
    await alice.dm(stranger, "hello?");
    const unknown = await alice.socket.nextError("USER_NOT_FOUND") as FrameOf<"ERROR">;
    assert.match(unknown.payload.detail, /unknown/);
    await new Promise((r) => setTimeout(r, 1100));
    let mark = alice.socket.frames.length;
    const waiting = await alice.dm(carol, "are you there?");
    // Registered but away: the DM waits on carol's home server (offline delivery).
    const queued = await alice.socket.next(
      (f) => f.type === "MSG_QUEUED",
      5000,
      mark,
    ) as FrameOf<"MSG_QUEUED">;
    assert.equal(queued.payload.user_id, carol.id);
    assert.equal(queued.payload.msg_ref, await msgRef(waiting.payload));

    // A DM whose `from` is another user is refused and goes nowhere.
    await new Promise((r) => setTimeout(r, 1100));
    const forged = await signFrame({
      ...(await alice.dm(bob, "x")),
      from: carol.id,
      ts: Date.now() + 1,
    }, KEYS.A.privateKey);
    mark = alice.socket.frames.length;
    alice.socket.send(forged);
    await alice.socket.nextError("INVALID_SIG", 5000, mark);
    await bob.nextDm(); // the genuine one

    // A DM whose sender_pub is not the sender's registered key is refused.
    await new Promise((r) => setTimeout(r, 1100));
    const genuine = await alice.dm(bob, "y");
    const swapped = await signFrame(
      {
        ...genuine,
        ts: genuine.ts + 1,
        payload: { ...genuine.payload, sender_pub: KEYS.B.publicKey.b64 },
      },
      KEYS.A.privateKey,
    );
    mark = alice.socket.frames.length;
    alice.socket.send(swapped);
    await alice.socket.nextError("BAD_KEY", 5000, mark);
    await waitUntil(() => bob.socket.ofType("USER_DELIVER").length >= 2, 5000, 'the genuine "y"');
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(
      bob.socket.ofType("USER_DELIVER").length,
      2,
      "neither the forged nor the swapped DM was delivered",
    );
  } finally {
    for (const u of [alice, bob]) await u.close().catch(() => {});
    await cluster.close();
  }
});

Deno.test("sessions and impersonation: NAME_IN_USE, another key, unsigned, replayed, weak key", async () => {
  const { cluster, a, b } = await twoServers(6);
  const alice = new TestUser(KEYS.A, "Alice");
  try {
    const firstHello = await buildUserHello(alice.identity, { meta: { display_name: "Alice" } });
    assert.equal((await alice.connect(a.url, cluster.client, firstHello)).type, "ACK");
    await waitUntil(async () => (await b.health()).users.online === 1, 5000, "b to learn of alice");

    const expectRefusal = async (
      server: NodeProcess,
      hello: object,
      code: string,
    ) => {
      const other = new TestUser(KEYS.B, "Mallory", alice.id);
      const answer = await other.connect(server.url, cluster.client, hello) as FrameOf<"ERROR">;
      assert.equal(answer.type, "ERROR");
      assert.equal(answer.payload.code, code);
      await other.socket.closed();
    };
    const again = new TestUser(KEYS.A, "Alice", alice.id);
    await expectRefusal(a, await buildUserHello(again.identity), "NAME_IN_USE");
    await expectRefusal(b, await buildUserHello(again.identity), "NAME_IN_USE");

    await alice.close();
    await new Promise((r) => setTimeout(r, 300));
    const mallory = { id: alice.id, keys: KEYS.B };
    await expectRefusal(a, await buildUserHello(mallory), "BAD_KEY");
    const unsigned = await buildUserHello(again.identity);
    delete unsigned.sig;
    await expectRefusal(a, unsigned, "AUTH_FAILED");
    await expectRefusal(a, firstHello, "AUTH_FAILED"); // replayed: same nonce
    const weak = { ...(await buildUserHello({ id: crypto.randomUUID(), keys: KEYS.A })) };
    weak.payload = {
      ...weak.payload,
      pubkey: V.keys.validation.find((c: { id: string }) => c.id === "weak-rsa2048-der").input,
    };
    await expectRefusal(a, weak, "BAD_KEY");
    // The genuine owner still gets in, with a fresh hello.
    const back = new TestUser(KEYS.A, "Alice", alice.id);
    assert.equal((await back.connect(a.url, cluster.client)).type, "ACK");
    await back.close();
  } finally {
    await cluster.close();
  }
});

Deno.test("/list: LIST_RESPONSE sorted with server ids and names, and the COMMAND form", async () => {
  const { cluster, a, b } = await twoServers(1);
  const users = [
    new TestUser(KEYS.A, "Alice"),
    new TestUser(KEYS.B, "Bob"),
    new TestUser(await fixtureKeys(9), ""),
  ];
  try {
    await users[0].connect(a.url, cluster.client);
    await users[1].connect(b.url, cluster.client);
    await users[2].connect(a.url, cluster.client);
    await users[0].socket.next(isAdvertOf(users[1]));
    const me = users[0];
    me.socket.send(await me.sign("LIST_REQUEST", a.id, {}));
    const list = await me.socket.next((f) => f.type === "LIST_RESPONSE") as FrameOf<
      "LIST_RESPONSE"
    >;
    const expected = users
      .map((u) => ({
        user_id: u.id,
        server_id: u === users[1] ? b.id : a.id,
        display_name: u.name || u.id,
      }))
      .sort((x, y) => (x.user_id < y.user_id ? -1 : 1));
    assert.deepEqual(list.payload.users, expected);
    me.socket.send(await me.sign("COMMAND", "server", { command: " /LIST " }));
    const response = await me.socket.next((f) => f.type === "COMMAND_RESPONSE") as FrameOf<
      "COMMAND_RESPONSE"
    >;
    assert.deepEqual(JSON.parse(response.payload.response), {
      users: expected.map((u) => u.user_id),
    });
  } finally {
    for (const u of users) await u.close().catch(() => {});
    await cluster.close();
  }
});
