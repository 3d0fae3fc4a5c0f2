/**
 * The dev network's door for browsers: plain http on 127.0.0.1 serving the
 * web client, and `/ws` relayed to the server's TLS endpoint. Browsers
 * treat http://127.0.0.1 as a secure context (WebCrypto works) but do not
 * trust the dev CA, so this spares a newcomer the certificate warning.
 * Loopback only, and only in `deno task dev`; a deployed server serves the
 * web client itself over TLS.
 *
 * @module
 */

import { webClientResponse } from "../server/web_client.ts";

/** A running door. */
export interface BrowserDoor {
  /** Its port on 127.0.0.1. */
  port: number;
  /** Stops it (open relays close). */
  close(): Promise<void>;
}

/** Closes `socket` with `code` when it may be sent, else 1000. */
function closeWith(socket: WebSocket, code: number, reason: string): void {
  const sendable = code === 1000 || (code >= 3000 && code <= 4999);
  if (socket.readyState <= WebSocket.OPEN) socket.close(sendable ? code : 1000, reason);
}

/** Relays one browser socket to `upstreamUrl` (frames as they are, both ways). */
function relay(browser: WebSocket, upstreamUrl: string, client: Deno.HttpClient): void {
  const upstream = new WebSocket(upstreamUrl, { client });
  const early: string[] = [];
  browser.onmessage = (e) => {
    if (upstream.readyState === WebSocket.OPEN) upstream.send(e.data);
    else early.push(e.data);
  };
  upstream.onopen = () => {
    for (const frame of early.splice(0)) upstream.send(frame);
  };
  upstream.onmessage = (e) => browser.readyState === WebSocket.OPEN && browser.send(e.data);
  upstream.onclose = (e) => closeWith(browser, e.code, e.reason);
  upstream.onerror = () => {};
  browser.onclose = (e) => closeWith(upstream, e.code, e.reason);
  browser.onerror = () => {};
}

/** Serves the web client on 127.0.0.1:`port` (0 picks one), relaying `/ws` to `upstreamUrl`. */
export function openBrowserDoor(port: number, upstreamUrl: string, caCert: string): BrowserDoor {
  const client = Deno.createHttpClient({ caCerts: [caCert] });
  const server = Deno.serve({ hostname: "127.0.0.1", port, onListen() {} }, (req) => {
    const path = new URL(req.url).pathname;
    if (path === "/ws" && req.headers.get("upgrade")?.toLowerCase() === "websocket") {
      const { socket, response } = Deno.upgradeWebSocket(req);
      socket.onopen = () => relay(socket, upstreamUrl, client);
      return response;
    }
    return webClientResponse(req, path) ?? new Response("not found\n", { status: 404 });
  });
  return {
    port: server.addr.port,
    close: async () => {
      await server.shutdown();
      client.close();
    },
  };
}
