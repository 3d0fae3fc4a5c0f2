// Scripted protocol peers for integration tests: a WebSocket that records
// every frame it receives, and a test server identity that links to real
// socp servers and sends whatever a test needs (valid, forged or malformed).

import {
  buildSigned,
  type Frame,
  type FrameOf,
  type Identity,
  type MessageType,
  type PayloadMap,
} from "../mod.ts";

/** A WebSocket client that parses and records incoming frames. */
export class FrameSocket {
  readonly socket: WebSocket;
  /** Parsed frames received, in order. */
  readonly frames: Frame[] = [];
  /** Raw texts received, in order. */
  readonly texts: string[] = [];
  #closed: Promise<CloseEvent>;
  #closeEvent?: CloseEvent;

  private constructor(socket: WebSocket) {
    this.socket = socket;
    this.#closed = new Promise((resolve) => {
      socket.onclose = (event) => {
        this.#closeEvent = event;
        resolve(event);
      };
    });
    socket.onmessage = (event) => {
      const text = String(event.data);
      this.texts.push(text);
      try {
        this.frames.push(JSON.parse(text));
      } catch {
        // not JSON: kept in texts only
      }
    };
  }

  /** Connects and waits for the socket to open. */
  static open(url: string, client?: Deno.HttpClient): Promise<FrameSocket> {
    return new Promise((resolve, reject) => {
      const socket = client ? new WebSocket(url, { client }) : new WebSocket(url);
      const frameSocket = new FrameSocket(socket);
      socket.onopen = () => resolve(frameSocket);
      socket.onerror = () => {};
      frameSocket.#closed.then((e) =>
        reject(new Error(`connection closed before open (${e.code})`))
      );
    });
  }

  /** Sends a frame object or raw text. */
  send(frame: Frame | string | object): void {
    this.socket.send(typeof frame === "string" ? frame : JSON.stringify(frame));
  }

  /** Frames of a type received so far. */
  ofType<T extends MessageType>(type: T): FrameOf<T>[] {
    return this.frames.filter((f) => f.type === type) as FrameOf<T>[];
  }

  /** Waits for a received frame (from index `after` on) matching `match`. */
  async next(match: (f: Frame) => boolean, timeoutMs = 10_000, after = 0): Promise<Frame> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const found = this.frames.slice(after).find(match);
      if (found) return found;
      if (this.#closeEvent) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    const seen = this.frames.slice(after).map((f) =>
      `${f.type}${f.type === "ERROR" ? `(${(f.payload as { code: string }).code})` : ""}`
    );
    throw new Error(
      `no matching frame within ${timeoutMs} ms; received: ${seen.join(", ") || "nothing"}${
        this.#closeEvent ? " (closed)" : ""
      }`,
    );
  }

  /** Waits for an ERROR with `code`, received from index `after` on. */
  nextError(code: string, timeoutMs = 10_000, after = 0): Promise<Frame> {
    return this.next(
      (f) => f.type === "ERROR" && (f.payload as { code: string }).code === code,
      timeoutMs,
      after,
    );
  }

  /** Resolves with the close event once the socket closes (within `timeoutMs`). */
  async closed(timeoutMs = 10_000): Promise<CloseEvent> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`socket still open after ${timeoutMs} ms`)),
        timeoutMs,
      );
    });
    try {
      return await Promise.race([this.#closed, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Whether the socket has closed. */
  get isClosed(): boolean {
    return this.#closeEvent !== undefined;
  }

  /** Closes (if open) and waits for the close to finish. */
  async close(): Promise<void> {
    if (!this.#closeEvent) this.socket.close(1000);
    await this.#closed;
  }
}

/** A test server identity speaking the server protocol to real nodes. */
export class ServerPeer {
  readonly identity: Identity;
  readonly port: number;
  readonly sockets: FrameSocket[] = [];

  constructor(identity: Identity, port = 9) {
    this.identity = identity;
    this.port = port;
  }

  get id(): string {
    return this.identity.id;
  }

  /** A frame signed by this peer. */
  sign<T extends MessageType>(
    type: T,
    to: string,
    payload: PayloadMap[T],
    ts?: number,
  ): Promise<FrameOf<T>> {
    return buildSigned(this.identity, type, to, payload, ts);
  }

  /** The peer's hello payload. */
  hello(): PayloadMap["SERVER_HELLO_LINK"] {
    return { host: "127.0.0.1", port: this.port, pubkey: this.identity.keys.publicKey.b64 };
  }

  /** Opens a server link to `url`: SERVER_HELLO_LINK, then SERVER_ANNOUNCE to "*". */
  async link(url: string, client: Deno.HttpClient, serverId: string): Promise<FrameSocket> {
    const socket = await FrameSocket.open(url, client);
    socket.send(await this.sign("SERVER_HELLO_LINK", serverId, this.hello()));
    socket.send(await this.sign("SERVER_ANNOUNCE", "*", this.hello()));
    this.sockets.push(socket);
    return socket;
  }

  /** Closes every link. */
  async close(): Promise<void> {
    await Promise.all(this.sockets.map((s) => s.close()));
  }
}
