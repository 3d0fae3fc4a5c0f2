/**
 * Client events: what a UI (REPL, `--json`, browser) renders.
 *
 * @module
 */

/** One online user, as `/list` shows it. */
export interface UserListing {
  /** The user's id. */
  user_id: string;
  /** The user's display name. */
  display_name: string;
  /** The server hosting the user. */
  server_id: string;
  /** Hex SHA-256 of the user's key, when known. */
  fingerprint?: string;
  /** `false` for a known user who is offline (`list({ all: true })`). */
  online?: boolean;
}

/** Everything a client reports. */
export type ClientEvent =
  | { type: "ready"; userId: string; serverId: string; server: string }
  | { type: "users"; users: UserListing[] }
  | {
    type: "whois";
    userId: string;
    displayName: string;
    serverId: string;
    online: boolean;
    /** Hex SHA-256 of the key this client holds for the user. */
    fingerprint: string;
    /** Fingerprint of another key offered for the id since (refused). */
    offered?: string;
  }
  | {
    type: "dm";
    from: string;
    fromName: string;
    text: string | null;
    ts: number;
    verified: boolean;
    warning?: string;
    /** Set for a message that waited while we were away: when it was queued. */
    queuedAt?: number;
  }
  | {
    /** A DM or file we sent waits in the queue of `to`, who is offline (offline delivery). */
    type: "queued";
    to: string;
    toName: string;
    /** msgRef of the queued frame's payload. */
    msgRef: string;
    queuedAt: number;
  }
  | {
    type: "public";
    from: string;
    fromName: string;
    text: string | null;
    ts: number;
    verified: boolean;
    warning?: string;
  }
  | {
    type: "file";
    /** The transfer's id (as in the `receiving` events before it). */
    fileId: string;
    from: string;
    fromName: string;
    name: string;
    path: string;
    size: number;
    sha256: string;
    verified: boolean;
    mode: "dm" | "public";
  }
  | { type: "progress"; fileId: string; sent: number; total: number }
  | {
    /** An incoming file's progress: at FILE_START (`received` 0), then per chunk. */
    type: "receiving";
    fileId: string;
    from: string;
    fromName: string;
    name: string;
    received: number;
    total: number;
    mode: "dm" | "public";
  }
  | { type: "presence"; userId: string; displayName: string; online: boolean; serverId: string }
  | {
    type: "key-change";
    userId: string;
    displayName: string;
    fingerprint: string;
    offered: string;
  }
  | { type: "error"; code: string; detail: string }
  | { type: "disconnected"; reason: string; retryInMs?: number };

/**
 * Delivers events to listeners and to async iterators.
 *
 * @example
 * ```ts
 * import { EventHub } from "@socp/socp/client";
 * const hub = new EventHub();
 * const seen: string[] = [];
 * hub.on((e) => seen.push(e.type));
 * hub.emit({ type: "error", code: "X", detail: "" });
 * seen; // ["error"]
 * ```
 */
export class EventHub {
  readonly #listeners = new Set<(event: ClientEvent) => void>();

  /** Subscribes; returns the unsubscribe function. */
  on(listener: (event: ClientEvent) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Sends an event to every listener (a failing listener does not stop the others). */
  emit(event: ClientEvent): void {
    for (const listener of this.#listeners) {
      try {
        listener(event);
      } catch (e) {
        console.error("event listener failed:", e);
      }
    }
  }

  /** Events from now on, as an async iterator (ends when `signal` aborts). */
  async *stream(signal?: AbortSignal): AsyncGenerator<ClientEvent> {
    const queue: ClientEvent[] = [];
    let wake: (() => void) | undefined;
    const off = this.on((e) => {
      queue.push(e);
      wake?.();
    });
    const abort = () => wake?.();
    signal?.addEventListener("abort", abort);
    try {
      while (!signal?.aborted) {
        if (queue.length) yield queue.shift()!;
        else await new Promise<void>((r) => (wake = r));
      }
    } finally {
      off();
      signal?.removeEventListener("abort", abort);
    }
  }
}
