/**
 * Files arriving, for the REPL's status line: each transfer's name, sender
 * and progress from its `receiving` events, until its `file` event (saved),
 * or until it has been idle as long as the receiver keeps a partial
 * transfer (refused or abandoned by the sender; SOCP has no cancel frame).
 *
 * @module
 */

import { DEFAULT_LIMITS } from "../protocol/limits.ts";
import type { ClientEvent } from "./events.ts";
import { progressBar } from "./render.ts";

interface Arriving {
  name: string;
  fromName: string;
  received: number;
  total: number;
  started: number;
  lastSeen: number;
}

/** Transfers being received; `status` gets the line to show (undefined: none). */
export class IncomingFiles {
  readonly #status: (text?: string) => void;
  readonly #idleMs: number;
  readonly #now: () => number;
  readonly #arriving = new Map<string, Arriving>();
  #sweep?: ReturnType<typeof setInterval>;

  constructor(
    status: (text?: string) => void,
    idleMs: number = DEFAULT_LIMITS.transferIdleMs,
    now: () => number = Date.now,
  ) {
    this.#status = status;
    this.#idleMs = idleMs;
    this.#now = now;
  }

  /** Takes the client's events; only `receiving` and `file` matter here. */
  observe(event: ClientEvent): void {
    if (event.type === "receiving") {
      const now = this.#now();
      const known = this.#arriving.get(event.fileId);
      this.#arriving.set(event.fileId, {
        name: event.name,
        fromName: event.fromName,
        received: event.received,
        total: event.total,
        started: known?.started ?? now,
        lastSeen: now,
      });
    } else if (event.type === "file") {
      if (!this.#arriving.delete(event.fileId)) return;
    } else {
      return;
    }
    this.#draw();
  }

  /** Stops the idle sweep (the REPL is closing). */
  close(): void {
    clearInterval(this.#sweep);
    this.#sweep = undefined;
  }

  #draw(): void {
    const now = this.#now();
    for (const [id, t] of this.#arriving) {
      if (now - t.lastSeen > this.#idleMs) this.#arriving.delete(id);
    }
    if (this.#arriving.size === 0) {
      this.close();
      return this.#status();
    }
    // While something arrives, look again now and then, so a stalled transfer leaves the line.
    this.#sweep ??= setInterval(() => this.#draw(), 5_000);
    const parts = [...this.#arriving.values()].map((t) =>
      `${t.name} ← ${t.fromName} ${progressBar(t.received, t.total, now - t.started, 12)}`
    );
    const more = parts.length > 2 ? ` (+${parts.length - 2} more)` : "";
    this.#status(`${parts.slice(0, 2).join(" | ")}${more}`);
  }
}
