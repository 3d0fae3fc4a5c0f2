// Bad input from peers, against a real server process: every fault gets its
// error code, the right links close, and neither the process nor its
// database suffers.

import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { buildMsgDirect, type Identity, signPayload } from "../../mod.ts";
import { Cluster, type NodeProcess, waitUntil } from "../_cluster.ts";
import { FrameSocket, ServerPeer } from "../_peer.ts";
import { KEYS } from "../_vectors.ts";

const MAX_FRAME = 65_536;

/** A fresh test server identity (its own id; the vector key A). */
const newPeer = (): ServerPeer =>
  new ServerPeer({ id: crypto.randomUUID(), keys: KEYS.A } as Identity);

async function withServer(
  fn: (cluster: Cluster, server: NodeProcess) => Promise<void>,
): Promise<void> {
  const cluster = await Cluster.create(1);
  try {
    const server = await cluster.server("s1", [], [
      "--max-frame-bytes",
      String(MAX_FRAME),
      "--first-frame-timeout-ms",
      "800",
    ]);
    await fn(cluster, server);
    // Nothing above may crash the process, make a handler throw, or damage the database.
    const health = await server.health();
    assert.equal(health.status, "ok");
    assert.ok(!server.entries().some((e) => e.msg === "frame handling failed"), "no handler threw");
    const db = new DatabaseSync(`${server.dataDir}/socp.sqlite`, { readOnly: true });
    try {
      assert.deepEqual({ ...db.prepare("PRAGMA integrity_check").get() }, {
        integrity_check: "ok",
      });
      assert.equal(
        { ...db.prepare("SELECT version FROM groups WHERE group_id = 'public'").get() }.version,
        0,
      );
    } finally {
      db.close();
    }
  } finally {
    await cluster.close();
  }
}

Deno.test("first frames: a disallowed type, garbage, or nothing at all closes the connection", async () => {
  await withServer(async (cluster, server) => {
    const heartbeatFirst = await FrameSocket.open(server.url, cluster.client);
    heartbeatFirst.send(await newPeer().sign("HEARTBEAT", server.id, {}));
    await heartbeatFirst.nextError("UNKNOWN_TYPE");
    await heartbeatFirst.closed();

    const garbage = await FrameSocket.open(server.url, cluster.client);
    garbage.send("{not json");
    await garbage.nextError("BAD_REQUEST");
    await garbage.closed();

    const silent = await FrameSocket.open(server.url, cluster.client);
    await silent.nextError("TIMEOUT", 5000);
    await silent.closed();

    const binary = await FrameSocket.open(server.url, cluster.client);
    binary.socket.send(new Uint8Array([1, 2, 3]));
    await binary.nextError("BAD_REQUEST");
    await binary.closed();
  });
});

Deno.test("server links: unsigned, mis-signed and unknown frames get errors and the link is kept", async () => {
  await withServer(async (cluster, server) => {
    const peer = newPeer();
    const link = await peer.link(server.url, cluster.client, server.id);
    const pause = () => new Promise((r) => setTimeout(r, 1100)); // one ERROR per second per link

    const unsigned = {
      type: "HEARTBEAT",
      from: peer.id,
      to: server.id,
      ts: Date.now(),
      payload: {},
    };
    link.send(unsigned);
    await link.nextError("INVALID_SIG");
    await pause();

    const advert = await peer.sign("USER_ADVERTISE", "*", {
      user_id: crypto.randomUUID(),
      server_id: peer.id,
      pubkey: KEYS.B.publicKey.b64,
    });
    const wrongSig = { ...advert, sig: await signPayload(KEYS.B.privateKey, advert.payload) };
    let mark = link.frames.length;
    link.send(wrongSig);
    await link.nextError("INVALID_SIG", 5000, mark);
    await pause();

    mark = link.frames.length;
    link.send({ ...(await peer.sign("HEARTBEAT", server.id, {})), type: "NOT_A_TYPE" });
    await link.nextError("UNKNOWN_TYPE", 5000, mark);
    await pause();

    mark = link.frames.length;
    // A well-formed user frame on a server link: not accepted here.
    const user = { id: crypto.randomUUID(), keys: KEYS.A };
    link.send(await buildMsgDirect(user, crypto.randomUUID(), KEYS.B.publicKey, "hi"));
    await link.nextError("UNKNOWN_TYPE", 5000, mark);
    await pause();

    mark = link.frames.length;
    link.send(await peer.sign("HEARTBEAT", server.id, {}, Date.now() - 10 * 60_000));
    await link.nextError("TIMEOUT", 5000, mark);
    await pause();

    mark = link.frames.length;
    link.socket.send(new Uint8Array([0]));
    await link.nextError("BAD_REQUEST", 5000, mark);

    await new Promise((r) => setTimeout(r, 300));
    assert.ok(!link.isClosed, "the link survives all of these");
    assert.ok((await server.health()).links.includes(peer.id));
  });
});

