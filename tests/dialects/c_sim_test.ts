// Self-test of the dialect C server simulator (tests/dialects/c_server.ts):
// two C servers link with SERVER_HELLO_JOIN → WELCOME; a C user on the
// dialler DMs a C user on the other and sends a file, both verified (V2) at
// the receiving client; a later join is advertised without a key and its
// PUBLIC_CHANNEL_UPDATED draws UNKNOWN_TYPE; a PEM key is refused; a raw
// peer's SERVER_DELIVER is verified by its link key and delivered at orig_ts.

import assert from "node:assert/strict";
import { exportPublicKey } from "../../mod.ts";
import { fixtureKeys, waitUntil } from "../_cluster.ts";
import { pyDumps } from "./_wire.ts";
import { cFrame, CUser } from "./_c_wire.ts";
import { DialectCServer } from "./c_server.ts";

Deno.test("two C servers link; a C user DMs and sends a file to a C user on the other", async () => {
  const a = new DialectCServer(await fixtureKeys(0), { heartbeatMs: 200, silenceMs: 3000 });
  const b = new DialectCServer(await fixtureKeys(1), { heartbeatMs: 200, silenceMs: 3000 });
  try {
    const alice = crypto.randomUUID();
    const bob = crypto.randomUUID();
    await a.addUser(alice, await fixtureKeys(2));
    await b.addUser(bob, await fixtureKeys(3));
    assert.equal(await a.link({ wsUri: b.wsUri }), b.identity.id);
    assert.deepEqual(a.links, [b.identity.id]);
    assert.deepEqual(b.links, [a.identity.id]);
    // The WELCOME snapshot told the dialler where Bob is; only b's database has his key.
    assert.equal(a.locations.get(bob), b.identity.id);
    assert.equal(a.keyOf(bob), undefined);
    const bobKey = b.keyOf(bob)!;

    await a.dm(alice, bob, "hello from C", bobKey);
    await waitUntil(() => b.received.length === 1, 3000, "Bob's DM");
    assert.deepEqual(b.received[0], { from: alice, to: bob, text: "hello from C", verified: true });

    const bytes = crypto.getRandomValues(new Uint8Array(1000)); // three 446-byte chunks
    await a.sendFile(alice, bob, "c.bin", bytes, bobKey);
    await waitUntil(() => b.files.length === 1, 3000, "Bob's file");
    assert.equal(b.files[0].from, alice);
    assert.equal(b.files[0].name, "c.bin");
    assert.deepEqual(b.files[0].bytes, bytes);
    await new Promise((r) => setTimeout(r, 300)); // a heartbeat each way
    for (const s of [a, b]) {
      assert.deepEqual(s.dropped, []);
      assert.deepEqual(s.unknownTypes, []);
      assert.equal(s.readerDeath.size, 0);
    }

    // A later join: a keyless advert locates Carol; C's UPDATED draws UNKNOWN_TYPE (and
    // the two then answer each other's ERRORs until stopped).
    const carol = crypto.randomUUID();
    await b.addUser(carol, await fixtureKeys(4));
    await waitUntil(() => a.locations.get(carol) === b.identity.id, 3000, "Carol located");
    await waitUntil(() => a.unknownTypes.includes("PUBLIC_CHANNEL_UPDATED"), 3000, "UPDATED");
    await waitUntil(() => b.unknownTypes.includes("ERROR"), 3000, "ERROR answered");
    assert.equal(b.errorsReceived[0]?.code, "UNKNOWN_TYPE");
  } finally {
    await a.stop();
    await b.stop();
  }
});

