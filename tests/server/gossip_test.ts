// Presence gossip and server-to-server routing, observed through scripted
// test servers (peers P and Q) linked to a real mesh of socp processes.

import assert from "node:assert/strict";
import {
  buildMsgDirect,
  buildServerDeliver,
  type Frame,
  type FrameOf,
  type Identity,
} from "../../mod.ts";
import { Cluster, type NodeProcess, waitUntil } from "../_cluster.ts";
import { type FrameSocket, ServerPeer } from "../_peer.ts";
import { KEYS } from "../_vectors.ts";

interface World {
  cluster: Cluster;
  servers: NodeProcess[];
  p: ServerPeer;
  q: ServerPeer;
  /** P's link to each server, by index. */
  pLinks: FrameSocket[];
  /** Q's link to each server, by index. */
  qLinks: FrameSocket[];
}

async function world(serverCount: number, firstKey: number): Promise<World> {
  const cluster = await Cluster.create(firstKey);
  const intro = await cluster.introducer("intro");
  const servers: NodeProcess[] = [];
  for (let i = 1; i <= serverCount; i++) servers.push(await cluster.server(`s${i}`, [intro]));
  await cluster.waitForMesh([intro, ...servers]);
  const p = new ServerPeer({ id: crypto.randomUUID(), keys: KEYS.A });
  const q = new ServerPeer({ id: crypto.randomUUID(), keys: KEYS.B });
  const pLinks = await Promise.all(servers.map((s) => p.link(s.url, cluster.client, s.id)));
  const qLinks = await Promise.all(servers.map((s) => q.link(s.url, cluster.client, s.id)));
  // Every server has bound (and pinned) both peers before the test speaks.
  await waitUntil(
    async () => {
      for (const s of servers) {
        const links = (await s.health()).links;
        if (!links.includes(p.id) || !links.includes(q.id)) return false;
      }
      return true;
    },
    10_000,
    "servers to bind the peers' links",
  );
  return { cluster, servers, p, q, pLinks, qLinks };
}

async function teardown(w: World): Promise<void> {
  await w.p.close();
  await w.q.close();
  await w.cluster.close();
}

const isAdvertOf = (userId: string) => (f: Frame) =>
  f.type === "USER_ADVERTISE" && f.payload.user_id === userId;

async function advertise(peer: ServerPeer, userId: string): Promise<FrameOf<"USER_ADVERTISE">> {
  const pubkey = KEYS.A.publicKey.b64;
  return await peer.sign("USER_ADVERTISE", "*", {
    user_id: userId,
    server_id: peer.id,
    pubkey,
    meta: { display_name: "Uma", pubkey },
  });
}

/** A SERVER_DELIVER from Q to `server` for `userId`, carrying a real encrypted DM. */
async function deliverFromQ(
  w: World,
  server: NodeProcess,
  userId: string,
): Promise<FrameOf<"SERVER_DELIVER">> {
  const sender: Identity = { id: crypto.randomUUID(), keys: KEYS.B };
  const dm = await buildMsgDirect(sender, userId, KEYS.A.publicKey, "hello across the mesh");
  return await buildServerDeliver(w.q.identity, dm, server.id);
}

