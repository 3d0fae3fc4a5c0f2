/**
 * The HTTP side of a node: WebSocket upgrades at `/ws` and `/`, `GET
 * /healthz`, 404 elsewhere, and the per-IP connection limits of SOCP.md §11
 * (HTTP 429 when exceeded).
 *
 * @module
 */

import type { Limits } from "../protocol/limits.ts";

/**
 * Open and not-yet-identified connections per remote IP.
 *
 * @example
 * ```ts
 * import { ConnectionLimiter } from "./http.ts";
 * const limiter = new ConnectionLimiter({ connectionsPerIp: 1, pendingConnectionsPerIp: 1 });
 * limiter.admit("10.0.0.1"); // true
 * limiter.opened("10.0.0.1");
 * limiter.admit("10.0.0.1"); // false
 * ```
 */
export class ConnectionLimiter {
  readonly #limits: Pick<Limits, "connectionsPerIp" | "pendingConnectionsPerIp">;
  readonly #byIp = new Map<string, { open: number; pending: number }>();

  constructor(limits: Pick<Limits, "connectionsPerIp" | "pendingConnectionsPerIp">) {
    this.#limits = limits;
  }

  /** Whether one more connection from `ip` is allowed. */
  admit(ip: string): boolean {
    const count = this.#byIp.get(ip);
    return !count ||
      (count.open < this.#limits.connectionsPerIp &&
        count.pending < this.#limits.pendingConnectionsPerIp);
  }

  /** A connection from `ip` opened (and has not sent its first frame). */
  opened(ip: string): void {
    const count = this.#byIp.get(ip) ?? { open: 0, pending: 0 };
    count.open++;
    count.pending++;
    this.#byIp.set(ip, count);
  }

  /** A connection from `ip` identified itself with its first frame. */
  identified(ip: string): void {
    const count = this.#byIp.get(ip);
    if (count && count.pending > 0) count.pending--;
  }

  /** A connection from `ip` closed; `pending` if it never identified itself. */
  closed(ip: string, pending: boolean): void {
    const count = this.#byIp.get(ip);
    if (!count) return;
    count.open--;
    if (pending && count.pending > 0) count.pending--;
    if (count.open <= 0) this.#byIp.delete(ip);
  }
}

/** What the HTTP handler serves. */
export interface HttpEndpoint {
  /** The `/healthz` document. */
  health(): Record<string, unknown>;
  /** The `/metrics` text (Prometheus format). */
  metrics(): string;
  /** Takes an upgraded socket from `remote`. */
  accept(socket: WebSocket, remote: string): void;
}

/**
 * The request handler of a node.
 *
 * @example
 * ```ts
 * import { ConnectionLimiter, httpHandler } from "./http.ts";
 * // Deno.serve(httpHandler(endpoint, limiter, 45));
 * ```
 */
export function httpHandler(
  endpoint: HttpEndpoint,
  limiter: ConnectionLimiter,
  idleTimeoutSec: number,
): (req: Request, info: Deno.ServeHandlerInfo<Deno.NetAddr>) => Response {
  return (req, info) => {
    const path = new URL(req.url).pathname;
    if (path === "/healthz" && req.method === "GET") return Response.json(endpoint.health());
    if (path === "/metrics" && req.method === "GET") {
      return new Response(endpoint.metrics(), {
        headers: { "content-type": "text/plain; version=0.0.4; charset=utf-8" },
      });
    }
    if (path !== "/ws" && path !== "/") return new Response("not found\n", { status: 404 });
    if (req.headers.get("upgrade")?.toLowerCase() !== "websocket") {
      return new Response("SOCP endpoint: connect with a WebSocket\n", {
        status: 426,
        headers: { upgrade: "websocket" },
      });
    }
    const remote = info.remoteAddr.hostname; // read before the upgrade consumes the request
    if (!limiter.admit(remote)) {
      return new Response("too many connections from this address\n", { status: 429 });
    }
    const { socket, response } = Deno.upgradeWebSocket(req, { idleTimeout: idleTimeoutSec });
    endpoint.accept(socket, remote);
    return response;
  };
}
