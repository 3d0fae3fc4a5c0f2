// The client SDK against real servers: presence, DMs, public messages,
// files in both modes, name resolution and limits.

import assert from "node:assert/strict";
import { DenoAdapter } from "../../client/deno.ts";
import type { ClientEvent } from "../../client/events.ts";
import { SocpClient } from "../../client/sdk.ts";
import { SocpError } from "../../mod.ts";
import { Cluster, fixtureKeys, type NodeProcess, waitUntil } from "../_cluster.ts";
import { randomBytes } from "../_bytes.ts";
import { KEYS } from "../_vectors.ts";

interface Party {
  client: SocpClient;
  adapter: DenoAdapter;
  events: ClientEvent[];
  downloads: string;
}

async function party(
  cluster: Cluster,
  server: NodeProcess,
  name: string,
  keysIndex: number,
  caps?: string[],
): Promise<Party> {
  const downloads = await Deno.makeTempDir({ dir: cluster.dir });
  const adapter = new DenoAdapter({ caCert: cluster.caCert, downloadsDir: downloads });
  const keys = keysIndex < 0 ? (keysIndex === -1 ? KEYS.A : KEYS.B) : await fixtureKeys(keysIndex);
  const client = new SocpClient({
    url: server.url,
    identity: { id: crypto.randomUUID(), keys },
    displayName: name,
    adapter,
    caps,
  });
  const events: ClientEvent[] = [];
  client.events.on((e) => events.push(e));
  await client.connect();
  return { client, adapter, events, downloads };
}

async function next<T extends ClientEvent["type"]>(
  p: Party,
  type: T,
  match: (e: Extract<ClientEvent, { type: T }>) => boolean = () => true,
  timeoutMs = 15_000,
) {
  let found: Extract<ClientEvent, { type: T }> | undefined;
  await waitUntil(
    () => {
      found = p.events.find((e): e is Extract<ClientEvent, { type: T }> =>
        e.type === type && match(e as Extract<ClientEvent, { type: T }>)
      );
      return found !== undefined;
    },
    timeoutMs,
    `${type} event`,
  );
  return found!;
}

async function setup(firstKey: number) {
  const cluster = await Cluster.create(firstKey);
  const intro = await cluster.introducer("intro");
  const a = await cluster.server("a", [intro]);
  const b = await cluster.server("b", [intro]);
  await cluster.waitForMesh([intro, a, b]);
  return { cluster, a, b };
}

async function teardown(cluster: Cluster, parties: Party[]) {
  for (const p of parties) {
    await p.client.close();
    p.adapter.close();
  }
  await cluster.close();
}

Deno.test("SDK: presence, a verified DM, a public message and /list across two servers", async () => {
  const { cluster, a, b } = await setup(0);
  const alice = await party(cluster, a, "Alice", -1);
  const bob = await party(cluster, b, "Bob", -2);
  try {
    assert.equal((await next(alice, "ready")).serverId, a.id);
    await next(alice, "presence", (e) => e.displayName === "Bob" && e.online);
    const sent = await alice.client.sendDm("bob", "hello Bob — ✓");
    const dm = await next(bob, "dm");
    assert.deepEqual(dm, {
      type: "dm",
      from: alice.client.identity.id,
      fromName: "Alice",
      text: "hello Bob — ✓",
      ts: sent.ts,
      verified: true,
    });

    await waitUntil(
      () => !!alice.client.channel.current() && !!bob.client.channel.current(),
      10_000,
      "channel keys",
    );
    await waitUntil(
      () => alice.client.channel.current()!.version === bob.client.channel.current()!.version,
      10_000,
      "same key",
    );
    await bob.client.sendPublic("hi all");
    const pub = await next(alice, "public");
    assert.equal(pub.text, "hi all");
    assert.equal(pub.verified, true);

    const users = await alice.client.list();
    assert.deepEqual(users.map((u) => u.display_name).sort(), ["Alice", "Bob"]);
    assert.equal(
      users.find((u) => u.display_name === "Bob")!.fingerprint,
      alice.client.directory.get(bob.client.identity.id)!.fingerprint,
    );
  } finally {
    await teardown(cluster, [alice, bob]);
  }
});

Deno.test("SDK: files in fast mode, RSA mode and public mode arrive byte-identical under sanitised names", async () => {
  const { cluster, a, b } = await setup(3);
  const alice = await party(cluster, a, "Alice", -1);
  const bob = await party(cluster, b, "Bob", -2); // advertises file-aesgcm
  const carol = await party(cluster, b, "Carol", 9, []); // RSA mode only
  try {
    await next(alice, "presence", (e) => e.displayName === "Carol");
    const big = randomBytes(200_000);
    const progress: number[] = [];
    await alice.client.sendFile(
      "Bob",
      "../../secret report.pdf",
      big,
      (sent) => progress.push(sent),
    );
    const got = await next(bob, "file");
    assert.equal(got.name, "secret report.pdf");
    assert.equal(got.verified, true);
    assert.deepEqual(await Deno.readFile(got.path), big);
    assert.equal(progress.at(-1), big.length);

    const small = randomBytes(3000); // 7 RSA chunks
    await alice.client.sendFile("carol", "notes.txt", small);
    assert.deepEqual(await Deno.readFile((await next(carol, "file")).path), small);
    // The same name again is saved beside it, never over it.
    await alice.client.sendFile("carol", "notes.txt", small.subarray(0, 10));
    const second = await next(carol, "file", (e) => e.size === 10);
    assert.match(second.path, /notes \(1\)\.txt$/);

    await waitUntil(
      () =>
        [alice, bob, carol].every((p) =>
          p.client.channel.current()?.version === alice.client.channel.current()?.version
        ),
      10_000,
      "keys",
    );
    const shared = randomBytes(40_000);
    await alice.client.sendFile("public", "poster.png", shared);
    for (const p of [bob, carol]) {
      assert.deepEqual(
        await Deno.readFile((await next(p, "file", (e) => e.name === "poster.png")).path),
        shared,
      );
    }
  } finally {
    await teardown(cluster, [alice, bob, carol]);
  }
});

Deno.test("SDK: long DMs, unknown and ambiguous names are refused with clear errors", async () => {
  const { cluster, a, b } = await setup(6);
  const alice = await party(cluster, a, "Alice", -1);
  const twin1 = await party(cluster, b, "Twin", -2);
  const twin2 = await party(cluster, b, "Twin", 9);
  try {
    await waitUntil(() => alice.client.directory.online().length === 2, 10_000, "twins online");
    await assert.rejects(
      alice.client.sendDm("nobody", "x"),
      (e) => e instanceof SocpError && /no online user/.test(e.message),
    );
    await assert.rejects(
      alice.client.sendDm("twin", "x"),
      (e) => e instanceof SocpError && /ambiguous/.test(e.message),
    );
    const prefix = twin2.client.identity.id.slice(0, 8);
    await alice.client.sendDm(prefix, "by prefix");
    assert.equal((await next(twin2, "dm")).text, "by prefix");
    await assert.rejects(
      alice.client.sendDm(prefix, "é".repeat(224)),
      (e) => e instanceof SocpError && /446 bytes/.test(e.message),
    );
  } finally {
    await teardown(cluster, [alice, twin1, twin2]);
  }
});
