// The OpenSSL TLS engine (server/ws/openssl_tls.ts, `--tls-engine`): real
// clients over real TLS on 127.0.0.1, the attacks the node:tls engine is
// tested against, and the choice of engine at start. The whole transport suite
// (ws_socket_test.ts) also runs on this engine in the OpenSSL test run.

import assert from "node:assert/strict";
import { ensureDevCertificates } from "../../certs/mkcert.ts";
import { parseConfig } from "../../server/config.ts";
import { tlsAcceptorFor } from "../../server/tls_engine.ts";
import { dialWs } from "../../server/ws/dial.ts";
import type { TlsByteConn } from "../../server/ws/conn.ts";
import { OpenSslTlsAcceptor } from "../../server/ws/openssl_tls.ts";
import { serverPermissions } from "../../tools/permissions.ts";
import { Cluster } from "../_cluster.ts";
import { serverWithoutFfi } from "../_no_ffi.ts";
import {
  caCert,
  dialOptions,
  echoServer,
  MB,
  nextMessage,
  openDeno,
  openSslAcceptor,
  readToEnd,
  sleep,
  te,
  tls,
  writeAll,
} from "./_ws.ts";

/** A TCP listener whose next connection is handed, raw bytes counted, to `acceptor`. */
function acceptOne(
  acceptor: OpenSslTlsAcceptor,
): { port: number; accepted: Promise<{ conn: TlsByteConn; rawBytes: () => number }> } {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const accepted = listener.accept().then((raw) => {
    listener.close();
    let counted = 0;
    // The engine uses read, write, close and remoteAddr of the TCP conn.
    const counting = {
      read: async (p: Uint8Array) => {
        const n = await raw.read(p);
        counted += n ?? 0;
        return n;
      },
      write: (p: Uint8Array) => raw.write(p),
      close: () => raw.close(),
      remoteAddr: raw.remoteAddr,
    } as unknown as Deno.TcpConn;
    return { conn: acceptor.accept(counting), rawBytes: () => counted };
  });
  return { port: (listener.addr as Deno.NetAddr).port, accepted };
}

Deno.test("openssl engine: Deno's WebSocket client and our dialer exchange 5 MB both ways; connections are freed", async () => {
  const acceptor = openSslAcceptor();
  assert.match(acceptor.version, /^OpenSSL 3/);
  const { server, sockets, url } = echoServer({ tlsAcceptor: acceptor });
  const client = Deno.createHttpClient({ caCerts: [caCert] });
  try {
    const ws = await openDeno(url, client);
    const big = "é".repeat(2.5 * MB);
    ws.send(big);
    assert.equal(await nextMessage(ws), big);
    const ours = await dialWs(url, dialOptions);
    ours.send("from our dialer");
    assert.equal(await nextMessage(ours), "from our dialer");
    sockets[1].send(big);
    assert.equal(await nextMessage(ours), big);
    assert.equal(acceptor.liveConnections, 2);
    const closed = new Promise((resolve) => ws.onclose = resolve);
    ws.close(1000);
    ours.close(1000);
    await Promise.all([closed, ours.closed, sockets[0].closed, sockets[1].closed]);
    await sleep(20);
    assert.equal(acceptor.liveConnections, 0, "every SSL object freed");
  } finally {
    client.close();
    await server.shutdown();
    acceptor.close();
  }
});

Deno.test("attack on the openssl engine: silent and half-finished handshakes are closed at headerTimeoutMs and freed", async () => {
  const acceptor = openSslAcceptor();
  const { server } = echoServer({ tlsAcceptor: acceptor, headerTimeoutMs: 300 });
  try {
    const port = server.addr.port;
    const silent = await Promise.all(
      Array.from({ length: 10 }, () => Deno.connect({ hostname: "127.0.0.1", port })),
    );
    // The first bytes of a ClientHello record, then nothing.
    const half = await Deno.connect({ hostname: "127.0.0.1", port });
    await writeAll(half, new Uint8Array([0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00]));
    const start = performance.now();
    const ends = await Promise.all([...silent, half].map(readToEnd));
    const elapsed = performance.now() - start;
    for (const conn of [...silent, half]) conn.close();
    assert.equal(ends.length, 11);
    assert.ok(elapsed >= 250 && elapsed < 1_500, `closed after ${elapsed} ms`);
    await sleep(20);
    assert.equal(acceptor.liveConnections, 0);
  } finally {
    await server.shutdown();
    acceptor.close();
  }
});

