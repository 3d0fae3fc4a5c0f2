/**
 * Giving freed memory back to the system (`--trim-memory auto|on|off`).
 *
 * A burst of hellos leaves glibc holding memory the process already freed:
 * TLS handshakes and RSA work on Deno's worker threads allocate in per-thread
 * arenas, and `free()` returns only the top of a heap to the kernel. Measured
 * on a server after 1000 users joined and idled for a minute, `malloc_trim(0)`
 * took RSS from 229 to 163 MB (66 KB per user). Nothing but glibc can return
 * it, and glibc is reached through FFI only, so trimming needs `--allow-ffi`:
 * `auto` (the default) trims when that permission was granted anyway (the
 * OpenSSL backend), `on` asks for it (the bundles then grant it) and stops at
 * start without it, `off` never trims.
 *
 * @module
 */

import { ffiGranted } from "./ffi_permission.ts";
import type { Logger } from "./log.ts";

/** What `--trim-memory` may say. */
export type TrimChoice = "auto" | "on" | "off";

/** The values of `--trim-memory`. */
export const TRIM_CHOICES: readonly TrimChoice[] = ["auto", "on", "off"];

/** Whether `value` is a {@linkcode TrimChoice}. */
export function isTrimChoice(value: unknown): value is TrimChoice {
  return TRIM_CHOICES.includes(value as TrimChoice);
}

const LIBC_CANDIDATES = ["libc.so.6", "/lib/x86_64-linux-gnu/libc.so.6", "/lib64/libc.so.6"];

const SYMBOLS = {
  // Declared nonblocking: it walks every arena, a few milliseconds on a large heap.
  malloc_trim: { parameters: ["usize"], result: "i32", nonblocking: true },
} as const;

/** glibc's `malloc_trim`, loaded. */
export interface MallocTrim {
  /** Returns free memory of every arena to the system. */
  trim(): Promise<void>;
  close(): void;
}

/** Loads `malloc_trim` from glibc, or says why it cannot. */
export function loadMallocTrim(): MallocTrim | { error: string } {
  if (Deno.build.os !== "linux") return { error: "trimming memory needs glibc (Linux)" };
  const tried: string[] = [];
  for (const candidate of LIBC_CANDIDATES) {
    try {
      const lib = Deno.dlopen(candidate, SYMBOLS);
      return {
        trim: async () => {
          await lib.symbols.malloc_trim(0n);
        },
        close: () => lib.close(),
      };
    } catch (e) {
      if (e instanceof Deno.errors.NotCapable || e instanceof Deno.errors.PermissionDenied) {
        return { error: "trimming memory needs --allow-ffi" };
      }
      tried.push(`${candidate}: ${e instanceof Error ? e.message.split("\n")[0] : e}`);
    }
  }
  return { error: `no glibc to trim with: ${tried.join("; ")}` };
}

/**
 * The trimmer `choice` asks for: `null` when off (or `auto` without FFI or
 * glibc), an error text when `on` cannot work.
 */
function memoryTrimFor(choice: TrimChoice): MallocTrim | null | { error: string } {
  if (choice === "off" || (choice === "auto" && !ffiGranted())) return null;
  const loaded = loadMallocTrim();
  if ("error" in loaded) {
    return choice === "on" ? { error: `--trim-memory on: ${loaded.error}` } : null;
  }
  return loaded;
}

/** RSS growth, in bytes, since the last trim that makes the next tick trim. */
const TRIM_AFTER_GROWTH = 8 * 1024 * 1024;
/** Links opened or closed since the last trim that make the next tick trim. */
const TRIM_AFTER_CHURN = 16;
/**
 * Ticks that still trim after the last one that saw a change: V8 frees the
 * buffers of a burst (malloc'd, outside its heap) only at its next GCs.
 */
const AFTERGLOW_TICKS = 6;

/**
 * When to trim: on a periodic tick, once RSS grew by 8 MiB or 16 links came
 * or went since the last trim, and on the few ticks after that. An idle
 * server is not trimmed again and again for nothing.
 */
export class TrimSchedule {
  readonly #trimmer: MallocTrim;
  readonly #onTrim: (returnedBytes: number, ms: number) => void;
  #rssAtTrim = 0;
  #churn = 0;
  #afterglow = 0;
  #running = false;
  #closed = false;
  /** Trims done and bytes they returned (RSS before minus after). */
  trims = 0;
  returnedBytes = 0;

  constructor(trimmer: MallocTrim, onTrim: (returnedBytes: number, ms: number) => void = () => {}) {
    this.#trimmer = trimmer;
    this.#onTrim = onTrim;
  }

  /** Counts a link opened or closed. */
  linkChanged(): void {
    this.#churn++;
  }

  /** Trims if enough changed since the last trim; resolves with the bytes returned (0 if none). */
  async tick(rss: () => number = () => Deno.memoryUsage().rss): Promise<number> {
    if (this.#running || this.#closed) return 0;
    const before = rss();
    if (before - this.#rssAtTrim >= TRIM_AFTER_GROWTH || this.#churn >= TRIM_AFTER_CHURN) {
      this.#afterglow = AFTERGLOW_TICKS;
    } else if (this.#afterglow > 0) {
      this.#afterglow--;
    } else {
      return 0;
    }
    this.#running = true;
    const started = performance.now();
    try {
      await this.#trimmer.trim();
    } finally {
      this.#running = false;
      // The library stays open while a call runs on its worker thread.
      if (this.#closed) this.#trimmer.close();
    }
    const after = rss();
    this.#rssAtTrim = after;
    this.#churn = 0;
    this.trims++;
    const returned = Math.max(0, before - after);
    this.returnedBytes += returned;
    this.#onTrim(returned, performance.now() - started);
    return returned;
  }

  /** Stops trimming; the library is closed once a running trim is done. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    if (!this.#running) this.#trimmer.close();
  }
}

/**
 * The schedule `choice` asks for, logging whether it trims (info) and each
 * trim (debug); `schedule` is null when it does not trim, `error` says why
 * `on` cannot work.
 */
export function trimScheduleFor(
  choice: TrimChoice,
  log: Pick<Logger, "info" | "debug">,
): { schedule: TrimSchedule | null } | { error: string } {
  const trimmer = memoryTrimFor(choice);
  if (trimmer && "error" in trimmer) return trimmer;
  log.info("memory trim", { on: trimmer !== null });
  const mb = (bytes: number) => Math.round(bytes / 104857.6) / 10;
  return {
    schedule: trimmer &&
      new TrimSchedule(
        trimmer,
        (returned, ms) =>
          log.debug("memory trimmed", { returned_mb: mb(returned), ms: Math.round(ms) }),
      ),
  };
}
