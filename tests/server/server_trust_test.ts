// A pinned but hostile server peer cannot take users it does not host
// (docs/PROTOCOL.md decision 43): its adverts must carry the user's bound key,
// and a user live elsewhere moves only with the user's own presence proof.

import assert from "node:assert/strict";
import {
  buildUserHello,
  type Frame,
  type FrameOf,
  type ServerDeliverDmPayload,
} from "../../mod.ts";
import { Cluster, fixtureKeys, waitUntil } from "../_cluster.ts";
import { ServerPeer } from "../_peer.ts";
import { TestUser } from "../_user.ts";
import { KEYS } from "../_vectors.ts";

async function world(firstKey: number) {
  const { cluster, nodes: [a, b] } = await Cluster.mesh(["a", "b"], firstKey);
  const rogue = new ServerPeer({ id: crypto.randomUUID(), keys: await fixtureKeys(firstKey + 5) });
  const link = await rogue.link(a.url, cluster.client, a.id);
  await waitUntil(async () => (await a.health()).links.includes(rogue.id), 10_000, "a to pin P");
  return { cluster, a, b, rogue, link };
}

const advertOf = (userId: string) => (f: Frame) =>
  f.type === "USER_ADVERTISE" && f.payload.user_id === userId;

/** An advert of `user` signed by the rogue, placing it on the rogue. */
function rogueAdvert(rogue: ServerPeer, userId: string, pubkey: string, extra = {}) {
  return rogue.sign("USER_ADVERTISE", "*", {
    user_id: userId,
    server_id: rogue.id,
    pubkey,
    meta: { display_name: "Bob", pubkey },
    ...extra,
  });
}

/** alice DMs bob and bob must receive it (not the rogue). */
async function dmArrives(alice: TestUser, bob: TestUser, text: string) {
  const mark = bob.socket.frames.length;
  const sent = await alice.dm(bob, text);
  const got = await bob.nextDm(mark);
  assert.equal(got.text, text);
  assert.equal(got.ts, sent.ts);
}

Deno.test("a pinned peer cannot move a user live on another server, nor remove it, nor rekey it", async () => {
  const { cluster, a, b, rogue, link } = await world(0);
  const alice = new TestUser(KEYS.A, "Alice");
  const bob = new TestUser(KEYS.B, "Bob");
  try {
    await alice.connect(a.url, cluster.client);
    await bob.connect(b.url, cluster.client);
    await alice.socket.next(advertOf(bob.id));
    const seenBefore = alice.socket.frames.length;

    // Bob's real key, placed on the rogue: bob is live on b and the advert has no proof.
    link.send(await rogueAdvert(rogue, bob.id, bob.publicKey.b64));
    await new Promise((r) => setTimeout(r, 500));
    await dmArrives(alice, bob, "still to b");
    // A USER_REMOVE from the rogue names a location bob is not at.
    link.send(await rogue.sign("USER_REMOVE", "*", { user_id: bob.id, server_id: rogue.id }));
    await new Promise((r) => setTimeout(r, 500));
    await dmArrives(alice, bob, "still reachable");
    // Another key for bob: refused outright, with an ERROR to the rogue.
    const mark = link.frames.length;
    link.send(await rogueAdvert(rogue, bob.id, KEYS.A.publicKey.b64));
    const refusal = await link.nextError("BAD_KEY", 5000, mark) as FrameOf<"ERROR">;
    assert.match(refusal.payload.detail, /refused/);
    await dmArrives(alice, bob, "and with his own key");

    // The rogue never got a DM for bob, and alice never saw its adverts.
    assert.ok(!link.frames.some((f) => f.type === "SERVER_DELIVER"));
    assert.ok(!alice.socket.frames.slice(seenBefore).some((f) => f.from === rogue.id));
  } finally {
    await alice.close().catch(() => {});
    await bob.close().catch(() => {});
    await rogue.close();
    await cluster.close();
  }
});

Deno.test("a presence proof names its server: copied or replayed proofs move nobody", async () => {
  const { cluster, a, b, rogue, link } = await world(3);
  const alice = new TestUser(KEYS.A, "Alice");
  const carol = new TestUser(await fixtureKeys(9), "Carol");
  try {
    await alice.connect(a.url, cluster.client);
    // carol knows b's id (a reconnect), so her proof names b.
    const hello = await buildUserHello(carol.identity, { to: b.id, proof: true });
    assert.equal((await carol.connect(b.url, cluster.client, hello)).type, "ACK");
    const advert = await alice.socket.next(advertOf(carol.id)) as FrameOf<"USER_ADVERTISE">;
    assert.equal(advert.payload.presence?.server_id, b.id, "the advert carries carol's proof");

    // The rogue copies carol's proof into its own advert: it names b, not the rogue.
    const copied = { presence: advert.payload.presence };
    link.send(await rogueAdvert(rogue, carol.id, carol.publicKey.b64, copied));
    await new Promise((r) => setTimeout(r, 500));
    await dmArrives(alice, carol, "carol stays on b");

    // Once carol is offline the rogue tries again, with and without the copied proof.
    await carol.close();
    await waitUntil(async () => (await a.health()).users.online === 1, 5000, "carol to leave");
    link.send(await rogueAdvert(rogue, carol.id, carol.publicKey.b64));
    link.send(await rogueAdvert(rogue, carol.id, carol.publicKey.b64, copied));
    await new Promise((r) => setTimeout(r, 500));
    const mark = alice.socket.frames.length;
    await alice.dm(carol, "where are you?");
    // It waits on carol's home (b), not at the rogue.
    await alice.socket.next((f) => f.type === "MSG_QUEUED" && f.from === a.id, 5000, mark);
    assert.ok(!link.frames.some((f) => f.type === "SERVER_DELIVER"), "nothing routed to the rogue");

    // carol herself comes back on a: her home is b, her new proof moves her.
    const again = new TestUser(carol.identity.keys, "Carol", carol.id);
    const back = await buildUserHello(again.identity, { to: a.id, proof: true });
    assert.equal((await again.connect(a.url, cluster.client, back)).type, "ACK");
    assert.equal((await again.nextDm()).text, "where are you?", "what waited at b comes to a");
    await dmArrives(alice, again, "welcome back");
    await again.close();
  } finally {
    await alice.close().catch(() => {});
    await carol.close().catch(() => {});
    await rogue.close();
    await cluster.close();
  }
});

Deno.test("without a proof ever seen, a user offline elsewhere may be placed by a peer (dialect clients)", async () => {
  const { cluster, a, rogue, link } = await world(6);
  const alice = new TestUser(KEYS.A, "Alice");
  const dave = new TestUser(KEYS.B, "Dave");
  try {
    await alice.connect(a.url, cluster.client);
    // dave's advert reaches a, so a knows his key; dave never sent a proof.
    link.send(await rogueAdvert(rogue, dave.id, dave.publicKey.b64));
    await alice.socket.next(advertOf(dave.id));
    const sent = await alice.dm(dave, "to wherever dave is");
    const routed = await link.next((f) => f.type === "SERVER_DELIVER" && f.ts === sent.ts) as
      & FrameOf<"SERVER_DELIVER">
      & { payload: ServerDeliverDmPayload };
    // The residual risk is routing, not reading: the rogue holds ciphertext for dave's key.
    assert.equal(routed.payload.ciphertext, sent.payload.ciphertext);
  } finally {
    await alice.close().catch(() => {});
    await rogue.close();
    await cluster.close();
  }
});
