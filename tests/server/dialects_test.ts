// Dialect compatibility on real servers (SOCP.md §12): password hellos
// (dialect A), MSG_PRIVATE, wrapped file frames (dialect B), standard error
// codes for non-project clients.

import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { buildSigned, buildUserHello, type FrameOf, type Identity, sha256Hex } from "../../mod.ts";
import { Cluster, fixtureKeys, waitUntil } from "../_cluster.ts";
import { ServerPeer } from "../_peer.ts";
import { TestUser } from "../_user.ts";
import { KEYS } from "../_vectors.ts";

const PASSWORD = "tr0ub4dor&3 — dialect A";

/** A dialect-A style hello: plaintext password, signed by whatever key this run made. */
async function passwordHello(identity: Identity, password: string) {
  return await buildSigned(identity, "USER_HELLO", "server", {
    client: "cli-v1",
    pubkey: identity.keys.publicKey.b64,
    enc_pubkey: identity.keys.publicKey.b64,
    meta: { display_name: "Dee" },
    password,
  });
}

Deno.test("dialect A: password registration, a new key per run, wrong passwords refused, nothing stored in clear", async () => {
  const cluster = await Cluster.create(0);
  try {
    const server = await cluster.server("solo", []);
    const id = crypto.randomUUID();
    const run1 = new TestUser(KEYS.A, "Dee", id);
    assert.equal(
      (await run1.connect(server.url, cluster.client, await passwordHello(run1.identity, PASSWORD)))
        .type,
      "ACK",
    );
    await run1.close();
    await waitUntil(async () => (await server.health()).users.local === 0, 3000, "run 1 to leave");

    // A new run brings a new key: the right password moves the registration to it.
    const run2 = new TestUser(KEYS.B, "Dee", id);
    const wrong = await run2.connect(
      server.url,
      cluster.client,
      await passwordHello(run2.identity, "guess"),
    ) as FrameOf<"ERROR">;
    // A password hello is dialect A: its client knows five codes, a wrong password among them.
    assert.equal(wrong.payload.code, "INVALID_PASSWORD");
    const again = new TestUser(KEYS.B, "Dee", id);
    assert.equal(
      (await again.connect(
        server.url,
        cluster.client,
        await passwordHello(again.identity, PASSWORD),
      )).type,
      "ACK",
    );
    await again.close();

    const db = new DatabaseSync(`${server.dataDir}/socp.sqlite`, { readOnly: true });
    const row = {
      ...db.prepare("SELECT pubkey, pake_password, version FROM users WHERE user_id = ?").get(id),
    };
    db.close();
    assert.equal(row.pubkey, KEYS.B.publicKey.b64, "key replaced");
    assert.equal(row.version, 2, "version bumped on the key change");
    assert.match(String(row.pake_password), /^scrypt\$32768\$8\$1\$/);
    await server.stop();
    const files = await Promise.all(
      ["socp.sqlite", "socp.sqlite-wal"].map((f) =>
        Deno.readTextFile(`${server.dataDir}/${f}`).catch(() => "")
      ),
    );
    for (const text of [...files, ...server.lines]) {
      assert.ok(!text.includes(PASSWORD), "the password is never stored or logged");
    }
  } finally {
    await cluster.close();
  }
});

Deno.test("dialect clients: MSG_PRIVATE is a DM; errors use only codes the client knows", async () => {
  const cluster = await Cluster.create(2);
  try {
    const server = await cluster.server("solo", []);
    const dee = new TestUser(KEYS.A, "Dee");
    await dee.connect(server.url, cluster.client, await passwordHello(dee.identity, PASSWORD));
    const bob = new TestUser(KEYS.B, "Bob");
    await bob.connect(server.url, cluster.client);
    const dm = await dee.dm(bob, "via the alias"); // sent as MSG_DIRECT; resend as MSG_PRIVATE
    await bob.nextDm();
    dee.socket.send({ ...dm, type: "MSG_PRIVATE", ts: dm.ts });
    await new Promise((r) => setTimeout(r, 300));
    // Same frame again: a user link has no seen_ids, so the alias is delivered too.
    assert.equal(bob.socket.ofType("USER_DELIVER").length, 2);
    // A project-only code (BAD_REQUEST) is not sent to a dialect A client (its reader would die)…
    await new Promise((r) => setTimeout(r, 1100));
    let mark = dee.socket.frames.length;
    dee.socket.send(await dee.sign("FILE_END", bob.id, { file_id: crypto.randomUUID() }));
    await new Promise((r) => setTimeout(r, 1000));
    assert.ok(!dee.socket.frames.slice(mark).some((f) => f.type === "ERROR"));
    // …and reaches another third-party client as a standard one (SOCP.md §6.5).
    const tex = new TestUser(await fixtureKeys(7), "Tex");
    await tex.connect(
      server.url,
      cluster.client,
      await buildUserHello(tex.identity, { client: "third-party/0.1" }),
    );
    mark = tex.socket.frames.length;
    tex.socket.send(await tex.sign("FILE_END", bob.id, { file_id: crypto.randomUUID() }));
    const error = await tex.socket.next((f) => f.type === "ERROR", 5000, mark) as FrameOf<"ERROR">;
    assert.equal(error.payload.code, "UNKNOWN_TYPE");
    await tex.close();
    await dee.close();
    await bob.close();
  } finally {
    await cluster.close();
  }
});

Deno.test("dialect B: a FILE frame wrapped in SERVER_DELIVER is unwrapped and delivered", async () => {
  const cluster = await Cluster.create(4);
  try {
    const server = await cluster.server("solo", []);
    const ann = new TestUser(KEYS.A, "Ann");
    await ann.connect(server.url, cluster.client);
    const peer = new ServerPeer({ id: crypto.randomUUID(), keys: await fixtureKeys(9) });
    const link = await peer.link(server.url, cluster.client, server.id);
    await waitUntil(async () => (await server.health()).links.includes(peer.id), 5000, "peer link");
    const sender = { id: crypto.randomUUID(), keys: KEYS.B };
    const inner = await buildSigned(sender, "FILE_START", ann.id, {
      file_id: crypto.randomUUID(),
      name: "wrapped.txt",
      size: 5,
      sha256: await sha256Hex("hello"),
      mode: "dm",
    });
    link.send(await peer.sign("SERVER_DELIVER", server.id, { user_id: ann.id, ...inner }));
    const got = await ann.socket.next((f) => f.type === "FILE_START") as FrameOf<"FILE_START">;
    assert.deepEqual(got, inner, "delivered unwrapped, with the sender's own signature");
    await ann.close();
    await peer.close();
  } finally {
    await cluster.close();
  }
});
