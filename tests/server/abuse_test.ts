// Abuse from user links against real servers: injected server-only frames,
// a flood of random and mutated frames, connection and rate limits, and the
// once-per-server fan-out of public messages.

import assert from "node:assert/strict";
import { buildServerDeliver, buildSigned, buildUserHello, type FrameOf } from "../../mod.ts";
import { Cluster, fixtureKeys, type NodeProcess, waitUntil } from "../_cluster.ts";
import { Mutator } from "../_mutate.ts";
import { FrameSocket } from "../_peer.ts";
import { TestUser } from "../_user.ts";
import { KEYS } from "../_vectors.ts";

async function mesh(servers: number, firstKey: number, args: string[] = []) {
  const cluster = await Cluster.create(firstKey);
  const intro = await cluster.introducer("intro");
  const nodes: NodeProcess[] = [];
  for (let i = 1; i <= servers; i++) nodes.push(await cluster.server(`s${i}`, [intro], args));
  await cluster.waitForMesh([intro, ...nodes]);
  return { cluster, nodes };
}

const frameCount = async (node: NodeProcess, family: string, type: string) =>
  ((await node.health()).frames as Record<string, Record<string, number>>)[family]?.[type] ?? 0;

Deno.test("a user link injecting server-only frames changes nothing in any directory", async () => {
  const { cluster, nodes } = await mesh(2, 0);
  const eve = new TestUser(KEYS.A, "Eve");
  const bob = new TestUser(KEYS.B, "Bob");
  try {
    await eve.connect(nodes[0].url, cluster.client);
    await bob.connect(nodes[1].url, cluster.client);
    const ghost = crypto.randomUUID();
    const pause = () => new Promise((r) => setTimeout(r, 1100));
    const injections = [
      // An advert for a ghost user, "from" the server itself.
      {
        ...(await buildSigned(eve.identity, "USER_ADVERTISE", "*", {
          user_id: ghost,
          server_id: nodes[0].id,
          pubkey: KEYS.A.publicKey.b64,
        })),
        from: nodes[0].id,
      },
      await buildSigned(eve.identity, "USER_REMOVE", "*", {
        user_id: bob.id,
        server_id: nodes[1].id,
      }),
      await buildServerDeliver(eve.identity, await eve.dm(bob, "decoy"), nodes[1].id),
      await buildSigned(eve.identity, "PUBLIC_CHANNEL_UPDATED", "*", { version: 999, wraps: [] }),
    ];
    for (const frame of injections) {
      const mark = eve.socket.frames.length;
      eve.socket.send(frame);
      await eve.socket.nextError("UNKNOWN_TYPE", 5000, mark);
      await pause();
    }
    for (const node of nodes) {
      assert.equal(
        (await node.health()).users.online,
        2,
        `${node.name} still sees exactly Eve and Bob`,
      );
    }
    bob.socket.send(await bob.sign("LIST_REQUEST", nodes[1].id, {}));
    const list = await bob.socket.next((f) => f.type === "LIST_RESPONSE") as FrameOf<
      "LIST_RESPONSE"
    >;
    assert.deepEqual(
      (list.payload.users as { user_id: string }[]).map((u) => u.user_id).sort(),
      [eve.id, bob.id].sort(),
    );
    assert.ok(!bob.socket.ofType("USER_ADVERTISE").some((f) => f.payload.user_id === ghost));
    assert.ok(!bob.socket.ofType("PUBLIC_CHANNEL_UPDATED").some((f) => f.payload.version === 999));
  } finally {
    await eve.close().catch(() => {});
    await bob.close().catch(() => {});
    await cluster.close();
  }
});

Deno.test("2 000 random and mutated frames from a user link: the server still serves everyone else", async () => {
  const { cluster, nodes } = await mesh(1, 3);
  const server = nodes[0];
  const fuzzer = new TestUser(KEYS.A, "Fuzz");
  const ann = new TestUser(KEYS.B, "Ann");
  const ben = new TestUser(await fixtureKeys(9), "Ben");
  try {
    await fuzzer.connect(server.url, cluster.client);
    await ann.connect(server.url, cluster.client);
    await ben.connect(server.url, cluster.client);
    const seeds = [
      JSON.stringify(await fuzzer.dm(ann, "seed")),
      JSON.stringify(await fuzzer.sign("LIST_REQUEST", server.id, {})),
      JSON.stringify(
        await fuzzer.sign("FILE_START", ann.id, {
          file_id: crypto.randomUUID(),
          name: "f",
          size: 10,
          sha256: "0".repeat(64),
          mode: "dm",
        }),
      ),
      JSON.stringify(await buildUserHello(fuzzer.identity)),
    ];
    const mutator = new Mutator(0x0dd);
    for (let i = 0; i < 2000; i++) {
      fuzzer.socket.send(
        i % 5 === 0 ? mutator.randomText() : mutator.mutateText(mutator.pick(seeds)),
      );
      if (i % 200 === 0) await new Promise((r) => setTimeout(r, 10));
    }
    await new Promise((r) => setTimeout(r, 1500));
    const sent = await ann.dm(ben, "still working?");
    const got = await ben.nextDm();
    assert.equal(got.text, "still working?");
    assert.equal(got.ts, sent.ts);
    assert.equal((await server.health()).status, "ok");
    assert.ok(!server.entries().some((e) => e.msg === "frame handling failed"), "no handler threw");
  } finally {
    for (const u of [fuzzer, ann, ben]) await u.close().catch(() => {});
    await cluster.close();
  }
});

