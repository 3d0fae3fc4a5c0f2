// Dialect B clients on socp servers started with --allow-unsigned-hello
// (issue 12, item 3), against the simulator of tests/dialects/b_client.ts:
// presence, /list, DMs and files both ways with the socp SDK client, on one
// server and across two. B's public channel is plaintext by design: socp
// clients show its messages marked unencrypted, and B clients cannot read
// socp's encrypted ones.

import assert from "node:assert/strict";
import { DenoAdapter } from "../../client/deno.ts";
import type { ClientEvent } from "../../client/events.ts";
import { SocpClient } from "../../client/sdk.ts";
import { Cluster, fixtureKeys, type NodeProcess, waitUntil } from "../_cluster.ts";
import { KEYS } from "../_vectors.ts";
import { DialectBClient } from "./b_client.ts";

async function socpClient(cluster: Cluster, server: NodeProcess) {
  const downloads = await Deno.makeTempDir({ dir: cluster.dir });
  const client = new SocpClient({
    url: server.url,
    identity: { id: crypto.randomUUID(), keys: await fixtureKeys(8) },
    displayName: "Sam",
    adapter: new DenoAdapter({ caCert: cluster.caCert, downloadsDir: downloads }),
  });
  const events: ClientEvent[] = [];
  client.events.on((e) => events.push(e));
  await client.connect();
  return { client, events };
}

async function exchange(cluster: Cluster, samServer: NodeProcess, bexServer: NodeProcess) {
  const sam = await socpClient(cluster, samServer);
  const bex = await DialectBClient.connect(bexServer.url, cluster.client, KEYS.B);
  const samId = sam.client.identity.id;
  const samSees = (match: (e: ClientEvent) => boolean, what: string) =>
    waitUntil(() => sam.events.some(match), 15_000, what);
  try {
    // Presence both ways; B's /list is its own, from adverts (meta.pubkey, PEM).
    await waitUntil(() => bex.online.get(samId) != null, 15_000, "B to see Sam with a key");
    await samSees((e) => e.type === "presence" && e.userId === bex.id, "Sam to see B");
    assert.ok((await sam.client.list()).some((u) => u.user_id === bex.id));
    // DMs both ways.
    await bex.tell(samId, "hello from dialect B");
    await samSees((e) => e.type === "dm" && e.text === "hello from dialect B" && e.verified, "DM");
    await sam.client.sendDm(bex.id, "hello back from socp");
    await waitUntil(() => bex.dms.some((m) => m.text === "hello back from socp"), 10_000, "B DM");
    // Files both ways.
    const fromBex = crypto.getRandomValues(new Uint8Array(1500));
    await bex.sendFile(samId, "from-b.bin", fromBex);
    await samSees((e) => e.type === "file" && e.name === "from-b.bin", "B's file");
    const path = (sam.events.find((e) => e.type === "file") as { path: string }).path;
    assert.deepEqual(await Deno.readFile(path), fromBex);
    const fromSam = crypto.getRandomValues(new Uint8Array(1200));
    await sam.client.sendFile(bex.id, "from-sam.bin", fromSam);
    await waitUntil(() => bex.files.length === 1, 15_000, "B to receive Sam's file");
    assert.deepEqual(bex.files[0].bytes, fromSam);
    // B's plaintext public message reaches Sam, said to be unencrypted.
    await bex.all("B shouts in the clear");
    await samSees(
      (e) =>
        e.type === "public" && e.text === "B shouts in the clear" &&
        /unencrypted/.test(e.warning ?? ""),
      "B's public message",
    );
    assert.equal(bex.dropped, 0, "everything socp sent passed B's envelope check");
  } finally {
    await bex.close();
    await sam.client.close();
  }
}

const ARGS = ["--allow-unsigned-hello"];

Deno.test("a dialect B client and a socp client on one server: presence, /list, DM, /file", async () => {
  const cluster = await Cluster.create(0);
  try {
    const server = await cluster.server("solo", [], ARGS);
    await exchange(cluster, server, server);
  } finally {
    await cluster.close();
  }
});

Deno.test("a dialect B client and a socp client on two servers: the same, across the mesh", async () => {
  const { cluster, nodes: [a, b] } = await Cluster.mesh(["a", "b"], 3, ARGS);
  try {
    await exchange(cluster, b, a);
  } finally {
    await cluster.close();
  }
});
