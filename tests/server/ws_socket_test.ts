// The WebSocket transport over real sockets: interop with Deno's WebSocket client and server,
// the limits that stop hostile peers, backpressure, and plain HTTP answers.

import assert from "node:assert/strict";
import { DialError, dialWs } from "../../server/ws/dial.ts";
import { encodeFrame, FrameReader, Opcode } from "../../server/ws/frames.ts";
import type { LinkSocket, WsSocket } from "../../server/ws/socket.ts";
import {
  caCert,
  dialOptions,
  echoServer,
  MB,
  nextMessage,
  openDeno,
  rawClient,
  readToEnd,
  sleep,
  td,
  te,
  tls,
  writeAll,
} from "./_ws.ts";

// Link must be able to hold either kind of socket.
const _fits: [WebSocket, WsSocket] extends [LinkSocket, LinkSocket] ? true : never = true;

Deno.test("interop: our TLS listener and Deno's WebSocket client exchange text both ways, 5 MB included, and close with codes", async () => {
  const { server, sockets, closes, url } = echoServer();
  const client = Deno.createHttpClient({ caCerts: [caCert] });
  try {
    const ws = await openDeno(url, client);
    ws.send("hello");
    assert.equal(await nextMessage(ws), "hello");
    const big = "é".repeat(2.5 * MB); // 5 MB of UTF-8
    ws.send(big);
    assert.equal(await nextMessage(ws), big);
    sockets[0].send("from the server");
    assert.equal(await nextMessage(ws), "from the server");
    const closed = new Promise<CloseEvent>((resolve) => ws.onclose = resolve);
    ws.close(4000, "bye");
    assert.equal((await closed).code, 4000);
    await sockets[0].closed;
    assert.deepEqual(closes[0], { code: 4000, reason: "bye", wasClean: true });

    const second = await openDeno(url, client);
    const secondClosed = new Promise<CloseEvent>((resolve) => second.onclose = resolve);
    await sleep(10);
    sockets[1].close(4001, "server bye");
    const event = await secondClosed;
    assert.deepEqual([event.code, event.reason, event.wasClean], [4001, "server bye", true]);
    await sockets[1].closed;
  } finally {
    client.close();
    await server.shutdown();
  }
});

Deno.test("interop: our pings keep Deno's client alive past the idle timeout; a silent peer gets a ping, then 1001", async () => {
  const { server, sockets, closes, url } = echoServer({ idleTimeoutMs: 400 });
  const client = Deno.createHttpClient({ caCerts: [caCert] });
  try {
    const ws = await openDeno(url, client);
    await sleep(1_000); // Deno's client answers our pings with pongs
    ws.send("still here");
    assert.equal(await nextMessage(ws), "still here");
    const closed = new Promise((resolve) => ws.onclose = resolve);
    ws.close(1000);
    await closed;
    await sockets[0].closed;

    const raw = await rawClient(server.addr.port);
    const start = performance.now();
    const frames = await raw.frames(); // never answers, so: ping, then close
    raw.conn.close();
    assert.deepEqual(frames.map((f) => [f.type, f.code]), [["ping", undefined], ["close", 1001]]);
    assert.ok(frames[0].at - start >= 150 && frames[0].at - start < 400, "ping at ~200 ms");
    assert.ok(frames[1].at - start >= 350 && frames[1].at - start < 900, "closed at ~400 ms");
    await sockets[1].closed;
    assert.equal(closes[1].code, 1001);
  } finally {
    client.close();
    await server.shutdown();
  }
});

Deno.test("interop: our dialer against our listener, over TCP and TLS: text, binary, 5 MB, close codes", async () => {
  for (const secure of [false, true]) {
    const { server, sockets, closes, url } = echoServer(secure ? {} : { tls: undefined });
    try {
      const socket = await dialWs(url, dialOptions);
      assert.equal(socket.readyState, WebSocket.OPEN);
      socket.send("ping?");
      assert.equal(await nextMessage(socket), "ping?");
      socket.send(new Uint8Array([1, 2, 3]));
      assert.equal(await nextMessage(socket), "binary");
      const big = "x".repeat(5 * MB);
      sockets[0].send(big);
      assert.equal(await nextMessage(socket), big);
      socket.close(4002, "done");
      assert.equal((await socket.closed).code, 4002);
      await sockets[0].closed;
      assert.equal(closes[0].code, 4002);

      // Client-mode sockets send only 1000 or 3000–4999, as browsers do.
      const other = await dialWs(url, dialOptions);
      await sleep(10);
      other.close(1011);
      await other.closed;
      await sockets[1].closed;
      assert.equal(closes[1].code, 1000);
    } finally {
      await server.shutdown();
    }
  }
});

