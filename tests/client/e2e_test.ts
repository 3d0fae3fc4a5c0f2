// End to end: socp-client processes in --json mode, driven through stdin,
// on two real servers; and a tampering server whose frames must never be
// shown as trusted.

import assert from "node:assert/strict";
import { buildMsgDirect, buildServerDeliver, dmContentSig, type Identity } from "../../mod.ts";
import { ClientProcess } from "../_client_proc.ts";
import { Cluster, fixtureKeys, waitUntil } from "../_cluster.ts";
import { ServerPeer } from "../_peer.ts";
import { KEYS } from "../_vectors.ts";
import { randomBytes } from "../_bytes.ts";

async function twoServers(firstKey: number) {
  const cluster = await Cluster.create(firstKey);
  const intro = await cluster.introducer("intro");
  const a = await cluster.server("a", [intro]);
  const b = await cluster.server("b", [intro]);
  await cluster.waitForMesh([intro, a, b]);
  return { cluster, a, b };
}

Deno.test("two socp-client processes chat across servers: /tell, /all and a 200 KB /file, verified", async () => {
  const { cluster, a, b } = await twoServers(0);
  const files = `${cluster.dir}/outbox`;
  await Deno.mkdir(files);
  const payload = randomBytes(200_000);
  await Deno.writeFile(`${files}/photo.jpg`, payload);
  const alice = await ClientProcess.start(cluster, a, "alice", KEYS.A, [files]);
  const bob = await ClientProcess.start(cluster, b, "bob", KEYS.B);
  try {
    await alice.next((e) =>
      e.event === "presence" && e.display_name === "bob" && e.online === true
    );
    await alice.send("/list");
    const users = await alice.next((e) => e.event === "users");
    assert.deepEqual(
      (users.users as { display_name: string }[]).map((u) => u.display_name).sort(),
      ["alice", "bob"],
    );

    await alice.send("/tell bob hello over the mesh");
    const dm = await bob.next((e) => e.event === "dm");
    assert.deepEqual({ ...dm, ts: 0 }, {
      event: "dm",
      from: alice.userId,
      from_name: "alice",
      text: "hello over the mesh",
      ts: 0,
      verified: true,
    });
    await bob.send("/tell alice hi back");
    assert.equal((await alice.next((e) => e.event === "dm")).text, "hi back");

    await waitUntil(
      async () => {
        await alice.send("/all hello everyone");
        await new Promise((r) => setTimeout(r, 400));
        return bob.events.some((e) => e.event === "public");
      },
      10_000,
      "a public message once keys settle",
    );
    const pub = bob.events.find((e) => e.event === "public")!;
    assert.equal(pub.text, "hello everyone");
    assert.equal(pub.verified, true);

    await alice.send(`/file bob ${files}/photo.jpg`);
    const file = await bob.next((e) => e.event === "file", 30_000);
    assert.equal(file.name, "photo.jpg");
    assert.equal(file.size, payload.length);
    assert.equal(file.verified, true);
    assert.deepEqual(await Deno.readFile(file.path as string), payload);
    assert.ok(alice.events.some((e) => e.event === "progress" && e.sent === payload.length));
    assert.equal(await alice.quit(), 0);
    await bob.next((e) =>
      e.event === "presence" && e.user_id === alice.userId && e.online === false
    );
    assert.equal(await bob.quit(), 0);
  } finally {
    await alice.quit();
    await bob.quit();
    await cluster.close();
  }
});

Deno.test("a DM whose content_sig a server tampered with is shown as unverified, never as trusted", async () => {
  const { cluster, b } = await twoServers(3);
  const bob = await ClientProcess.start(cluster, b, "bob", KEYS.B);
  const evil = new ServerPeer({ id: crypto.randomUUID(), keys: await fixtureKeys(9) });
  try {
    const link = await evil.link(b.url, cluster.client, b.id);
    await waitUntil(
      async () => (await b.health()).links.includes(evil.id),
      5000,
      "the tampering server's link",
    );
    // A user "mallory" hosted by the tampering server, with a real key.
    const mallory: Identity = { id: crypto.randomUUID(), keys: KEYS.A };
    const pubkey = mallory.keys.publicKey.b64;
    link.send(
      await evil.sign("USER_ADVERTISE", "*", {
        user_id: mallory.id,
        server_id: evil.id,
        pubkey,
        meta: { display_name: "mallory", pubkey },
      }),
    );
    await bob.next((e) => e.event === "presence" && e.display_name === "mallory");

    const genuine = await buildMsgDirect(mallory, bob.userId, KEYS.B.publicKey, "the real words");
    // The server swaps in another ciphertext for Bob but keeps mallory's content_sig: it no longer matches.
    const swapped = await buildMsgDirect(
      mallory,
      bob.userId,
      KEYS.B.publicKey,
      "words mallory never signed",
    );
    const tampered = {
      ...genuine,
      payload: { ...genuine.payload, ciphertext: swapped.payload.ciphertext },
    };
    link.send(await buildServerDeliver(evil.identity, tampered, b.id));
    const shown = await bob.next((e) => e.event === "dm");
    assert.equal(shown.verified, false);
    assert.equal(shown.text, null, "tampered content is not shown");
    assert.match(String(shown.warning), /does not verify/);

    // A correctly signed one from the same sender is trusted.
    const fine = await buildMsgDirect(mallory, bob.userId, KEYS.B.publicKey, "signed properly");
    link.send(await buildServerDeliver(evil.identity, fine, b.id));
    const good = await bob.next((e) => e.event === "dm" && e.verified === true);
    assert.equal(good.text, "signed properly");

    // And one whose content_sig was made for another recipient fails too.
    const misdirected = await buildMsgDirect(mallory, bob.userId, KEYS.B.publicKey, "for carol");
    misdirected.payload.content_sig = await dmContentSig(mallory.keys.privateKey, {
      ciphertext: misdirected.payload.ciphertext,
      from: mallory.id,
      to: crypto.randomUUID(),
      ts: misdirected.ts,
    });
    link.send(await buildServerDeliver(evil.identity, misdirected, b.id));
    await waitUntil(
      () => bob.events.filter((e) => e.event === "dm").length === 3,
      10_000,
      "third DM",
    );
    const third = bob.events.filter((e) => e.event === "dm")[2];
    assert.equal(third.verified, false);
    assert.equal(third.text, null);
  } finally {
    await bob.quit();
    await evil.close();
    await cluster.close();
  }
});
