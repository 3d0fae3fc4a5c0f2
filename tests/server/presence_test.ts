// The presence-lite extension on real servers: a capable client gets a
// signed snapshot and batched changes instead of every user's advert, and
// looks keys up on demand; a plain client on the same server is unaffected.

import assert from "node:assert/strict";
import {
  buildSigned,
  buildUserHello,
  type Frame,
  type FrameOf,
  importPublicKey,
  msgRef,
  PRESENCE_LITE_CAP,
  verifyFrame,
} from "../../mod.ts";
import { flushIntervalMs } from "../../server/presence.ts";
import { Cluster, fixtureKeys } from "../_cluster.ts";
import { TestUser } from "../_user.ts";

const presenceFrames = (user: TestUser) => user.socket.ofType("PRESENCE");

/** Who a presence-lite client believes is online after every PRESENCE so far. */
function onlineFrom(frames: FrameOf<"PRESENCE">[]): Set<string> {
  const online = new Set<string>();
  for (const f of frames) {
    if (f.payload.reset) online.clear();
    f.payload.offline.forEach((id) => online.delete(id));
    f.payload.online.forEach((e) => online.add(e.user_id));
  }
  return online;
}

async function connectLite(user: TestUser, url: string, client: Deno.HttpClient): Promise<Frame> {
  const hello = await buildUserHello(user.identity, {
    meta: { display_name: user.name, caps: [PRESENCE_LITE_CAP] },
  });
  return await user.connect(url, client, hello);
}

Deno.test("presence-lite: a signed snapshot, then batched changes; plain clients still get adverts", async () => {
  const cluster = await Cluster.create(0);
  const [lite, plain, remote, late] = await Promise.all(
    ["Lite", "Plain", "Remote", "Late"].map(async (name, i) =>
      new TestUser(await fixtureKeys(3 + i), name)
    ),
  );
  try {
    const intro = await cluster.introducer("intro");
    const a = await cluster.server("a", [intro]);
    const b = await cluster.server("b", [intro]);
    await cluster.waitForMesh([intro, a, b]);
    const aKey = await importPublicKey(a.pubkey);
    assert.equal((await remote.connect(b.url, cluster.client)).type, "ACK");
    assert.equal((await plain.connect(a.url, cluster.client)).type, "ACK");
    await plain.socket.next((f) => f.type === "USER_ADVERTISE" && f.payload.user_id === remote.id);
    assert.equal((await connectLite(lite, a.url, cluster.client)).type, "ACK");

    // The snapshot: a reset frame signed by our server, listing everyone online.
    const snapshot = await lite.socket.next((f) => f.type === "PRESENCE") as FrameOf<"PRESENCE">;
    assert.equal(snapshot.payload.reset, true);
    assert.equal(snapshot.from, a.id);
    assert.ok(await verifyFrame(aKey, snapshot));
    const names = new Map(snapshot.payload.online.map((e) => [e.user_id, e]));
    assert.deepEqual(names.get(remote.id), {
      user_id: remote.id,
      server_id: b.id,
      display_name: "Remote",
    });
    assert.ok(names.has(plain.id));

    // A user joining elsewhere arrives as a batched change; plain clients get the advert.
    assert.equal((await late.connect(b.url, cluster.client)).type, "ACK");
    await plain.socket.next((f) => f.type === "USER_ADVERTISE" && f.payload.user_id === late.id);
    await lite.socket.next((f) =>
      f.type === "PRESENCE" && f.payload.online.some((e) => e.user_id === late.id)
    );
    assert.deepEqual(
      onlineFrom(presenceFrames(lite)),
      new Set([plain.id, remote.id, late.id, lite.id]),
    );
    await late.close();
    await plain.socket.next((f) => f.type === "USER_REMOVE" && f.payload.user_id === late.id);
    await lite.socket.next((f) => f.type === "PRESENCE" && f.payload.offline.includes(late.id));
    assert.ok(!onlineFrom(presenceFrames(lite)).has(late.id));
    for (const f of presenceFrames(lite)) {
      assert.ok(await verifyFrame(aKey, f), "every frame signed");
    }

    // The lite client never got an advert or a removal it did not ask for.
    assert.deepEqual(lite.socket.ofType("USER_ADVERTISE"), []);
    assert.deepEqual(lite.socket.ofType("USER_REMOVE"), []);

    // USER_LOOKUP: the stored advert, verbatim (signed by the user's server), and one
    // USER_NOT_FOUND carrying the lookup's msg_ref for the user who is not online.
    const payload = { user_ids: [remote.id, late.id] };
    lite.socket.send(await buildSigned(lite.identity, "USER_LOOKUP", a.id, payload));
    const advert = await lite.socket.next((f) => f.type === "USER_ADVERTISE") as FrameOf<
      "USER_ADVERTISE"
    >;
    assert.equal(advert.payload.user_id, remote.id);
    assert.equal(advert.payload.pubkey, remote.publicKey.b64);
    assert.ok(await verifyFrame(await importPublicKey(b.pubkey), advert));
    const missing = await lite.socket.next((f) => f.type === "ERROR") as FrameOf<"ERROR">;
    assert.equal(missing.payload.code, "USER_NOT_FOUND");
    assert.equal(missing.payload.msg_ref, await msgRef(payload));
  } finally {
    await Promise.all([lite, plain, remote, late].map((u) => u.socket?.close().catch(() => {})));
    await cluster.close();
  }
});

Deno.test("presence-lite: a USER_LOOKUP not from the bound user is refused with INVALID_SIG", async () => {
  const cluster = await Cluster.create(4);
  const [lite, other] = await Promise.all(
    ["Lite", "Other"].map(async (name, i) => new TestUser(await fixtureKeys(6 + i), name)),
  );
  try {
    const intro = await cluster.introducer("intro");
    const a = await cluster.server("a", [intro]);
    await cluster.waitForMesh([intro, a]);
    await connectLite(lite, a.url, cluster.client);
    await connectLite(other, a.url, cluster.client);
    const forged = await buildSigned(other.identity, "USER_LOOKUP", a.id, {
      user_ids: [other.id],
    });
    lite.socket.send(forged);
    const refused = await lite.socket.next((f) => f.type === "ERROR") as FrameOf<"ERROR">;
    assert.equal(refused.payload.code, "INVALID_SIG");
    assert.deepEqual(lite.socket.ofType("USER_ADVERTISE"), []);
  } finally {
    await Promise.all([lite, other].map((u) => u.socket?.close().catch(() => {})));
    await cluster.close();
  }
});

Deno.test("presence batches: 250 ms for a few clients, n/5 ms for thousands, 2 s at most", () => {
  assert.equal(flushIntervalMs(0), 250);
  assert.equal(flushIntervalMs(1000), 250);
  assert.equal(flushIntervalMs(5000), 1000);
  assert.equal(flushIntervalMs(50_000), 2000);
});