Deno.test("a user advertised on one server becomes routable from all others; replays are dropped", async () => {
  const w = await world(3, 0);
  try {
    const uma = crypto.randomUUID();
    w.pLinks[0].send(await advertise(w.p, uma)); // told to s1 only
    // s2 and s3 learn through s1's forward, and relay it on (Q sees it from each).
    for (const link of w.qLinks) await link.next(isAdvertOf(uma));
    for (const [i, server] of w.servers.entries()) {
      const deliver = await deliverFromQ(w, server, uma);
      w.qLinks[i].send(deliver);
      const got = await w.pLinks[i].next((f) => f.type === "SERVER_DELIVER" && f.ts === deliver.ts);
      // Forwarded unchanged: same envelope fields, payload and signature.
      assert.deepEqual(got, deliver, `${server.name} forwards SERVER_DELIVER unchanged`);
    }
    // Replaying one of them to s2 is suppressed by seen_ids.
    const replay = await deliverFromQ(w, w.servers[1], uma);
    w.qLinks[1].send(replay);
    w.qLinks[1].send(replay);
    await w.pLinks[1].next((f) => f.type === "SERVER_DELIVER" && f.ts === replay.ts);
    await new Promise((r) => setTimeout(r, 700));
    assert.equal(
      w.pLinks[1].frames.filter((f) => f.type === "SERVER_DELIVER" && f.ts === replay.ts).length,
      1,
    );
    // A user nobody advertised gets USER_NOT_FOUND back to the sending server.
    const mark = w.qLinks[2].frames.length;
    w.qLinks[2].send(await deliverFromQ(w, w.servers[2], crypto.randomUUID()));
    const notFound = await w.qLinks[2].nextError("USER_NOT_FOUND", 5000, mark);
    assert.equal(notFound.to, w.q.id);
    assert.equal(notFound.from, w.servers[2].id);
  } finally {
    await teardown(w);
  }
});

Deno.test("USER_REMOVE propagates, and only removes a mapping that still points at its server", async () => {
  const w = await world(3, 4);
  try {
    const uma = crypto.randomUUID();
    w.pLinks[0].send(await advertise(w.p, uma));
    await w.qLinks[2].next(isAdvertOf(uma));
    // Q claims to remove Uma from itself: the mapping points at P, so nothing changes.
    w.qLinks[2].send(await w.q.sign("USER_REMOVE", "*", { user_id: uma, server_id: w.q.id }));
    await new Promise((r) => setTimeout(r, 500));
    const stillThere = await deliverFromQ(w, w.servers[2], uma);
    w.qLinks[2].send(stillThere);
    await w.pLinks[2].next((f) => f.type === "SERVER_DELIVER" && f.ts === stillThere.ts);
    // P removes Uma through s1; s3 learns of it.
    w.pLinks[0].send(await w.p.sign("USER_REMOVE", "*", { user_id: uma, server_id: w.p.id }));
    await w.qLinks[2].next((f) =>
      f.type === "USER_REMOVE" && f.payload.user_id === uma && f.from === w.p.id
    );
    const mark = w.qLinks[2].frames.length;
    w.qLinks[2].send(await deliverFromQ(w, w.servers[2], uma));
    await w.qLinks[2].nextError("USER_NOT_FOUND", 5000, mark);
  } finally {
    await teardown(w);
  }
});

Deno.test("spoofed adverts are refused: signed by the wrong server, or server_id ≠ from", async () => {
  const w = await world(2, 7);
  try {
    const victim = crypto.randomUUID();
    // Q forges an advert claiming to come from P.
    const forged = { ...(await advertise(w.q, victim)), from: w.p.id };
    forged.payload.server_id = w.p.id;
    w.qLinks[0].send(forged);
    await w.qLinks[0].nextError("INVALID_SIG");
    // Q advertises a user "hosted" by P, under its own signature.
    const mismatched = await w.q.sign("USER_ADVERTISE", "*", {
      user_id: victim,
      server_id: w.p.id,
      pubkey: KEYS.A.publicKey.b64,
    });
    const mark = w.qLinks[1].frames.length;
    w.qLinks[1].send(mismatched);
    await w.qLinks[1].nextError("BAD_REQUEST", 5000, mark);
    // ERRORs are limited to one per second per link (SOCP.md §11): a second
    // fault at once is answered by nothing; after the window it is answered.
    const burst = w.qLinks[1].frames.length;
    w.qLinks[1].send(await deliverFromQ(w, w.servers[1], victim));
    await new Promise((r) => setTimeout(r, 400));
    assert.equal(
      w.qLinks[1].ofType("ERROR").length,
      w.qLinks[1].frames.slice(0, burst).filter((f) => f.type === "ERROR").length,
    );
    await new Promise((r) => setTimeout(r, 700));
    // Neither advert took effect anywhere.
    for (const [i, server] of w.servers.entries()) {
      assert.equal((await server.health()).users.online, 0);
      const before = w.qLinks[i].frames.length;
      w.qLinks[i].send(await deliverFromQ(w, server, victim));
      await w.qLinks[i].nextError("USER_NOT_FOUND", 5000, before);
    }
    assert.equal(
      w.pLinks.flatMap((l) => l.ofType("USER_ADVERTISE")).length,
      0,
      "nothing was relayed to P",
    );
  } finally {
    await teardown(w);
  }
});

