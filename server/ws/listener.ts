/**
 * {@linkcode serveWs}: an HTTP/1.1 listener that answers each connection's one
 * request with a plain response (then closes) or upgrades it to a
 * {@linkcode WsSocket}. Every stage is bounded: `admit` runs before a byte is
 * read, and the TLS handshake plus the request head must arrive within
 * `headerTimeoutMs` and `maxHeaderBytes`.
 *
 * Connections are accepted with `Deno.listen`; TLS is layered on them by a
 * {@linkcode TlsAcceptor}: `node:tls` ({@linkcode nodeTlsAcceptor}, see
 * `conn.ts` for why not `Deno.listenTls`) or OpenSSL (`openssl_tls.ts`).
 *
 * @module
 */

import { type ByteConn, closeQuietly, nodeTlsAcceptor, type TlsAcceptor } from "./conn.ts";
import {
  acceptKey,
  findHeadEnd,
  type HeadResult,
  MAX_HEAD_BYTES,
  parseRequestHead,
  type RequestHead,
  serializeResponse,
  simpleResponse,
  upgradeResponse,
  validateUpgrade,
} from "./handshake.ts";
import { WsSocket, type WsSocketOptions } from "./socket.ts";

/** A connection slot granted by `admit`; released exactly once when the connection ends. */
export interface Admission {
  release(): void;
}

/** A handler's answer that takes the connection over as a WebSocket. */
export interface WsUpgrade {
  upgrade: (socket: WsSocket) => void;
}

/** What a handler returns: a plain response, or an upgrade. */
export type WsHandlerResult = Response | WsUpgrade;

/** Options of {@linkcode serveWs}. */
export interface ServeWsOptions {
  /** Default `0.0.0.0`. */
  hostname?: string;
  /** 0 picks a free port (see {@linkcode WsServer.addr}). */
  port: number;
  /** PEM texts for the `node` TLS engine; without them (and `tlsAcceptor`) plain TCP. */
  tls?: { cert: string; key: string };
  /** The TLS engine to accept with (wins over `tls`); the caller closes it. */
  tlsAcceptor?: TlsAcceptor;
  /** From TCP accept until the whole request head has arrived, TLS handshake included. Default 10 s. */
  headerTimeoutMs?: number;
  /** Default 16 KiB; a longer head gets 431. */
  maxHeaderBytes?: number;
  maxMessageBytes: number;
  idleTimeoutMs: number;
  /** See {@linkcode WsSocketOptions.lastWords}. */
  lastWords?: WsSocketOptions["lastWords"];
  /** Called at TCP accept, before anything is read; `null` closes the connection at once. */
  admit?: (remote: string) => Admission | null;
  handler: (
    request: Request,
    info: { remote: string; admission: Admission },
  ) => WsHandlerResult | Promise<WsHandlerResult>;
  /** Per-connection failures (TLS, malformed heads, handler errors); keep it cheap. */
  onError?: (remote: string, error: unknown) => void;
}

/** A running listener. */
export interface WsServer {
  /** The bound address (the real port when 0 was asked for). */
  readonly addr: Deno.NetAddr;
  /** Stops accepting and closes connections still reading their request head; upgraded sockets stay open. */
  shutdown(): Promise<void>;
}

const NO_LIMIT: Admission = { release() {} };

/**
 * Starts a listener (bound when this returns; throws if the port is taken).
 *
 * @example
 * ```ts
 * import { serveWs } from "./listener.ts";
 * const server = serveWs({
 *   port: 0, maxMessageBytes: 1 << 20, idleTimeoutMs: 45_000,
 *   handler: (req) => new URL(req.url).pathname === "/ws"
 *     ? { upgrade: (socket) => socket.onmessage = (e) => socket.send(String(e.data)) }
 *     : new Response("not found", { status: 404 }),
 * });
 * await server.shutdown();
 * ```
 */
export function serveWs(options: ServeWsOptions): WsServer {
  const hostname = options.hostname ?? "0.0.0.0";
  const pending = new Set<ByteConn>();
  const secure = options.tlsAcceptor ?? (options.tls ? nodeTlsAcceptor(options.tls) : null);
  const listener = Deno.listen({ hostname, port: options.port });
  let stopped = false;
  const report = (remote: string, error: unknown) => {
    try {
      options.onError?.(remote, error);
    } catch {
      // a logger's failure is not ours to handle
    }
  };
  const context: ConnectionContext = {
    options,
    hostname,
    scheme: secure ? "https" : "http",
    pending,
    report,
  };
  const serve = (conn: Deno.TcpConn) => {
    const remote = conn.remoteAddr.hostname;
    let admission: Admission | null = null;
    try {
      admission = stopped ? null : options.admit ? options.admit(remote) : NO_LIMIT;
    } catch (e) {
      report(remote, e);
    }
    if (!admission) return closeQuietly(conn); // before a single byte is read
    const release = once(() => admission.release());
    try {
      conn.setNoDelay(true);
      const opened = secure ? secure.accept(conn) : null;
      const handshake = opened ? opened.handshake : Promise.resolve();
      serveConnection(remote, opened ?? conn, handshake, admission, release, context)
        .catch((e) => report(remote, e));
    } catch (e) {
      closeQuietly(conn);
      release();
      report(remote, e);
    }
  };
  let wake: (() => void) | null = null;
  let backoff: ReturnType<typeof setTimeout> | undefined;
  const loop = (async () => {
    while (!stopped) {
      let conn: Deno.TcpConn;
      try {
        conn = await listener.accept();
      } catch (e) {
        if (stopped || e instanceof Deno.errors.BadResource) break;
        report("", e);
        // Out of descriptors, typically: retrying at once would spin.
        await new Promise<void>((resolve) => {
          wake = resolve;
          backoff = setTimeout(resolve, 50);
        });
        continue;
      }
      serve(conn);
    }
  })();
  return {
    addr: listener.addr,
    async shutdown() {
      stopped = true;
      closeQuietly(listener);
      clearTimeout(backoff);
      wake?.();
      for (const conn of pending) closeQuietly(conn);
      pending.clear();
      await loop;
    },
  };
}

