// The socp client on dialect A and B servers (issue 12, items 2 and 3),
// against the server simulators of tests/dialects/, chatting with the
// matching client simulators: presence, /list, DMs and files both ways, and
// the public channel as each dialect runs it.

import assert from "node:assert/strict";
import { parseClientOptions } from "../../client/options.ts";
import { DenoAdapter } from "../../client/deno.ts";
import type { ClientEvent } from "../../client/events.ts";
import { SocpClient } from "../../client/sdk.ts";
import type { ServerDialect } from "../../client/server_dialect.ts";
import { SocpError } from "../../mod.ts";
import { Cluster, fixtureKeys, waitUntil } from "../_cluster.ts";
import { KEYS } from "../_vectors.ts";
import { DialectAClient } from "./a_client.ts";
import { DialectAServer } from "./a_server.ts";
import { DialectBClient } from "./b_client.ts";
import { DialectBServer } from "./b_server.ts";

async function socpClient(
  cluster: Cluster,
  url: string,
  serverDialect: ServerDialect,
  password?: string,
) {
  const downloads = await Deno.makeTempDir({ dir: cluster.dir });
  const client = new SocpClient({
    url,
    identity: { id: crypto.randomUUID(), keys: await fixtureKeys(8) },
    displayName: "Sam",
    // Dialect B speaks plain ws only: allowed, as the CLI's --insecure does.
    adapter: new DenoAdapter({
      caCert: cluster.caCert,
      downloadsDir: downloads,
      insecure: url.startsWith("ws:"),
    }),
    serverDialect,
    password,
    reconnect: false,
  });
  const events: ClientEvent[] = [];
  client.events.on((e) => events.push(e));
  await client.connect();
  const sees = (match: (e: ClientEvent) => boolean, what: string) =>
    waitUntil(() => events.some(match), 15_000, what);
  return { client, events, sees };
}

Deno.test("the socp client on a dialect A server, with --login-password, chats with an A client", async () => {
  const cluster = await Cluster.create(0);
  const tls = {
    cert: await Deno.readTextFile(cluster.certs.cert),
    key: await Deno.readTextFile(cluster.certs.key),
  };
  const server = new DialectAServer(await fixtureKeys(4), tls);
  try {
    const sam = await socpClient(cluster, server.url, "A", "sam's passphrase");
    const samId = sam.client.identity.id;
    const dee = await DialectAClient.connect(server.url, cluster.client, {
      id: "dee",
      keys: KEYS.A,
      password: "dee's passphrase",
    });
    // Presence, and /list as a COMMAND.
    await sam.sees((e) => e.type === "presence" && e.userId === "dee" && e.online, "Sam sees Dee");
    await waitUntil(() => dee.keys.get(samId) != null, 10_000, "Dee has Sam's PEM key");
    const listed = (await sam.client.list()).map((u) => u.user_id);
    assert.deepEqual(listed.sort(), [samId, "dee"].sort());
    // DMs both ways.
    await sam.client.sendDm("dee", "hi Dee, from socp");
    await waitUntil(() => dee.received.some((m) => m.text === "hi Dee, from socp"), 10_000, "DM");
    await dee.tell(samId, "hi Sam, from A");
    await sam.sees((e) => e.type === "dm" && e.text === "hi Sam, from A" && e.verified, "A's DM");
    // The server-made public key; A delivers public messages as USER_DELIVER.
    await waitUntil(
      () => dee.hasGroupKey && sam.client.channel.current() !== undefined,
      10_000,
      "keys",
    );
    await sam.client.sendPublic("socp to the A room");
    await waitUntil(
      () => dee.received.some((m) => m.kind === "public" && m.text === "socp to the A room"),
      10_000,
      "Dee reads Sam's /all",
    );
    await dee.all("A to the A room");
    await sam.sees((e) => e.type === "public" && e.text === "A to the A room", "Sam reads /all");
    // Files both ways.
    const fromSam = crypto.getRandomValues(new Uint8Array(2000));
    await sam.client.sendFile("dee", "sam.bin", fromSam);
    await waitUntil(() => dee.files.length === 1, 15_000, "Dee's file");
    assert.deepEqual(dee.files[0].bytes, fromSam);
    const fromDee = crypto.getRandomValues(new Uint8Array(900));
    await dee.sendFile(samId, "dee.bin", fromDee);
    await sam.sees((e) => e.type === "file" && e.name === "dee.bin", "Sam's file");
    assert.equal(dee.readerDeath, undefined);
    assert.deepEqual(server.dropped, [], "the A server took every frame socp sent");
    await dee.close();
    await sam.client.close();
  } finally {
    await server.stop();
    await cluster.close();
  }
});

Deno.test("the socp client on a dialect B server: no ACK, /list from presence, plaintext public channel", async () => {
  const cluster = await Cluster.create(1);
  const server = new DialectBServer(await fixtureKeys(5));
  try {
    const sam = await socpClient(cluster, server.url, "B");
    const samId = sam.client.identity.id;
    const bex = await DialectBClient.connect(server.url, cluster.client, KEYS.B);
    await sam.sees((e) => e.type === "presence" && e.userId === bex.id && e.online, "Sam sees B");
    await waitUntil(() => bex.online.get(samId) != null, 10_000, "B has Sam's PEM key");
    assert.ok((await sam.client.list()).some((u) => u.user_id === bex.id), "/list from presence");
    await sam.client.sendDm(bex.id, "hi B, from socp");
    await waitUntil(() => bex.dms.some((m) => m.text === "hi B, from socp"), 10_000, "DM to B");
    await bex.tell(samId, "hi Sam, from B");
    await sam.sees((e) => e.type === "dm" && e.text === "hi Sam, from B" && e.verified, "B's DM");
    const fromSam = crypto.getRandomValues(new Uint8Array(700));
    await sam.client.sendFile(bex.id, "sam.bin", fromSam);
    await waitUntil(() => bex.files.length === 1, 15_000, "B's file");
    assert.deepEqual(bex.files[0].bytes, fromSam);
    const fromBex = crypto.getRandomValues(new Uint8Array(500));
    await bex.sendFile(samId, "bex.bin", fromBex);
    await sam.sees((e) => e.type === "file" && e.name === "bex.bin", "Sam's file");
    // B's public channel is plaintext: shown marked as such; socp will not send plaintext.
    await bex.all("B, in the clear");
    await sam.sees(
      (e) =>
        e.type === "public" && e.text === "B, in the clear" && /unencrypted/.test(e.warning ?? ""),
      "B's public message",
    );
    await assert.rejects(sam.client.sendPublic("hello"), SocpError, "unencrypted");
    await bex.close();
    await sam.client.close();
  } finally {
    await server.stop();
    await cluster.close();
  }
});

Deno.test("socp-client flags: --server-dialect A needs a login password, sent only when given", () => {
  const base = ["--server", "wss://h:1/ws", "--user", "Sam"];
  const noPassword = parseClientOptions([...base, "--server-dialect", "A"], {});
  assert.ok(!noPassword.ok && "error" in noPassword && /login-password/.test(noPassword.error));
  const withEnv = parseClientOptions([...base, "--server-dialect", "A"], {
    SOCP_LOGIN_PASSWORD: "pw",
  });
  assert.ok(withEnv.ok && withEnv.options.loginPassword === "pw");
  const ours = parseClientOptions(base, {});
  assert.ok(ours.ok && ours.options.serverDialect === "socp" && !("loginPassword" in ours.options));
  assert.ok(!parseClientOptions([...base, "--server-dialect", "Z"], {}).ok);
});
