/**
 * What handlers ask the edge to do. Handlers read and update in-memory state
 * and return effects; the node applies them: network sends, errors, closes,
 * link binding and dialling, and persistence in one transaction per handler.
 *
 * @module
 */

import type { ErrorCode } from "../protocol/errors.ts";
import type { Frame, ListEntry } from "../protocol/types.ts";
import type { Link } from "./link.ts";
import type { Store } from "./store.ts";

/**
 * When to dial a server we have no link to (SOCP.md §9.4): `now` (a newcomer
 * dialling its WELCOME list), `due` (the lower id at once, the higher after a
 * grace period), or `announced` (its SERVER_ANNOUNCE was relayed to us, so it
 * is dialling every server itself: the lower id waits briefly before dialling,
 * which avoids a duplicate link in the common case).
 */
export type DialWhen = "now" | "due" | "announced";

/** One requested action. */
export type Effect =
  /** Send a frame; a string is sent as is (forwarding unchanged). */
  | { kind: "send"; link: Link; frame: Frame | string }
  /** Send a signed ERROR (rate-limited per link) addressed to `to` (default: the link peer), then optionally close. */
  | {
    kind: "error";
    link: Link;
    code: ErrorCode;
    detail: string;
    close?: boolean;
    to?: string;
    msgRef?: string;
  }
  /** Close a link. */
  | { kind: "close"; link: Link; code: number; reason: string }
  /** Write to the database; every persist effect of one handler shares a transaction. */
  | { kind: "persist"; write: (store: Store) => void }
  /** Bind a link to a peer server (de-duplication and link sync follow). */
  | { kind: "bind"; link: Link; peerId: string }
  /** Request a public-channel rotation (joins and leaves are batched; repairs are delayed). */
  | { kind: "rotate"; reason: "join" | "leave" | "repair" | "renew"; users?: string[] }
  /** Make sure a link to a known server exists or is being dialled (see {@linkcode DialWhen}). */
  | { kind: "dial"; serverId: string; when?: DialWhen }
  /** Record presence changes for the next PRESENCE batch (presence-lite clients). */
  | { kind: "presence"; online: ListEntry[]; offline: string[] }
  /** Send a new presence-lite client the presence snapshot. */
  | { kind: "welcome"; link: Link };

/**
 * A send effect.
 *
 * @example
 * ```ts
 * import { send } from "./effects.ts";
 * import { Link } from "./link.ts";
 * const link = new Link({ socket: {} as WebSocket, remote: "x", dialledByUs: false, now: 0 });
 * send(link, "{}").kind; // "send"
 * ```
 */
export function send(link: Link, frame: Frame | string): Effect {
  return { kind: "send", link, frame };
}

/**
 * Send effects of one frame to many links.
 *
 * @example
 * ```ts
 * import { sendAll } from "./effects.ts";
 * sendAll([], "{}").length; // 0
 * ```
 */
export function sendAll(links: Iterable<Link>, frame: Frame | string): Effect[] {
  return [...links].map((link) => send(link, frame));
}

/**
 * An error effect.
 *
 * @example
 * ```ts
 * import { error } from "./effects.ts";
 * import { Link } from "./link.ts";
 * const link = new Link({ socket: {} as WebSocket, remote: "x", dialledByUs: false, now: 0 });
 * error(link, "UNKNOWN_TYPE", "not here").kind; // "error"
 * ```
 */
export function error(link: Link, code: ErrorCode, detail: string, close = false): Effect {
  return { kind: "error", link, code, detail, close };
}

/** An ERROR that names what it refuses by `msg_ref` (the refused frame's payload). */
export function refusalOf(link: Link, code: ErrorCode, detail: string, msgRef?: string): Effect {
  return { kind: "error", link, code, detail, ...(msgRef ? { msgRef } : {}) };
}

/**
 * A persist effect.
 *
 * @example
 * ```ts
 * import { persist } from "./effects.ts";
 * persist((store) => store.setSetting("k", "v")).kind; // "persist"
 * ```
 */
export function persist(write: (store: Store) => void): Effect {
  return { kind: "persist", write };
}
