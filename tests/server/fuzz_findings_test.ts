// Minimal reproductions of what the mesh fuzz run (tests/_fuzz.ts) broke,
// one cause per test, against real processes. Each fails on the code the
// fuzz run was made against; docs for the causes are in the fuzz report.

import assert from "node:assert/strict";
import { buildSigned, buildUserHello, type Frame, type Identity } from "../../mod.ts";
import { Cluster, fixtureKeys, type NodeProcess, waitUntil } from "../_cluster.ts";
import { FrameSocket, ServerPeer } from "../_peer.ts";
import { TestUser } from "../_user.ts";
import { KEYS } from "../_vectors.ts";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** The highest UUIDv4: every real server has a lower id, so it dials this one at once. */
const TOP_ID = "ffffffff-ffff-4fff-bfff-ffffffffffff";

/** Introducer, A and B in a full mesh; Alice on A, Bob on B. */
async function mesh(firstKey: number) {
  const cluster = await Cluster.create(firstKey);
  const intro = await cluster.introducer("intro");
  const a = await cluster.server("sA", [intro]);
  const b = await cluster.server("sB", [intro]);
  await cluster.waitForMesh([intro, a, b]);
  const alice = new TestUser(KEYS.A, "Alice");
  const bob = new TestUser(KEYS.B, "Bob");
  await alice.connect(a.url, cluster.client);
  await bob.connect(b.url, cluster.client);
  await waitUntil(async () => (await a.health()).users.online === 2, 5000, "A to see Bob");
  const close = async () => {
    await alice.close().catch(() => {});
    await bob.close().catch(() => {});
    await cluster.close();
  };
  return { cluster, intro, a, b, alice, bob, close };
}

/** A scripted server peer linked to `node`, once the node has bound it. */
async function linkedPeer(cluster: Cluster, node: NodeProcess, key = 9) {
  const peer = new ServerPeer({ id: crypto.randomUUID(), keys: await fixtureKeys(key) });
  const socket = await peer.link(node.url, cluster.client, node.id);
  await waitUntil(async () => (await node.health()).links.includes(peer.id), 5000, "bind");
  return { peer, socket };
}

const advertOf = (peer: ServerPeer, userId: string) =>
  peer.sign("USER_ADVERTISE", "*", {
    user_id: userId,
    server_id: peer.id,
    pubkey: peer.identity.keys.publicKey.b64,
  });

Deno.test("finding 1: inbound server links give back their pending-connection slot", async () => {
  // server/node.ts attach(): identified() runs only if the link's kind changed
  // inside receive(); a server link becomes "server" later, in the bind effect.
  const cluster = await Cluster.create(0);
  const ann = new TestUser(KEYS.A, "Ann");
  try {
    const server = await cluster.server("solo", [], ["--max-pending-per-ip", "2"]);
    await ann.connect(server.url, cluster.client); // keeps the IP's entry alive
    for (let i = 0; i < 2; i++) {
      const { peer, socket } = await linkedPeer(cluster, server, 5 + i);
      await socket.close();
      await waitUntil(async () => !(await server.health()).links.includes(peer.id), 5000, "loss");
    }
    const ben = new TestUser(KEYS.B, "Ben");
    const answer = await ben.connect(server.url, cluster.client).catch((e) => e as Error);
    await ben.socket?.close();
    assert.ok(!(answer instanceof Error), `a new user is admitted (${answer})`);
  } finally {
    await ann.socket?.close();
    await cluster.close();
  }
});

Deno.test("finding 1b: an introducer's join sockets give back their pending slot too", async () => {
  // joinRoute also binds through the bind effect: every join leaks a slot, so
  // with the default of 8 the ninth server behind one address cannot join.
  const cluster = await Cluster.create(0);
  try {
    const intro = await cluster.introducer("intro", [], ["--max-pending-per-ip", "2"]);
    for (let i = 1; i <= 3; i++) {
      const server = await cluster.server(`s${i}`, [intro]);
      await waitUntil(
        () => server.entries().some((e) => e.msg === "joined the mesh"),
        5000,
        `s${i} to join`,
      );
    }
  } finally {
    await cluster.close();
  }
});

