// Dialect B servers in a mesh with socp (issue 12, item 3), against the
// simulator of tests/dialects/b_server.ts. Every B server is an introducer
// whose WELCOME, hellos and ANNOUNCE are unsigned: a socp server joins one
// only from a bootstrap entry with "dialect":"B" and its pinned key, and only
// with --accept-unsigned-servers. B has no TLS: the socp side runs plain.
// Users on both sides then see each other and exchange DMs, B's (plaintext)
// public messages reach socp marked as unencrypted, and a B user's file
// reaches a socp user; B's channel frames never touch socp's channel state.

import assert from "node:assert/strict";
import { DenoAdapter } from "../../client/deno.ts";
import type { ClientEvent } from "../../client/events.ts";
import { SocpClient } from "../../client/sdk.ts";
import { Cluster, fixtureKeys, type NodeProcess, waitUntil } from "../_cluster.ts";
import { pemOf } from "./_wire.ts";
import { DialectBClient } from "./b_client.ts";
import { DialectBServer } from "./b_server.ts";

const FAST = { dialMs: 100, linkWaitMs: 100, heartbeatMs: 300, silenceMs: 5_000 };

async function socpUser(cluster: Cluster, server: NodeProcess, name: string, key: number) {
  const keys = await fixtureKeys(key);
  const client = new SocpClient({
    url: server.url,
    identity: { id: crypto.randomUUID(), keys },
    displayName: name,
    adapter: new DenoAdapter({
      insecure: true,
      downloadsDir: await Deno.makeTempDir({ dir: cluster.dir }),
    }),
  });
  const events: ClientEvent[] = [];
  client.events.on((e) => events.push(e));
  await client.connect();
  return { client, events, id: client.identity.id };
}

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
