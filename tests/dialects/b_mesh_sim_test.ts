// Self-test of the dialect B server simulator's mesh (b_server.ts,
// _b_mesh.ts), from docs/DIALECT-FACTS.md §B: two B servers, where the second
// joins the first (every B server is an introducer), drops its JOIN socket
// (B's bug), and is dialled back; B clients on each side then exchange
// DMs and a public message, while a file between them is dropped (B cannot
// take its own wrapped SERVER_DELIVER). A raw peer checks the wire details:
// unsigned link frames, UNKNOWN_TYPE, the UPDATED hazard, heartbeats, and the
// 1011 close of a silent link. Timers are shortened; the defaults are B's.

import assert from "node:assert/strict";
import { canonicalJson, encryptFor, type Identity, isUuidV4 } from "../../mod.ts";
import { fixtureKeys, waitUntil } from "../_cluster.ts";
import { KEYS } from "../_vectors.ts";
import { type Loose, pemOf, signedFrame, verifyMaxSalt } from "./_wire.ts";
import { DialectBClient } from "./b_client.ts";
import { DialectBServer } from "./b_server.ts";

// Fixed ids (B persists its id): B2's is the higher, so B2 never dials its introducer.
const B1 = "00000000-0000-4000-8000-000000000001";
const B2 = "ffffffff-ffff-4fff-bfff-ffffffffffff";
const FAST = { dialMs: 100, linkWaitMs: 100, heartbeatMs: 300, silenceMs: 5_000 };

Deno.test("two B servers: a join, a link dialled back, DMs and public across, B's file dropped", async () => {
  const b1 = new DialectBServer({ id: B1, keys: await fixtureKeys(5) }, FAST);
  const b2 = new DialectBServer({ id: B2, keys: await fixtureKeys(6) }, FAST);
  const http = Deno.createHttpClient({});
  const clients: DialectBClient[] = [];
  const connect = async (
    server: DialectBServer,
    keys: Parameters<typeof DialectBClient.connect>[2],
  ) => {
    const c = await DialectBClient.connect(server.url, http, keys);
    clients.push(c);
    return c;
  };
  try {
    // Online before the link: B sends no presence snapshot, so B1 never learns of it.
    const early = await connect(b2, await fixtureKeys(9));
    const joined = await b2.join({
      host: b1.host,
      port: b1.port,
      pubkey: pemOf(b1.identity.keys.publicKey),
    });
    assert.ok(joined, "a WELCOME within welcomeWaitMs");
    assert.equal(b2.identity.id, B2, "B keeps its own id (it reads only `servers`)");
    await waitUntil(() => b1.links.includes(B2) && b2.links.includes(B1), 5_000, "the link");
    // The introducer saw the JOIN socket close, then dialled the joiner back.
    const seen = b1.linkEvents.filter((e) => e.peer === B2).map((e) => e.event);
    assert.deepEqual(seen.slice(0, 3), ["joined", "closed", "dialled"]);
    assert.deepEqual(b2.linkEvents.map((e) => e.event), ["accepted"]);

    const bea = await connect(b1, KEYS.A);
    const bo = await connect(b2, KEYS.B);
    await waitUntil(
      () => bea.online.get(bo.id) != null && bo.online.get(bea.id) != null,
      5_000,
      "adverts across, with PEM keys in meta.pubkey",
    );
    assert.equal(b2.locations.get(bea.id), B1);
    assert.equal(b1.locations.get(bo.id), B2);
    assert.ok(!b1.locations.has(early.id) && !bea.online.has(early.id), "no snapshot");

    await bea.tell(bo.id, "from B1 to B2");
    await bo.tell(bea.id, "from B2 to B1");
    await waitUntil(
      () =>
        bo.dms.some((m) => m.text === "from B1 to B2" && m.from === bea.id) &&
        bea.dms.some((m) => m.text === "from B2 to B1" && m.from === bo.id),
      5_000,
      "DMs both ways as SERVER_DELIVER",
    );
    await bea.all("B1 in the clear");
    await waitUntil(
      () => bo.publics.some((m) => m.text === "B1 in the clear" && m.from === bea.id),
      5_000,
      "the public message across",
    );

    // A file goes out in B's wrapped SERVER_DELIVER (from = the user), which B2
    // cannot verify: no key is pinned for a user id. Dropped, INVALID_SIG back.
    await bea.sendFile(bo.id, "bea.bin", crypto.getRandomValues(new Uint8Array(400)));
    await waitUntil(
      () => b2.dropped.filter((d) => d.startsWith(`SERVER_DELIVER from ${bea.id}`)).length === 5,
      5_000,
      "B2 to drop FILE_START, 3 chunks and FILE_END",
    );
    await waitUntil(() => b1.peerErrors.includes("INVALID_SIG"), 5_000, "INVALID_SIG to B1");
    assert.equal(bo.files.length, 0);

    assert.deepEqual([...b1.unknownTypes, ...b2.unknownTypes], []);
    assert.ok(!b1.keyTableCorrupted && !b2.keyTableCorrupted, "UPDATEDs carried PEM keys only");
    assert.ok(clients.every((c) => c.dropped === 0), "every frame passed B's client check");
  } finally {
    for (const c of clients) await c.close();
    await b1.stop();
    await b2.stop();
    http.close();
  }
});

