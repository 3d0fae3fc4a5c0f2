// The node's sockets: the listener (per-IP admission at TCP accept, header
// timeout, frame-size limit below the parser) and dialling peers. Both are
// server/ws/, where every byte a peer sends is counted.

import type { NodeConfig } from "./config.ts";
import type { NodeContext } from "./context.ts";
import { type ConnectionLimiter, type HttpEndpoint, httpHandler } from "./http.ts";
import type { ServerAddress } from "./state.ts";
import { DialError, dialWs } from "./ws/dial.ts";
import { serveWs, type WsServer } from "./ws/listener.ts";
import type { TlsAcceptor } from "./ws/conn.ts";
import type { LinkSocket } from "./ws/socket.ts";

const DIAL_TIMEOUT_MS = 10_000;

/** Text sent before a transport-level close (server/_transport_errors.ts). */
type LastWords = (code: number) => string | undefined;

/** Starts the node's listener. Refusals and failed handshakes are counted and logged (≤ 1/s). */
export function listen(
  endpoint: HttpEndpoint & { readonly ctx: NodeContext },
  limiter: ConnectionLimiter,
  tls: TlsAcceptor | undefined,
  lastWords: LastWords,
): WsServer {
  const { config, log, metrics } = endpoint.ctx;
  if (!config.insecurePlain && !tls) {
    throw new Error("TLS certificate and key are required (or insecurePlain)");
  }
  const now = () => endpoint.ctx.now();
  let lastFailureLog = -Infinity;
  let lastRefusalLog = -Infinity;
  return serveWs({
    hostname: config.host,
    port: config.port,
    tlsAcceptor: tls,
    headerTimeoutMs: config.limits.headerTimeoutMs,
    maxMessageBytes: config.limits.maxFrameBytes,
    idleTimeoutMs: config.limits.linkTimeoutMs,
    lastWords,
    admit: (remote) => {
      const ticket = limiter.admit(remote);
      if (!ticket) {
        metrics.inc("connections_refused");
        if (now() - lastRefusalLog >= 1000) {
          lastRefusalLog = now();
          const counts = limiter.countOf(remote);
          log.info("connection refused: too many from this address", { remote, ...counts });
        }
      }
      return ticket;
    },
    handler: httpHandler(endpoint),
    onError: (remote, e) => {
      // Failed TLS handshakes and stray requests: worth a debug line, not a flood.
      metrics.inc("connections_failed");
      if (now() - lastFailureLog < 1000) return;
      lastFailureLog = now();
      log.debug("connection failed before it was a link", { remote, error: String(e) });
    },
  });
}

/** Dials a peer's `/ws`, then `/` once if that path is refused with an HTTP status. */
export async function dialPeer(
  config: NodeConfig,
  address: ServerAddress,
  caCerts: string[] | undefined,
  lastWords: LastWords,
): Promise<LinkSocket> {
  const scheme = config.insecurePlain ? "ws" : "wss";
  const host = address.host.includes(":") ? `[${address.host}]` : address.host;
  const options = {
    caCerts,
    timeoutMs: DIAL_TIMEOUT_MS,
    maxMessageBytes: config.limits.maxFrameBytes,
    idleTimeoutMs: config.limits.linkTimeoutMs,
    lastWords,
  };
  try {
    return await dialWs(`${scheme}://${host}:${address.port}/ws`, options);
  } catch (e) {
    if (!(e instanceof DialError) || e.kind !== "status") throw e;
    return await dialWs(`${scheme}://${host}:${address.port}/`, options);
  }
}
