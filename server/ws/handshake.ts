/**
 * HTTP/1.1 heads and the WebSocket opening handshake (RFC 6455 §4), without
 * I/O: bounded request and response head parsing, upgrade validation, the
 * accept key, the 101 response, plain responses (always `Connection: close`),
 * and the client's upgrade request. No extension or subprotocol is ever
 * negotiated.
 *
 * @module
 */

/** The default bound of a request or response head, CRLFCRLF included. */
export const MAX_HEAD_BYTES = 16 * 1024;

const GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const HEADER_LINE = /^([!#$%&'*+\-.^_`|~0-9A-Za-z]+):[ \t]*(.*?)[ \t]*$/;
const KEY = /^[A-Za-z0-9+/]{22}==$/;
const REASONS: Record<number, string> = {
  200: "OK",
  201: "Created",
  204: "No Content",
  301: "Moved Permanently",
  302: "Found",
  304: "Not Modified",
  400: "Bad Request",
  403: "Forbidden",
  404: "Not Found",
  405: "Method Not Allowed",
  408: "Request Timeout",
  413: "Content Too Large",
  426: "Upgrade Required",
  429: "Too Many Requests",
  431: "Request Header Fields Too Large",
  500: "Internal Server Error",
  503: "Service Unavailable",
};

/** A parsed request head. */
export interface RequestHead {
  method: string;
  /** The request target as sent, e.g. `/ws?x=1`. */
  target: string;
  path: string;
  /** The query without `?` (empty if none). */
  query: string;
  version: "1.0" | "1.1";
  /** Case-insensitive. */
  headers: Headers;
}

/** A parsed response head. */
export interface ResponseHead {
  status: number;
  statusText: string;
  headers: Headers;
}

/** The outcome of parsing a head from the bytes received so far. */
export type HeadResult<T> =
  | { state: "incomplete" }
  /** `length` is where the head ends (after CRLFCRLF); later bytes belong to the stream. */
  | { state: "complete"; head: T; length: number }
  | { state: "error"; status: 400 | 413 | 431; reason: string };

/** The index just past the first CRLFCRLF at or after `from`, or -1. */
export function findHeadEnd(bytes: Uint8Array, from = 0): number {
  for (let i = Math.max(0, from); i + 3 < bytes.length; i++) {
    if (
      bytes[i] === 13 && bytes[i + 1] === 10 && bytes[i + 2] === 13 && bytes[i + 3] === 10
    ) return i + 4;
  }
  return -1;
}

/** Field values: visible characters, spaces, tabs and obs-text; no other control characters. */
function fieldValueOk(value: string): boolean {
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if ((c < 0x20 && c !== 0x09) || c === 0x7f) return false;
  }
  return true;
}

/** Request targets: visible ASCII only, and no fragment. */
function targetOk(target: string): boolean {
  for (let i = 0; i < target.length; i++) {
    const c = target.charCodeAt(i);
    if (c <= 0x20 || c >= 0x7f || c === 0x23) return false;
  }
  return true;
}

/** Splits a head into its start line and headers, or says why it cannot. */
function parseHead(
  bytes: Uint8Array,
  maxBytes: number,
): HeadResult<{ start: string; headers: Headers }> {
  const end = findHeadEnd(bytes.length > maxBytes ? bytes.subarray(0, maxBytes) : bytes);
  if (end < 0) {
    return bytes.length >= maxBytes
      ? { state: "error", status: 431, reason: `head longer than ${maxBytes} bytes` }
      : { state: "incomplete" };
  }
  // Header bytes are latin-1 (ByteString); TextDecoder("latin1") would be windows-1252.
  let text = "";
  for (let i = 0; i < end - 4; i += 4096) {
    text += String.fromCharCode(...bytes.subarray(i, Math.min(i + 4096, end - 4)));
  }
  const lines = text.split("\r\n");
  const headers = new Headers();
  for (const line of lines.slice(1)) {
    // Also refuses obs-fold (a line starting with whitespace) and bare CR or LF.
    const match = HEADER_LINE.exec(line);
    if (!match || !fieldValueOk(match[2])) {
      return { state: "error", status: 400, reason: "malformed header line" };
    }
    try {
      headers.append(match[1], match[2]);
    } catch {
      return { state: "error", status: 400, reason: "invalid header" };
    }
  }
  return { state: "complete", head: { start: lines[0], headers }, length: end };
}

/**
 * Parses a request head from the bytes received so far.
 *
 * @example
 * ```ts
 * import { parseRequestHead } from "./handshake.ts";
 * const r = parseRequestHead(new TextEncoder().encode("GET /ws?a=1 HTTP/1.1\r\nHost: x\r\n\r\n"));
 * if (r.state === "complete") r.head.path; // "/ws"
 * ```
 */
export function parseRequestHead(
  bytes: Uint8Array,
  maxBytes: number = MAX_HEAD_BYTES,
): HeadResult<RequestHead> {
  const parsed = parseHead(bytes, maxBytes);
  if (parsed.state !== "complete") return parsed;
  const parts = parsed.head.start.split(" ");
  const version = parts[2] === "HTTP/1.1" ? "1.1" : parts[2] === "HTTP/1.0" ? "1.0" : null;
  if (parts.length !== 3 || !TOKEN.test(parts[0]) || !version) {
    return { state: "error", status: 400, reason: "malformed request line" };
  }
  const target = parts[1];
  if (!target.startsWith("/") || !targetOk(target)) {
    return { state: "error", status: 400, reason: "unsupported request target" };
  }
  const { headers } = parsed.head;
  const length = headers.get("content-length");
  if (headers.has("transfer-encoding") || (length !== null && length.trim() !== "0")) {
    return { state: "error", status: 413, reason: "request bodies are not accepted" };
  }
  const q = target.indexOf("?");
  return {
    state: "complete",
    head: {
      method: parts[0],
      target,
      path: q < 0 ? target : target.slice(0, q),
      query: q < 0 ? "" : target.slice(q + 1),
      version,
      headers,
    },
    length: parsed.length,
  };
}

/** Parses a response head (the dialling side) from the bytes received so far. */
export function parseResponseHead(
  bytes: Uint8Array,
  maxBytes: number = MAX_HEAD_BYTES,
): HeadResult<ResponseHead> {
  const parsed = parseHead(bytes, maxBytes);
  if (parsed.state !== "complete") return parsed;
  const match = /^HTTP\/1\.[01] (\d{3})(?: (.*))?$/.exec(parsed.head.start);
  if (!match) return { state: "error", status: 400, reason: "malformed status line" };
  return {
    state: "complete",
    head: { status: Number(match[1]), statusText: match[2] ?? "", headers: parsed.head.headers },
    length: parsed.length,
  };
}

/** Whether a comma-separated header lists `token` (case-insensitive). */
function hasToken(value: string | null, token: string): boolean {
  return value !== null && value.split(",").some((t) => t.trim().toLowerCase() === token);
}

/** A refused upgrade: the HTTP status and headers to answer with. */
export interface UpgradeRefusal {
  status: number;
  reason: string;
  headers?: Record<string, string>;
}

/** Checks a client's upgrade request; returns its `Sec-WebSocket-Key`, or why it is refused. */
export function validateUpgrade(method: string, headers: Headers): string | UpgradeRefusal {
  if (method !== "GET") return { status: 400, reason: "a WebSocket upgrade must be a GET" };
  if (!hasToken(headers.get("upgrade"), "websocket")) {
    return { status: 400, reason: "missing Upgrade: websocket" };
  }
  if (!hasToken(headers.get("connection"), "upgrade")) {
    return { status: 400, reason: "missing Connection: upgrade" };
  }
  if (headers.get("sec-websocket-version")?.trim() !== "13") {
    // RFC 6455 §4.4: say which version we speak.
    return {
      status: 426,
      reason: "unsupported WebSocket version",
      headers: { "sec-websocket-version": "13" },
    };
  }
  const key = headers.get("sec-websocket-key")?.trim() ?? "";
  if (!KEY.test(key)) return { status: 400, reason: "invalid Sec-WebSocket-Key" };
  return key;
}

/**
 * The `Sec-WebSocket-Accept` value for a key.
 *
 * @example
 * ```ts
 * import { acceptKey } from "./handshake.ts";
 * await acceptKey("dGhlIHNhbXBsZSBub25jZQ=="); // "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=" (RFC 6455 §1.3)
 * ```
 */
export async function acceptKey(key: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-1", new TextEncoder().encode(key + GUID));
  return new Uint8Array(digest).toBase64();
}

/** The 101 response completing a server-side handshake; no extension, no subprotocol. */
export function upgradeResponse(accept: string): Uint8Array {
  return new TextEncoder().encode(
    "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
      `Sec-WebSocket-Accept: ${accept}\r\n\r\n`,
  );
}

/**
 * Serialises a response for a connection that closes after it: status line,
 * its headers, `Content-Length`, `Connection: close`, and the body (left out
 * for `HEAD`).
 */
export async function serializeResponse(
  response: Response,
  options: { head?: boolean } = {},
): Promise<Uint8Array> {
  const status = response.status;
  const body = new Uint8Array(await response.arrayBuffer());
  const noBody = status === 204 || status === 304 || (status >= 100 && status < 200);
  let text = `HTTP/1.1 ${status} ${response.statusText || REASONS[status] || ""}`.trimEnd() +
    "\r\n";
  for (const [name, value] of response.headers) {
    if (/^(content-length|transfer-encoding|connection|keep-alive)$/i.test(name)) continue;
    text += `${name}: ${value}\r\n`;
  }
  if (!noBody) text += `content-length: ${body.length}\r\n`;
  text += "connection: close\r\n\r\n";
  const head = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) head[i] = text.charCodeAt(i) & 0xff;
  if (noBody || options.head || body.length === 0) return head;
  const out = new Uint8Array(head.length + body.length);
  out.set(head);
  out.set(body, head.length);
  return out;
}

