// Answers the client waits for from its server, by the msg_ref of what it
// sent: ACKs (a FILE_END under `file-ack`, decision 60) and refusals (an
// ERROR naming a FILE_START, so a refused file fails at once).

/** Why the server refused something we sent. */
export interface Refusal {
  code: string;
  detail: string;
}

/** ACKs and refusals awaited by msg_ref. */
export class PendingAcks {
  readonly #waiting = new Map<string, () => void>();
  readonly #refusals = new Map<string, (r: Refusal) => void>();

  /** Resolves true once `msgRef` is acknowledged, false after `timeoutMs` or on `signal`. */
  wait(msgRef: string, timeoutMs: number, signal?: AbortSignal): Promise<boolean> {
    return new Promise((resolve) => {
      const done = (acked: boolean) => {
        clearTimeout(timer);
        signal?.removeEventListener("abort", aborted);
        this.#waiting.delete(msgRef);
        resolve(acked);
      };
      const aborted = () => done(false);
      const timer = setTimeout(() => done(false), timeoutMs);
      signal?.addEventListener("abort", aborted, { once: true });
      this.#waiting.set(msgRef, () => done(true));
    });
  }

  /** Takes an ACK (verified by the caller); unexpected ones are ignored (SOCP.md §6.5). */
  take(msgRef: string): void {
    this.#waiting.get(msgRef)?.();
  }

  /** Resolves when the server refuses `msgRef`; call `forget` once it no longer matters. */
  refusal(msgRef: string): Promise<Refusal> {
    return new Promise((resolve) => this.#refusals.set(msgRef, resolve));
  }

  /** Takes a refusal; true when something was waiting for it. */
  refuse(msgRef: string, refusal: Refusal): boolean {
    const waiter = this.#refusals.get(msgRef);
    this.#refusals.delete(msgRef);
    waiter?.(refusal);
    return waiter !== undefined;
  }

  /** Stops waiting for a refusal of `msgRef`. */
  forget(msgRef: string): void {
    this.#refusals.delete(msgRef);
  }
}
