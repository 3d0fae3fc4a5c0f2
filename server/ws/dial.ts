/**
 * {@linkcode dialWs}: opens a client-mode {@linkcode WsSocket} to a `ws:` or
 * `wss:` URL, within a deadline that covers TCP connect, TLS and the upgrade.
 * TLS is layered on a `Deno.connect` conn by {@linkcode TlsConn}, so the
 * deadline can abort a stalled handshake (see `conn.ts`).
 *
 * @module
 */

import { type ByteConn, closeQuietly, TlsConn } from "./conn.ts";
import {
  MAX_HEAD_BYTES,
  newKey,
  parseResponseHead,
  type ResponseHead,
  upgradeRequest,
  validateUpgradeResponse,
} from "./handshake.ts";
import { WsSocket, type WsSocketOptions } from "./socket.ts";

/** Options of {@linkcode dialWs}. */
export interface DialOptions {
  /** PEM CA certificates to trust for `wss:` (default: the built-in roots). */
  caCerts?: string[];
  /** Deadline for connect, TLS and upgrade together. */
  timeoutMs: number;
  maxMessageBytes: number;
  idleTimeoutMs: number;
  /** See {@linkcode WsSocketOptions.lastWords}. */
  lastWords?: WsSocketOptions["lastWords"];
}

/** Why a dial failed. */
export type DialFailure = "refused" | "timeout" | "status" | "handshake";

/** A failed dial; `status` is set when the server answered with another HTTP status than 101. */
export class DialError extends Error {
  readonly kind: DialFailure;
  readonly status?: number;

  constructor(message: string, kind: DialFailure, status?: number) {
    super(message);
    this.name = "DialError";
    this.kind = kind;
    this.status = status;
  }
}

/**
 * Opens a WebSocket; rejects with a {@linkcode DialError} saying whether the
 * connection was refused, timed out, or got HTTP status N.
 *
 * @example
 * ```ts
 * import { DialError, dialWs } from "./dial.ts";
 * const options = { timeoutMs: 5000, maxMessageBytes: 1 << 20, idleTimeoutMs: 45_000 };
 * try {
 *   const socket = await dialWs("wss://127.0.0.1:8443/ws", options);
 *   socket.send("hello");
 * } catch (e) {
 *   if (e instanceof DialError && e.status === 404) { // try another path
 *   }
 * }
 * ```
 */
export async function dialWs(url: string, options: DialOptions): Promise<WsSocket> {
  const target = URL.parse(url);
  if (!target || (target.protocol !== "ws:" && target.protocol !== "wss:")) {
    throw new DialError(`${url}: not a ws: or wss: URL`, "handshake");
  }
  const secure = target.protocol === "wss:";
  const hostname = target.hostname.replace(/^\[(.*)\]$/, "$1");
  const port = target.port ? Number(target.port) : secure ? 443 : 80;
  let conn: ByteConn | null = null;
  let timedOut = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      timedOut = true;
      if (conn) closeQuietly(conn);
      reject(new DialError(`${url}: timed out after ${options.timeoutMs} ms`, "timeout"));
    }, options.timeoutMs);
  });
  deadline.catch(() => {});
  try {
    const attempt = (async () => {
      const tcp = await Deno.connect({ hostname, port });
      // Deno.connect cannot be aborted: if the deadline passed meanwhile, drop the late conn.
      if (timedOut) {
        tcp.close();
        throw new Error("timed out");
      }
      tcp.setNoDelay(true);
      conn = tcp;
      if (secure) {
        const wrapped = TlsConn.connect(tcp, hostname, options.caCerts);
        conn = wrapped;
        await wrapped.handshake;
      }
      if (timedOut || !conn) throw new Error("timed out");
      const key = newKey();
      const request = upgradeRequest(target.host, `${target.pathname}${target.search}`, key);
      for (let at = 0; at < request.length;) at += await conn.write(request.subarray(at));
      const { head, rest } = await readResponseHead(conn);
      if (head.status !== 101) {
        throw new DialError(`${url}: got HTTP status ${head.status}`, "status", head.status);
      }
      const problem = await validateUpgradeResponse(head, key);
      if (problem) throw new DialError(`${url}: upgrade refused: ${problem}`, "handshake");
      if (timedOut) throw new Error("timed out"); // the deadline closed conn meanwhile
      return new WsSocket(conn, {
        role: "client",
        maxMessageBytes: options.maxMessageBytes,
        idleTimeoutMs: options.idleTimeoutMs,
        initial: rest,
        lastWords: options.lastWords,
      });
    })();
    attempt.catch(() => {}); // if the deadline wins, this rejection is expected
    return await Promise.race([attempt, deadline]);
  } catch (e) {
    // Read outside the closure: TypeScript narrows `conn` to null here otherwise.
    const opened = conn as ByteConn | null;
    if (opened) closeQuietly(opened);
    if (timedOut) {
      throw new DialError(`${url}: timed out after ${options.timeoutMs} ms`, "timeout");
    }
    if (e instanceof DialError) throw e;
    if (isRefused(e)) throw new DialError(`${url}: connection refused`, "refused");
    const message = e instanceof Error ? e.message : String(e);
    throw new DialError(`${url}: handshake failed: ${message}`, "handshake");
  } finally {
    clearTimeout(timer);
  }
}

function isRefused(e: unknown): boolean {
  return e instanceof Deno.errors.ConnectionRefused ||
    (e instanceof Error && (e as { code?: string }).code === "ECONNREFUSED");
}

async function readResponseHead(conn: ByteConn): Promise<{ head: ResponseHead; rest: Uint8Array }> {
  let buffer = new Uint8Array(2048);
  let length = 0;
  while (true) {
    if (length === buffer.length) {
      const grown = new Uint8Array(Math.min(buffer.length * 2, MAX_HEAD_BYTES));
      grown.set(buffer);
      buffer = grown;
    }
    const n = await conn.read(buffer.subarray(length));
    if (n === null) throw new Error("connection closed before the response head");
    length += n;
    const result = parseResponseHead(buffer.subarray(0, length));
    if (result.state === "error") throw new Error(result.reason);
    if (result.state === "complete") {
      return { head: result.head, rest: buffer.slice(result.length, length) };
    }
  }
}
