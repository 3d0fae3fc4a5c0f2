// Multi-process mesh tests: real introducers and servers over TLS.

import assert from "node:assert/strict";
import { isUuidV4 } from "../../mod.ts";
import { saveServerId } from "../../server/identity.ts";
import { Store } from "../../server/store.ts";
import { Cluster, waitUntil } from "../_cluster.ts";
import { ServerPeer } from "../_peer.ts";
import { KEYS } from "../_vectors.ts";

Deno.test("introducer + 3 servers form a full mesh; a 4th joins later and everyone links to it", async () => {
  const cluster = await Cluster.create(0);
  try {
    const intro = await cluster.introducer("intro");
    const servers = [];
    for (const name of ["s1", "s2", "s3"]) servers.push(await cluster.server(name, [intro]));
    await cluster.waitForMesh([intro, ...servers]);
    for (const server of servers) {
      const health = await server.health();
      assert.equal(health.id, server.id);
      const others = servers.filter((s) => s !== server).map((s) => s.id);
      for (const id of others) {
        assert.ok(health.links.includes(id), `${server.name} links to ${id}`);
      }
      assert.equal(health.links.length, 3, "two servers and the introducer, one link each");
    }
    const s4 = await cluster.server("s4", [intro]);
    await cluster.waitForMesh([intro, ...servers, s4]);
    for (const node of [intro, ...servers, s4]) {
      assert.equal(
        (await node.health()).links.length,
        4,
        `${node.name} has exactly one link per peer`,
      );
      const lost = node.entries().filter((e) => e.msg === "server link lost");
      assert.deepEqual(lost, [], `${node.name} lost no link while the mesh formed`);
    }
  } finally {
    await cluster.close();
  }
});

Deno.test("a server walks the bootstrap list: dead and wrongly pinned introducers are skipped", async () => {
  const cluster = await Cluster.create(5);
  try {
    const intro = await cluster.introducer("intro");
    const dead = await Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const deadPort = (dead.addr as Deno.NetAddr).port;
    dead.close(); // a port nothing listens on
    const other = await cluster.introducer("other"); // alive, but listed with the wrong key
    const file = await cluster.bootstrapFile("walk", [
      { host: "127.0.0.1", port: deadPort, pubkey: intro.pubkey },
      { host: "127.0.0.1", port: other.port, pubkey: intro.pubkey },
      Cluster.entryOf(intro),
    ]);
    const s1 = await cluster.server("s1", [], ["--introducers", file]);
    await cluster.waitForMesh([intro, s1]);
    const entries = s1.entries();
    const unreachable = entries.find((e) => e.msg === "introducer unreachable");
    assert.equal(unreachable?.introducer, `127.0.0.1:${deadPort}`, "tried the dead entry first");
    const refused = entries.find((e) => e.msg === "introducer did not welcome us");
    assert.equal(
      refused?.introducer,
      `127.0.0.1:${other.port}`,
      "refused the welcome signed by an unpinned key",
    );
    const joined = entries.filter((e) => e.msg === "joined the mesh");
    assert.deepEqual(
      joined.map((e) => e.introducer),
      [`127.0.0.1:${intro.port}`],
      "joined through the pinned one only",
    );
  } finally {
    await cluster.close();
  }
});

Deno.test("with no introducer reachable a server runs standalone, retries, and joins when one appears", async () => {
  const cluster = await Cluster.create(2);
  try {
    const intro = await cluster.introducer("intro");
    const entry = Cluster.entryOf(intro);
    await intro.stop();
    const file = await cluster.bootstrapFile("later", [entry]);
    const s1 = await cluster.server("s1", [], ["--introducers", file]);
    await waitUntil(
      () =>
        s1.entries().some((e) =>
          e.msg === "no introducer answered: running standalone, will retry"
        ),
      10_000,
      "standalone",
    );
    assert.deepEqual((await s1.health()).links, []);
    intro.args.splice(intro.args.indexOf("--port"), 2, "--port", String(entry.port));
    await intro.start();
    await cluster.waitForMesh([intro, s1], 30_000);
  } finally {
    await cluster.close();
  }
});

Deno.test("several introducers link to each other and each welcomes servers with the full list", async () => {
  const cluster = await Cluster.create(3);
  try {
    const i1 = await cluster.introducer("i1");
    const i2 = await cluster.introducer("i2", [i1]);
    await cluster.waitForMesh([i1, i2]);
    const s1 = await cluster.server("s1", [i1]);
    const s2 = await cluster.server("s2", [i2]);
    // s2 joined through i2 only, yet links to s1, which i1 welcomed.
    await cluster.waitForMesh([i1, i2, s1, s2]);
  } finally {
    await cluster.close();
  }
});