Deno.test("interop: our dialer against Deno.serve + upgradeWebSocket; refusals say refused, timed out, or the status", async () => {
  const serverSockets: WebSocket[] = [];
  const http = Deno.serve({ hostname: "127.0.0.1", port: 0, ...tls, onListen() {} }, (req) => {
    if (new URL(req.url).pathname !== "/ws") return new Response("no", { status: 404 });
    const { socket, response } = Deno.upgradeWebSocket(req);
    serverSockets.push(socket);
    socket.onmessage = (e) => socket.send(e.data);
    return response;
  });
  const base = `wss://127.0.0.1:${http.addr.port}`;
  const silent = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const stalled: Deno.Conn[] = [];
  const accepting = (async () => {
    for await (const conn of silent) stalled.push(conn);
  })();
  try {
    const socket = await dialWs(`${base}/ws`, dialOptions);
    socket.send("hello");
    assert.equal(await nextMessage(socket), "hello");
    const big = "y".repeat(5 * MB);
    socket.send(big);
    assert.equal(await nextMessage(socket), big);
    serverSockets[0].close(4003, "bye");
    assert.deepEqual(await socket.closed, { code: 4003, reason: "bye", wasClean: true });

    const notFound = await dialWs(`${base}/other`, dialOptions).catch((e) => e);
    assert.ok(notFound instanceof DialError);
    assert.deepEqual([notFound.kind, notFound.status], ["status", 404]);
    assert.match(notFound.message, /got HTTP status 404/);

    const free = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    free.close();
    const refused = await dialWs(`ws://127.0.0.1:${free.addr.port}/ws`, dialOptions)
      .catch((e) => e);
    assert.equal(refused.kind, "refused");
    assert.match(refused.message, /refused/);

    for (const scheme of ["ws", "wss"]) {
      const start = performance.now();
      const url = `${scheme}://127.0.0.1:${silent.addr.port}/ws`;
      const timedOut = await dialWs(url, { ...dialOptions, timeoutMs: 300 }).catch((e) => e);
      assert.equal(timedOut.kind, "timeout", scheme);
      assert.match(timedOut.message, /timed out/);
      assert.ok(performance.now() - start < 1_000);
    }
  } finally {
    silent.close();
    await accepting;
    for (const conn of stalled) conn.close();
    await http.shutdown();
  }
});

Deno.test("socket: pings get pongs; a violation, an abrupt close and an unanswered close() each end the socket once", async () => {
  const { server, sockets } = echoServer({ tls: undefined });
  const closeCounts: number[] = [];
  const watch = (socket: WsSocket) => {
    const index = closeCounts.push(0) - 1;
    socket.onclose = () => closeCounts[index]++;
  };
  try {
    const raw = await rawClient(server.addr.port, false);
    await raw.send(Opcode.Ping, te.encode("are you there"));
    await raw.send(Opcode.Text, te.encode("x"), true);
    const reader = new FrameReader({ role: "client", maxMessageBytes: 1024 });
    const buffer = new Uint8Array(1024);
    const seen: string[] = [];
    while (seen.length < 2) {
      reader.push(buffer.subarray(0, (await raw.conn.read(buffer))!));
      for (let e = reader.next(); e; e = reader.next()) {
        seen.push(e.type === "pong" ? `pong ${td.decode(e.data)}` : e.type);
      }
    }
    assert.deepEqual(seen, ["pong are you there", "text"]);
    watch(sockets[0]);
    // An unmasked frame from a client is a protocol error: close frame 1002, then the end.
    await writeAll(raw.conn, encodeFrame(Opcode.Text, te.encode("unmasked")));
    assert.deepEqual((await raw.frames()).map((f) => [f.type, f.code]), [["close", 1002]]);
    raw.conn.close();
    assert.equal((await sockets[0].closed).code, 1002);

    const abrupt = await rawClient(server.addr.port, false);
    await sleep(20);
    watch(sockets[1]);
    abrupt.conn.close(); // no close frame
    assert.deepEqual(await sockets[1].closed, { code: 1006, reason: "", wasClean: false });

    const silent = await rawClient(server.addr.port, false);
    await sleep(20);
    watch(sockets[2]);
    const start = performance.now();
    sockets[2].close(4005, "going");
    const frames = await silent.frames(); // we never answer the close frame
    silent.conn.close();
    assert.deepEqual(frames.map((f) => [f.type, f.code]), [["close", 4005]]);
    const elapsed = performance.now() - start;
    assert.ok(elapsed >= 900 && elapsed < 1_500, `gave up after ${elapsed} ms`);
    assert.deepEqual(await sockets[2].closed, { code: 4005, reason: "going", wasClean: false });
    await sleep(20);
    assert.deepEqual(closeCounts, [1, 1, 1]);
  } finally {
    await server.shutdown();
  }
});

