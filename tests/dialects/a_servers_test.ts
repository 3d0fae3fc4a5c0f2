// Dialect A servers in a mesh with socp (issue 12, item 2), against the
// simulators of tests/dialects/a_server.ts and a_introducer.ts: an A server
// joins a socp introducer (its JOIN socket is kept, unread, and never
// closed) and dials the socp servers with SERVER_ANNOUNCE first; a socp
// server joining later dials it so (the WELCOME names it A); a socp server
// joins an A introducer (only with --accept-unverified-welcome). Their
// clients chat across: presence, DMs, the public channel and files both
// ways, also when A's key and ours cross on the wire.

import assert from "node:assert/strict";
import type { ClientEvent } from "../../client/events.ts";
import { Cluster, fixtureKeys, type NodeProcess, resendUntil, waitUntil } from "../_cluster.ts";
import { KEYS } from "../_vectors.ts";
import { DialectAClient } from "./a_client.ts";
import { DialectAIntroducer } from "./a_introducer.ts";
import { DialectAServer } from "./a_server.ts";
import { socpUser } from "./_socp_user.ts";

/** A socp mesh (introducer, s1) with an A server joined through the introducer. */
async function withMesh(
  run: (
    m: { cluster: Cluster; intro: NodeProcess; s1: NodeProcess; a: DialectAServer },
  ) => Promise<void>,
) {
  const { cluster, intro, nodes: [s1] } = await Cluster.mesh(["s1"], 0);
  const tls = {
    cert: await Deno.readTextFile(cluster.certs.cert),
    key: await Deno.readTextFile(cluster.certs.key),
  };
  const a = new DialectAServer(await fixtureKeys(6), tls);
  try {
    await a.join({ host: "127.0.0.1", port: intro.port }, cluster.client);
    await waitUntil(async () => (await s1.health()).links.includes(a.identity.id), 10_000, "A–s1");
    await run({ cluster, intro, s1, a });
  } finally {
    await a.stop();
    await cluster.close();
  }
}

function deeOn(a: DialectAServer, cluster: Cluster) {
  return DialectAClient.connect(a.url, cluster.client, {
    id: "dee",
    keys: KEYS.A,
    password: "dee's passphrase",
  });
}

/** /all both ways between a socp user and an A user. */
async function publicBothWays(sam: Awaited<ReturnType<typeof socpUser>>, dee: DialectAClient) {
  await waitUntil(() => dee.hasGroupKey, 10_000, `${dee.id}'s group key`);
  const tag = crypto.randomUUID().slice(0, 8);
  await resendUntil(
    () => dee.all(`from A ${tag}`),
    () => sam.events.some((e) => e.type === "public" && e.text === `from A ${tag}` && e.verified),
    "Sam reads Dee's /all",
  );
  await resendUntil(
    () => sam.client.sendPublic(`from socp ${tag}`),
    () => dee.received.some((m) => m.kind === "public" && m.text === `from socp ${tag}`),
    "Dee reads Sam's /all",
  );
}

/** Presence, DMs, /all and files both ways between a socp user and an A user. */
async function chatAcross(sam: Awaited<ReturnType<typeof socpUser>>, dee: DialectAClient) {
  const samId = sam.client.identity.id;
  const samSees = (match: (e: ClientEvent) => boolean, what: string) =>
    waitUntil(() => sam.events.some(match), 15_000, what);
  // Presence across: A learns Sam from s1's link sync, socp learns Dee from A's advert.
  await waitUntil(() => dee.keys.get(samId) != null, 15_000, "Dee to see Sam (PEM key)");
  await samSees((e) => e.type === "presence" && e.userId === dee.id && e.online, "Sam sees Dee");
  // DMs both ways: SERVER_DELIVER re-signed for A, and A's own.
  await sam.client.sendDm(dee.id, "across to A");
  await waitUntil(() => dee.received.some((m) => m.text === "across to A"), 10_000, "to Dee");
  await dee.tell(samId, "across to socp");
  await samSees((e) => e.type === "dm" && e.text === "across to socp" && e.verified, "to Sam");
  // The public channel both ways: A's key (made at Dee's join, wrapped to Sam too) or ours;
  // Sam's sender_pub goes as PEM, since A passes it on to Dee as it came.
  await publicBothWays(sam, dee);
  // Files both ways, forwarded unchanged with the user's signature.
  const fromSam = crypto.getRandomValues(new Uint8Array(1800));
  await sam.client.sendFile(dee.id, "sam.bin", fromSam);
  await waitUntil(() => dee.files.length === 1, 15_000, "Dee's file");
  assert.deepEqual(dee.files[0].bytes, fromSam);
  const fromDee = crypto.getRandomValues(new Uint8Array(1300));
  await dee.sendFile(samId, "dee.bin", fromDee);
  await samSees((e) => e.type === "file" && e.name === "dee.bin", "Sam's file");
  assert.equal(dee.readerDeath, undefined);
}

Deno.test("an A server joins a socp introducer; its clients and socp clients chat across the mesh", async () => {
  await withMesh(async ({ cluster, intro, s1, a }) => {
    const sam = await socpUser(cluster, s1, "Sam", 8);
    const dee = await deeOn(a, cluster);
    try {
      await chatAcross(sam, dee);
      // The JOIN socket is still open (closing it makes A re-join in a loop) and A took all.
      await new Promise((r) => setTimeout(r, 1500));
      assert.ok(a.joinSocketOpen, "the introducer kept A's JOIN socket");
      assert.ok((await intro.health()).links.includes(a.identity.id));
      assert.deepEqual(a.dropped, [], "every frame socp sent A verified and parsed");
    } finally {
      await dee.close();
      await sam.client.close();
    }
  });
});

