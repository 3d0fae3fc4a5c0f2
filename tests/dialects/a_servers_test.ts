// Dialect A servers in a mesh with socp (issue 12, item 2), against the
// server simulator of tests/dialects/a_server.ts: an A server joins a socp
// introducer (its JOIN socket is kept, unread, and never closed), dials the
// socp servers with SERVER_ANNOUNCE first, and its clients chat with socp
// clients across the two: presence, DMs and files both ways.

import assert from "node:assert/strict";
import { DenoAdapter } from "../../client/deno.ts";
import type { ClientEvent } from "../../client/events.ts";
import { SocpClient } from "../../client/sdk.ts";
import { Cluster, fixtureKeys, waitUntil } from "../_cluster.ts";
import { KEYS } from "../_vectors.ts";
import { DialectAClient } from "./a_client.ts";
import { DialectAServer } from "./a_server.ts";

Deno.test("an A server joins a socp introducer; its clients and socp clients chat across the mesh", async () => {
  const { cluster, intro, nodes: [s1] } = await Cluster.mesh(["s1"], 0);
  const tls = {
    cert: await Deno.readTextFile(cluster.certs.cert),
    key: await Deno.readTextFile(cluster.certs.key),
  };
  const a = new DialectAServer(await fixtureKeys(6), tls);
  try {
    await a.join({ host: "127.0.0.1", port: intro.port }, cluster.client);
    await waitUntil(async () => (await s1.health()).links.includes(a.identity.id), 10_000, "A–s1");
    const downloads = await Deno.makeTempDir({ dir: cluster.dir });
    const sam = new SocpClient({
      url: s1.url,
      identity: { id: crypto.randomUUID(), keys: await fixtureKeys(8) },
      displayName: "Sam",
      adapter: new DenoAdapter({ caCert: cluster.caCert, downloadsDir: downloads }),
    });
    const events: ClientEvent[] = [];
    sam.events.on((e) => events.push(e));
    await sam.connect();
    const samId = sam.identity.id;
    const dee = await DialectAClient.connect(a.url, cluster.client, {
      id: "dee",
      keys: KEYS.A,
      password: "dee's passphrase",
    });
    const samSees = (match: (e: ClientEvent) => boolean, what: string) =>
      waitUntil(() => events.some(match), 15_000, what);
    try {
      // Presence across: A learns Sam from s1's link sync, socp learns Dee from A's advert.
      await waitUntil(() => dee.keys.get(samId) != null, 15_000, "Dee to see Sam (PEM key)");
      await samSees((e) => e.type === "presence" && e.userId === "dee" && e.online, "Sam sees Dee");
      // DMs both ways: SERVER_DELIVER re-signed for A, and A's own.
      await sam.sendDm("dee", "across to A");
      await waitUntil(() => dee.received.some((m) => m.text === "across to A"), 10_000, "to Dee");
      await dee.tell(samId, "across to socp");
      await samSees((e) => e.type === "dm" && e.text === "across to socp" && e.verified, "to Sam");
      // Files both ways, forwarded unchanged with the user's signature.
      const fromSam = crypto.getRandomValues(new Uint8Array(1800));
      await sam.sendFile("dee", "sam.bin", fromSam);
      await waitUntil(() => dee.files.length === 1, 15_000, "Dee's file");
      assert.deepEqual(dee.files[0].bytes, fromSam);
      const fromDee = crypto.getRandomValues(new Uint8Array(1300));
      await dee.sendFile(samId, "dee.bin", fromDee);
      await samSees((e) => e.type === "file" && e.name === "dee.bin", "Sam's file");
      // The JOIN socket is still open (closing it makes A re-join in a loop) and A took all.
      await new Promise((r) => setTimeout(r, 1500));
      assert.ok(a.joinSocketOpen, "the introducer kept A's JOIN socket");
      assert.ok((await intro.health()).links.includes(a.identity.id));
      assert.deepEqual(a.dropped, [], "every frame socp sent A verified and parsed");
      assert.equal(dee.readerDeath, undefined);
    } finally {
      await dee.close();
      await sam.close();
    }
  } finally {
    await a.stop();
    await cluster.close();
  }
});
