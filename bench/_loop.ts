// The load shape shared by the DM and fan-out drivers: senders resend a
// prepared frame with a fresh envelope `ts`; an operation completes when
// `copies` receivers have it; a closed loop keeps a window of operations
// outstanding per sender, each completion sending the next.

import { sleep } from "./_stats.ts";
import type { BenchUser } from "./_users.ts";

interface Pending {
  sentAt: number;
  sender: number;
  missing: number;
}

/** Sends prepared frames and times their arrival at every receiver. */
export class LoopDriver<F extends { from: string; ts: number }> {
  /** Milliseconds from send to completion, since the last reset. */
  latencies: number[] = [];
  /** Completions since the last reset. */
  completed = 0;
  readonly #senders: BenchUser[];
  readonly #templates: F[];
  readonly #copies: number;
  readonly #pending = new Map<string, Pending>();
  #onComplete: (sender: number) => void = () => {};
  #lastTs = 0;

  /** `templates[i]` is sent by `senders[i]` and completes once `copies` receivers have it. */
  constructor(senders: BenchUser[], templates: F[], copies: number) {
    this.#senders = senders;
    this.#templates = templates;
    this.#copies = copies;
  }

  /** Operations sent and not yet complete. */
  get outstanding(): number {
    return this.#pending.size;
  }

  /** Sends sender's prepared frame with a unique `ts`, so no copy is dropped as a duplicate. */
  send(sender: number): void {
    this.#lastTs = Math.max(this.#lastTs + 1, Date.now());
    this.sendFrame(sender, { ...this.#templates[sender], ts: this.#lastTs });
  }

  /** Sends `frame` as sender's next operation. */
  sendFrame(sender: number, frame: F): void {
    const entry = { sentAt: performance.now(), sender, missing: this.#copies };
    this.#pending.set(`${frame.from}:${frame.ts}`, entry);
    this.#senders[sender].socket!.send(JSON.stringify(frame));
  }

  /**
   * One receiver got the frame sent as `from` at `ts`. Returns its sender
   * when that completes the operation, else undefined.
   */
  protected arrived(from: string | undefined, ts: string | number | undefined): number | undefined {
    const key = `${from}:${ts}`;
    const entry = this.#pending.get(key);
    if (!entry || --entry.missing > 0) return undefined;
    this.#pending.delete(key);
    this.latencies.push(performance.now() - entry.sentAt);
    this.completed++;
    this.#onComplete(entry.sender);
    return entry.sender;
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
    this.#pending.clear();
  }

  /** Every sender keeps `window` operations outstanding for `ms`; returns completions per second. */
  async closedLoop(window: number, ms: number): Promise<number> {
    let running = true;
    this.#onComplete = (sender) => running && this.send(sender);
    this.reset();
    const started = performance.now();
    for (let w = 0; w < window; w++) {
      for (let sender = 0; sender < this.#senders.length; sender++) this.send(sender);
    }
    await sleep(ms);
    running = false;
    const perSec = this.completed / ((performance.now() - started) / 1000);
    await this.drain();
    return perSec;
  }

  /** Sends `rate` operations per second, spread over the senders, for `ms`. */
  async openLoop(rate: number, ms: number): Promise<void> {
    this.#onComplete = () => {};
    this.reset();
    const started = performance.now();
    let sent = 0;
    while (performance.now() - started < ms) {
      const due = Math.floor(((performance.now() - started) / 1000) * rate);
      for (; sent < due; sent++) this.send(sent % this.#senders.length);
      await sleep(2);
    }
    await this.drain();
  }
}
