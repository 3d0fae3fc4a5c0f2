// Confirmations the client waits for: ACKs from its server naming the
// msg_ref of something it sent (a FILE_END under `file-ack`, decision 60).

/** ACKs awaited by msg_ref. */
export class PendingAcks {
  readonly #waiting = new Map<string, () => void>();

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
}