/** Whether a raw connection is turned away before its upgrade gets an answer. */
async function refusedAtConnect(port: number, caCert: string): Promise<boolean> {
  let conn: Deno.TlsConn | undefined;
  try {
    conn = await Deno.connectTls({ hostname: "127.0.0.1", port, caCerts: [caCert] });
    const request =
      "GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
      "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";
    await conn.write(new TextEncoder().encode(request));
    return await conn.read(new Uint8Array(256)) === null;
  } catch {
    return true; // closed during the TLS handshake
  } finally {
    try {
      conn?.close();
    } catch {
      // closed already
    }
  }
}

Deno.test("connections per IP: pending and open limits turn connections away at once", async () => {
  const cluster = await Cluster.create(5);
  try {
    const server = await cluster.server("solo", [], [
      "--max-conns-per-ip",
      "3",
      "--max-pending-per-ip",
      "2",
      "--first-frame-timeout-ms",
      "5000",
    ]);
    const pending = [
      await FrameSocket.open(server.url, cluster.client),
      await FrameSocket.open(server.url, cluster.client),
    ];
    await assert.rejects(
      FrameSocket.open(server.url, cluster.client),
      "a third connection without a first frame is refused",
    );
    assert.ok(
      await refusedAtConnect(server.port, cluster.caCert),
      "closed before anything is read",
    );
    // Identifying one frees a pending slot; the open limit (3) still holds.
    const user = new TestUser(KEYS.A, "Ann");
    user.socket = pending[0];
    pending[0].send(await buildUserHello(user.identity));
    await pending[0].next((f) => f.type === "ACK");
    const third = await FrameSocket.open(server.url, cluster.client);
    await assert.rejects(
      FrameSocket.open(server.url, cluster.client),
      "a fourth open connection is refused",
    );
    for (const s of [...pending, third]) await s.close();
  } finally {
    await cluster.close();
  }
});

Deno.test("a user over its frame rate gets RATE_LIMITED and excess frames are dropped", async () => {
  const cluster = await Cluster.create(7);
  try {
    const server = await cluster.server("solo", [], ["--user-rate", "5", "--user-burst", "5"]);
    const ann = new TestUser(KEYS.A, "Ann");
    await ann.connect(server.url, cluster.client);
    for (let i = 0; i < 30; i++) ann.socket.send(await ann.sign("LIST_REQUEST", server.id, {}));
    await ann.socket.nextError("RATE_LIMITED");
    await new Promise((r) => setTimeout(r, 500));
    const answered = ann.socket.ofType("LIST_RESPONSE").length;
    assert.ok(answered >= 4 && answered <= 12, `${answered} of 30 answered`);
    await ann.close();
  } finally {
    await cluster.close();
  }
});

Deno.test("a public message reaches each other server once and is never re-fanned", async () => {
  const { cluster, nodes } = await mesh(3, 1);
  const users = [
    new TestUser(KEYS.A, "Ann"),
    new TestUser(KEYS.B, "Ben"),
    new TestUser(await fixtureKeys(9), "Cy"),
  ];
  try {
    for (const [i, u] of users.entries()) await u.connect(nodes[i].url, cluster.client);
    await waitUntil(
      async () => (await Promise.all(users.map((u) => u.channelKeys()))).every((k) => k.length > 0),
      10_000,
      "keys",
    );
    await new Promise((r) => setTimeout(r, 800)); // let rotations settle
    const before = await Promise.all(
      nodes.map((n) => frameCount(n, "frames_in", "MSG_PUBLIC_CHANNEL")),
    );
    const message = await users[0].publicMessage("once each");
    for (const u of users.slice(1)) {
      await u.socket.next((f) =>
        f.type === "MSG_PUBLIC_CHANNEL" && f.payload.content_sig === message.payload.content_sig
      );
    }
    await new Promise((r) => setTimeout(r, 500));
    const after = await Promise.all(
      nodes.map((n) => frameCount(n, "frames_in", "MSG_PUBLIC_CHANNEL")),
    );
    assert.deepEqual(after.map((n, i) => n - before[i]), [1, 1, 1], "one copy into each server");
    for (const u of users.slice(1)) {
      assert.equal(
        u.socket.ofType("MSG_PUBLIC_CHANNEL").filter((f) =>
          f.payload.content_sig === message.payload.content_sig
        ).length,
        1,
      );
    }
  } finally {
    for (const u of users) await u.close().catch(() => {});
    await cluster.close();
  }
});