Deno.test("a C server refuses a JOIN with a PEM key, and a first frame other than a hello", async () => {
  const c = new DialectCServer(await fixtureKeys(0));
  try {
    const pem = exportPublicKey((await fixtureKeys(1)).publicKey, "pem");
    const frames = [
      {
        type: "SERVER_HELLO_JOIN",
        from: crypto.randomUUID(),
        to: "*",
        ts: Date.now(),
        payload: { host: "127.0.0.1", port: 1, pubkey: pem, ws_uri: c.wsUri },
      },
      {
        type: "SERVER_HELLO_LINK",
        from: crypto.randomUUID(),
        to: "*",
        ts: Date.now(),
        payload: {},
      },
    ];
    for (const frame of frames) {
      const socket = new WebSocket(c.wsUri);
      const replies: string[] = [];
      socket.onmessage = (e) => replies.push(String(e.data));
      await new Promise((r) => (socket.onopen = r));
      const gone = new Promise((r) => (socket.onclose = r));
      socket.send(pyDumps(frame));
      await gone; // closed by the C server, with no reply
      assert.deepEqual(replies, []);
    }
    assert.equal(c.dropped.length, 2);
    assert.match(c.dropped[0], /PEM key/);
    assert.match(c.dropped[1], /first frame SERVER_HELLO_LINK/);
    assert.deepEqual(c.links, []);
  } finally {
    await c.stop();
  }
});

Deno.test("a C server delivers by orig_ts, verifies by link key and answers an ACK", async () => {
  const c = new DialectCServer(await fixtureKeys(0));
  const peer = { id: crypto.randomUUID(), keys: await fixtureKeys(1) };
  const socket = new WebSocket(c.wsUri);
  const replies: Record<string, unknown>[] = [];
  socket.onmessage = (e) => replies.push(JSON.parse(String(e.data)));
  const opened = new Promise((r) => (socket.onopen = r));
  try {
    const bob = crypto.randomUUID();
    await c.addUser(bob, await fixtureKeys(3));
    await opened;
    const pubkey = peer.keys.publicKey.b64;
    const hello = { host: "127.0.0.1", port: 1, pubkey, ws_uri: c.wsUri };
    socket.send(pyDumps(await cFrame(peer, "SERVER_HELLO_JOIN", peer.id, "*", hello)));
    await waitUntil(() => replies.length >= 2, 3000, "WELCOME and ANNOUNCE");
    assert.deepEqual(replies.map((f) => f.type), ["SERVER_WELCOME", "SERVER_ANNOUNCE"]);
    assert.deepEqual(c.links, [peer.id]);

    // A remote C user's DM, delivered by the peer as SERVER_DELIVER.
    const carol = new CUser(crypto.randomUUID(), await fixtureKeys(4));
    const deliver = async (text: string, origTs: boolean, over: object = {}, signer = peer) => {
      const dm = await carol.dm(bob, text, c.keyOf(bob)!);
      const { ciphertext, sender_pub, content_sig } = dm.payload;
      const payload = { user_id: bob, ciphertext, sender: carol.id, sender_pub, content_sig };
      const extra = origTs ? { orig_ts: dm.ts } : {};
      const to = c.identity.id;
      socket.send(pyDumps(
        await cFrame(signer, "SERVER_DELIVER", peer.id, to, { ...payload, ...extra, ...over }),
      ));
    };
    await deliver("with orig_ts", true);
    await deliver("re-stamped", false);
    await deliver("forged", true, {}, { ...peer, keys: await fixtureKeys(5) });
    await deliver("pem", true, { sender_pub: exportPublicKey(carol.keys.publicKey, "pem") });
    socket.send(pyDumps(await cFrame(peer, "ACK", peer.id, c.identity.id, { msg_ref: "x" })));
    await waitUntil(() => replies.some((f) => f.type === "ERROR"), 3000, "UNKNOWN_TYPE");
    assert.deepEqual(c.received.map((m) => [m.text, m.verified]), [
      ["with orig_ts", true],
      ["re-stamped", false],
    ]);
    assert.match(c.dropped.join("\n"), /SERVER_DELIVER from .*: bad or missing sig/);
    assert.match(c.readerDeath.get(bob) ?? "", /PEM key/);
    assert.deepEqual(c.unknownTypes, ["ACK"]);
    assert.equal((replies.at(-1)!.payload as Record<string, unknown>).code, "UNKNOWN_TYPE");
  } finally {
    await c.stop();
  }
});