Deno.test("attack on the openssl engine: plain HTTP instead of a ClientHello fails the handshake with OpenSSL's reason", async () => {
  const acceptor = openSslAcceptor();
  try {
    const { port, accepted } = acceptOne(acceptor);
    const peer = await Deno.connect({ hostname: "127.0.0.1", port });
    await writeAll(peer, te.encode("GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
    const { conn } = await accepted;
    await assert.rejects(conn.handshake, /TLS handshake failed: .*(http request|wrong version)/i);
    conn.close();
    conn.close(); // twice is harmless
    await assert.rejects(conn.read(new Uint8Array(10)), /TLS handshake failed/);
    await readToEnd(peer);
    peer.close();
    assert.equal(acceptor.liveConnections, 0);
  } finally {
    acceptor.close();
  }
});

Deno.test("attack on the openssl engine: a peer streaming while nobody reads is not read ahead; the reader then gets every byte", async () => {
  const acceptor = openSslAcceptor();
  try {
    const { port, accepted } = acceptOne(acceptor);
    const peer = await Deno.connectTls({ hostname: "127.0.0.1", port, caCerts: [caCert] });
    const { conn, rawBytes } = await accepted;
    await conn.handshake;
    const total = 16 * MB;
    const piece = new Uint8Array(64 * 1024).fill(7);
    const sending = (async () => {
      for (let sent = 0; sent < total; sent += piece.length) await writeAll(peer, piece);
    })();
    await sleep(400);
    // The handshake's bytes only: the kernel's buffers hold the rest, and the peer's writes block.
    assert.ok(rawBytes() < 16 * 1024, `read ahead ${rawBytes()} bytes`);
    let got = 0;
    const buffer = new Uint8Array(64 * 1024);
    while (got < total) {
      const n = await conn.read(buffer);
      assert.ok(n !== null, `end after ${got} bytes`);
      assert.equal(buffer[n - 1], 7);
      got += n;
    }
    await sending;
    assert.equal(got, total);
    // A read waiting when the connection closes rejects, and so does one after.
    const waiting = conn.read(buffer);
    conn.close();
    await assert.rejects(waiting);
    await assert.rejects(conn.read(buffer), Deno.errors.BadResource);
    await assert.rejects(conn.write(piece), Deno.errors.BadResource);
    peer.close();
    assert.equal(acceptor.liveConnections, 0);
  } finally {
    acceptor.close();
  }
});

Deno.test("openssl engine: a missing certificate or a key of another certificate is refused with the reason", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const other = await ensureDevCertificates(dir, ["127.0.0.1"]);
    const otherKey = await Deno.readTextFile(other.key);
    const junk = OpenSslTlsAcceptor.create({ cert: "not a certificate", key: tls.key });
    assert.ok("error" in junk);
    assert.match(junk.error, /no certificate/);
    const mismatched = OpenSslTlsAcceptor.create({ cert: tls.cert, key: otherKey });
    assert.ok("error" in mismatched);
    assert.match(mismatched.error, /the TLS key was refused: .*key values mismatch/);
    const noKey = OpenSslTlsAcceptor.create({ cert: tls.cert, key: "" });
    assert.ok("error" in noKey);
    assert.match(noKey.error, /no private key/);
    const chosen = tlsAcceptorFor("openssl", { cert: "not a certificate", key: tls.key });
    assert.ok("error" in chosen);
    assert.match(chosen.error, /^--tls-engine openssl: no certificate/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("--tls-engine takes auto, node and openssl; openssl is granted FFI by the launchers", () => {
  const parse = (extra: string[], env: Record<string, string> = {}) =>
    parseConfig("server", ["--insecure-plain", ...extra], env);
  const engineOf = (r: ReturnType<typeof parse>) =>
    r.ok ? r.config.tlsEngine : "error" in r ? r.error : r.help;
  assert.equal(engineOf(parse([])), "auto");
  assert.equal(engineOf(parse(["--tls-engine", "openssl"])), "openssl");
  assert.equal(engineOf(parse([], { SOCP_TLS_ENGINE: "node" })), "node");
  assert.match(String(engineOf(parse(["--tls-engine", "rustls"]))), /auto\|node\|openssl/);
  const openssl = parse(["--tls-engine", "openssl"]);
  const node = parse(["--tls-engine", "node"]);
  assert.ok(openssl.ok && node.ok);
  assert.ok(serverPermissions(openssl.config).includes("--allow-ffi"));
  assert.ok(!serverPermissions(node.config).includes("--allow-ffi"));
});

Deno.test("a server says its TLS engine in /healthz: auto takes OpenSSL only with FFI; openssl without FFI stops at start", async () => {
  const cluster = await Cluster.create(41);
  try {
    const withFfi = await cluster.server("auto-ffi", [], ["--tls-engine", "auto"], ["--allow-ffi"]);
    const node = await cluster.server("node", [], ["--tls-engine", "node"], ["--allow-ffi"]);
    const explicit = await cluster.server("openssl", [], ["--tls-engine", "openssl"], [
      "--allow-ffi",
    ]);
    const engineOf = async (n: typeof node) =>
      ((await n.health()).tls as { engine: string }).engine;
    assert.equal(await engineOf(withFfi), "openssl");
    assert.equal(await engineOf(node), "node");
    assert.equal(await engineOf(explicit), "openssl");
    if (cluster.crypto === "webcrypto") {
      const auto = await cluster.server("auto", [], []);
      assert.equal(await engineOf(auto), "node");
    }
    const out = await serverWithoutFfi(["--tls-engine", "openssl"], {
      cert: cluster.certs.cert,
      key: cluster.certs.key,
    });
    assert.equal(out.code, 1);
    assert.match(out.stderr, /--tls-engine openssl: .*--allow-ffi/);
  } finally {
    await cluster.close();
  }
});
