// One WebSocket to the server under test, as the suite sees it: frames in
// arrival order (anything that is not a JSON object is kept as evidence),
// waits with timeouts, and how the connection ended.

import type { Frame } from "../protocol/types.ts";

/** How the suite reaches servers. */
export interface Transport {
  /** PEM of a CA to trust (else the system roots). */
  caCert?: string;
  /** Plain ws:// allowed. */
  insecure: boolean;
}

/** Something the server sent that is not a frame. */
export interface Oddity {
  raw: string;
  why: string;
}

/** One connection. */
export class Conn {
  readonly url: string;
  readonly frames: Frame[] = [];
  readonly oddities: Oddity[] = [];
  closedWith?: { code: number; reason: string };
  readonly #socket: WebSocket;
  readonly #client?: Deno.HttpClient;
  readonly #waiters = new Set<() => void>();
  readonly closed: Promise<void>;

  private constructor(url: string, socket: WebSocket, client?: Deno.HttpClient) {
    this.url = url;
    this.#socket = socket;
    this.#client = client;
    socket.onmessage = (e) => {
      const raw = typeof e.data === "string" ? e.data : "<binary>";
      try {
        const value = JSON.parse(raw);
        if (value && typeof value === "object" && !Array.isArray(value)) {
          this.frames.push(value as Frame);
        } else this.oddities.push({ raw: raw.slice(0, 300), why: "not a JSON object" });
      } catch {
        this.oddities.push({ raw: raw.slice(0, 300), why: "not JSON" });
      }
      this.#wake();
    };
    this.closed = new Promise((resolve) => {
      socket.onclose = (e) => {
        this.closedWith = { code: e.code, reason: e.reason };
        this.#client?.close();
        this.#wake();
        resolve();
      };
    });
  }

  #wake(): void {
    for (const w of this.#waiters) w();
  }

  /** Opens a WebSocket to `url`; rejects with why it could not. */
  static open(url: string, transport: Transport, timeoutMs: number): Promise<Conn> {
    if (url.startsWith("ws:") && !transport.insecure) {
      return Promise.reject(new Error(`${url} is plain ws://: pass --insecure to allow it`));
    }
    const client = transport.caCert
      ? Deno.createHttpClient({ caCerts: [transport.caCert] })
      : undefined;
    return new Promise((resolve, reject) => {
      const socket = client ? new WebSocket(url, { client }) : new WebSocket(url);
      const timer = setTimeout(() => {
        socket.close();
        reject(new Error(`no WebSocket handshake with ${url} within ${timeoutMs} ms`));
      }, timeoutMs);
      socket.onopen = () => {
        clearTimeout(timer);
        resolve(new Conn(url, socket, client));
      };
      socket.onerror = () => {};
      socket.onclose = (e) => {
        clearTimeout(timer);
        client?.close();
        reject(new Error(`cannot open ${url} (close ${e.code}${e.reason ? ` ${e.reason}` : ""})`));
      };
    });
  }

  /** Sends a frame, raw text or bytes; false when the socket is no longer open. */
  send(data: Frame | string | Uint8Array): boolean {
    if (this.#socket.readyState !== WebSocket.OPEN) return false;
    this.#socket.send(
      typeof data === "string" || data instanceof Uint8Array
        ? data as string
        : JSON.stringify(data),
    );
    return true;
  }

  /** Whether the socket is still open. */
  get open(): boolean {
    return this.#socket.readyState === WebSocket.OPEN;
  }

  /**
   * The first frame from index `after` on matching `match`, or undefined
   * after `timeoutMs` (or once the connection closed without one).
   */
  async next(
    match: (f: Frame) => boolean,
    timeoutMs: number,
    after = 0,
  ): Promise<Frame | undefined> {
    const deadline = Date.now() + timeoutMs;
    while (true) {
      const found = this.frames.slice(after).find(match);
      if (found) return found;
      const left = deadline - Date.now();
      if (left <= 0 || this.closedWith) return undefined;
      await new Promise<void>((resolve) => {
        const wake = () => {
          clearTimeout(timer);
          this.#waiters.delete(wake);
          resolve();
        };
        const timer = setTimeout(wake, left);
        this.#waiters.add(wake);
      });
    }
  }

  /** Waits up to `timeoutMs` for the connection to close; whether it did. */
  async closesWithin(timeoutMs: number): Promise<boolean> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<false>((r) => (timer = setTimeout(() => r(false), timeoutMs)));
    const done = await Promise.race([this.closed.then(() => true as const), timeout]);
    clearTimeout(timer);
    return done;
  }

  /** Closes (code 1000) and waits for the close. */
  async close(): Promise<void> {
    if (this.#socket.readyState <= WebSocket.OPEN) this.#socket.close(1000);
    await this.closed;
  }
}
