// Wire details of the dialect B simulator (b_server.ts, _b_mesh.ts,
// _b_relay.ts), from docs/DIALECT-FACTS.md §B.1: B's strict envelope check,
// the types it sends without `sig`, and the plain ws sockets it dials.

import { isHostPort, isUuidV4 } from "../../mod.ts";
import type { Loose } from "./_wire.ts";

/** A JSON object. */
export type Json = Record<string, unknown>;

/** The types B sends and accepts without `sig` (§B.1). */
export const UNSIGNED: ReadonlySet<string> = new Set([
  "USER_HELLO",
  "SERVER_HELLO_JOIN",
  "SERVER_HELLO_LINK",
  "SERVER_WELCOME",
  "SERVER_ANNOUNCE",
]);

const SIG = /^[A-Za-z0-9_-]+$/;

export function isObject(v: unknown): v is Json {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/**
 * B's strict envelope check (§B.1) on a parsed frame: undefined if it passes,
 * else the ERROR code B answers a later frame with. Silent: which of BAD_KEY
 * and INVALID_SIG goes with which problem; here sig problems → INVALID_SIG.
 */
export function envelopeProblem(f: unknown): "BAD_KEY" | "INVALID_SIG" | undefined {
  if (!isObject(f) || typeof f.type !== "string" || !isUuidV4(f.from)) return "BAD_KEY";
  if (!Number.isInteger(f.ts) || !isObject(f.payload)) return "BAD_KEY";
  const to = f.to;
  const toOk = to === "*" || to === "public" || isUuidV4(to) ||
    (f.type === "SERVER_HELLO_JOIN" && isHostPort(to));
  if (!toOk) return "BAD_KEY";
  if (f.sig != null && !(typeof f.sig === "string" && SIG.test(f.sig))) return "INVALID_SIG";
  if (f.sig == null && !UNSIGNED.has(f.type)) return "INVALID_SIG";
  return undefined;
}

/** An unsigned frame: no `sig` field at all. */
export function unsigned(type: string, from: string, to: string, payload: Json): Json {
  return { type, from, to, ts: Date.now(), payload };
}

/** A SERVER_WELCOME as a joiner accepts it (only `servers` is read), else undefined. */
export function welcomeOf(text: string | undefined): Loose | undefined {
  let w: Loose | undefined;
  try {
    w = text === undefined ? undefined : JSON.parse(text);
  } catch { /* not JSON */ }
  const ok = w !== undefined && envelopeProblem(w) === undefined &&
    w.type === "SERVER_WELCOME" && isUuidV4(w.payload.assigned_id) &&
    Array.isArray(w.payload.servers);
  return ok ? w : undefined;
}

/** Opens a plain ws socket (B dials ws://host:port, the root path). */
export function open(url: string): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url);
    socket.onopen = () => resolve(socket);
    socket.onerror = () => reject(new Error(`cannot reach ${url}`));
  });
}

/** The frames a socket receives until the first one, its close, or `ms` (then all so far). */
export function frames(socket: WebSocket, ms: number): Promise<string[]> {
  const got: string[] = [];
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      socket.removeEventListener("close", done);
      socket.onmessage = (e) => void got.push(String(e.data));
      resolve(got);
    };
    const timer = setTimeout(done, ms);
    socket.addEventListener("close", done);
    socket.onmessage = (e) => {
      got.push(String(e.data));
      done();
    };
  });
}

/** Closes a link that went silent with 1011. */
export function closeSilent(socket: WebSocket): void {
  try {
    socket.close(1011, "no frame");
  } catch {
    // Deno's WebSocket client refuses 1011 on a socket it dialled: 1000 instead.
    socket.close(1000, "no frame (1011)");
  }
}

export function closeAndWait(socket: WebSocket): Promise<void> {
  if (socket.readyState === WebSocket.CLOSED) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, 1_000);
    socket.addEventListener("close", () => {
      clearTimeout(timer);
      resolve();
    });
    socket.close();
  });
}