Deno.test("finding 2: a pinned peer's advert cannot move a user hosted on another live server", async () => {
  // server/handlers/server_links.ts advertiseRoute sets user_locations[user] to
  // the advertising server whenever the user is not local; the peer's link
  // loss then forgets Bob on A (_link_sync.ts forgetPeerUsers).
  const m = await mesh(0);
  try {
    const { peer, socket } = await linkedPeer(m.cluster, m.a);
    socket.send(await advertOf(peer, m.bob.id));
    await sleep(500);
    await socket.close();
    await sleep(1000);
    const mark = m.bob.socket.frames.length;
    await m.alice.dm(m.bob, "still there?");
    const got = await m.bob.nextDm(mark, 5000).catch((e) => e as Error);
    assert.ok(!(got instanceof Error), `Bob gets Alice's DM (${got})`);
    assert.equal((await m.a.health()).users.online, 2, "A still lists Alice and Bob");
  } finally {
    await m.close();
  }
});

Deno.test("finding 3: a server announced at a real server's address does not cut the real link", async () => {
  // The lower of A/B dials the announced id at the higher one's address; the
  // higher binds the link as the dialler (serverHelloRoute never checks `to`),
  // keeps it over the real link as the newer duplicate, and the dialler, which
  // bound it as the announced id (mesh.ts #dial), drops the real link's users
  // when its superseded wait ends. This repeats every ~10 s while the pin lasts.
  const m = await mesh(3);
  try {
    const [low, high] = m.a.id < m.b.id ? [m.a, m.b] : [m.b, m.a];
    const [watcher, remote] = low === m.a ? [m.alice, m.bob] : [m.bob, m.alice];
    const { peer, socket } = await linkedPeer(m.cluster, m.a);
    const puppet: Identity = { id: TOP_ID, keys: peer.identity.keys };
    socket.send(
      await buildSigned(puppet, "SERVER_ANNOUNCE", "*", {
        host: "127.0.0.1",
        port: high.port,
        pubkey: peer.identity.keys.publicKey.b64,
      }),
    );
    const mark = watcher.socket.frames.length;
    const removed = await watcher.socket.next(
      (f: Frame) => f.type === "USER_REMOVE" && f.payload.user_id === remote.id,
      14_000,
      mark,
    ).then(() => true, () => false);
    await socket.close();
    assert.ok(!removed, `${watcher.name} on ${low.name} never sees ${remote.name} go offline`);
  } finally {
    await m.close();
  }
});

Deno.test("finding 4a: a user link that closes during its hello leaves no ghost user", async () => {
  // helloRoute binds the link (addLocalUser) after its awaits; if the socket
  // closed meanwhile, node.ts #lost already ran with kind "pending", so
  // userLeft never runs: the user stays online and gets NAME_IN_USE forever.
  const cluster = await Cluster.create(5);
  const ann = new TestUser(KEYS.A, "Ann");
  try {
    const server = await cluster.server("solo", []);
    const early = await FrameSocket.open(server.url, cluster.client);
    early.send(await buildUserHello(ann.identity));
    await early.close();
    await sleep(1000);
    assert.equal((await server.health()).users.online, 0, "nobody is online");
    const answer = await ann.connect(server.url, cluster.client);
    assert.equal(answer.type, "ACK", `Ann can log in (${JSON.stringify(answer.payload)})`);
  } finally {
    await ann.socket?.close();
    await cluster.close();
  }
});

Deno.test("finding 4b: a server link that closes during its hello is not bound afterwards", async () => {
  // The same race for SERVER_HELLO_LINK: the bind effect runs after #lost, so
  // a closed link stays in state.links: listed in /healthz, never redialled,
  // its peer's users never forgotten, and closed again at every heartbeat tick.
  const cluster = await Cluster.create(6);
  try {
    const server = await cluster.server("solo", []);
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const peer = new ServerPeer({ id: crypto.randomUUID(), keys: await fixtureKeys(i) });
      ids.push(peer.id);
      const socket = await FrameSocket.open(server.url, cluster.client);
      socket.send(await peer.sign("SERVER_HELLO_LINK", server.id, peer.hello()));
      await socket.close();
    }
    await sleep(3000); // past the 2 s link timeout
    const stale = (await server.health()).links.filter((id) => ids.includes(id));
    assert.deepEqual(stale, [], "no closed link is listed as live");
  } finally {
    await cluster.close();
  }
});

