/**
 * One WebSocket connection, inbound or dialled, and what the node knows of
 * it: its kind (pending until its first frame, then server or user for good),
 * its peer, liveness, and per-link limits. Frames of one link are handled in
 * order through {@linkcode Link.enqueue}.
 *
 * @module
 */

import type { PublicKey } from "../protocol/keys.ts";
import type { Dialect } from "./dialects/read.ts";
import type { ConnectionTicket } from "./http.ts";
import type { LinkSocket } from "./ws/socket.ts";
import { WindowCounter } from "./rate.ts";
import type { TokenBucket } from "./rate.ts";

/**
 * What a link carries. Inbound links are `pending` until their first frame
 * fixes them as `server` or `user` for good (SOCP.md §6.6); a dialled join
 * socket is `joining` until its SERVER_WELCOME arrives.
 */
export type LinkKind = "pending" | "joining" | "server" | "user";

/** Options of a new {@linkcode Link}. */
export interface LinkOptions {
  socket: LinkSocket;
  /** Remote IP address (inbound) or dialled host:port. */
  remote: string;
  /** Whether this node opened the connection. */
  dialledByUs: boolean;
  now: number;
}

let nextLinkId = 1;

/**
 * A connection and its state.
 *
 * @example
 * ```ts
 * import { Link } from "./link.ts";
 * const socket = { readyState: WebSocket.CLOSED } as WebSocket;
 * const link = new Link({ socket, remote: "127.0.0.1", dialledByUs: false, now: 0 });
 * link.kind; // "pending"
 * link.send("x"); // false: the socket is not open
 * ```
 */
export class Link {
  /** Process-unique number, for logs. */
  readonly id: number = nextLinkId++;
  readonly socket: LinkSocket;
  readonly remote: string;
  readonly dialledByUs: boolean;
  readonly openedAt: number;
  kind: LinkKind = "pending";
  /** The bound server id (server link) or user id (user link). */
  peerId?: string;
  /** When the last valid frame arrived. */
  lastValidAt: number;
  /** Whether the peer ever sent a HEARTBEAT (SOCP.md §9.5 exemption). */
  sawHeartbeat = false;
  /** Server links: when the link was bound (its redial backoff resets once it lived a while). */
  boundAt = 0;
  /** Server links: our user bindings were sent on this link (USER_BINDINGS). */
  bindingsSynced = false;
  /** The peer closed this link as a duplicate (CTRL_CLOSE "duplicate link"): it keeps another. */
  supersededByPeer = false;
  /** Dialled links: where we dialled. */
  target?: { host: string; port: number };
  /** Join links: the introducer key the bootstrap list pins (null: unpinned). */
  introducerKey?: PublicKey | null;
  /** The dialect the peer speaks (server/dialects/); frames to it are rendered for it. */
  dialect: Dialect = "socp";
  /**
   * A join socket the peer never reads again (dialect A): nothing more is
   * sent on it, it is never closed as a duplicate, and its frames are still
   * handled.
   */
  unread = false;
  /**
   * Join links to a dialect A introducer (with --accept-unverified-welcome):
   * its WELCOME is taken unverified. Nothing of it is pinned, so its other
   * frames (HEARTBEATs) are dropped as from an unknown server.
   */
  unverifiedIntroducer = false;
  /** User links: the client software string from USER_HELLO. */
  client?: string;
  /** User links: the capabilities the hello listed in `meta.caps`. */
  caps: ReadonlySet<string> = new Set();
  /** Inbound links: its place in the per-IP connection counts. */
  ticket?: ConnectionTicket;
  /** Frame-rate limiter, set when the link's kind is known. */
  rate?: TokenBucket;
  /** Since when this link has been over its rate without a frame getting through. */
  overRateSince?: number;
  /** Invalid signatures in the last minute. */
  readonly invalidSigs: WindowCounter = new WindowCounter(60_000);
  /** When this node last sent this link an ERROR. */
  lastErrorAt = -Infinity;
  #closed = false;
  #outbox?: Promise<void>;

  constructor(options: LinkOptions) {
    this.socket = options.socket;
    this.remote = options.remote;
    this.dialledByUs = options.dialledByUs;
    this.openedAt = options.now;
    this.lastValidAt = options.now;
  }

  /** Whether {@linkcode Link.close} was called or the socket is gone. */
  get closed(): boolean {
    return this.#closed || this.socket.readyState >= WebSocket.CLOSING;
  }

  /**
   * Whether this node closed the link. Frames that arrived before the peer
   * closed are still handled; after we closed it, none are.
   */
  get closedHere(): boolean {
    return this.#closed;
  }

  /** Sends a text frame if the socket is open; returns whether it was sent. */
  send(text: string): boolean {
    if (this.#closed || this.socket.readyState !== WebSocket.OPEN) return false;
    this.socket.send(text);
    return true;
  }

  /**
   * Sends text that may still be in the making (a frame signed for this
   * peer's dialect), keeping the order of everything sent this way; `null`
   * sends nothing.
   */
  sendInOrder(item: string | null | Promise<string | null>): void {
    if (this.#outbox === undefined && typeof item !== "object") {
      if (item !== null) this.send(item);
      return;
    }
    const next = (this.#outbox ?? Promise.resolve()).then(async () => {
      const text = await item;
      if (text !== null) this.send(text);
    }).catch(() => {}); // a frame that could not be made is simply not sent
    this.#outbox = next;
    next.then(() => {
      if (this.#outbox === next) this.#outbox = undefined;
    });
  }

  /** Closes the socket once (code 1000 unless a violation code is given). */
  close(code = 1000, reason = ""): void {
    if (this.#closed) return;
    this.#closed = true;
    // Client-side sockets (links we dialled) may only close with 1000 or
    // 3000–4999; receivers treat all codes alike (SOCP.md §2), so fall back to 1000.
    const allowed = code === 1000 || (code >= 3000 && code <= 4999) || !this.dialledByUs;
    try {
      this.socket.close(allowed ? code : 1000, reason.slice(0, 120));
    } catch {
      // Already closing: nothing more to do.
    }
  }

  /** A short description for logs. */
  describe(): string {
    return `${this.kind}#${this.id}${this.peerId ? `(${this.peerId})` : ""}`;
  }
}
