/**
 * The HTTP side of a node: WebSocket upgrades at `/ws` and `/`, the web
 * client (server/web_client.ts), `GET /healthz` and `/metrics`, 404
 * elsewhere, and the per-IP connection limits
 * of SOCP.md §11, applied at TCP accept (a connection over them is closed
 * before anything is read).
 *
 * @module
 */

import type { Limits } from "../protocol/limits.ts";
import type { Admission, WsHandlerResult } from "./ws/listener.ts";
import type { WsSocket } from "./ws/socket.ts";
import { webClientResponse } from "./web_client.ts";

/**
 * One admitted connection's place in the per-IP counts: it is "pending"
 * from TCP accept until its first frame identifies it, and open until it
 * ends. Both calls are idempotent.
 */
export interface ConnectionTicket extends Admission {
  /** The connection's first frame identified it as a user or server link. */
  identified(): void;
}

/**
 * Open and not-yet-identified connections per remote IP, counted from TCP
 * accept (raw connections that never send a request count too).
 *
 * @example
 * ```ts
 * import { ConnectionLimiter } from "./http.ts";
 * const limiter = new ConnectionLimiter({ connectionsPerIp: 2, pendingConnectionsPerIp: 1 });
 * const first = limiter.admit("10.0.0.1")!;
 * limiter.admit("10.0.0.1"); // null: one is already pending
 * first.identified();
 * limiter.admit("10.0.0.1")?.release(); // admitted, then gone
 * ```
 */
export class ConnectionLimiter {
  readonly #limits: Pick<Limits, "connectionsPerIp" | "pendingConnectionsPerIp">;
  readonly #byIp = new Map<string, { open: number; pending: number }>();

  constructor(limits: Pick<Limits, "connectionsPerIp" | "pendingConnectionsPerIp">) {
    this.#limits = limits;
  }

  /** A ticket for one more connection from `ip`, or null when its limits are reached. */
  admit(ip: string): ConnectionTicket | null {
    const count = this.#byIp.get(ip) ?? { open: 0, pending: 0 };
    if (
      count.open >= this.#limits.connectionsPerIp ||
      count.pending >= this.#limits.pendingConnectionsPerIp
    ) return null;
    count.open++;
    count.pending++;
    this.#byIp.set(ip, count);
    let pending = true;
    let open = true;
    return {
      identified: () => {
        if (!pending) return;
        pending = false;
        count.pending--;
      },
      release: () => {
        if (!open) return;
        open = false;
        if (pending) count.pending--;
        pending = false;
        count.open--;
        if (count.open <= 0) this.#byIp.delete(ip);
      },
    };
  }

  /** Connections currently counted for `ip`. */
  countOf(ip: string): { open: number; pending: number } {
    const count = this.#byIp.get(ip);
    return { open: count?.open ?? 0, pending: count?.pending ?? 0 };
  }
}

/** What the HTTP handler serves. */
export interface HttpEndpoint {
  /** The `/healthz` document. */
  health(): Record<string, unknown>;
  /** The `/metrics` text (Prometheus format). */
  metrics(): string;
  /** Whether `GET /` serves the web client (servers do; the introducer does not). */
  readonly servesWebClient: boolean;
  /** Takes an upgraded socket from `remote`, with its connection ticket. */
  accept(socket: WsSocket, remote: string, ticket: ConnectionTicket): void;
}

/**
 * The request handler of a node (for {@linkcode serveWs}): `/healthz`,
 * `/metrics`, WebSocket upgrades at `/ws` and `/`, the web client at `/`
 * and `/assets/` (servers), 426 and 404 otherwise.
 *
 * @example
 * ```ts
 * import { httpHandler } from "./http.ts";
 * // serveWs({ …, handler: httpHandler(endpoint) });
 * ```
 */
export function httpHandler(
  endpoint: HttpEndpoint,
): (req: Request, info: { remote: string; admission: Admission }) => WsHandlerResult {
  return (req, info) => {
    const path = new URL(req.url).pathname;
    if (path === "/healthz" && req.method === "GET") return Response.json(endpoint.health());
    if (path === "/metrics" && req.method === "GET") {
      return new Response(endpoint.metrics(), {
        headers: { "content-type": "text/plain; version=0.0.4; charset=utf-8" },
      });
    }
    const upgrade = req.headers.get("upgrade")?.toLowerCase() === "websocket";
    if (!upgrade && endpoint.servesWebClient) {
      const page = webClientResponse(req, path);
      if (page) return page;
    }
    if (path !== "/ws" && path !== "/") return new Response("not found\n", { status: 404 });
    if (!upgrade) {
      return new Response("SOCP endpoint: connect with a WebSocket\n", {
        status: 426,
        headers: { upgrade: "websocket" },
      });
    }
    const ticket = info.admission as ConnectionTicket;
    return { upgrade: (socket) => endpoint.accept(socket, info.remote, ticket) };
  };
}
