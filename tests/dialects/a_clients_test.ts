// Dialect A clients on socp servers (issue 12, item 2), against the simulator
// of tests/dialects/a_client.ts: presence, /list, DMs, /all and /file both
// ways with the socp SDK client, on one server and across two. The A client's
// strict reader must survive everything socp sends it.

import assert from "node:assert/strict";
import { DenoAdapter } from "../../client/deno.ts";
import type { ClientEvent } from "../../client/events.ts";
import { SocpClient } from "../../client/sdk.ts";
import { Cluster, fixtureKeys, type NodeProcess, resendUntil, waitUntil } from "../_cluster.ts";
import { KEYS } from "../_vectors.ts";
import { DialectAClient } from "./a_client.ts";

interface Sam {
  client: SocpClient;
  events: ClientEvent[];
}

async function socpClient(cluster: Cluster, server: NodeProcess): Promise<Sam> {
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

const seen = <T extends ClientEvent["type"]>(
  sam: Sam,
  type: T,
  match: (e: Extract<ClientEvent, { type: T }>) => boolean,
) =>
  waitUntil(
    () => sam.events.some((e) => e.type === type && match(e as Extract<ClientEvent, { type: T }>)),
    15_000,
    `a ${type} event for Sam`,
  );

/** Retries `send` until `arrived` (a public key may still be settling after a join). */
async function exchange(cluster: Cluster, samServer: NodeProcess, deeServer: NodeProcess) {
  const sam = await socpClient(cluster, samServer);
  const dee = await DialectAClient.connect(deeServer.url, cluster.client, {
    id: `dee.${crypto.randomUUID().slice(0, 8)}`, // A's ids are free names
    keys: KEYS.A,
    password: "dialect A passphrase",
  });
  try {
    // Presence: each sees the other, with a key it can load.
    await waitUntil(() => dee.keys.get(sam.client.identity.id) != null, 15_000, "Dee to see Sam");
    await seen(sam, "presence", (e) => e.userId === dee.id && e.online);
    // /list in each client's own form.
    await dee.list();
    await waitUntil(() => dee.lists.length > 0, 10_000, "Dee's /list");
    assert.ok(dee.lists[0].includes(sam.client.identity.id) && dee.lists[0].includes(dee.id));
    assert.ok((await sam.client.list()).some((u) => u.user_id === dee.id));
    // DMs both ways.
    await dee.tell(sam.client.identity.id, "hello from dialect A");
    await seen(sam, "dm", (e) => e.text === "hello from dialect A" && e.verified);
    await sam.client.sendDm(dee.id, "hello back from socp");
    await waitUntil(
      () => dee.received.some((m) => m.kind === "dm" && m.text === "hello back from socp"),
      10_000,
      "Dee to read Sam's DM",
    );
    // The public channel both ways (A reads it as USER_DELIVER, under the last key it got).
    await waitUntil(() => dee.hasGroupKey, 10_000, "Dee's group key");
    const samHas = (text: string) =>
      sam.events.some((e) => e.type === "public" && e.text === text && e.verified);
    await resendUntil(() => dee.all("A to everyone"), () => samHas("A to everyone"), "Dee's /all");
    const deeHas = (text: string) =>
      dee.received.some((m) => m.kind === "public" && m.text === text);
    await resendUntil(
      () => sam.client.sendPublic("socp to everyone"),
      () => deeHas("socp to everyone"),
      "Sam's /all",
    );
    // Files both ways (RSA mode toward A: it advertises no fast mode).
    const fromDee = crypto.getRandomValues(new Uint8Array(3000));
    await dee.sendFile(sam.client.identity.id, "from-dee.bin", fromDee);
    await seen(sam, "file", (e) => e.name === "from-dee.bin" && e.size === fromDee.length);
    const path = (sam.events.find((e) => e.type === "file") as { path: string }).path;
    assert.deepEqual(await Deno.readFile(path), fromDee);
    const fromSam = crypto.getRandomValues(new Uint8Array(2500));
    await sam.client.sendFile(dee.id, "from-sam.bin", fromSam);
    await waitUntil(() => dee.files.length === 1, 15_000, "Dee to receive Sam's file");
    assert.deepEqual(dee.files[0].bytes, fromSam);
    // Nothing socp sent stopped A's strict reader.
    assert.equal(dee.readerDeath, undefined);
    assert.deepEqual(dee.errors, []);
  } finally {
    await dee.close();
    await sam.client.close();
  }
}

Deno.test("a dialect A client and a socp client on one server: presence, /list, DM, /all, /file", async () => {
  const cluster = await Cluster.create(0);
  try {
    const server = await cluster.server("solo", []);
    await exchange(cluster, server, server);
  } finally {
    await cluster.close();
  }
});

Deno.test("a dialect A client and a socp client on two servers: the same, across the mesh", async () => {
  const { cluster, nodes: [a, b] } = await Cluster.mesh(["a", "b"], 3);
  try {
    await exchange(cluster, b, a);
  } finally {
    await cluster.close();
  }
});
