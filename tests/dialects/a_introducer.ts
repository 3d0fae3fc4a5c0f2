// A dialect A introducer, simulated from docs/DIALECT-FACTS.md §A.3 and §A.6
// (our own code): wss at any path; a SERVER_HELLO_JOIN (not verified) gets a
// WELCOME with `assigned_id` (the joiner's `from` unless taken), `servers`
// and `clients`, and no `server_pub`, signed with a key made at this start
// and never published. It keeps each JOIN socket, reads the adverts and
// removes servers write there (that is how it knows `clients`), and sends
// `{"server_type":"INTRODUCER"}` HEARTBEATs.

import type { Identity, KeyPair } from "../../mod.ts";
import { loadPem, type Loose, pyDumps, signedFrame } from "./_wire.ts";

type Json = Record<string, unknown>;

interface Joined {
  socket: WebSocket;
  host: string;
  port: number;
  pubkey: string;
}

/** A simulated dialect A introducer. */
export class DialectAIntroducer {
  readonly identity: Identity;
  readonly port: number;
  /** Server ids it welcomed, in order. */
  readonly welcomed: string[] = [];
  readonly #server: Deno.HttpServer<Deno.NetAddr>;
  readonly #servers = new Map<string, Joined>();
  readonly #clients = new Map<string, Json>();
  readonly #heartbeat: ReturnType<typeof setInterval>;

  /** `keys` stand for the key A makes at every start; `heartbeatMs` defaults to A's 15 s. */
  constructor(keys: KeyPair, tls: { cert: string; key: string }, heartbeatMs = 15_000) {
    this.identity = { id: crypto.randomUUID(), keys };
    this.#server = Deno.serve({
      hostname: "127.0.0.1",
      port: 0,
      onListen: () => {},
      ...tls,
      handler: (req) => {
        const { socket, response } = Deno.upgradeWebSocket(req);
        socket.onmessage = (e) => this.#read(socket, String(e.data)).catch(() => {});
        socket.onclose = () => {
          for (const [id, s] of this.#servers) if (s.socket === socket) this.#servers.delete(id);
        };
        return response;
      },
    });
    this.port = this.#server.addr.port;
    this.#heartbeat = setInterval(() => this.#beat(), heartbeatMs);
  }

  async #read(socket: WebSocket, text: string): Promise<void> {
    let f: Loose;
    try {
      f = JSON.parse(text);
    } catch {
      return;
    }
    const p = f.payload ?? {};
    switch (f.type) {
      case "SERVER_HELLO_JOIN": {
        if (typeof p.host !== "string" || !Number.isInteger(p.port)) return;
        if (typeof p.pubkey !== "string") return;
        const taken = this.#servers.has(f.from) || f.from === this.identity.id;
        const assigned = taken ? crypto.randomUUID() : f.from;
        const servers = [...this.#servers].map(([id, s]) => ({
          server_id: id,
          host: s.host,
          port: s.port,
          pubkey: s.pubkey,
        }));
        this.#servers.set(assigned, {
          socket,
          host: p.host,
          port: p.port as number,
          pubkey: p.pubkey,
        });
        this.welcomed.push(assigned);
        const welcome = await signedFrame(this.identity, "SERVER_WELCOME", assigned, {
          assigned_id: assigned,
          servers,
          clients: [...this.#clients.values()],
        });
        return this.#send(socket, welcome);
      }
      case "USER_ADVERTISE": {
        const server = this.#servers.get(f.from);
        if (!server || typeof p.user_id !== "string" || !loadPem(p.pubkey)) return;
        this.#clients.set(p.user_id, {
          user_id: p.user_id,
          host: server.host,
          port: server.port,
          pubkey: p.pubkey,
          server_id: f.from,
        });
        return;
      }
      case "USER_REMOVE":
        if (this.#clients.get(String(p.user_id))?.server_id === f.from) {
          this.#clients.delete(String(p.user_id));
        }
        return;
    }
  }

  /** Users it would list in a WELCOME now. */
  get clients(): string[] {
    return [...this.#clients.keys()];
  }

  #send(socket: WebSocket, frame: Json): void {
    if (socket.readyState === WebSocket.OPEN) socket.send(pyDumps(frame));
  }

  async #beat(): Promise<void> {
    for (const [id, s] of this.#servers) {
      this.#send(
        s.socket,
        await signedFrame(this.identity, "HEARTBEAT", id, { server_type: "INTRODUCER" }),
      );
    }
  }

  /** Stops listening and closes every socket. */
  async stop(): Promise<void> {
    clearInterval(this.#heartbeat);
    for (const s of this.#servers.values()) s.socket.close();
    await this.#server.shutdown();
  }
}