Deno.test("finding 5: a channel state near the largest safe version does not stop rotations", async () => {
  // updatedRoute adopts any version that wins (channel.ts stateWins), up to
  // 2^53 − 1. From 2^53 − 2 one more rotation works (2^53 − 1); the next one
  // signs version + 1 = 2^53, canonicalJson throws, and every later rotation
  // fails ("public channel rotation failed"): joiners never get a key again.
  const cluster = await Cluster.create(7);
  const users = [new TestUser(KEYS.A, "Ann"), new TestUser(KEYS.B, "Ben")];
  try {
    const server = await cluster.server("solo", []);
    const { peer, socket } = await linkedPeer(cluster, server);
    const version = Number.MAX_SAFE_INTEGER - 1;
    socket.send(await peer.sign("PUBLIC_CHANNEL_UPDATED", "*", { version, wraps: [] }));
    await sleep(500);
    for (const user of users) {
      await user.connect(server.url, cluster.client);
      const keyed = await user.socket.next(
        (f: Frame) =>
          f.type === "PUBLIC_CHANNEL_UPDATED" &&
          f.payload.wraps.some((w) => w.member_id === user.id),
        5000,
      ).then(() => true, () => false);
      assert.ok(keyed, `${user.name}, who joins, still gets a channel key`);
    }
    await socket.close();
  } finally {
    for (const user of users) await user.socket?.close();
    await cluster.close();
  }
});

Deno.test("finding 6: users of a server nobody links to any more are forgotten", async () => {
  // The peer links only to A. A relays its adverts to B and the introducer,
  // which cannot dial it; when A loses the peer only A forgets its users
  // (_link_sync.ts forgetPeerUsers is per lost link), so B keeps them forever.
  const m = await mesh(1);
  try {
    const { peer, socket } = await linkedPeer(m.cluster, m.a);
    socket.send(await advertOf(peer, crypto.randomUUID()));
    await waitUntil(async () => (await m.b.health()).users.online === 3, 5000, "B to learn it");
    await socket.close();
    await sleep(10_000); // five link timeouts of this cluster
    for (const node of [m.a, m.b, m.intro]) {
      assert.equal((await node.health()).users.online, 2, `${node.name} lists Alice and Bob only`);
    }
  } finally {
    await m.close();
  }
});

Deno.test("finding 7: a dialled server that drops the link at once is redialled with backoff", async () => {
  // mesh.ts #dial binds a dialled link before the far end says anything, and
  // bind() deletes the retry state, so each loss redials at attempt 0: with an
  // announced address that refuses the link (here: the node's own), the node
  // redials ~10 times a second, forever.
  const cluster = await Cluster.create(2);
  try {
    const server = await cluster.server("solo", []);
    const { peer, socket } = await linkedPeer(cluster, server);
    const puppet: Identity = { id: TOP_ID, keys: peer.identity.keys };
    const from = server.lines.length;
    socket.send(
      await buildSigned(puppet, "SERVER_ANNOUNCE", "*", {
        host: "127.0.0.1",
        port: server.port,
        pubkey: peer.identity.keys.publicKey.b64,
      }),
    );
    await sleep(6000);
    await socket.close();
    const dials = server.entries(from).filter((e) =>
      e.msg === "server link up" && e.server === TOP_ID
    ).length;
    assert.ok(dials <= 6, `${dials} links to the announced server in 6 s (backoff 1, 2, 4 s)`);
  } finally {
    await cluster.close();
  }
});

Deno.test("finding 8: users come back when a lost server link is redialled within a minute", async () => {
  // _link_sync.ts linkSync re-sends each stored advert verbatim unless it is
  // over 60 s old; the receiver still holds its seen_ids key (TTL 120 s) from
  // the first delivery, drops it as a duplicate, and so never re-learns the
  // users it forgot when the link was lost. No fuzzing needed: a 3 s stall.
  const m = await mesh(4);
  try {
    m.b.signal("SIGSTOP");
    await sleep(3500); // past the 2 s link timeout: A drops the link and forgets Bob
    m.b.signal("SIGCONT");
    await m.cluster.waitForMesh([m.intro, m.a, m.b]);
    await sleep(1500); // link sync
    const list = async (user: TestUser, server: NodeProcess) => {
      const mark = user.socket.frames.length;
      user.socket.send(await user.sign("LIST_REQUEST", server.id, {}));
      const r = await user.socket.next((f: Frame) => f.type === "LIST_RESPONSE", 5000, mark);
      return (r.payload as { users: { user_id: string }[] }).users.map((u) => u.user_id);
    };
    assert.ok((await list(m.alice, m.a)).includes(m.bob.id), "A lists Bob again");
    assert.ok((await list(m.bob, m.b)).includes(m.alice.id), "B lists Alice again");
  } finally {
    await m.close();
  }
});
