// What a benchmark run produced (the results file's shape), the issue's
// targets with met / missed, and the small formatting helpers the report
// and its tables share.

import type { BackendName } from "./_env.ts";
import type { Machine } from "./_machine.ts";
import type { Latency } from "./_stats.ts";
import type { Ceilings } from "./ceilings.ts";
import type { ConnectionsResult } from "./connections.ts";
import type { DmResult } from "./dm.ts";
import type { FanoutResult } from "./fanout.ts";
import type { FileResult } from "./files.ts";
import type { GossipResult } from "./gossip.ts";

/** The sections run once per backend, and what they measured. */
export interface BackendRun {
  dm?: DmResult;
  fanout?: FanoutResult;
  files?: FileResult;
  connections?: ConnectionsResult;
}

/** Which RSA code ran where. */
export interface CryptoSetup {
  /** The backends measured, in table order. */
  backends: BackendName[];
  /** The backend of this process's load generators (the same in every run). */
  loadGenerators: BackendName;
  /** Why OpenSSL is missing, when it is. */
  note?: string;
}

/** How long a step of the run took, and how busy the machine was with other work meanwhile. */
export interface Step {
  seconds: number;
  /** Cores used on average by processes outside the bench's own, or stolen by the hypervisor. */
  otherCores: number;
}

/** One target with its measured value. */
export interface Target {
  what: string;
  /** The measured value the target is about (NaN when not measured). */
  value: number;
  /** The target as text, e.g. "≥ 1.7". */
  target: string;
  met: boolean;
}

/** Everything one run measured. */
export interface BenchResults {
  date: string;
  quick: boolean;
  seconds: number;
  /** What each step (e.g. `dm/openssl`) took. */
  steps: Record<string, Step>;
  machine: Machine;
  crypto: CryptoSetup;
  ceilings: Ceilings;
  /** Sections per backend. */
  runs: Partial<Record<BackendName, BackendRun>>;
  /** Run once, on the backend it names. */
  gossip?: GossipResult;
  targets: Target[];
}

/** A row of the per-backend table. */
export interface Row {
  section: string;
  figure: string;
  cells: Partial<Record<BackendName, string>>;
  /** OpenSSL over WebCrypto. */
  change?: string;
  target?: string;
  /** Per backend (in column order), or one verdict for the row. */
  met?: string;
}

export const LABEL: Record<BackendName, string> = { webcrypto: "WebCrypto", openssl: "OpenSSL" };
/** p50 / p95 / p99 of a latency. */
export const ms = (l: Latency): string => `${l.p50} / ${l.p95} / ${l.p99} ms`;
/** A met / missed cell. */
export const verdict = (ok: boolean): string => (ok ? "yes" : "**no**");
/** A number with at most 2 decimals. */
export const fmt = (v: number): string => String(Math.round(v * 100) / 100);

/** `part / whole` with 2 decimals; "" unless both are positive numbers. */
export function quotient(part: number | undefined, whole: number | undefined): string {
  return part !== undefined && whole !== undefined && whole > 0 && part >= 0
    ? fmt(part / whole)
    : "";
}

/** Target for DM/s over the per-server sign share, per backend. */
export const DM_SHARE_TARGET: Record<BackendName, number> = { webcrypto: 0.9, openssl: 0.85 };
/** Cross-server DM/s, OpenSSL over WebCrypto. */
export const DM_SPEEDUP_TARGET = 1.7;
/** DM p99 at half the peak rate, ms, each backend. */
export const DM_HALF_P99_MS = 40;
/** Hellos/s over (sign ceiling ÷ server signatures per hello), in every band of the ramp. */
export const HELLO_RATE_TARGET = 0.8;
/** Server RSS per idle user, KB. */
export const IDLE_USER_KB_TARGET = 64;
/** The full run on two cores, seconds. */
export const RUN_SECONDS = 600;

/** The targets of the run, met or missed. */
export function targets(r: BenchResults): Target[] {
  const out: Target[] = [];
  const dmOf = (b: BackendName) => r.runs[b]?.dm;
  const [w, o] = [dmOf("webcrypto"), dmOf("openssl")];
  if (w && o) {
    const value = o.deliveredPerSec / w.deliveredPerSec;
    out.push({
      what: "cross-server DM/s, OpenSSL ÷ WebCrypto",
      value: Math.round(value * 100) / 100,
      target: `≥ ${DM_SPEEDUP_TARGET}`,
      met: value >= DM_SPEEDUP_TARGET,
    });
  }
  for (const b of r.crypto.backends) {
    const dm = dmOf(b);
    if (!dm) continue;
    out.push({
      what: `DM/s with ${LABEL[b]} ÷ its per-server sign share`,
      value: dm.ratio,
      target: `≥ ${DM_SHARE_TARGET[b]}`,
      met: dm.ratio >= DM_SHARE_TARGET[b],
    });
  }
  for (const b of r.crypto.backends) {
    const dm = dmOf(b);
    if (!dm) continue;
    out.push({
      what: `DM p99 at half peak, ${LABEL[b]} (ms)`,
      value: dm.latencyAtHalf.p99,
      target: `< ${DM_HALF_P99_MS}`,
      met: dm.latencyAtHalf.p99 < DM_HALF_P99_MS,
    });
  }
  for (const b of r.crypto.backends) {
    const conn = r.runs[b]?.connections;
    if (!conn) continue;
    out.push({
      what: `hellos/s with ${LABEL[b]} ÷ (sign ceiling ÷ signatures per hello), slowest band`,
      value: conn.lowestBandRatio,
      target: `≥ ${HELLO_RATE_TARGET}`,
      met: conn.lowestBandRatio >= HELLO_RATE_TARGET,
    }, {
      what: `server RSS per idle user with ${LABEL[b]} (KB)`,
      value: conn.rssPerUserKb,
      target: `≤ ${IDLE_USER_KB_TARGET}`,
      met: conn.rssPerUserKb <= IDLE_USER_KB_TARGET,
    });
  }
  if (!r.quick) {
    out.push({
      what: `full bench, both backends, on ${r.machine.cores} cores (s)`,
      value: r.seconds,
      target: `≤ ${RUN_SECONDS}`,
      met: r.seconds <= RUN_SECONDS,
    });
  }
  return out;
}