interface ConnectionContext {
  options: ServeWsOptions;
  hostname: string;
  scheme: string;
  pending: Set<ByteConn>;
  report: (remote: string, error: unknown) => void;
}

/** One connection's life until it is closed or handed over as a WebSocket. */
async function serveConnection(
  remote: string,
  conn: ByteConn,
  handshake: Promise<void>,
  admission: Admission,
  release: () => void,
  context: ConnectionContext,
): Promise<void> {
  const { options, pending } = context;
  const headerTimeoutMs = options.headerTimeoutMs ?? 10_000;
  let upgraded = false;
  let late = false;
  pending.add(conn);
  const deadline = setTimeout(() => {
    late = true;
    closeQuietly(conn);
  }, headerTimeoutMs);
  try {
    await handshake;
    const { result, rest } = await readHead(conn, options.maxHeaderBytes ?? MAX_HEAD_BYTES);
    clearTimeout(deadline);
    pending.delete(conn);
    if (result.state === "incomplete") return; // the peer went away
    if (result.state === "error") {
      return await writeWithin(conn, simpleResponse(result.status, result.reason), headerTimeoutMs);
    }
    const head = result.head;
    const request = toRequest(head, context);
    if (!request) {
      return await writeWithin(conn, simpleResponse(400, "bad request"), headerTimeoutMs);
    }
    let answer: WsHandlerResult;
    try {
      answer = await options.handler(request, { remote, admission });
    } catch (e) {
      context.report(remote, e);
      answer = new Response("internal error\n", { status: 500 });
    }
    if (answer instanceof Response) {
      const bytes = await serializeResponse(answer, { head: head.method === "HEAD" });
      return await writeWithin(conn, bytes, headerTimeoutMs);
    }
    const key = validateUpgrade(head.method, head.headers);
    if (typeof key !== "string") {
      const refusal = simpleResponse(key.status, key.reason, key.headers);
      return await writeWithin(conn, refusal, headerTimeoutMs);
    }
    await writeWithin(conn, upgradeResponse(await acceptKey(key)), headerTimeoutMs);
    const socket = new WsSocket(conn, {
      role: "server",
      maxMessageBytes: options.maxMessageBytes,
      idleTimeoutMs: options.idleTimeoutMs,
      initial: rest,
      lastWords: options.lastWords,
    });
    upgraded = true;
    socket.closed.then(release);
    try {
      answer.upgrade(socket);
    } catch (e) {
      context.report(remote, e);
      socket.close(1011, "internal error");
    }
  } catch (e) {
    // The read that the deadline interrupted says "bad resource"; say what happened.
    throw late ? new Error(`no request head within ${headerTimeoutMs} ms`) : e;
  } finally {
    clearTimeout(deadline);
    pending.delete(conn);
    if (!upgraded) {
      closeQuietly(conn);
      release();
    }
  }
}

/** Reads until the head is complete, too long, or the stream ends; the buffer grows as needed. */
async function readHead(
  conn: ByteConn,
  maxBytes: number,
): Promise<{ result: HeadResult<RequestHead>; rest: Uint8Array }> {
  // Start small: thousands of idle connections may sit here at once.
  let buffer = new Uint8Array(Math.min(2048, maxBytes));
  let length = 0;
  while (true) {
    if (length === buffer.length) {
      const grown = new Uint8Array(Math.min(buffer.length * 2, maxBytes));
      grown.set(buffer);
      buffer = grown;
    }
    const n = await conn.read(buffer.subarray(length));
    if (n === null) return { result: { state: "incomplete" }, rest: new Uint8Array(0) };
    const from = length - 3;
    length += n;
    if (findHeadEnd(buffer.subarray(0, length), from) >= 0 || length >= maxBytes) {
      const result = parseRequestHead(buffer.subarray(0, length), maxBytes);
      const rest = result.state === "complete"
        ? buffer.slice(result.length, length)
        : new Uint8Array(0);
      return { result, rest };
    }
  }
}

/** The `Request` a handler sees, or `null` if the head cannot make one. */
function toRequest(head: RequestHead, context: ConnectionContext): Request | null {
  const host = head.headers.get("host") ?? context.hostname;
  if (!/^[A-Za-z0-9.\-_]*(:\d{1,5})?$|^\[[0-9A-Fa-f:.]+\](:\d{1,5})?$/.test(host)) return null;
  try {
    return new Request(`${context.scheme}://${host || context.hostname}${head.target}`, {
      method: head.method,
      headers: head.headers,
    });
  } catch {
    return null; // e.g. CONNECT or TRACE, which Request refuses
  }
}

/** Writes all of `bytes`, closing the connection if that takes longer than `ms`. */
async function writeWithin(conn: ByteConn, bytes: Uint8Array, ms: number): Promise<void> {
  const timer = setTimeout(() => closeQuietly(conn), ms);
  try {
    for (let at = 0; at < bytes.length;) at += await conn.write(bytes.subarray(at));
  } finally {
    clearTimeout(timer);
  }
}

function once(f: () => void): () => void {
  let done = false;
  return () => {
    if (done) return;
    done = true;
    try {
      f();
    } catch {
      // a release that throws must not take the connection's cleanup with it
    }
  };
}
