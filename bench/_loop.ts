// The load shape shared by the DM and fan-out drivers: senders resend a
// prepared frame with a fresh envelope `ts`; a closed loop keeps a window of
// them outstanding per sender, each completion sending the next.

import { sleep } from "./_stats.ts";

/** A driver of prepared frames; subclasses send and detect completions. */
export abstract class LoopDriver {
  /** Milliseconds from send to completion, since the last reset. */
  latencies: number[] = [];
  /** Completions since the last reset. */
  completed = 0;
  /** Called with the sender of each completion. */
  protected onComplete: (sender: number) => void = () => {};
  #lastTs = 0;

  /** How many senders there are. */
  protected abstract get senderCount(): number;
  /** Operations sent and not yet complete. */
  abstract get outstanding(): number;
  /** Sends sender's prepared frame with envelope `ts`. */
  protected abstract sendWithTs(sender: number, ts: number): void;
  /** Forgets outstanding operations (they will not count). */
  protected abstract forget(): void;

  /** Sends one operation with a unique `ts`, so no copy is dropped as a duplicate. */
  send(sender: number): void {
    this.#lastTs = Math.max(this.#lastTs + 1, Date.now());
    this.sendWithTs(sender, this.#lastTs);
  }

  /** Counts a completion sent at `sentAt` (performance.now()). */
  protected complete(sender: number, sentAt: number): void {
    this.latencies.push(performance.now() - sentAt);
    this.completed++;
    this.onComplete(sender);
  }

  /** Clears latencies and the completion count. */
  reset(): void {
    this.latencies = [];
    this.completed = 0;
  }

  /** Waits for outstanding operations (up to `timeoutMs`), then forgets the rest. */
  async drain(timeoutMs = 15_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.outstanding > 0 && Date.now() < deadline) await sleep(20);
    this.forget();
  }

  /** Every sender keeps `window` operations outstanding for `ms`; returns completions per second. */
  async closedLoop(window: number, ms: number): Promise<number> {
    let running = true;
    this.onComplete = (sender) => running && this.send(sender);
    this.reset();
    const started = performance.now();
    for (let w = 0; w < window; w++) {
      for (let sender = 0; sender < this.senderCount; sender++) this.send(sender);
    }
    await sleep(ms);
    running = false;
    const perSec = this.completed / ((performance.now() - started) / 1000);
    await this.drain();
    return perSec;
  }
}
