// Memory and descriptor exhaustion below the frame parser, against real
// servers over TLS: a message that never ends is cut off at --max-frame-bytes,
// connections that never send a request are closed at the header timeout and
// count toward the per-IP limits, and no connection path leaks those counts.

import assert from "node:assert/strict";
import { Opcode } from "../../server/ws/frames.ts";
import { Cluster, type NodeProcess, waitUntil } from "../_cluster.ts";
import { ServerPeer } from "../_peer.ts";
import { TestUser } from "../_user.ts";
import { KEYS } from "../_vectors.ts";
import { rawClient } from "./_ws.ts";
import { buildUserHello } from "../../mod.ts";

const MB = 1024 * 1024;

/** Resident memory of a node process, in bytes. */
async function rss(node: NodeProcess): Promise<number> {
  return (await node.rssKb()) * 1024;
}

/** Sends one text message as fragments that never end; resolves with the bytes the server took. */
async function endlessFragments(raw: Awaited<ReturnType<typeof rawClient>>): Promise<number> {
  const chunk = new Uint8Array(64 * 1024).fill(0x61);
  let sent = 0;
  try {
    await raw.send(Opcode.Text, chunk, false);
    sent += chunk.length;
    while (sent < 256 * MB) {
      await raw.send(Opcode.Continuation, chunk, false);
      sent += chunk.length;
    }
  } catch {
    // the server closed the connection
  }
  return sent;
}

Deno.test("a message sent as fragments that never end is cut off at --max-frame-bytes", async () => {
  const cluster = await Cluster.create(0);
  try {
    const server = await cluster.server("solo", [], ["--max-frame-bytes", String(MB)]);
    const before = await rss(server);
    // An unidentified link, then one that has said hello and is a user.
    const anonymous = await rawClient(server.port, true, [cluster.caCert]);
    const closing = anonymous.frames();
    const taken = await endlessFragments(anonymous);
    const seen = await closing;
    assert.ok(taken < 16 * MB, `closed after ${(taken / MB).toFixed(1)} MiB, not 256`);
    assert.equal(seen.find((f) => f.type === "close")?.code, 1009);
    anonymous.conn.close();

    const user = await rawClient(server.port, true, [cluster.caCert]);
    const alice = new TestUser(KEYS.A, "Alice");
    const hello = JSON.stringify(await buildUserHello(alice.identity));
    await user.send(Opcode.Text, new TextEncoder().encode(hello));
    await waitUntil(async () => (await server.health()).users.local === 1, 5000, "alice's hello");
    const userClosing = user.frames();
    assert.ok(await endlessFragments(user) < 16 * MB);
    assert.equal((await userClosing).find((f) => f.type === "close")?.code, 1009);
    user.conn.close();

    const grown = (await rss(server)) - before;
    assert.ok(grown < 64 * MB, `RSS grew by ${(grown / MB).toFixed(0)} MiB`);
    assert.equal((await server.health()).status, "ok");
  } finally {
    await cluster.close();
  }
});

Deno.test("connections that never send a request are closed at the header timeout and count per IP", async () => {
  const cluster = await Cluster.create(1);
  const raws: Deno.Conn[] = [];
  try {
    const server = await cluster.server("solo", [], ["--header-timeout-ms", "1500"]);
    const baseline = await server.openFds();
    for (let i = 0; i < 40; i++) {
      raws.push(await Deno.connect({ hostname: "127.0.0.1", port: server.port }));
    }
    // Beyond 8 unidentified connections per address, the rest are closed at once.
    await waitUntil(
      async () => await server.openFds() <= baseline + 8,
      3000,
      "excess connections closed",
    );
    const blocked = new TestUser(KEYS.A, "Blocked");
    await assert.rejects(blocked.connect(server.url, cluster.client), "no room for this address");
    // Then the header timeout closes the silent ones, and the address may connect again.
    await waitUntil(
      async () => await server.openFds() <= baseline + 1,
      5000,
      "silent connections closed",
    );
    const ended = await Promise.all(raws.map(async (conn) => {
      try {
        return await conn.read(new Uint8Array(16)) === null;
      } catch {
        return true; // reset
      }
    }));
    assert.ok(ended.every(Boolean), "every silent connection was closed by the server");
    const welcome = new TestUser(KEYS.A, "Welcome");
    assert.equal((await welcome.connect(server.url, cluster.client)).type, "ACK");
    await welcome.close();
  } finally {
    for (const conn of raws) {
      try {
        conn.close();
      } catch {
        // closed already
      }
    }
    await cluster.close();
  }
});

Deno.test("inbound server links that come and go do not use up their address's connection counts", async () => {
  const cluster = await Cluster.create(2);
  try {
    const server = await cluster.server("solo", []);
    const peer = new ServerPeer({ id: crypto.randomUUID(), keys: KEYS.B });
    // Someone stays connected from the address meanwhile, so its counts are never reset.
    const bob = new TestUser(KEYS.B, "Bob");
    await bob.connect(server.url, cluster.client);
    // More links than the 8 unidentified connections an address may have open.
    for (let i = 0; i < 12; i++) {
      const link = await peer.link(server.url, cluster.client, server.id);
      await waitUntil(async () => (await server.health()).links.includes(peer.id), 5000, "bound");
      await link.close();
      await waitUntil(async () => !(await server.health()).links.includes(peer.id), 5000, "gone");
    }
    const alice = new TestUser(KEYS.A, "Alice");
    assert.equal((await alice.connect(server.url, cluster.client)).type, "ACK");
    await alice.close();
    await bob.close();
    await peer.close();
  } finally {
    await cluster.close();
  }
});
