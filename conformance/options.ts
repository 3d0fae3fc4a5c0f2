/**
 * `socp-conformance` flags. Pure: the bundled executable's launcher reuses
 * it to compute the permissions the run needs.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { VERSION } from "../version.ts";
import type { ServerDialect } from "../client/server_dialect.ts";

/** Everything the suite is told. */
export interface ConformanceOptions {
  servers: string[];
  caFile?: string;
  insecure: boolean;
  dialect: ServerDialect;
  loginPassword?: string;
  only: string[];
  skip: string[];
  timeoutMs: number;
  keysDir: string;
  json: boolean;
  junitFile?: string;
  /** Link to the target as a server peer (server-link checks). */
  linkAsServer: boolean;
}

/** The `--help` text. */
export const CONFORMANCE_HELP =
  `socp-conformance ${VERSION}: checks a SOCP v1.3 server, section by section.

Usage: socp-conformance --server wss://host:port/ws [--server wss://other:port/ws] [options]

  --server URL        a server to test; twice for two servers of one mesh (cross-server checks)
  --ca FILE           CA certificate (PEM) to trust for wss://
  --insecure          allow plain ws:// URLs (certificates are still checked for wss://)
  --dialect D         the dialect the suite speaks: socp (default), A or B (docs/SOCP.md §12)
  --login-password P  a password for servers that log users in by one (dialect A)
  --link-as-server    also link to the target as a server peer (it must accept unknown
                      servers) for the server-link checks; otherwise they are skipped
  --only LIST         run only these checks: ids, id prefixes or sections, comma-separated
                      (e.g. hello.,6.2,dm.cross-server)
  --skip LIST         leave these out (same forms)
  --timeout-ms N      how long to wait for one answer (default 5000)
  --keys DIR          where the suite's RSA keys are kept (default .socp/conformance)
  --json              print one JSON document {"checks":[…]} on stdout
  --junit FILE        also write JUnit XML to FILE
  --version, --help

The suite logs in users of its own (fresh ids, its own keys) and leaves them registered.
Progress goes to stderr. Exit status: 0 when no MUST fails, 1 otherwise, 2 for usage errors.`;

/** Result of {@linkcode parseConformanceArgs}. */
export type ConformanceArgs =
  | { ok: true; options: ConformanceOptions }
  | { ok: false; error: string }
  | { ok: false; help: string };

const list = (text?: string) => text?.split(",").map((s) => s.trim()).filter(Boolean) ?? [];

/**
 * Parses the suite's flags (a leading `--`, as `deno task` passes it, is ignored).
 *
 * @example
 * ```ts
 * import { parseConformanceArgs } from "./options.ts";
 * const r = parseConformanceArgs(["--server", "wss://h:8443/ws", "--only", "hello."]);
 * r.ok && r.options.only; // ["hello."]
 * ```
 */
export function parseConformanceArgs(args: string[]): ConformanceArgs {
  let v;
  try {
    v = parseArgs({
      args: args[0] === "--" ? args.slice(1) : args,
      strict: true,
      options: {
        server: { type: "string", multiple: true },
        ca: { type: "string" },
        insecure: { type: "boolean", default: false },
        dialect: { type: "string", default: "socp" },
        "login-password": { type: "string" },
        only: { type: "string" },
        skip: { type: "string" },
        "timeout-ms": { type: "string", default: "5000" },
        keys: { type: "string", default: ".socp/conformance" },
        json: { type: "boolean", default: false },
        junit: { type: "string" },
        "link-as-server": { type: "boolean", default: false },
        help: { type: "boolean", default: false },
        version: { type: "boolean", default: false },
      },
    }).values;
  } catch (e) {
    return { ok: false, error: `${(e as Error).message} (try --help)` };
  }
  if (v.help) return { ok: false, help: CONFORMANCE_HELP };
  if (v.version) return { ok: false, help: `socp-conformance ${VERSION}` };
  const servers = v.server ?? [];
  if (servers.length < 1 || servers.length > 2) {
    return { ok: false, error: "give --server once or twice (try --help)" };
  }
  for (const s of servers) {
    let scheme = "";
    try {
      scheme = new URL(s).protocol;
    } catch {
      // reported below
    }
    if (scheme !== "wss:" && scheme !== "ws:") {
      return {
        ok: false,
        error: `--server ${s}: expected a wss:// (or, with --insecure, ws://) URL`,
      };
    }
  }
  const dialect = v.dialect;
  if (dialect !== "socp" && dialect !== "A" && dialect !== "B") {
    return { ok: false, error: "--dialect: socp, A or B" };
  }
  const timeoutMs = Number(v["timeout-ms"]);
  if (!Number.isInteger(timeoutMs) || timeoutMs < 100) {
    return { ok: false, error: "--timeout-ms: a whole number of milliseconds, at least 100" };
  }
  return {
    ok: true,
    options: {
      servers,
      caFile: v.ca,
      insecure: v.insecure,
      dialect,
      loginPassword: v["login-password"],
      only: list(v.only),
      skip: list(v.skip),
      timeoutMs,
      keysDir: v.keys,
      json: v.json,
      junitFile: v.junit,
      linkAsServer: v["link-as-server"],
    },
  };
}
