/**
 * Structured logging for the server roles: JSON lines or text, one line per
 * event, on stdout. Callers pass ids, types and codes only: never payloads,
 * ciphertexts, passwords or keys' private parts.
 *
 * @module
 */

/** Log severities, least to most severe. */
export type LogLevel = "debug" | "info" | "warn" | "error";
/** Output formats. */
export type LogFormat = "json" | "text";
/** Extra structured fields of one log line. */
export type LogFields = Record<string, string | number | boolean | null | undefined | string[]>;

const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

/** A logger bound to a level, a format and some context fields. */
export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  /** A logger that adds `fields` to every line. */
  child(fields: LogFields): Logger;
}

/** Options of {@linkcode createLogger}. */
export interface LoggerOptions {
  level?: LogLevel;
  format?: LogFormat;
  /** Where lines go (default: stdout). */
  sink?: (line: string) => void;
  /** Fields on every line. */
  fields?: LogFields;
}

/**
 * Creates a logger.
 *
 * @example
 * ```ts
 * import { createLogger } from "./log.ts";
 * const lines: string[] = [];
 * const log = createLogger({ format: "json", sink: (l) => lines.push(l) });
 * log.info("listening", { port: 8443 });
 * JSON.parse(lines[0]).port; // 8443
 * ```
 */
export function createLogger(options: LoggerOptions = {}): Logger {
  const min = RANK[options.level ?? "info"];
  const format = options.format ?? "text";
  const sink = options.sink ?? ((line: string) => console.log(line));
  const base = options.fields ?? {};
  const emit = (level: LogLevel, msg: string, fields: LogFields = {}) => {
    if (RANK[level] < min) return;
    const all = { ...base, ...fields };
    if (format === "json") {
      sink(JSON.stringify({ ts: new Date().toISOString(), level, msg, ...all }));
    } else {
      const extra = Object.entries(all)
        .filter(([, v]) => v !== undefined)
        .map(([k, v]) => `${k}=${Array.isArray(v) ? v.join(",") : v}`)
        .join(" ");
      sink(
        `${new Date().toISOString()} ${level.toUpperCase().padEnd(5)} ${msg}${
          extra ? " " + extra : ""
        }`,
      );
    }
  };
  return {
    debug: (m, f) => emit("debug", m, f),
    info: (m, f) => emit("info", m, f),
    warn: (m, f) => emit("warn", m, f),
    error: (m, f) => emit("error", m, f),
    child: (fields) => createLogger({ ...options, fields: { ...base, ...fields } }),
  };
}
