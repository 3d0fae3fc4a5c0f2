/**
 * Server-side TLS on the system's OpenSSL 3 (`libssl.so.3`) through FFI, the
 * `openssl` TLS engine (`--tls-engine`). Same contract as the `node:tls`
 * engine ({@linkcode TlsConn}): raw bytes are read only during the handshake
 * or while a reader waits for plaintext, and `close()` on the TCP conn ends
 * everything at once, a stalled handshake included.
 *
 * Why it exists: an idle connection costs far less. OpenSSL with memory BIOs
 * and `SSL_MODE_RELEASE_BUFFERS` keeps about 16 KB per idle connection over
 * plain TCP, `node:tls` over our transport about 42 KB (three stream objects
 * and their states in the V8 heap, and the TLS wrap's buffers).
 *
 * @module
 */

import { type LibSsl, loadLibSsl, SSL_CONST, SSL_ERROR, sslErrorText } from "./_libssl.ts";
import type { TlsAcceptor, TlsByteConn } from "./conn.ts";
import { closeQuietly, nextRawBuffer, RAW_MAX, RAW_MIN } from "./conn.ts";

/** A memory BIO keeps the capacity of its largest burst; past this it is replaced once empty. */
const BIO_REPLACE_AFTER = 4096;
/**
 * Where SSL_read puts plaintext before it is copied out. Every call is
 * synchronous on the main thread, so one buffer serves all connections.
 */
const PLAINTEXT = new Uint8Array(16 * 1024);

/** An `openssl` TLS engine: one SSL_CTX with the server's certificate and key. */
export class OpenSslTlsAcceptor implements TlsAcceptor {
  readonly engine = "openssl";
  readonly version: string;
  readonly #lib: LibSsl;
  #ctx: Deno.PointerObject | null;
  #live = 0;
  #closing = false;

  /**
   * Loads libssl and the PEM certificate chain and key; an error value says
   * why it cannot (no FFI permission, no OpenSSL 3, a bad certificate or key).
   */
  static create(
    pem: { cert: string; key: string },
    libraryPath?: string,
  ): OpenSslTlsAcceptor | { error: string } {
    const lib = loadLibSsl(libraryPath);
    if ("error" in lib) return lib;
    const ctx = newServerContext(lib, pem);
    if ("error" in ctx) {
      lib.close();
      return ctx;
    }
    return new OpenSslTlsAcceptor(lib, ctx.ctx);
  }

  private constructor(lib: LibSsl, ctx: Deno.PointerObject) {
    this.#lib = lib;
    this.#ctx = ctx;
    this.version = lib.version;
  }

  /** Connections accepted and not yet closed. */
  get liveConnections(): number {
    return this.#live;
  }

  accept(raw: Deno.TcpConn): TlsByteConn {
    if (!this.#ctx || this.#closing) throw new Deno.errors.BadResource("TLS engine closed");
    const conn = new OpenSslTlsConn(this.#lib, this.#ctx, raw, () => {
      this.#live--;
      this.#freeWhenUnused();
    });
    this.#live++;
    return conn;
  }

  /** Frees the context and the library once the last connection has closed. */
  close(): void {
    this.#closing = true;
    this.#freeWhenUnused();
  }

  #freeWhenUnused(): void {
    if (!this.#closing || this.#live > 0 || !this.#ctx) return;
    this.#lib.symbols.SSL_CTX_free(this.#ctx);
    this.#ctx = null;
    this.#lib.close();
  }
}