Deno.test("server links: 20 invalid signatures in a minute close the link", async () => {
  await withServer(async (cluster, server) => {
    const peer = newPeer();
    const link = await peer.link(server.url, cluster.client, server.id);
    // Signed first, sent in one burst: the 20 failures fall within one ERROR interval.
    const forged = [];
    for (let i = 0; i < 20; i++) {
      const advert = await peer.sign("USER_REMOVE", "*", {
        user_id: crypto.randomUUID(),
        server_id: peer.id,
      });
      forged.push({ ...advert, sig: await signPayload(KEYS.B.privateKey, advert.payload) });
    }
    for (const frame of forged) link.send(frame);
    await link.closed();
    assert.equal(
      link.ofType("ERROR").filter((e) => e.payload.code === "INVALID_SIG").length,
      1,
      "errors rate-limited",
    );
  });
});

Deno.test("server links: malformed JSON and oversize frames get an ERROR and a close", async () => {
  await withServer(async (cluster, server) => {
    const first = await newPeer().link(server.url, cluster.client, server.id);
    first.send('{"type": "HEARTBEAT", "from": ');
    await first.nextError("BAD_REQUEST");
    await first.closed();

    const second = await newPeer().link(server.url, cluster.client, server.id);
    second.send(JSON.stringify({ type: "HEARTBEAT", pad: "x".repeat(MAX_FRAME) }));
    await second.nextError("TOO_LARGE");
    assert.equal((await second.closed()).code, 1009);
  });
});

Deno.test("a SERVER_HELLO_LINK whose key conflicts with the pin is refused with BAD_KEY", async () => {
  await withServer(async (cluster, server) => {
    const peer = newPeer();
    const good = await peer.link(server.url, cluster.client, server.id);
    await good.close();
    const impostor = new ServerPeer({ id: peer.id, keys: KEYS.B }); // same id, another key
    const bad = await impostor.link(server.url, cluster.client, server.id);
    await bad.nextError("BAD_KEY");
    await bad.closed();
    const db = new DatabaseSync(`${server.dataDir}/socp.sqlite`, { readOnly: true });
    try {
      const row = { ...db.prepare("SELECT pubkey FROM servers WHERE server_id = ?").get(peer.id) };
      assert.equal(row.pubkey, KEYS.A.publicKey.b64, "the pin is unchanged");
    } finally {
      db.close();
    }
  });
});

Deno.test("endpoints: /ws and / upgrade, /healthz answers, other paths get 404", async () => {
  await withServer(async (cluster, server) => {
    const atRoot = await FrameSocket.open(`wss://127.0.0.1:${server.port}/`, cluster.client);
    await atRoot.close();
    const query = await FrameSocket.open(
      `wss://127.0.0.1:${server.port}/ws?client=x`,
      cluster.client,
    );
    await query.close();
    const notFound = await fetch(`https://127.0.0.1:${server.port}/chat`, {
      client: cluster.client,
    });
    await notFound.body?.cancel();
    assert.equal(notFound.status, 404);
    await assert.rejects(FrameSocket.open(`wss://127.0.0.1:${server.port}/chat`, cluster.client));
  });
});

Deno.test("dialect A opens a link with SERVER_ANNOUNCE; an unsigned JOIN is refused", async () => {
  await withServer(async (cluster, server) => {
    const peer = newPeer();
    const link = await FrameSocket.open(server.url, cluster.client);
    link.send(await peer.sign("SERVER_ANNOUNCE", server.id, peer.hello()));
    await waitUntil(
      async () => (await server.health()).links.includes(peer.id),
      5000,
      "the ANNOUNCE-opened link",
    );
    await link.close();

    // A plain server does not answer joins; an introducer demands a signature.
    const intro = await cluster.introducer("intro");
    for (const [node, code] of [[server, "UNKNOWN_TYPE"], [intro, "INVALID_SIG"]] as const) {
      const joiner = await FrameSocket.open(node.url, cluster.client);
      const join = await newPeer().sign(
        "SERVER_HELLO_JOIN",
        `127.0.0.1:${node.port}`,
        newPeer().hello(),
      );
      delete join.sig;
      joiner.send(join);
      await joiner.nextError(code);
      await joiner.closed();
      // The operator sees why (dialect B's JOIN is unsigned).
      const why = code === "INVALID_SIG" ? "must be signed" : "not allowed as a first frame";
      await waitUntil(
        () =>
          node.lines.some((l) =>
            l.includes(`"level":"info","msg":"refused a first frame"`) && l.includes(why)
          ),
        5000,
        `the refusal logged at ${code}`,
      );
    }
  });
});