/** A short plain-text response (e.g. 400, 431) for a connection that closes after it. */
export function simpleResponse(
  status: number,
  text: string,
  headers: Record<string, string> = {},
): Uint8Array {
  const body = new TextEncoder().encode(text.endsWith("\n") ? text : `${text}\n`);
  let head = `HTTP/1.1 ${status} ${REASONS[status] ?? ""}`.trimEnd() + "\r\n";
  for (const [name, value] of Object.entries(headers)) head += `${name}: ${value}\r\n`;
  head += "content-type: text/plain; charset=utf-8\r\n" +
    `content-length: ${body.length}\r\nconnection: close\r\n\r\n`;
  const out = new Uint8Array(head.length + body.length);
  out.set(new TextEncoder().encode(head));
  out.set(body, head.length);
  return out;
}

/** A fresh random `Sec-WebSocket-Key`. */
export function newKey(): string {
  return crypto.getRandomValues(new Uint8Array(16)).toBase64();
}

/** The client's upgrade request for `target` (path and query) on `host` (with `:port` if not the default). */
export function upgradeRequest(host: string, target: string, key: string): Uint8Array {
  return new TextEncoder().encode(
    `GET ${target} HTTP/1.1\r\nHost: ${host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
      `Sec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
  );
}

/** Checks the server's answer to our upgrade; returns why it is not a valid 101, or `null`. */
export async function validateUpgradeResponse(
  head: ResponseHead,
  key: string,
): Promise<string | null> {
  if (head.status !== 101) return `HTTP status ${head.status}`;
  if (!hasToken(head.headers.get("upgrade"), "websocket")) return "missing Upgrade: websocket";
  if (!hasToken(head.headers.get("connection"), "upgrade")) return "missing Connection: upgrade";
  if (head.headers.get("sec-websocket-accept")?.trim() !== await acceptKey(key)) {
    return "wrong Sec-WebSocket-Accept";
  }
  // We offered no extension and no subprotocol, so the server may not pick any (§4.1).
  if (head.headers.get("sec-websocket-extensions")?.trim()) return "unrequested extension";
  if (head.headers.get("sec-websocket-protocol")?.trim()) return "unrequested subprotocol";
  return null;
}
