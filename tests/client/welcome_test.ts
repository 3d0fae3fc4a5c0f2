// The advert-ACK welcome (docs/PROTOCOL.md 59): a project client that lists
// "advert-ack" is welcomed by an unsigned ACK carrying its own signed advert,
// so its hello costs the server one signature instead of two; the client
// takes it only when that advert is its own, signed under the server key the
// ACK names and carrying this hello's presence proof.

import assert from "node:assert/strict";
import { DenoAdapter } from "../../client/deno.ts";
import { SocpClient } from "../../client/sdk.ts";
import {
  buildSigned,
  CHANNEL_KEY_CAP,
  type Frame,
  type FrameOf,
  PRESENCE_LITE_CAP,
  SocpError,
} from "../../mod.ts";
import { FAST_FILES } from "../../client/sdk.ts";
import { Cluster, fixtureKeys, type NodeProcess } from "../_cluster.ts";
import { KEYS } from "../_vectors.ts";

const OLD_CAPS = [FAST_FILES, CHANNEL_KEY_CAP, PRESENCE_LITE_CAP];

async function signs(cluster: Cluster, node: NodeProcess): Promise<number> {
  const res = await fetch(`https://127.0.0.1:${node.port}/metrics`, { client: cluster.client });
  return Number(/^socp_rsa_operations_total\{op="sign"\} (\S+)$/m.exec(await res.text())?.[1] ?? 0);
}

async function connectAll(cluster: Cluster, node: NodeProcess, count: number, caps?: string[]) {
  // All at once: their channel rotation and presence batch are shared, whatever the timing.
  return await Promise.all(Array.from({ length: count }, async (_, i) => {
    const client = new SocpClient({
      url: node.url,
      identity: { id: crypto.randomUUID(), keys: await fixtureKeys(10 + i) },
      displayName: `u${i}`,
      adapter: new DenoAdapter({ caCert: cluster.caCert, downloadsDir: cluster.dir }),
      caps,
    });
    await client.connect();
    return client;
  }));
}

Deno.test("a hello welcomed by its own advert costs the server one signature, not two", async () => {
  const { cluster, nodes: [s1] } = await Cluster.mesh(["s1"], 0);
  const clients: SocpClient[] = [];
  try {
    const count = 6;
    // Quiet first: the channel rotation and presence flush of earlier joins are done.
    const quiet = () => new Promise((r) => setTimeout(r, 3000));
    const costOf = async (caps?: string[]) => {
      await quiet();
      const before = await signs(cluster, s1);
      for (const c of await connectAll(cluster, s1, count, caps)) clients.push(c);
      const during = await signs(cluster, s1) - before;
      for (const c of clients.splice(0)) await c.close();
      return during;
    };
    const old = await costOf(OLD_CAPS);
    const now = await costOf(); // the SDK's default caps include advert-ack
    // Each hello: advert + ACK (old) or the advert alone; the rotation and presence batch
    // they share cost a few more either way.
    assert.ok(old - now >= count - 2, `old clients cost ${old} signatures, advert-ack ${now}`);
  } finally {
    for (const c of clients) await c.close();
    await cluster.close();
  }
});

/** A WebSocket server answering the hello with `welcome(hello)` (over plain ws). */
function fakeServer(welcome: (hello: Frame) => Promise<unknown>) {
  return Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, (req) => {
    const { socket, response } = Deno.upgradeWebSocket(req);
    socket.onmessage = async (e) => socket.send(JSON.stringify(await welcome(JSON.parse(e.data))));
    return response;
  });
}

Deno.test("a welcome whose advert is not this hello's, or not the server's, is refused", async () => {
  const server = { id: crypto.randomUUID(), keys: KEYS.A };
  const forgeries: Record<string, (hello: Frame) => Promise<unknown>> = {
    "signed by another key": async (hello) => {
      const p = (hello as FrameOf<"USER_HELLO">).payload;
      const advert = await buildSigned({ ...server, keys: KEYS.B }, "USER_ADVERTISE", "*", {
        user_id: hello.from,
        server_id: server.id,
        pubkey: p.pubkey,
        presence: p.presence,
      });
      return ack(hello, advert);
    },
    "an old presence proof": async (hello) => {
      const p = (hello as FrameOf<"USER_HELLO">).payload;
      const old = { ...p.presence!, sig: "A".repeat(683) };
      const advert = await buildSigned(server, "USER_ADVERTISE", "*", {
        user_id: hello.from,
        server_id: server.id,
        pubkey: p.pubkey,
        presence: old,
      });
      return ack(hello, advert);
    },
    "another user's advert": async (hello) => {
      const p = (hello as FrameOf<"USER_HELLO">).payload;
      const advert = await buildSigned(server, "USER_ADVERTISE", "*", {
        user_id: crypto.randomUUID(),
        server_id: server.id,
        pubkey: p.pubkey,
        presence: p.presence,
      });
      return ack(hello, advert);
    },
  };
  const ack = (hello: Frame, advert: Frame) => ({
    type: "ACK",
    from: server.id,
    to: hello.from,
    ts: Date.now(),
    payload: { msg_ref: "x", server_pub: server.keys.publicKey.b64, advert },
  });
  for (const [what, forge] of Object.entries(forgeries)) {
    const fake = fakeServer(forge);
    const client = new SocpClient({
      url: `ws://127.0.0.1:${fake.addr.port}/ws`,
      identity: { id: crypto.randomUUID(), keys: await fixtureKeys(3) },
      displayName: "victim",
      adapter: new DenoAdapter({ insecure: true, downloadsDir: Deno.cwd() }),
    });
    try {
      await assert.rejects(client.connect(), (e) => e instanceof SocpError, what);
      assert.equal(client.server.id, undefined, `${what}: never ready`);
    } finally {
      await client.close();
      await fake.shutdown();
    }
  }
});
