import assert from "node:assert/strict";
import { Link } from "../../server/link.ts";

async function pair(): Promise<
  { client: WebSocket; serverSide: Promise<WebSocket>; close: () => Promise<void> }
> {
  let resolveServer!: (ws: WebSocket) => void;
  const serverSide = new Promise<WebSocket>((r) => (resolveServer = r));
  const http = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (req) => {
    const { socket, response } = Deno.upgradeWebSocket(req);
    resolveServer(socket);
    return response;
  });
  const client = new WebSocket(`ws://127.0.0.1:${http.addr.port}/ws`);
  await new Promise((r) => (client.onopen = r));
  return { client, serverSide, close: () => http.shutdown() };
}

Deno.test("Link.close really closes a dialled socket even with a violation code", async () => {
  const { client, serverSide, close } = await pair();
  const server = await serverSide;
  const peerSaw = new Promise<number>((r) => (server.onclose = (e) => r(e.code)));
  const closed = new Promise((r) => (client.onclose = r));
  const link = new Link({ socket: client, remote: "x", dialledByUs: true, now: 0 });
  link.close(1008, "violation"); // not allowed on a client socket: must still close
  await closed;
  assert.equal(await peerSaw, 1000);
  assert.ok(link.closed);
  await close();
});

Deno.test("Link.close keeps the violation code on an accepted socket", async () => {
  const { client, serverSide, close } = await pair();
  const clientSaw = new Promise<number>((r) => (client.onclose = (e) => r(e.code)));
  const link = new Link({ socket: await serverSide, remote: "x", dialledByUs: false, now: 0 });
  link.close(1008, "violation");
  assert.equal(await clientSaw, 1008);
  await close();
});