/** SSL_CTX for TLS ≥ 1.2 with the certificate chain and key of `pem`. */
function newServerContext(
  lib: LibSsl,
  pem: { cert: string; key: string },
): { ctx: Deno.PointerObject } | { error: string } {
  const s = lib.symbols;
  s.ERR_clear_error();
  const ctx = s.SSL_CTX_new(s.TLS_server_method());
  if (!ctx) return { error: sslErrorText(s, "SSL_CTX_new failed") };
  const fail = (what: string) => {
    const error = sslErrorText(s, what);
    s.SSL_CTX_free(ctx);
    return { error };
  };
  s.SSL_CTX_ctrl(ctx, SSL_CONST.CTRL_SET_MIN_PROTO_VERSION, SSL_CONST.TLS1_2_VERSION, null);
  s.SSL_CTX_ctrl(ctx, SSL_CONST.CTRL_MODE, SSL_CONST.MODE_RELEASE_BUFFERS, null);
  // Client-initiated renegotiation costs the server a handshake per request: refused.
  s.SSL_CTX_set_options(ctx, SSL_CONST.OP_NO_RENEGOTIATION | SSL_CONST.OP_NO_COMPRESSION);
  // No session tickets: links are long-lived, and tickets are bytes sent and state kept.
  s.SSL_CTX_set_num_tickets(ctx, 0n);
  const certs = readPem(lib, new TextEncoder().encode(pem.cert), s.PEM_read_bio_X509);
  if (certs.length === 0) return fail("no certificate in the TLS certificate file");
  const [leaf, ...chain] = certs;
  const used = s.SSL_CTX_use_certificate(ctx, leaf);
  s.X509_free(leaf);
  if (used !== 1) {
    chain.forEach((cert) => s.X509_free(cert));
    return fail("the TLS certificate was refused");
  }
  // The context takes ownership of each extra chain certificate.
  for (const cert of chain) s.SSL_CTX_ctrl(ctx, SSL_CONST.CTRL_EXTRA_CHAIN_CERT, 0n, cert);
  const keyBytes = new TextEncoder().encode(pem.key);
  const [key] = readPem(lib, keyBytes, s.PEM_read_bio_PrivateKey);
  keyBytes.fill(0);
  if (!key) return fail("no private key in the TLS key file");
  const keyed = s.SSL_CTX_use_PrivateKey(ctx, key);
  s.EVP_PKEY_free(key);
  if (keyed !== 1) return fail("the TLS key was refused");
  if (s.SSL_CTX_check_private_key(ctx) !== 1) {
    return fail("the TLS key does not match the certificate");
  }
  return { ctx };
}

/** Every PEM object `read` finds in `bytes`, in order. */
function readPem(
  lib: LibSsl,
  bytes: Uint8Array,
  read: (bio: Deno.PointerValue, a: null, b: null, c: null) => Deno.PointerValue,
): Deno.PointerObject[] {
  const s = lib.symbols;
  const bio = s.BIO_new_mem_buf(bytes, bytes.length);
  if (!bio) return [];
  const found: Deno.PointerObject[] = [];
  for (let item = read(bio, null, null, null); item; item = read(bio, null, null, null)) {
    found.push(item);
  }
  s.BIO_free(bio);
  s.ERR_clear_error(); // the read that ended the loop queued "no start line"
  return found;
}

/** One server-side TLS connection over an accepted TCP conn. */
class OpenSslTlsConn implements TlsByteConn {
  readonly remoteAddr: Deno.NetAddr;
  readonly handshake: Promise<void>;
  readonly #s: LibSsl["symbols"];
  readonly #raw: Deno.TcpConn;
  readonly #onClosed: () => void;
  #ssl: Deno.PointerObject | null;
  #rbio: Deno.PointerValue;
  #wbio: Deno.PointerValue;
  #rawBuffer = new Uint8Array(RAW_MIN);
  #fed = 0;
  #sent = 0;
  #ended = false;
  /** Ciphertext goes out in order: each flush waits for the one before. */
  #outbox: Promise<void> = Promise.resolve();

  constructor(lib: LibSsl, ctx: Deno.PointerObject, raw: Deno.TcpConn, onClosed: () => void) {
    const s = lib.symbols;
    this.#s = s;
    this.#raw = raw;
    this.remoteAddr = raw.remoteAddr;
    this.#onClosed = onClosed;
    s.ERR_clear_error();
    const ssl = s.SSL_new(ctx);
    if (!ssl) throw new Error(sslErrorText(s, "SSL_new failed"));
    this.#ssl = ssl;
    this.#rbio = s.BIO_new(s.BIO_s_mem());
    this.#wbio = s.BIO_new(s.BIO_s_mem());
    s.SSL_set_bio(ssl, this.#rbio, this.#wbio); // the SSL owns both from here
    s.SSL_set_accept_state(ssl);
    this.handshake = this.#runHandshake();
    this.handshake.catch(() => {});
  }

  /** The SSL object, or a BadResource error once closed (never a freed pointer). */
  #live(): Deno.PointerObject {
    if (!this.#ssl) throw new Deno.errors.BadResource("connection closed");
    return this.#ssl;
  }

  async #runHandshake(): Promise<void> {
    while (true) {
      const ssl = this.#live();
      this.#s.ERR_clear_error();
      const result = this.#s.SSL_do_handshake(ssl);
      const error = result === 1 ? SSL_ERROR.NONE : this.#s.SSL_get_error(ssl, result);
      await this.#flush(); // what the handshake wrote, an alert included
      if (result === 1) return;
      if (error !== SSL_ERROR.WANT_READ) throw this.#failure("TLS handshake failed", error);
      if (!await this.#feed()) throw new Error("connection closed during the TLS handshake");
    }
  }

  /** Reads once from TCP into the SSL's input; false at end of stream. */
  async #feed(): Promise<boolean> {
    const buffer = this.#rawBuffer;
    const n = await this.#raw.read(buffer);
    if (n === null) return false;
    this.#live();
    this.#s.BIO_write(this.#rbio, buffer, n);
    this.#fed += n;
    this.#rawBuffer = nextRawBuffer(buffer, n);
    return true;
  }

