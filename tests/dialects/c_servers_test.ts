// Dialect C servers in a mesh with socp (issue 12, item 4), against the
// simulator of tests/dialects/c_server.ts. C opens every link with a
// SERVER_HELLO_JOIN to "*", also to servers that are not introducers, and
// wants SERVER_WELCOME (with a DER server_pub) as the first reply; it checks
// every frame by the key of the link's peer, so what socp relays to C is
// re-signed by socp. C has no TLS: the mesh runs --insecure-plain.

import assert from "node:assert/strict";
import { SocpClient } from "../../client/sdk.ts";
import { Cluster, fixtureKeys, waitUntil } from "../_cluster.ts";
import { DialectCServer } from "./c_server.ts";
import { socpUser } from "./_socp_user.ts";

Deno.test("a dialect C server joins a socp server: presence and DMs across, relays re-signed", async () => {
  const { cluster, intro, nodes: [s1, s2] } = await Cluster.mesh(["s1", "s2"], 0, [
    "--insecure-plain",
  ]);
  const c = new DialectCServer(await fixtureKeys(6), { heartbeatMs: 300, silenceMs: 4000 });
  const users: SocpClient[] = [];
  try {
    const sam = await socpUser(cluster, s2, "sam", 2);
    users.push(sam.client);
    const tom = await socpUser(cluster, s1, "tom", 3);
    users.push(tom.client);
    const [s1Id, s2Id] = [(await s1.health()).id, (await s2.health()).id];
    // C dials s1 (not an introducer) with JOIN to "*"; the first reply is our WELCOME.
    assert.equal(await c.link({ wsUri: `ws://127.0.0.1:${s1.port}/` }), s1Id);
    // The snapshot and the link sync locate Tom (on s1) and Sam (on s2, relayed by s1).
    await waitUntil(
      () => c.locations.get(tom.id) === s1Id && c.locations.get(sam.id) === s2Id,
      10_000,
      "C locates the socp users",
    );
    // C's ANNOUNCE, relayed by s1, makes s2 dial C, with a JOIN as C needs.
    await waitUntil(() => c.links.includes(s2Id), 10_000, "s2 dials C");
    await waitUntil(async () => (await s2.health()).links.includes(c.identity.id), 10_000, "s2–C");

    // A C user DMs Sam (C clients take keys from elsewhere: handed over out of band).
    const carl = crypto.randomUUID();
    await c.addUser(carl, await fixtureKeys(4));
    await c.dm(carl, sam.id, "from C to socp", sam.keys.publicKey);
    await waitUntil(
      () => sam.events.some((e) => e.type === "dm" && e.text === "from C to socp"),
      10_000,
      "Sam's DM from C",
    );
    // Its V2 content signature held at C's re-stamped ts (orig_ts kept), but C adverts
    // carry no key, so the sender's identity stays unverified, and says so.
    const dm = sam.events.find((e) => e.type === "dm" && e.text === "from C to socp");
    assert.ok(dm?.type === "dm" && !dm.verified && /not in the directory/.test(dm.warning ?? ""));
    // A user who joins later reaches C from s2 and, relayed, re-signed by s1 and the
    // introducer (C drops a frame its link's peer did not sign).
    const una = await socpUser(cluster, s2, "una", 5);
    await waitUntil(() => c.locations.get(una.id) === s2Id, 10_000, "Una located");
    await una.client.close();
    await waitUntil(() => !c.locations.has(una.id), 10_000, "Una's remove reaches C");

    // Heartbeats keep the links (the introducer dialled C too) alive past C's silence
    // limit; C refused nothing we sent.
    const links = [s1Id, s2Id, (await intro.health()).id].sort();
    await waitUntil(() => c.links.length === 3, 10_000, "the introducer dials C");
    await new Promise((r) => setTimeout(r, 4500));
    assert.deepEqual(c.links.sort(), links);
    // (Each socp server relays gossip to C, which drops the copies as duplicates.)
    assert.deepEqual(c.dropped.filter((why) => !why.endsWith(": duplicate")), []);
    assert.deepEqual(c.unknownTypes, []);
    assert.deepEqual(c.errorsReceived, []);
  } finally {
    for (const u of users) await u.close();
    await c.stop();
    await cluster.close();
  }
});

Deno.test("what reaches C only relayed is re-signed by the server that relays it", async () => {
  const cluster = await Cluster.create(0);
  const plain = ["--insecure-plain"];
  const c = new DialectCServer(await fixtureKeys(6), { heartbeatMs: 300, silenceMs: 4000 });
  const users: SocpClient[] = [];
  try {
    const intro = await cluster.introducer("intro", [], plain);
    const s1 = await cluster.server("s1", [intro], plain);
    // s2 links with no server it does not know, so C (announced, unpinned) stays unlinked there.
    const s2 = await cluster.server("s2", [intro], [...plain, "--require-known-servers"]);
    await cluster.waitForMesh([intro, s1, s2]);
    const s2Id = (await s2.health()).id;
    await c.link({ wsUri: `ws://127.0.0.1:${s1.port}/` });
    const una = await socpUser(cluster, s2, "una", 5);
    users.push(una.client);
    // Una's advert, signed by s2, reaches C only through s1 (and the introducer).
    await waitUntil(() => c.locations.get(una.id) === s2Id, 10_000, "Una located");
    await una.client.close();
    await waitUntil(() => !c.locations.has(una.id), 10_000, "Una's remove reaches C");
    assert.ok(!c.links.includes(s2Id));
    assert.deepEqual(c.dropped.filter((why) => !why.endsWith(": duplicate")), []);
  } finally {
    for (const u of users) await u.close();
    await c.stop();
    await cluster.close();
  }
});