Deno.test("attack: an unfinished fragmented message is closed with 1009 once it passes the limit, not after all was sent", async () => {
  const limit = 1 * MB;
  const { server, sockets, closes } = echoServer({ maxMessageBytes: limit });
  try {
    const raw = await rawClient(server.addr.port);
    let sent = 0;
    let sentAtClose = -1;
    const frames = raw.frames().then((f) => {
      sentAtClose = sent;
      return f;
    });
    const fragment = new Uint8Array(16 * 1024).fill(0x61);
    try {
      await raw.send(Opcode.Text, fragment, false);
      sent += fragment.length;
      // Would go on to 256 MiB without the limit; paced so the server keeps up.
      while (sentAtClose < 0 && sent < 256 * MB) {
        await raw.send(Opcode.Continuation, fragment, false);
        sent += fragment.length;
        if (sent % (128 * 1024) === 0) await sleep(1);
      }
    } catch {
      // the server closed the connection under us
    }
    const received = await frames;
    raw.conn.close();
    assert.deepEqual(received.map((f) => [f.type, f.code]), [["close", 1009]]);
    assert.ok(
      // The limit, plus what the server drops while its close frame goes out.
      sentAtClose > limit && sentAtClose < limit + 1024 * 1024,
      `closed after ${sentAtClose}`,
    );
    await sockets[0].closed;
    assert.equal(closes[0].code, 1009);

    // A header declaring 2^40 bytes is refused before any payload.
    const huge = await rawClient(server.addr.port);
    await writeAll(huge.conn, new Uint8Array([0x82, 0xff, 0, 0, 1, 0, 0, 0, 0, 0, 1, 2, 3, 4]));
    assert.deepEqual((await huge.frames()).map((f) => [f.type, f.code]), [["close", 1009]]);
    huge.conn.close();
  } finally {
    await server.shutdown();
  }
});

Deno.test("attack: connections that send no request (or only part of one) are closed after headerTimeoutMs, and released", async () => {
  for (const secure of [true, false]) {
    let admitted = 0;
    let released = 0;
    const { server } = echoServer({
      tls: secure ? tls : undefined,
      headerTimeoutMs: 300,
      admit: () => {
        admitted++;
        return { release: () => released++ };
      },
    });
    try {
      const start = performance.now();
      const conns = await Promise.all(
        Array.from(
          { length: 20 },
          () => Deno.connect({ hostname: "127.0.0.1", port: server.addr.port }),
        ),
      );
      const partial = secure
        ? await Deno.connectTls({
          hostname: "127.0.0.1",
          port: server.addr.port,
          caCerts: [caCert],
        })
        : await Deno.connect({ hostname: "127.0.0.1", port: server.addr.port });
      await writeAll(partial, te.encode("GET /ws HTTP/1.1\r\nHost: x\r\n"));
      const ends = await Promise.all([...conns, partial].map(readToEnd));
      const elapsed = performance.now() - start;
      for (const conn of [...conns, partial]) conn.close();
      assert.equal(ends.length, 21);
      assert.ok(elapsed >= 280 && elapsed < 1_500, `closed after ${elapsed} ms`);
      await sleep(20);
      assert.deepEqual([admitted, released], [21, 21], secure ? "tls" : "tcp");
    } finally {
      await server.shutdown();
    }
  }
});

Deno.test("attack: a connection refused by admit is closed without being read", async () => {
  let handled = 0;
  const admitted: string[] = [];
  const { server } = echoServer({
    admit: (remote) => {
      admitted.push(remote);
      return null;
    },
    handler: () => {
      handled++;
      return new Response("never");
    },
  });
  try {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port: server.addr.port });
    await writeAll(conn, te.encode("GET / HTTP/1.1\r\nHost: x\r\n\r\n")).catch(() => {});
    const end = await readToEnd(conn);
    conn.close();
    assert.equal(end.text, ""); // no TLS handshake, no HTTP answer: nothing was read
    const client = Deno.createHttpClient({ caCerts: [caCert] });
    await assert.rejects(fetch(`https://127.0.0.1:${server.addr.port}/`, { client }));
    client.close();
    assert.deepEqual(admitted, ["127.0.0.1", "127.0.0.1"]);
    assert.equal(handled, 0);
  } finally {
    await server.shutdown();
  }
});