  #failure(what: string, error: number): Error {
    if (error === SSL_ERROR.SYSCALL) return new Error(`${what}: unexpected end of stream`);
    return new Error(sslErrorText(this.#s, what));
  }

  async read(p: Uint8Array): Promise<number | null> {
    const chunk = await this.readChunk(p.length);
    if (chunk === null) return null;
    p.set(chunk);
    return chunk.length;
  }

  /** The next plaintext, at most `max` bytes (one TLS record at most). */
  async readChunk(max = PLAINTEXT.length): Promise<Uint8Array | null> {
    await this.handshake;
    const room = PLAINTEXT.subarray(0, Math.max(1, Math.min(max, PLAINTEXT.length)));
    while (true) {
      const ssl = this.#live();
      this.#s.ERR_clear_error();
      const n = this.#s.SSL_read(ssl, room, room.length);
      if (n > 0) {
        const chunk = room.slice(0, n);
        this.#replaceInputWhenEmpty(ssl);
        return chunk;
      }
      const error = this.#s.SSL_get_error(ssl, n);
      if (error === SSL_ERROR.ZERO_RETURN) return null; // close_notify
      if (error !== SSL_ERROR.WANT_READ) throw this.#failure("TLS read failed", error);
      // Reading can queue records of our own (a key update's answer): send them.
      if (this.#pendingOutput() > 0) this.#flush().catch(() => {});
      if (this.#ended) return null;
      if (!await this.#feed()) {
        this.#ended = true;
        return null;
      }
    }
  }

  async write(p: Uint8Array): Promise<number> {
    await this.handshake;
    const ssl = this.#live();
    for (let at = 0; at < p.length;) {
      this.#s.ERR_clear_error();
      const n = this.#s.SSL_write(ssl, p.subarray(at), Math.min(p.length - at, 1 << 30));
      if (n <= 0) throw this.#failure("TLS write failed", this.#s.SSL_get_error(ssl, n));
      at += n;
    }
    // Resolves once the ciphertext was written to the TCP conn (bufferedAmount stays honest).
    await this.#flush();
    return p.length;
  }

  /** Writes all pending ciphertext to TCP, after any flush already under way. */
  #flush(): Promise<void> {
    const done = this.#outbox.then(() => this.#drain());
    this.#outbox = done.catch(() => {});
    return done;
  }

  async #drain(): Promise<void> {
    while (true) {
      this.#live();
      const pending = this.#pendingOutput();
      if (pending <= 0) break;
      const out = new Uint8Array(Math.min(pending, RAW_MAX));
      const n = this.#s.BIO_read(this.#wbio, out, out.length);
      if (n <= 0) break;
      this.#sent += n;
      for (let at = 0; at < n;) at += await this.#raw.write(out.subarray(at, n));
    }
    if (this.#sent > BIO_REPLACE_AFTER) {
      this.#sent = 0;
      this.#wbio = this.#s.BIO_new(this.#s.BIO_s_mem());
      this.#s.SSL_set0_wbio(this.#live(), this.#wbio); // frees the old, empty one
    }
  }

  #pendingOutput(): number {
    return Number(this.#s.BIO_ctrl(this.#wbio, SSL_CONST.BIO_CTRL_PENDING, 0n, null));
  }

  /** A fresh input BIO once the old one has grown and holds nothing unread. */
  #replaceInputWhenEmpty(ssl: Deno.PointerObject): void {
    if (this.#fed <= BIO_REPLACE_AFTER) return;
    if (Number(this.#s.BIO_ctrl(this.#rbio, SSL_CONST.BIO_CTRL_PENDING, 0n, null)) > 0) return;
    this.#fed = 0;
    this.#rbio = this.#s.BIO_new(this.#s.BIO_s_mem());
    this.#s.SSL_set0_rbio(ssl, this.#rbio);
  }

  close(): void {
    const ssl = this.#ssl;
    if (!ssl) return;
    this.#ssl = null;
    closeQuietly(this.#raw);
    this.#s.SSL_free(ssl); // and both BIOs
    this.#onClosed();
  }
}