Deno.test("no frame loops in a 4-server mesh: each server sees an advert at most once per link", async () => {
  const w = await world(4, 2);
  try {
    const uma = crypto.randomUUID();
    w.pLinks[0].send(await advertise(w.p, uma));
    for (const link of w.qLinks) await link.next(isAdvertOf(uma));
    const counts = async () =>
      await Promise.all(w.servers.map(async (s) => {
        const frames = (await s.health()).frames as Record<string, Record<string, number>>;
        return frames.frames_in?.USER_ADVERTISE ?? 0;
      }));
    // Settled: two snapshots 800 ms apart agree.
    let settled: number[] = [];
    await waitUntil(
      async () => {
        const before = await counts();
        await new Promise((r) => setTimeout(r, 800));
        settled = await counts();
        return before.every((n, i) => n > 0 && n === settled[i]);
      },
      10_000,
      "the advert flood to settle",
    );
    await new Promise((r) => setTimeout(r, 1500));
    assert.deepEqual(await counts(), settled, "no further copies after the flood settles");
    for (const [i, n] of settled.entries()) {
      const links = (await w.servers[i].health()).links.length;
      assert.ok(n <= links, `${w.servers[i].name} received ${n} copies over ${links} links`);
    }
    // Q, linked to all four servers, got at most one copy from each.
    assert.ok(w.qLinks.every((l) => l.frames.filter(isAdvertOf(uma)).length === 1));
  } finally {
    await teardown(w);
  }
});

Deno.test("a link the peer closes as a duplicate keeps the peer's users until its kept link binds; a plain loss drops them", async () => {
  const w = await world(1, 6);
  try {
    const [s1] = w.servers;
    const routesToP = async (userId: string): Promise<boolean> => {
      const pLink = w.p.sockets.at(-1)!;
      const mark = w.qLinks[0].frames.length;
      const deliver = await deliverFromQ(w, s1, userId);
      w.qLinks[0].send(deliver);
      const delivered = () =>
        pLink.frames.some((f) => f.type === "SERVER_DELIVER" && f.ts === deliver.ts);
      const notFound = () =>
        w.qLinks[0].frames.slice(mark).some((f) =>
          f.type === "ERROR" && (f.payload as { code: string }).code === "USER_NOT_FOUND"
        );
      await waitUntil(() => Promise.resolve(delivered() || notFound()), 5000, "routing outcome");
      return delivered();
    };
    const uma = crypto.randomUUID();
    w.pLinks[0].send(await advertise(w.p, uma));
    await w.qLinks[0].next(isAdvertOf(uma));

    // P says it keeps another link, closes this one, and the other arrives a moment later.
    w.pLinks[0].send(await w.p.sign("CTRL_CLOSE", s1.id, { reason: "duplicate link" }));
    await w.pLinks[0].closed(5000);
    await new Promise((r) => setTimeout(r, 300));
    await w.p.link(s1.url, w.cluster.client, s1.id);
    assert.equal(await routesToP(uma), true, "Uma is still routed to P over the new link");
    assert.ok(s1.entries().some((e) => e.msg === "link superseded by the peer's duplicate"));
    assert.ok(!s1.entries().some((e) => e.msg === "server link lost"));

    // A plain loss forgets P's users at once.
    await w.p.sockets.at(-1)!.close();
    await waitUntil(
      () => Promise.resolve(s1.entries().some((e) => e.msg === "server link lost")),
      5000,
      "s1 to notice the lost link",
    );
    await w.p.link(s1.url, w.cluster.client, s1.id);
    assert.equal(await routesToP(uma), false, "Uma was forgotten with the lost link");
  } finally {
    await teardown(w);
  }
});
