// Small statistics helpers for the benchmarks: percentiles, rates, rounding.

/** The p-th percentile (0–100) of `values` by nearest rank; NaN when empty. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)));
  return sorted[rank - 1];
}

/** p50, p95 and p99 of latencies in milliseconds. */
export interface Latency {
  p50: number;
  p95: number;
  p99: number;
  n: number;
}

/** Summarises latencies (ms). */
export function latency(values: readonly number[]): Latency {
  return {
    p50: round(percentile(values, 50), 1),
    p95: round(percentile(values, 95), 1),
    p99: round(percentile(values, 99), 1),
    n: values.length,
  };
}

/** Rounds to `digits` decimals. */
export function round(value: number, digits = 0): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

/** `part / whole` as a ratio with 2 decimals (0 when `whole` is 0). */
export function ratio(part: number, whole: number): number {
  return whole > 0 ? round(part / whole, 2) : 0;
}

/**
 * Runs `op` with `inFlight` concurrent loops for `ms` milliseconds and
 * returns completed operations per second.
 */
export async function opsPerSecond(
  op: () => Promise<unknown>,
  inFlight: number,
  ms: number,
): Promise<number> {
  await op(); // warm up: key import, JIT
  let done = 0;
  const started = performance.now();
  const deadline = started + ms;
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (performance.now() < deadline) {
        await op();
        done++;
      }
    }),
  );
  return done / ((performance.now() - started) / 1000);
}

/** Resolves after `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
