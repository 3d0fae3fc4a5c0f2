/**
 * Counters a node keeps about its traffic: frames in and out by type, errors
 * by code, signature work. Read by `/healthz` and `/metrics`.
 *
 * @module
 */

/**
 * Named counters grouped by family.
 *
 * @example
 * ```ts
 * import { Metrics } from "./metrics.ts";
 * const m = new Metrics();
 * m.inc("frames_in", "HEARTBEAT");
 * m.get("frames_in", "HEARTBEAT"); // 1
 * ```
 */
export class Metrics {
  #families = new Map<string, Map<string, number>>();

  /** Adds `by` to the counter `family{label}`. */
  inc(family: string, label = "", by = 1): void {
    let counters = this.#families.get(family);
    if (!counters) this.#families.set(family, counters = new Map());
    counters.set(label, (counters.get(label) ?? 0) + by);
  }

  /** The counter's value (0 if never incremented). */
  get(family: string, label = ""): number {
    return this.#families.get(family)?.get(label) ?? 0;
  }

  /** All counters, as `{ family: { label: value } }`. */
  snapshot(): Record<string, Record<string, number>> {
    return Object.fromEntries([...this.#families].map(([f, c]) => [f, Object.fromEntries(c)]));
  }
}
