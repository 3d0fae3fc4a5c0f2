/**
 * The byte stream a {@linkcode WsSocket} runs over: a TCP `Deno.Conn`, or
 * {@linkcode TlsConn}, TLS (`node:tls`) layered over a TCP `Deno.Conn`.
 *
 * Why not `Deno.listenTls` / `Deno.connectTls`: they hand the TCP stream to a
 * background handshake task that `close()` does not stop, so a peer that
 * connects and never completes the handshake holds the descriptor forever
 * (and a refused connection still gets its handshake). Why not `node:tls` on a
 * `node:net` socket: Deno's TLS wrap then reads from the kernel without limit
 * while the consumer is paused. Over a `Deno.Conn` we own every raw read: it
 * happens only during the handshake or while the consumer is waiting for
 * plaintext, and `close()` on the TCP conn ends everything at once.
 *
 * @module
 */

import { Duplex } from "node:stream";
import tls from "node:tls";

/** The part of `Deno.Conn` the WebSocket code uses; `Deno.Conn` satisfies it. */
export interface ByteConn {
  /** Reads into `p`; `null` at end of stream. */
  read(p: Uint8Array): Promise<number | null>;
  /**
   * The next bytes in a buffer of the conn's own, where it has one: a reader
   * then holds no buffer of its own while it waits (4 KiB per idle socket).
   */
  readChunk?(): Promise<Uint8Array | null>;
  /** Writes from `p`, resolving with how many bytes were taken. */
  write(p: Uint8Array): Promise<number>;
  /** Closes at once; pending reads and writes reject. */
  close(): void;
  readonly remoteAddr: Deno.Addr;
}

/** A {@linkcode ByteConn} with TLS whose handshake starts at creation. */
export interface TlsByteConn extends ByteConn {
  /** Settles when the handshake completes or fails; never rejects unhandled. */
  readonly handshake: Promise<void>;
}

/** A TLS engine's server side: layers TLS over each accepted TCP conn. */
export interface TlsAcceptor {
  /** `node` (`node:tls`) or `openssl` (libssl through FFI, `openssl_tls.ts`). */
  readonly engine: "node" | "openssl";
  /** The library's version text, for the log and /healthz. */
  readonly version: string;
  accept(raw: Deno.TcpConn): TlsByteConn;
  /** Frees what the engine holds once its connections have closed. */
  close(): void;
}

/** The `node` TLS engine for a PEM certificate chain and key. */
export function nodeTlsAcceptor(pem: { cert: string; key: string }): TlsAcceptor {
  const context = tls.createSecureContext({ cert: pem.cert, key: pem.key });
  return {
    engine: "node",
    version: `node:tls (Deno ${Deno.version.deno})`,
    accept: (raw) => TlsConn.accept(raw, context),
    close() {},
  };
}

/** Raw reads of an idle link wait with 1 KiB (a ping, a short frame). */
export const RAW_MIN = 1024;
/** The largest raw read, for bulk transfers. */
export const RAW_MAX = 64 * 1024;

/**
 * The buffer for the raw read after one that put `n` bytes into `buffer`.
 * Larger (×4, up to 64 KiB) only after a read that filled it: more is then
 * waiting in the kernel and the next read returns at once. Otherwise 1 KiB,
 * because the next read may wait, and a waiting read holds its buffer
 * (measured: a quarter of idle users held 64 KiB from their hello on).
 */
export function nextRawBuffer(buffer: Uint8Array<ArrayBuffer>, n: number): Uint8Array<ArrayBuffer> {
  if (n === buffer.length) {
    return buffer.length < RAW_MAX ? new Uint8Array(Math.min(buffer.length * 4, RAW_MAX)) : buffer;
  }
  return buffer.length > RAW_MIN ? new Uint8Array(RAW_MIN) : buffer;
}

/**
 * Raw bytes pushed into the TLS layer between two takes of the reader: the
 * pump runs ahead of TLS's asynchronous decryption, and unbounded it queued
 * megabytes of a peer's stream before the reader saw the first of them.
 */
const RAW_BUDGET = 256 * 1024;

/**
 * TLS over a TCP `Deno.Conn`, reading raw bytes only on demand. Create it with
 * {@linkcode TlsConn.accept} or {@linkcode TlsConn.connect}, then await
 * {@linkcode TlsConn.handshake}.
 */
export class TlsConn implements TlsByteConn {
  readonly remoteAddr: Deno.NetAddr;
  /** Settles when the handshake completes or fails; never rejects unhandled. */
  readonly handshake: Promise<void>;
  readonly #raw: Deno.TcpConn;
  readonly #duplex: Duplex;
  readonly #tls: tls.TLSSocket;
  #handshaking = true;
  /** A `read` found no plaintext: raw bytes are wanted. */
  #waiting = false;
  #pumping = false;
  /** Raw bytes pushed since the reader last took plaintext (see RAW_BUDGET). */
  #pushed = 0;
  #rest: Uint8Array | null = null;
  #ended = false;
  #closed = false;
  #error: Error | null = null;
  #wake: (() => void) | null = null;

