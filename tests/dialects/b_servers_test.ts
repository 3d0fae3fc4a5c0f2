// Dialect B servers in a mesh with socp (issue 12, item 3), against the
// simulator of tests/dialects/b_server.ts. Every B server is an introducer
// whose WELCOME, hellos and ANNOUNCE are unsigned: a socp server joins one
// only from a bootstrap entry with "dialect":"B" and its pinned key, and only
// with --accept-unsigned-servers. B has no TLS: the socp side runs plain.
// Users on both sides then see each other and exchange DMs, B's (plaintext)
// public messages reach socp marked as unencrypted, and a B user's file
// reaches a socp user; B's channel frames never touch socp's channel state.

import assert from "node:assert/strict";
import { Cluster, fixtureKeys, waitUntil } from "../_cluster.ts";
import { pemOf } from "./_wire.ts";
import { FrameSocket } from "../_peer.ts";
import { DialectBClient } from "./b_client.ts";
import { DialectBServer } from "./b_server.ts";
import { socpUser } from "./_socp_user.ts";

const FAST = { dialMs: 100, linkWaitMs: 100, heartbeatMs: 300, silenceMs: 5_000 };

/** A socp server whose only bootstrap entry is the B server `b` (pinned, "dialect":"B"). */
async function joiningB(cluster: Cluster, b: DialectBServer, name: string, flags: string[]) {
  const entry = [{ host: b.host, port: b.port, pubkey: pemOf(b.identity.keys.publicKey) }];
  const file = await cluster.bootstrapFile(name, entry.map((e) => ({ ...e, dialect: "B" })));
  return await cluster.server(name, [], ["--insecure-plain", "--introducers", file, ...flags]);
}

Deno.test("a socp server joins a B server: presence, DMs, B's public and files", async () => {
  const cluster = await Cluster.create(0);
  const b = new DialectBServer({ id: crypto.randomUUID(), keys: await fixtureKeys(6) }, FAST);
  const http = Deno.createHttpClient({});
  const closers: (() => Promise<void>)[] = [];
  try {
    const s1 = await joiningB(cluster, b, "s1", ["--accept-unsigned-servers"]);
    const s1Id = (await s1.health()).id;
    await waitUntil(async () => (await s1.health()).links.includes(b.identity.id), 10_000, "s1–B");
    assert.ok(b.links.includes(s1Id));

    const sam = await socpUser(cluster, s1, "sam", 2);
    closers.push(() => sam.client.close());
    const bea = await DialectBClient.connect(b.url, http, await fixtureKeys(3));
    closers.push(() => bea.close());
    // Presence both ways: Sam's advert reaches Bea with his PEM key in meta.pubkey.
    await waitUntil(() => bea.online.get(sam.id) != null, 10_000, "Bea sees Sam");
    await waitUntil(
      () => sam.events.some((e) => e.type === "presence" && e.userId === bea.id && e.online),
      10_000,
      "Sam sees Bea",
    );

    await sam.client.sendDm(bea.id, "socp to B");
    await waitUntil(() => bea.dms.some((m) => m.text === "socp to B"), 10_000, "Bea's DM");
    await bea.tell(sam.id, "B to socp");
    await waitUntil(
      () => sam.events.some((e) => e.type === "dm" && e.text === "B to socp" && e.verified),
      10_000,
      "Sam's DM",
    );

    // B's public channel is plaintext: shown, and marked so.
    await bea.all("B public");
    await waitUntil(
      () => sam.events.some((e) => e.type === "public" && e.text === "B public"),
      10_000,
      "Sam's public message from B",
    );
    const pub = sam.events.find((e) => e.type === "public" && e.text === "B public");
    assert.ok(pub?.type === "public" && /unencrypted/.test(pub.warning ?? ""));

    // A B user's file travels wrapped in SERVER_DELIVER, which socp unwraps.
    const bytes = crypto.getRandomValues(new Uint8Array(1000));
    await bea.sendFile(sam.id, "b.bin", bytes);
    await waitUntil(
      () => sam.events.some((e) => e.type === "file" && e.name === "b.bin"),
      10_000,
      "Sam's file from B",
    );
    const file = sam.events.find((e) => e.type === "file" && e.name === "b.bin");
    assert.ok(file?.type === "file");
    assert.deepEqual(await Deno.readFile(file.path), bytes);

    // B's channel frames (its wraps are PEM keys) were dropped, not taken as channel state;
    // B refused nothing we sent, and heartbeats keep the link past B's silence limit.
    await new Promise((r) => setTimeout(r, 5500));
    assert.ok(b.links.includes(s1Id));
    assert.deepEqual(b.unknownTypes, []);
    assert.deepEqual(b.peerErrors, []);
    assert.equal(b.keyTableCorrupted, false);
    const health = await s1.health();
    assert.ok(health.links.includes(b.identity.id));
  } finally {
    for (const close of closers.reverse()) await close();
    http.close();
    await b.stop();
    await cluster.close();
  }
});