Deno.test("attack: an over-long request head gets 431, a malformed one 400, plain text to TLS a quiet close; all released", async () => {
  let released = 0;
  const errors: string[] = [];
  const { server } = echoServer({
    maxHeaderBytes: 4096,
    admit: () => ({ release: () => released++ }),
    onError: (remote, error) => errors.push(`${remote} ${error}`),
  });
  try {
    for (
      const [head, status] of [
        [`GET / HTTP/1.1\r\nX: ${"a".repeat(4096 - 21)}\r\n`, 431],
        ["GET / HTTP/1.1\r\n folded\r\n\r\n", 400],
      ] as const
    ) {
      const conn = await Deno.connectTls({
        hostname: "127.0.0.1",
        port: server.addr.port,
        caCerts: [caCert],
      });
      await writeAll(conn, te.encode(head));
      const { text } = await readToEnd(conn);
      conn.close();
      assert.match(text, new RegExp(`^HTTP/1\\.1 ${status} `));
    }
    const plain = await Deno.connect({ hostname: "127.0.0.1", port: server.addr.port });
    const start = performance.now();
    await writeAll(plain, te.encode("GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
    const { text } = await readToEnd(plain);
    plain.close();
    assert.ok(!text.startsWith("HTTP"), "no HTTP answer in the clear");
    assert.ok(performance.now() - start < 1_000, "closed at once, not at the header timeout");
    await sleep(20);
    assert.equal(released, 3);
    assert.equal(errors.length, 1);
    assert.match(errors[0], /^127\.0\.0\.1 /);
  } finally {
    await server.shutdown();
  }
});

Deno.test("backpressure: pause() stops reading, so the peer's writes back up; resume() delivers the rest", async () => {
  for (const secure of [false, true]) {
    let received = 0;
    let serverSocket: WsSocket | undefined;
    const { server, url } = echoServer({
      tls: secure ? tls : undefined,
      maxMessageBytes: MB,
      handler: () => ({
        upgrade(socket) {
          serverSocket = socket;
          socket.pause();
          socket.onmessage = () => received++;
        },
      }),
    });
    try {
      const socket = await dialWs(url, dialOptions);
      const chunk = "z".repeat(512 * 1024);
      for (let i = 0; i < 64; i++) socket.send(chunk); // 32 MiB: more than the kernel buffers
      await sleep(300);
      assert.equal(received, 0);
      assert.ok(socket.bufferedAmount > 4 * MB, `writes blocked (${socket.bufferedAmount} queued)`);
      serverSocket!.resume();
      while (received < 64) await sleep(10);
      assert.equal(socket.bufferedAmount, 0);
      socket.close(1000);
      await socket.closed;
      await serverSocket!.closed;
    } finally {
      await server.shutdown();
    }
  }
});

Deno.test("http: a GET is answered by the handler's Response over TLS; upgraded sockets are released on close", async () => {
  let released = 0;
  const { server, url } = echoServer({
    admit: () => ({ release: () => released++ }),
    handler: (request, info) =>
      new URL(request.url).pathname === "/ws"
        ? { upgrade: (socket) => socket.onmessage = () => socket.close(4004) }
        : new Response(`hello ${info.remote} ${new URL(request.url).search}`, {
          status: 201,
          headers: { "x-test": "yes" },
        }),
  });
  const client = Deno.createHttpClient({ caCerts: [caCert] });
  try {
    const response = await fetch(`https://127.0.0.1:${server.addr.port}/hello?a=1`, { client });
    assert.equal(response.status, 201);
    assert.equal(response.headers.get("x-test"), "yes");
    assert.equal(await response.text(), "hello 127.0.0.1 ?a=1");
    const socket = await dialWs(url, dialOptions);
    socket.send("close me");
    assert.equal((await socket.closed).code, 4004);
    await sleep(20);
    assert.equal(released, 2);
  } finally {
    client.close();
    await server.shutdown();
  }
});

Deno.test("shutdown closes connections still sending their head, well before the header timeout", async () => {
  const { server } = echoServer({ tls: undefined, headerTimeoutMs: 5_000 });
  const conn = await Deno.connect({ hostname: "127.0.0.1", port: server.addr.port });
  await writeAll(conn, te.encode("GET / HTTP/1.1\r\n"));
  await sleep(20);
  const start = performance.now();
  await server.shutdown();
  await readToEnd(conn);
  conn.close();
  assert.ok(performance.now() - start < 1_000);
  await assert.rejects(Deno.connect({ hostname: "127.0.0.1", port: server.addr.port }));
});