  /** Server side of a TLS connection over an accepted TCP conn. */
  static accept(raw: Deno.TcpConn, context: tls.SecureContext): TlsConn {
    return new TlsConn(raw, "secure", (socket) =>
      new tls.TLSSocket(socket, {
        isServer: true,
        secureContext: context,
        ALPNProtocols: ["http/1.1"],
      }));
  }

  /** Client side over a connected TCP conn; the certificate is checked for `hostname`. */
  static connect(raw: Deno.TcpConn, hostname: string, caCerts?: string[]): TlsConn {
    const isIp = /^[\d.]+$|:/.test(hostname);
    return new TlsConn(raw, "secureConnect", (socket) =>
      tls.connect({
        socket,
        host: hostname,
        ca: caCerts,
        // SNI carries host names only (RFC 6066 §3); the certificate is still checked against IPs.
        servername: isIp ? undefined : hostname,
        ALPNProtocols: ["http/1.1"],
      }));
  }

  private constructor(
    raw: Deno.TcpConn,
    secureEvent: string,
    wrap: (socket: Duplex) => tls.TLSSocket,
  ) {
    this.#raw = raw;
    this.remoteAddr = raw.remoteAddr;
    this.#duplex = new Duplex({
      read() {}, // raw bytes are pushed by #pump, on demand only
      write(chunk: Uint8Array, _encoding, callback) {
        writeAll(raw, chunk).then(() => callback(), callback);
      },
      destroy(error, callback) {
        closeQuietly(raw);
        callback(error);
      },
    });
    this.#tls = wrap(this.#duplex);
    const socket = this.#tls;
    socket.on("readable", () => this.#notify());
    socket.on("end", () => this.#end());
    socket.on("close", () => this.#end());
    socket.on("error", (e: Error) => {
      this.#error ??= e;
      this.#notify();
    });
    this.handshake = new Promise<void>((resolve, reject) => {
      socket.once(secureEvent, () => {
        this.#handshaking = false;
        resolve();
      });
      socket.once("error", reject);
      socket.once("close", () => reject(new Error("connection closed during the TLS handshake")));
    });
    this.handshake.catch(() => {});
    this.#pump();
  }

  #notify(): void {
    const wake = this.#wake;
    this.#wake = null;
    wake?.();
  }

  #end(): void {
    this.#ended = true;
    this.#notify();
  }

  /** Moves raw bytes into the TLS layer while the handshake runs or a reader waits. */
  async #pump(): Promise<void> {
    if (this.#pumping) return;
    this.#pumping = true;
    let buffer = new Uint8Array(RAW_MIN);
    try {
      while ((this.#handshaking || this.#waiting) && !this.#closed && this.#pushed < RAW_BUDGET) {
        const n = await this.#raw.read(buffer);
        if (n === null) {
          this.#duplex.push(null);
          break;
        }
        // The TLS layer keeps what it is given, so hand it a copy and reuse the buffer.
        this.#duplex.push(buffer.slice(0, n));
        this.#pushed += n;
        buffer = nextRawBuffer(buffer, n);
      }
    } catch (e) {
      this.#error ??= e instanceof Error ? e : new Error(String(e));
      this.#duplex.destroy(this.#error);
    } finally {
      this.#pumping = false;
      this.#notify();
    }
  }

  async read(p: Uint8Array): Promise<number | null> {
    const chunk = this.#rest ?? await this.readChunk();
    if (chunk === null) return null;
    const n = Math.min(p.length, chunk.length);
    p.set(n === chunk.length ? chunk : chunk.subarray(0, n));
    this.#rest = n < chunk.length ? chunk.subarray(n) : null;
    return n;
  }

  async readChunk(): Promise<Uint8Array | null> {
    if (this.#rest) {
      const rest = this.#rest;
      this.#rest = null;
      return rest;
    }
    while (true) {
      if (this.#closed) throw new Deno.errors.BadResource("connection closed");
      const chunk: Uint8Array | null = this.#tls.read();
      if (chunk && chunk.length > 0) {
        this.#waiting = false;
        this.#pushed = 0;
        return chunk;
      }
      if (this.#error) throw this.#error;
      if (this.#ended) return null;
      this.#waiting = true;
      this.#pump();
      await new Promise<void>((resolve) => this.#wake = resolve);
    }
  }

  write(p: Uint8Array): Promise<number> {
    if (this.#closed) return Promise.reject(new Deno.errors.BadResource("connection closed"));
    if (this.#error) return Promise.reject(this.#error);
    // The callback comes once the ciphertext was written to the TCP conn, which keeps
    // bufferedAmount honest and makes close-after-write safe.
    return new Promise((resolve, reject) => {
      this.#tls.write(p, (error?: Error | null) => error ? reject(error) : resolve(p.length));
    });
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    closeQuietly(this.#raw);
    this.#tls.destroy();
    this.#notify();
  }
}

async function writeAll(conn: Deno.Conn, bytes: Uint8Array): Promise<void> {
  for (let at = 0; at < bytes.length;) at += await conn.write(bytes.subarray(at));
}

/** Closes `closable`, ignoring that it may be closed already. */
export function closeQuietly(closable: { close(): void }): void {
  try {
    closable.close();
  } catch {
    // already closed
  }
}
