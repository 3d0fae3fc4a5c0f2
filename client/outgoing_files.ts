/**
 * Files the REPL is sending, in the background: the prompt stays usable,
 * a status line shows each transfer's progress, `/cancel` or Ctrl-C stops
 * them (and nothing else), and "sent" is reported only once the server
 * confirmed the whole file.
 *
 * @module
 */

import { progressBar } from "./render.ts";

/** One file being sent. */
interface Sending {
  id: number;
  name: string;
  to: string;
  size: number;
  sent: number;
  started: number;
  abort: AbortController;
}

/** What the transfers report to. */
export interface OutgoingReports {
  /** Redraws the status line (undefined clears it). */
  status(text?: string): void;
  /** A transfer finished: confirmed, cancelled or failed. */
  done(
    outcome: { kind: "sent"; fileId: string } | { kind: "cancelled" } | {
      kind: "failed";
      error: unknown;
    },
    file: { name: string; to: string; size: number; elapsedMs: number },
  ): void;
}

/** The sender's side: how one file is sent (SocpClient.sendFile). */
export type SendFile = (
  onProgress: (sent: number) => void,
  signal: AbortSignal,
) => Promise<string>;

/**
 * Transfers in progress.
 *
 * @example
 * ```ts
 * import { OutgoingFiles } from "./outgoing_files.ts";
 * const files = new OutgoingFiles({ status() {}, done() {} });
 * files.cancel(); // [] : nothing is running
 * ```
 */
export class OutgoingFiles {
  readonly #reports: OutgoingReports;
  readonly #active = new Map<number, Sending>();
  readonly #now: () => number;
  #next = 1;

  constructor(reports: OutgoingReports, now: () => number = Date.now) {
    this.#reports = reports;
    this.#now = now;
  }

  /** Transfers running. */
  get size(): number {
    return this.#active.size;
  }

  /** Starts sending in the background; resolves when it ends (never rejects). */
  start(name: string, to: string, size: number, send: SendFile): Promise<void> {
    const t: Sending = {
      id: this.#next++,
      name,
      to,
      size,
      sent: 0,
      started: this.#now(),
      abort: new AbortController(),
    };
    this.#active.set(t.id, t);
    this.#draw();
    const file = () => ({ name, to, size, elapsedMs: this.#now() - t.started });
    return send((sent) => {
      t.sent = sent;
      this.#draw();
    }, t.abort.signal).then(
      (fileId) => this.#end(t, () => this.#reports.done({ kind: "sent", fileId }, file())),
      (error) =>
        this.#end(t, () =>
          this.#reports.done(
            t.abort.signal.aborted ? { kind: "cancelled" } : { kind: "failed", error },
            file(),
          )),
    );
  }

  #end(t: Sending, report: () => void): void {
    this.#active.delete(t.id);
    this.#draw();
    report();
  }

  /**
   * Cancels the transfers whose file name or recipient is `query` (all of
   * them without one); returns the names cancelled.
   */
  cancel(query?: string): string[] {
    const hit = [...this.#active.values()].filter((t) =>
      query === undefined || t.name === query || t.to === query
    );
    for (const t of hit) t.abort.abort();
    return hit.map((t) => t.name);
  }

  #draw(): void {
    if (!this.#active.size) return this.#reports.status();
    const parts = [...this.#active.values()].map((t) =>
      `${t.name} → ${t.to} ${progressBar(t.sent, t.size, this.#now() - t.started, 12)}`
    );
    const more = parts.length > 2 ? ` (+${parts.length - 2} more)` : "";
    this.#reports.status(`${parts.slice(0, 2).join(" | ")}${more}  /cancel stops`);
  }
}