Deno.test("A's key and ours crossing on a slow link still leave one key for everyone", async () => {
  await withMesh(async ({ cluster, s1, a }) => {
    const sam = await socpUser(cluster, s1, "Sam", 8);
    const tom = await socpUser(cluster, s1, "Tom", 9);
    let dee: DialectAClient | undefined;
    let eve: DialectAClient | undefined;
    try {
      const both = [sam.client.identity.id, tom.client.identity.id];
      await waitUntil(() => both.every((id) => a.channelMembers.has(id)), 10_000, "A's members");
      // A makes a key at Dee's join and sends it slowly; meanwhile Tom leaves and s1 makes
      // one, which reaches A (and Dee, who takes the last key) before A's reaches s1.
      a.peerLatencyMs = 1000;
      dee = await deeOn(a, cluster);
      await tom.client.close();
      await waitUntil(() => dee!.hasGroupKey, 10_000, "Dee's first key");
      await new Promise((r) => setTimeout(r, 1500));
      a.peerLatencyMs = 0;
      // s1 adopted A's key last and sent it back as its own state: Dee holds it too.
      await publicBothWays(sam, dee);
      // Another join on A: a new key, in a share without a version from the same creator,
      // is a new state (not the current one's share again).
      eve = await DialectAClient.connect(a.url, cluster.client, {
        id: "eve",
        keys: await fixtureKeys(10),
        password: "eve's passphrase",
      });
      await waitUntil(() => eve!.hasGroupKey, 10_000, "Eve's key");
      await publicBothWays(sam, eve);
      assert.equal(dee.readerDeath, undefined);
    } finally {
      await eve?.close();
      await dee?.close();
      await sam.client.close();
      await tom.client.close();
    }
  });
});

Deno.test("a socp server joining after an A server dials it with SERVER_ANNOUNCE (the WELCOME says A)", async () => {
  await withMesh(async ({ cluster, intro, a }) => {
    const s2 = await cluster.server("s2", [intro]);
    await waitUntil(async () => (await s2.health()).links.includes(a.identity.id), 15_000, "s2–A");
    const tom = await socpUser(cluster, s2, "Tom", 9);
    const dee = await deeOn(a, cluster);
    try {
      await chatAcross(tom, dee);
      assert.deepEqual(a.dropped, []);
    } finally {
      await dee.close();
      await tom.client.close();
    }
  });
});

Deno.test("a socp server joins a dialect A introducer only with --accept-unverified-welcome", async () => {
  const cluster = await Cluster.create(0);
  const tls = {
    cert: await Deno.readTextFile(cluster.certs.cert),
    key: await Deno.readTextFile(cluster.certs.key),
  };
  const aIntro = new DialectAIntroducer(await fixtureKeys(5), tls, 300);
  const a = new DialectAServer(await fixtureKeys(6), tls);
  try {
    await a.join({ host: "127.0.0.1", port: aIntro.port }, cluster.client);
    const entry = [{ host: "127.0.0.1", port: aIntro.port, dialect: "A" as const }];
    // Without the flag: refused, and the log says why.
    const wary = await cluster.server("wary", [], [
      "--introducers",
      await cluster.bootstrapFile("a-intro-wary", entry),
    ]);
    await waitUntil(
      () => wary.lines.some((l) => l.includes("--accept-unverified-welcome")),
      10_000,
      "the refusal in the log",
    );
    assert.deepEqual(aIntro.welcomed, [a.identity.id]);
    // With it: welcomed unverified (no server_pub, a key never published), links to A by
    // SERVER_ANNOUNCE.
    const s1 = await cluster.server("s1", [], [
      "--introducers",
      await cluster.bootstrapFile("a-intro", entry),
      "--accept-unverified-welcome",
    ]);
    await waitUntil(async () => (await s1.health()).links.includes(a.identity.id), 15_000, "s1–A");
    assert.ok(aIntro.welcomed.includes(s1.id), "s1 kept its own id");
    const sam = await socpUser(cluster, s1, "Sam", 8);
    const dee = await deeOn(a, cluster);
    try {
      await chatAcross(sam, dee);
      await waitUntil(() => aIntro.clients.includes(sam.client.identity.id), 10_000, "Sam listed");
      assert.deepEqual(a.dropped, []);
      // A later socp server is told of s1 as if it were A; s1 answers its ANNOUNCE as ours,
      // and the link switches to the profile (heartbeats and all: it outlives the timeout).
      const s3 = await cluster.server("s3", [], [
        "--introducers",
        await cluster.bootstrapFile("a-intro-s3", entry),
        "--accept-unverified-welcome",
      ]);
      const linked = async () => (await s3.health()).links.includes(s1.id);
      await waitUntil(linked, 15_000, "s3–s1");
      await new Promise((r) => setTimeout(r, 3000)); // past --timeout-ms 2000
      assert.ok(await linked(), "the s3–s1 link carries heartbeats");
      const tom = await socpUser(cluster, s3, "Tom", 9);
      try {
        const samId = sam.client.identity.id;
        await waitUntil(
          () => tom.events.some((e) => e.type === "presence" && e.userId === samId && e.online),
          10_000,
          "Tom sees Sam",
        );
        await tom.client.sendDm(samId, "s3 to s1");
        await waitUntil(
          () => sam.events.some((e) => e.type === "dm" && e.text === "s3 to s1" && e.verified),
          10_000,
          "Sam reads Tom",
        );
      } finally {
        await tom.client.close();
      }
    } finally {
      await dee.close();
      await sam.client.close();
    }
  } finally {
    await a.stop();
    await aIntro.stop();
    await cluster.close();
  }
});
