// Helpers of the WebSocket transport tests: dev certificates, an echo listener, raw clients.

import assert from "node:assert/strict";
import { ensureDevCertificates } from "../../certs/mkcert.ts";
import { encodeFrame, FrameReader, Opcode } from "../../server/ws/frames.ts";
import { findHeadEnd, newKey, upgradeRequest } from "../../server/ws/handshake.ts";
import { serveWs, type ServeWsOptions, type WsServer } from "../../server/ws/listener.ts";
import { OpenSslTlsAcceptor } from "../../server/ws/openssl_tls.ts";
import type { LinkCloseEvent, WsSocket } from "../../server/ws/socket.ts";

const certDir = await Deno.makeTempDir({ prefix: "socp-ws-test-" });
const paths = await ensureDevCertificates(certDir, ["127.0.0.1", "localhost"]);
export const tls = {
  cert: await Deno.readTextFile(paths.cert),
  key: await Deno.readTextFile(paths.key),
};
export const caCert = await Deno.readTextFile(paths.caCert);
await Deno.remove(certDir, { recursive: true });

/** The listener's TLS engine in these tests: OpenSSL in the OpenSSL test run. */
export const TLS_ENGINE: "node" | "openssl" = Deno.env.get("SOCP_TEST_CRYPTO") === "openssl"
  ? "openssl"
  : "node";

/** An OpenSSL TLS engine with the test certificate (the caller closes it). */
export function openSslAcceptor(): OpenSslTlsAcceptor {
  const acceptor = OpenSslTlsAcceptor.create(tls);
  if ("error" in acceptor) throw new Error(acceptor.error);
  return acceptor;
}

export const MB = 1024 * 1024;
export const te = new TextEncoder();
export const td = new TextDecoder();
export const sleep = (ms: number): Promise<void> =>
  new Promise((resolve) => setTimeout(resolve, ms));

/** A listener on 127.0.0.1 (TLS unless `tls: undefined`) whose `/ws` sockets echo text. */
export function echoServer(
  overrides: Partial<ServeWsOptions> = {},
): { server: WsServer; sockets: WsSocket[]; closes: LinkCloseEvent[]; url: string } {
  const sockets: WsSocket[] = [];
  const closes: LinkCloseEvent[] = [];
  const options: ServeWsOptions = {
    hostname: "127.0.0.1",
    port: 0,
    tls,
    maxMessageBytes: 8 * MB,
    idleTimeoutMs: 10_000,
    headerTimeoutMs: 2_000,
    handler: (request) =>
      new URL(request.url).pathname === "/ws"
        ? {
          upgrade(socket) {
            sockets.push(socket);
            socket.onmessage = (e) => socket.send(typeof e.data === "string" ? e.data : "binary");
            socket.onclose = (e) => closes.push(e);
          },
        }
        : new Response("not found\n", { status: 404 }),
    ...overrides,
  };
  // The OpenSSL test run (SOCP_TEST_CRYPTO=openssl) serves TLS with the OpenSSL engine.
  const acceptor = options.tls && !options.tlsAcceptor && TLS_ENGINE === "openssl"
    ? openSslAcceptor()
    : undefined;
  const listening = serveWs({ ...options, tlsAcceptor: options.tlsAcceptor ?? acceptor });
  const server: WsServer = {
    addr: listening.addr,
    shutdown: () => listening.shutdown().finally(() => acceptor?.close()),
  };
  const scheme = "tls" in overrides && !overrides.tls ? "ws" : "wss";
  return { server, sockets, closes, url: `${scheme}://127.0.0.1:${server.addr.port}/ws` };
}

export const dialOptions = {
  caCerts: [caCert],
  timeoutMs: 2_000,
  maxMessageBytes: 8 * MB,
  idleTimeoutMs: 10_000,
};

export function nextMessage(socket: { onmessage: unknown }): Promise<string | Uint8Array> {
  return new Promise((resolve) => {
    (socket as { onmessage: (e: { data: string | Uint8Array }) => void }).onmessage = (e) =>
      resolve(e.data);
  });
}

export function openDeno(url: string, client: Deno.HttpClient): Promise<WebSocket> {
  const ws = new WebSocket(url, { client });
  return new Promise((resolve, reject) => {
    ws.onopen = () => resolve(ws);
    ws.onerror = () => reject(new Error("WebSocket failed"));
  });
}

export async function writeAll(conn: Deno.Conn, bytes: Uint8Array): Promise<void> {
  for (let at = 0; at < bytes.length;) at += await conn.write(bytes.subarray(at));
}

/** Reads until EOF or an error; resolves with what was read and how it ended. */
export async function readToEnd(
  conn: Deno.Conn,
): Promise<{ text: string; ended: "eof" | "error" }> {
  const buffer = new Uint8Array(65536);
  let text = "";
  try {
    while (true) {
      const n = await conn.read(buffer);
      if (n === null) return { text, ended: "eof" };
      text += td.decode(buffer.subarray(0, n));
    }
  } catch {
    return { text, ended: "error" };
  }
}

/** A frame the server sent, and when it arrived. */
export interface SeenFrame {
  type: string;
  code?: number;
  at: number;
}

/** A hand-driven client connection, upgraded, that sends and reads raw frames. */
export interface RawClient {
  conn: Deno.Conn;
  send(
    opcode: typeof Opcode[keyof typeof Opcode],
    payload: Uint8Array,
    fin?: boolean,
  ): Promise<void>;
  /** The server's frames until it closes the connection. */
  frames(): Promise<SeenFrame[]>;
}

/** A hand-driven client: TLS (or TCP) connect and upgrade, then raw frames. */
export async function rawClient(
  port: number,
  secure = true,
  caCerts = [caCert],
): Promise<RawClient> {
  const conn = secure
    ? await Deno.connectTls({ hostname: "127.0.0.1", port, caCerts })
    : await Deno.connect({ hostname: "127.0.0.1", port });
  await writeAll(conn, upgradeRequest(`127.0.0.1:${port}`, "/ws", newKey()));
  const reader = new FrameReader({ role: "client", maxMessageBytes: 8 * MB });
  let head = new Uint8Array(0);
  while (findHeadEnd(head) < 0) {
    const buffer = new Uint8Array(4096);
    const n = await conn.read(buffer);
    if (n === null) throw new Error("closed during upgrade");
    head = new Uint8Array([...head, ...buffer.subarray(0, n)]);
  }
  assert.match(td.decode(head), /^HTTP\/1\.1 101 /);
  reader.push(head.slice(findHeadEnd(head)));
  const mask = new Uint8Array([1, 2, 3, 4]);
  return {
    conn,
    send: (opcode: typeof Opcode[keyof typeof Opcode], payload: Uint8Array, fin = true) =>
      writeAll(conn, encodeFrame(opcode, payload, { fin, mask })),
    /** The server's frames until it closes the connection, each with its arrival time. */
    async frames(): Promise<SeenFrame[]> {
      const out: SeenFrame[] = [];
      const buffer = new Uint8Array(65536);
      while (true) {
        for (let e = reader.next(); e; e = reader.next()) {
          out.push({ type: e.type, code: "code" in e ? e.code : undefined, at: performance.now() });
        }
        let n: number | null = null;
        try {
          n = await conn.read(buffer);
        } catch {
          // reset: the server is gone
        }
        if (n === null) return out;
        reader.push(buffer.subarray(0, n));
      }
    },
  };
}
