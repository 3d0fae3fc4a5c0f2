import assert from "node:assert/strict";
import { BrowserAdapter, sameOriginSocketUrl } from "../../web/adapter.ts";
import { parseIdentityFile } from "../../web/identity_file.ts";
import { sealIdentity } from "../../client/keystore.ts";
import { fixtureKeys } from "../_cluster.ts";

Deno.test("web adapter: the socket URL follows the page's origin and scheme", () => {
  assert.equal(sameOriginSocketUrl({ protocol: "https:", host: "h:8443" }), "wss://h:8443/ws");
  assert.equal(
    sameOriginSocketUrl({ protocol: "http:", host: "127.0.0.1:9" }),
    "ws://127.0.0.1:9/ws",
  );
});

Deno.test("web adapter: connects to a real listener, and rejects one that is gone", async () => {
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (req) => {
    const { socket, response } = Deno.upgradeWebSocket(req);
    socket.onmessage = (e) => socket.send(`echo ${e.data}`);
    return response;
  });
  const adapter = new BrowserAdapter();
  const url = `ws://127.0.0.1:${server.addr.port}/ws`;
  try {
    const socket = await adapter.connect(url);
    const reply = new Promise((r) => (socket.onmessage = (e) => r(e.data)));
    socket.send("hi");
    assert.equal(await reply, "echo hi");
    const closed = new Promise((r) => (socket.onclose = r));
    socket.close();
    await closed;
  } finally {
    await server.shutdown();
  }
  await assert.rejects(adapter.connect(url), /cannot connect to ws:\/\/127\.0\.0\.1:\d+\/ws/);
  await assert.rejects(adapter.connect("not a url"));
});

Deno.test("web adapter: received files become Blob URLs until the adapter closes", async () => {
  const adapter = new BrowserAdapter();
  const url = await adapter.saveFile("a.txt", new TextEncoder().encode("hello"));
  assert.match(url, /^blob:/);
  assert.equal(await (await fetch(url)).text(), "hello");
  adapter.close();
  await assert.rejects(fetch(url));
});

Deno.test("web identity files: the terminal client's keystore is taken, anything else refused", async () => {
  const sealed = await sealIdentity(
    { id: crypto.randomUUID(), keys: await fixtureKeys(0) },
    "pw",
    "Alice",
    1000,
  );
  assert.deepEqual(parseIdentityFile(JSON.stringify(sealed)), sealed);
  assert.match(parseIdentityFile("{") as string, /not JSON/);
  assert.match(parseIdentityFile("null") as string, /v1 pbkdf2-sha256/);
  assert.match(parseIdentityFile(JSON.stringify({ ...sealed, user_id: "alice" })) as string, /v1/);
  assert.match(parseIdentityFile(JSON.stringify({ ...sealed, iter: "1" })) as string, /v1/);
  assert.match(parseIdentityFile(JSON.stringify({ ...sealed, name: 7 })) as string, /name/);
});