Deno.test("a frozen server is dropped within the timeout and relinks when it resumes", async () => {
  const cluster = await Cluster.create(6);
  try {
    const intro = await cluster.introducer("intro");
    const s1 = await cluster.server("s1", [intro]);
    const s2 = await cluster.server("s2", [intro]);
    await cluster.waitForMesh([intro, s1, s2]);
    s2.signal("SIGSTOP");
    const frozenAt = Date.now();
    await waitUntil(
      async () => !(await s1.health()).links.includes(s2.id),
      6_000,
      "s1 to drop the frozen s2",
    );
    assert.ok(
      Date.now() - frozenAt < 2000 + 2 * 500 + 1500,
      "dropped within timeout + one heartbeat + slack",
    );
    s2.signal("SIGCONT");
    await cluster.waitForMesh([intro, s1, s2], 30_000);
  } finally {
    await cluster.close();
  }
});

Deno.test("an id already taken by another key gets a fresh one from the introducer, adopted and kept", async () => {
  const cluster = await Cluster.create(4);
  try {
    const intro = await cluster.introducer("intro");
    const s1 = await cluster.server("s1", [intro]);
    await cluster.waitForMesh([intro, s1]); // s1 holds the id first: first come, first served
    // s2's database claims s1's id (with its own, different key).
    const dataDir = `${cluster.dir}/s2`;
    await Deno.mkdir(dataDir, { mode: 0o700 });
    const store = Store.open(`${dataDir}/socp.sqlite`);
    saveServerId(store, s1.id);
    store.close();
    const s2 = await cluster.server("s2", [intro]);
    assert.equal(s2.id, s1.id, "it starts with the colliding id");
    await waitUntil(
      async () => (await s2.health()).id !== s1.id,
      10_000,
      "a fresh id from the introducer",
    );
    const health = await s2.health();
    s2.id = health.id;
    await cluster.waitForMesh([intro, s1, s2]);
    assert.ok(isUuidV4(health.id));
    assert.ok(s2.entries().some((e) => e.msg === "adopting the id the introducer assigned"));
    await s2.stop();
    await s2.restart();
    assert.equal(s2.id, health.id, "the assigned id persists");
  } finally {
    await cluster.close();
  }
});

Deno.test("a relayed SERVER_ANNOUNCE: the lower id waits about 3 s for the announcer to dial, then dials it", async () => {
  const cluster = await Cluster.create(12);
  // A listener standing in for a peer that announces itself but never dials.
  const dialledAt: number[] = [];
  const hellos: { from: string; type: string }[] = [];
  const listener = Deno.serve({
    hostname: "127.0.0.1",
    port: 0,
    cert: await Deno.readTextFile(cluster.certs.cert),
    key: await Deno.readTextFile(cluster.certs.key),
    onListen: () => {},
  }, (request) => {
    const { socket, response } = Deno.upgradeWebSocket(request);
    dialledAt.push(Date.now());
    socket.onmessage = (e) => void hellos.push(JSON.parse(String(e.data)));
    return response;
  });
  // The highest possible id, so both servers are the lower id and must dial it.
  const peer = new ServerPeer(
    { id: "ffffffff-ffff-4fff-bfff-ffffffffffff", keys: KEYS.A },
    listener.addr.port,
  );
  try {
    const intro = await cluster.introducer("intro");
    const s1 = await cluster.server("s1", [intro]);
    const s2 = await cluster.server("s2", [intro]);
    await cluster.waitForMesh([intro, s1, s2]);
    await peer.link(s2.url, cluster.client, s2.id); // s2 relays the announce to s1
    const announcedAt = Date.now();
    await waitUntil(() => Promise.resolve(dialledAt.length > 0), 15_000, "s1 to dial the peer");
    const waited = dialledAt[0] - announcedAt;
    assert.ok(waited >= 2000, `s1 waited ${waited} ms for the announcer to dial first`);
    // s1 (and the introducer, also a mesh member) link to the peer with SERVER_HELLO_LINK.
    await waitUntil(
      () => Promise.resolve(hellos.some((h) => h.from === s1.id)),
      5000,
      "a hello from s1",
    );
    const fromS1 = hellos.find((h) => h.from === s1.id)!;
    assert.equal(fromS1.type, "SERVER_HELLO_LINK");
    assert.ok(
      !hellos.some((h) => h.from === s2.id),
      "s2 has the peer's own link and does not dial",
    );
  } finally {
    await peer.close();
    await cluster.close();
    await listener.shutdown();
  }
});