Deno.test("a B server is joined only with --accept-unsigned-servers and a pinned key", async () => {
  const cluster = await Cluster.create(0);
  const b = new DialectBServer({ id: crypto.randomUUID(), keys: await fixtureKeys(6) }, FAST);
  try {
    const wary = await joiningB(cluster, b, "wary", []);
    await waitUntil(
      () => wary.lines.some((l) => l.includes("--accept-unsigned-servers")),
      10_000,
      "the refusal names the flag",
    );
    assert.deepEqual(b.links, []);
    // Without the pin the entry is refused too, flag or not.
    const file = await cluster.bootstrapFile("unpinned", [{
      host: b.host,
      port: b.port,
      dialect: "B",
    }]);
    const unpinned = await cluster.server("unpinned", [], [
      "--insecure-plain",
      "--introducers",
      file,
      "--accept-unsigned-servers",
      "--allow-unpinned-introducer",
    ]);
    await waitUntil(
      () => unpinned.lines.some((l) => l.includes("refusing an unpinned introducer")),
      10_000,
      "an unpinned B entry is refused",
    );
    assert.deepEqual(b.links, []);
  } finally {
    await b.stop();
    await cluster.close();
  }
});

Deno.test("joined to one B server, socp links the other B servers it lists, and they chat", async () => {
  const cluster = await Cluster.create(0);
  // Fixed ids: B2 is the higher, so it never dials B1 (B dials its introducer only upward).
  const b1 = new DialectBServer(
    { id: "00000000-0000-4000-8000-000000000001", keys: await fixtureKeys(6) },
    FAST,
  );
  const b2 = new DialectBServer(
    { id: "ffffffff-ffff-4fff-bfff-ffffffffffff", keys: await fixtureKeys(7) },
    FAST,
  );
  const http = Deno.createHttpClient({});
  const closers: (() => Promise<void>)[] = [];
  try {
    const pem = (b: DialectBServer) => pemOf(b.identity.keys.publicKey);
    assert.ok(await b2.join({ host: b1.host, port: b1.port, pubkey: pem(b1) }));
    await waitUntil(() => b1.links.includes(b2.identity.id), 5_000, "B1–B2");
    const s1 = await joiningB(cluster, b1, "s1", ["--accept-unsigned-servers"]);
    const s1Id = (await s1.health()).id;
    // B1's WELCOME listed B2 with its key: s1 dials it with B's unsigned LINK.
    await waitUntil(
      async () => {
        const links = (await s1.health()).links;
        return links.includes(b1.identity.id) && links.includes(b2.identity.id);
      },
      10_000,
      "s1 linked to B1 and B2",
    );
    await waitUntil(() => b2.links.includes(s1Id), 5_000, "B2 took s1's link");

    const sam = await socpUser(cluster, s1, "sam", 2);
    closers.push(() => sam.client.close());
    const bo = await DialectBClient.connect(b2.url, http, await fixtureKeys(3));
    closers.push(() => bo.close());
    await waitUntil(() => bo.online.get(sam.id) != null, 10_000, "Bo sees Sam");
    await waitUntil(
      () => sam.events.some((e) => e.type === "presence" && e.userId === bo.id && e.online),
      10_000,
      "Sam sees Bo",
    );
    await sam.client.sendDm(bo.id, "socp to B2");
    await waitUntil(() => bo.dms.some((m) => m.text === "socp to B2"), 10_000, "Bo's DM");
    await bo.tell(sam.id, "B2 to socp");
    await waitUntil(
      () => sam.events.some((e) => e.type === "dm" && e.text === "B2 to socp" && e.verified),
      10_000,
      "Sam's DM from B2",
    );
    assert.deepEqual([...b1.unknownTypes, ...b2.unknownTypes], []);
    // A B server that joins later is announced by B1 (unsigned, for the joiner) and dials us
    // with B's unsigned LINK, taken from the address and key we learnt for it.
    const b3 = new DialectBServer(
      { id: "88888888-8888-4888-8888-888888888888", keys: await fixtureKeys(8) },
      FAST,
    );
    closers.push(() => b3.stop());
    assert.ok(await b3.join({ host: b1.host, port: b1.port, pubkey: pem(b1) }));
    await waitUntil(
      async () => (await s1.health()).links.includes(b3.identity.id),
      10_000,
      "s1–B3",
    );
    const refusals = () => s1.lines.filter((l) => l.includes("refused a first frame"));
    assert.deepEqual(refusals(), [], "B3's unsigned LINK was taken");
    // Its public key is no credential: an unsigned LINK under B2's id with another key is refused.
    const impostor = await FrameSocket.open(`ws://127.0.0.1:${s1.port}/ws`);
    impostor.send({
      type: "SERVER_HELLO_LINK",
      from: b2.identity.id,
      to: s1Id,
      ts: Date.now(),
      payload: { host: b2.host, port: b2.port, pubkey: pemOf((await fixtureKeys(9)).publicKey) },
    });
    await impostor.nextError("INVALID_SIG");
    await impostor.closed();
    assert.ok((await s1.health()).links.includes(b2.identity.id), "B2's link is untouched");
    // What B refused is B's own limit: each relays our adverts to the other re-signed with its
    // key under our `from`, which the other cannot verify (INVALID_SIG between them).
    for (const why of [...b1.dropped, ...b2.dropped]) {
      assert.match(why, new RegExp(`^USER_(ADVERTISE|REMOVE) from ${s1Id}: bad signature$`));
    }
  } finally {
    for (const close of closers.reverse()) await close();
    http.close();
    await b1.stop();
    await b2.stop();
    await cluster.close();
  }
});
