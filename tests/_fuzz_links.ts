// The two fuzzing links of tests/_fuzz.ts. Each reconnects whenever the
// server closes it (a malformed frame or 20 bad signatures close a server
// link; CTRL_CLOSE closes either), counting its links, its failed
// reconnects and the ERROR codes it received, because the failure this
// harness reproduces showed as a peer that could no longer get back in.

import { buildSigned, buildUserHello, type Frame, type Identity } from "../mod.ts";
import { waitUntil } from "./_cluster.ts";
import type { NodeProcess } from "./_cluster.ts";
import { FrameSocket } from "./_peer.ts";

const RETRY_MIN_MS = 50;
const RETRY_MAX_MS = 1000;

/** A link that reopens itself after every close until stopped. */
abstract class Relinking {
  /** Successful opens (the first included). */
  links = 0;
  /** Opens that failed (refused upgrade, closed before open, no ACK). */
  failures = 0;
  /** ERROR frames received, by code. */
  readonly errors: Record<string, number> = {};
  protected socket?: FrameSocket;
  #stopped = false;
  #timer?: ReturnType<typeof setTimeout>;
  #opening?: Promise<void>;
  #delay = RETRY_MIN_MS;

  /** Opens the socket and sends what makes it a user or server link. */
  protected abstract open(): Promise<FrameSocket>;

  /** Opens the first link; throws if that fails (the run cannot start). */
  async start(): Promise<void> {
    this.#adopt(await this.open());
  }

  /** Sends a text if the link is open; false if it is down. */
  send(text: string): boolean {
    const s = this.socket?.socket;
    if (!s || s.readyState !== WebSocket.OPEN) return false;
    s.send(text);
    return true;
  }

  /** Stops reconnecting and closes the current link. */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    await this.#opening;
    await this.socket?.close();
  }

  #adopt(socket: FrameSocket): void {
    this.links++;
    this.socket = socket;
    socket.socket.addEventListener("message", (event) => {
      const text = String(event.data);
      if (!text.includes('"ERROR"')) return;
      try {
        const frame = JSON.parse(text) as Frame;
        if (frame.type === "ERROR") {
          const code = String(frame.payload.code);
          this.errors[code] = (this.errors[code] ?? 0) + 1;
        }
      } catch {
        // not JSON: the server never sends that
      }
    });
    socket.socket.addEventListener("close", () => this.#schedule());
  }

  #schedule(): void {
    if (this.#stopped) return;
    this.#timer = setTimeout(() => {
      this.#opening = this.open().then(
        (socket) => {
          this.#delay = RETRY_MIN_MS;
          if (this.#stopped) return socket.close();
          this.#adopt(socket);
        },
        () => {
          this.failures++;
          this.#delay = Math.min(RETRY_MAX_MS, this.#delay * 2);
          this.#schedule();
        },
      );
    }, this.#delay);
  }
}

/** The fuzzing user: a signed-fresh hello on every (re)connect. */
export class FuzzUser extends Relinking {
  readonly identity: Identity;
  readonly #url: string;
  readonly #client: Deno.HttpClient;

  constructor(identity: Identity, url: string, client: Deno.HttpClient) {
    super();
    this.identity = identity;
    this.#url = url;
    this.#client = client;
  }

  protected async open(): Promise<FrameSocket> {
    const socket = await FrameSocket.open(this.#url, this.#client);
    socket.send(await buildUserHello(this.identity, { meta: { display_name: "Fuzz" } }));
    try {
      await socket.next((f) => f.type === "ACK" || f.type === "ERROR", 5000);
      if (socket.frames.some((f) => f.type === "ACK")) return socket;
    } catch {
      // no answer in time
    }
    await socket.close();
    throw new Error("hello refused");
  }
}

/**
 * The fuzzing server peer: SERVER_HELLO_LINK then SERVER_ANNOUNCE on every
 * (re)link, and a HEARTBEAT every 500 ms so that A never closes it for
 * silence (the cluster's link timeout is 2 s) while fuzz frames are dropped.
 */
export class FuzzPeer extends Relinking {
  readonly identity: Identity;
  readonly #node: NodeProcess;
  readonly #client: Deno.HttpClient;
  #frames?: Promise<Record<"hello" | "announce" | "heartbeat", Frame>>;
  #keepalive?: ReturnType<typeof setInterval>;

  constructor(identity: Identity, node: NodeProcess, client: Deno.HttpClient) {
    super();
    this.identity = identity;
    this.#node = node;
    this.#client = client;
  }

  get id(): string {
    return this.identity.id;
  }

  /** Links, then waits until the node lists the peer among its links. */
  override async start(): Promise<void> {
    await super.start();
    await waitUntil(
      async () => (await this.#node.health()).links.includes(this.id),
      10_000,
      "the node to bind the fuzzing peer",
    );
    this.#keepalive = setInterval(async () => {
      const { heartbeat } = await this.#signed();
      this.send(JSON.stringify({ ...heartbeat, ts: Date.now() }));
    }, 500);
  }

  override async stop(): Promise<void> {
    clearInterval(this.#keepalive);
    await super.stop();
  }

  // Signed once: only `ts` changes between links, and it is not signed.
  #signed() {
    const hello = { host: "127.0.0.1", port: 9, pubkey: this.identity.keys.publicKey.b64 };
    this.#frames ??= Promise.all([
      buildSigned(this.identity, "SERVER_HELLO_LINK", this.#node.id, hello),
      buildSigned(this.identity, "SERVER_ANNOUNCE", "*", hello),
      buildSigned(this.identity, "HEARTBEAT", this.#node.id, {}),
    ]).then(([hello, announce, heartbeat]) => ({ hello, announce, heartbeat }));
    return this.#frames;
  }

  protected async open(): Promise<FrameSocket> {
    const { hello, announce } = await this.#signed();
    const socket = await FrameSocket.open(this.#node.url, this.#client);
    socket.send({ ...hello, ts: Date.now() });
    socket.send({ ...announce, ts: Date.now() });
    return socket;
  }
}
