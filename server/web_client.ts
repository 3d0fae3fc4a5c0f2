/**
 * The web client, served by every socp-server at `/` (the page) and
 * `/assets/…` (its script and stylesheet, embedded from
 * server/_web_assets.ts). A strict Content-Security-Policy allows only
 * this origin's script, style and WebSocket; hashed assets are cached for
 * a year, the page is revalidated every time.
 *
 * @module
 */

import { WEB_ASSETS, WEB_INDEX } from "./_web_assets.ts";

/** The policy of every web client response. */
export const WEB_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "connect-src 'self'",
  "img-src 'self' blob: data:",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join("; ");

const COMMON = {
  "content-security-policy": WEB_CSP,
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
  "cross-origin-opener-policy": "same-origin",
};

/**
 * The web client's answer to `req` at `path`, or null when the path is not
 * the web client's (the caller then answers as before).
 *
 * @example
 * ```ts
 * import { webClientResponse } from "./web_client.ts";
 * const page = webClientResponse(new Request("https://h/"), "/");
 * page?.headers.get("content-type"); // "text/html; charset=utf-8"
 * ```
 */
export function webClientResponse(req: Request, path: string): Response | null {
  if (path !== "/" && !path.startsWith("/assets/")) return null;
  if (req.method !== "GET" && req.method !== "HEAD") {
    return new Response("method not allowed\n", { status: 405, headers: { allow: "GET, HEAD" } });
  }
  const body = (text: string) => (req.method === "HEAD" ? null : text);
  if (path === "/") {
    return new Response(body(WEB_INDEX), {
      headers: {
        ...COMMON,
        "content-type": "text/html; charset=utf-8",
        "cache-control": "no-cache",
      },
    });
  }
  const asset = Object.hasOwn(WEB_ASSETS, path) ? WEB_ASSETS[path] : undefined;
  if (!asset) return new Response("not found\n", { status: 404, headers: COMMON });
  return new Response(body(asset.body), {
    headers: {
      ...COMMON,
      "content-type": asset.type,
      "cache-control": "public, max-age=31536000, immutable",
    },
  });
}