/** A raw ws peer that records what it receives. */
async function raw(url: string) {
  const socket = new WebSocket(url);
  const texts: string[] = [];
  socket.onmessage = (e) => void texts.push(String(e.data));
  const closed = new Promise<number>((resolve) => socket.onclose = (e) => resolve(e.code));
  await new Promise((resolve, reject) => {
    socket.onopen = resolve;
    socket.onerror = reject;
  });
  const frames = () => texts.map((t) => JSON.parse(t) as Loose);
  const send = (f: Record<string, unknown>) => socket.send(JSON.stringify(f));
  return { socket, texts, frames, closed, send };
}

Deno.test("a B server's link wire: unsigned hellos, WELCOME, ANNOUNCE, UNKNOWN_TYPE, hazard, 1011", async () => {
  const b = new DialectBServer({ id: B1, keys: await fixtureKeys(5) }, {
    heartbeatMs: 100,
    silenceMs: 700,
    dialMs: 60_000, // no dial round during the test
  });
  const peer: Identity = { id: crypto.randomUUID(), keys: await fixtureKeys(7) };
  const joiner: Identity = { id: crypto.randomUUID(), keys: await fixtureKeys(8) };
  const address = (who: Identity) => ({
    host: "127.0.0.1",
    port: 9,
    pubkey: pemOf(who.keys.publicKey),
  });
  const unsigned = (type: string, from: string, to: string, payload: Record<string, unknown>) => ({
    type,
    from,
    to,
    ts: Date.now(),
    payload,
  });
  const bKey = b.identity.keys.publicKey;
  const verifies = (f: Loose) =>
    verifyMaxSalt(bKey, new TextEncoder().encode(canonicalJson(f.payload)), f.sig);
  try {
    // SERVER_ANNOUNCE is not a first frame: closed, no ERROR.
    const early = await raw(`${b.url}any/path`);
    early.send(unsigned("SERVER_ANNOUNCE", peer.id, "*", address(peer)));
    await early.closed;
    assert.deepEqual(early.texts, []);

    // An unsigned HELLO_LINK opens a link, with no reply.
    const link = await raw(`${b.url}ws`);
    link.send(unsigned("SERVER_HELLO_LINK", peer.id, B1, address(peer)));
    await waitUntil(() => b.links.includes(peer.id), 3_000, "the link");

    // An unsigned JOIN: WELCOME at once, unsigned; ANNOUNCE on the joiner's behalf.
    const join = await raw(b.url);
    join.send(unsigned("SERVER_HELLO_JOIN", joiner.id, `127.0.0.1:${b.port}`, address(joiner)));
    await waitUntil(() => join.texts.length > 0, 3_000, "WELCOME");
    const welcome = join.frames()[0];
    assert.equal(welcome.type, "SERVER_WELCOME");
    assert.ok(!("sig" in welcome) && isUuidV4(welcome.payload.assigned_id));
    assert.equal(join.texts[0], canonicalJson(welcome, { ascii: false }), "compact, key-sorted");
    assert.deepEqual(welcome.payload.servers, [{ server_id: peer.id, ...address(peer) }]);
    await waitUntil(
      () => link.frames().some((f) => f.type === "SERVER_ANNOUNCE"),
      3_000,
      "ANNOUNCE",
    );
    const announce = link.frames().find((f) => f.type === "SERVER_ANNOUNCE")!;
    assert.equal(announce.from, joiner.id);
    assert.ok(!("sig" in announce));
    join.socket.close();
    await join.closed;

    // ACK on a link: a signed UNKNOWN_TYPE. An unsigned HEARTBEAT: INVALID_SIG.
    link.send(await signedFrame(peer, "ACK", B1, { msg_ref: "x" }));
    link.send(unsigned("HEARTBEAT", peer.id, B1, {}));
    await waitUntil(
      () => link.frames().filter((f) => f.type === "ERROR").length === 2,
      3_000,
      "two ERRORs",
    );
    const [unknown, invalid] = link.frames().filter((f) => f.type === "ERROR");
    assert.equal(unknown.payload.code, "UNKNOWN_TYPE");
    assert.equal(invalid.payload.code, "INVALID_SIG");
    assert.ok(await verifies(unknown));
    assert.deepEqual(b.unknownTypes, ["ACK"]);

    // The hazard: a verified peer UPDATED with a real OAEP wrap lands in B's key table.
    const wrap = await encryptFor(peer.keys.publicKey, crypto.getRandomValues(new Uint8Array(32)));
    link.send(
      await signedFrame(peer, "PUBLIC_CHANNEL_UPDATED", "*", {
        version: 3,
        wraps: [{ member_id: crypto.randomUUID(), wrapped_key: wrap }],
      }),
    );
    await waitUntil(() => b.keyTableCorrupted, 3_000, "the key table to take the wrap");

    // Signed JSON heartbeats `{}`, then a close with 1011 once we stay silent.
    await waitUntil(() => link.frames().some((f) => f.type === "HEARTBEAT"), 3_000, "HEARTBEAT");
    const beat = link.frames().find((f) => f.type === "HEARTBEAT")!;
    assert.deepEqual(beat.payload, {});
    assert.ok(beat.to === peer.id && (await verifies(beat)));
    assert.equal(await link.closed, 1011);
    await waitUntil(() => !b.links.includes(peer.id), 3_000, "the link gone");
  } finally {
    await b.stop();
  }
});
