/**
 * Command-line and environment configuration of `socp-server` and
 * `socp-introducer`. Every flag `--some-flag` falls back to the environment
 * variable `SOCP_SOME_FLAG`. Parsing is pure: files named by flags are read
 * by the caller.
 *
 * @module
 */

import { VERSION } from "../version.ts";
import { type CryptoChoice, isCryptoChoice } from "../crypto/select.ts";
import { isTrimChoice, type TrimChoice } from "./memory_trim.ts";
import { isTlsEngineChoice, type TlsEngineChoice } from "./tls_engine.ts";
import { parseArgs } from "node:util";
import { DEFAULT_LIMITS, type Limits } from "../protocol/limits.ts";
import type { LogFormat, LogLevel } from "./log.ts";

/** Which role a node plays. */
export type Role = "server" | "introducer";

/** One bootstrap introducer: where to dial and, ideally, its pinned key. */
export interface BootstrapEntry {
  host: string;
  port: number;
  /** The introducer's key (any accepted form); absent means unpinned. */
  pubkey?: string;
  /**
   * `"A"`: a dialect A introducer. Nothing can be detected before joining
   * it, and its WELCOME cannot be verified (see `acceptUnverifiedWelcome`).
   * `"B"`: a dialect B server (each is an introducer), pinned by `pubkey`;
   * its link frames are unsigned (see `acceptUnsignedServers`).
   */
  dialect?: "A" | "B";
}

/** A node's full configuration. */
export interface NodeConfig {
  role: Role;
  host: string;
  port: number;
  /** Host peers dial to reach this node. */
  publicHost: string;
  dataDir: string;
  /** Introducers given with `--introducer`. */
  introducers: BootstrapEntry[];
  /** A bootstrap file (`{"bootstrap_servers":[…]}`), read by the caller. */
  introducersFile?: string;
  tlsCert?: string;
  tlsKey?: string;
  /** CA certificate file trusted when dialling peers. */
  caFile?: string;
  /** Plain ws:// instead of wss:// (tests and local experiments only). */
  insecurePlain: boolean;
  logLevel: LogLevel;
  logFormat: LogFormat;
  /** The RSA backend (`--crypto`): WebCrypto, OpenSSL through FFI, or OpenSSL when it loads. */
  crypto: CryptoChoice;
  /** Whether freed memory is given back to the system (`--trim-memory`; FFI to glibc). */
  trimMemory: TrimChoice;
  /** What serves TLS on the listener (`--tls-engine`; `openssl` through FFI). */
  tlsEngine: TlsEngineChoice;
  /** Accept a bootstrap introducer whose key the list does not give. */
  allowUnpinnedIntroducer: boolean;
  /**
   * Join dialect A introducers (bootstrap entries with `"dialect":"A"`),
   * whose WELCOME is signed by a key made at each start and never published.
   */
  acceptUnverifiedWelcome: boolean;
  /**
   * Take the unsigned WELCOME and link frames of dialect B servers, from the
   * bootstrap entries with `"dialect":"B"` and a pinned key only.
   */
  acceptUnsignedServers: boolean;
  /** Refuse links from servers whose key is not already pinned. */
  requireKnownServers: boolean;
  /** Accept unsigned user frames (off by default; SOCP.md §5.1). */
  acceptUnsignedUserFrames: boolean;
  /** Register unsigned, password-less hellos (off by default; SOCP.md §10.2). */
  allowUnsignedHello: boolean;
  /** Answer SERVER_HELLO_JOIN (always true for the introducer). */
  acceptJoins: boolean;
  /** Accept user connections (false for the introducer). */
  hostsUsers: boolean;
  /** Limits, including the heartbeat interval and link timeout. */
  limits: Limits;
  /** Cap on the database's size in bytes; writes beyond it fail like on a full disk. */
  maxDbBytes?: number;
}

/** Result of {@linkcode parseConfig}. */
export type ConfigResult =
  | { ok: true; config: NodeConfig }
  | { ok: false; error: string }
  | { ok: false; help: string };

interface FlagSpec {
  type: "string" | "boolean";
  multiple?: boolean;
  help: string;
  arg?: string;
  roles?: Role[];
}

const FLAGS: Record<string, FlagSpec> = {
  "host": { type: "string", arg: "ADDR", help: "address to listen on (default 127.0.0.1)" },
  "port": {
    type: "string",
    arg: "N",
    help: "port to listen on; 0 picks a free one (default 8443, introducer 8765)",
  },
  "public-host": {
    type: "string",
    arg: "HOST",
    help: "host peers dial to reach this node (default: --host)",
  },
  "data": {
    type: "string",
    arg: "DIR",
    help: "data directory: identity key and SQLite database (default .socp/<role>)",
  },
  "introducer": {
    type: "string",
    multiple: true,
    arg: "URL",
    help:
      "bootstrap introducer, wss://host:port[/ws][?pubkey=KEY][&dialect=A|B]; repeatable, in order",
  },
  "introducers": {
    type: "string",
    arg: "FILE",
    help: 'bootstrap file {"bootstrap_servers":[{host,port,pubkey,dialect?}]}',
  },
  "tls-cert": { type: "string", arg: "FILE", help: "TLS certificate (PEM) for wss://" },
  "tls-key": { type: "string", arg: "FILE", help: "TLS private key (PEM) for wss://" },
  "ca": {
    type: "string",
    arg: "FILE",
    help: "CA certificate(s) (PEM) trusted when dialling peers",
  },
  "insecure-plain": {
    type: "boolean",
    help: "serve and dial plain ws:// (tests only; never a fallback)",
  },
  "heartbeat-ms": {
    type: "string",
    arg: "MS",
    help: "HEARTBEAT interval on server links (default 15000)",
  },
  "timeout-ms": {
    type: "string",
    arg: "MS",
    help: "silence after which a server link is dead (default 45000)",
  },
  "max-frame-bytes": { type: "string", arg: "N", help: "largest inbound frame (default 8388608)" },
  "first-frame-timeout-ms": {
    type: "string",
    arg: "MS",
    help: "time to send a first frame (default 10000)",
  },
  "header-timeout-ms": {
    type: "string",
    arg: "MS",
    help: "time from connect until the HTTP request (TLS included) has arrived (default 10000)",
  },
  "clock-window-ms": {
    type: "string",
    arg: "MS",
    help: "allowed clock skew of ts and hello auth_ts (default 120000)",
  },
  "max-file-bytes": {
    type: "string",
    arg: "N",
    help: "largest file a user may send (default 8388608)",
    roles: ["server"],
  },
  "user-rate": {
    type: "string",
    arg: "N",
    help: "frames per second per user link (default 500)",
    roles: ["server"],
  },
  "user-burst": {
    type: "string",
    arg: "N",
    help: "burst of the user-link rate (default 1000)",
    roles: ["server"],
  },
  "max-conns-per-ip": {
    type: "string",
    arg: "N",
    help: "open connections per remote IP (default 32)",
  },
  "max-pending-per-ip": {
    type: "string",
    arg: "N",
    help: "connections per IP before a first frame (default 8)",
  },
  "password-backoff-ms": {
    type: "string",
    arg: "MS",
    help: "first delay after 3 failed passwords per user or address; doubles (default 1000)",
    roles: ["server"],
  },
  "max-local-users": {
    type: "string",
    arg: "N",
    help: "users this server hosts at once (default 10000)",
    roles: ["server"],
  },
  "queue-messages": {
    type: "string",
    arg: "N",
    help: "offline delivery: items kept for one absent user (default 500)",
    roles: ["server"],
  },
  "queue-bytes": {
    type: "string",
    arg: "N",
    help: "offline delivery: bytes kept for one absent user, files included (default 33554432)",
    roles: ["server"],
  },
  "queue-sender-messages": {
    type: "string",
    arg: "N",
    help: "offline delivery: items one sender may have waiting here (default 1000)",
    roles: ["server"],
  },
  "queue-sender-bytes": {
    type: "string",
    arg: "N",
    help: "offline delivery: bytes one sender may have waiting here (default 67108864)",
    roles: ["server"],
  },
  "queue-expiry-ms": {
    type: "string",
    arg: "MS",
    help: "offline delivery: how long queued items are kept (default 1209600000: 14 days)",
    roles: ["server"],
  },
  "max-db-bytes": {
    type: "string",
    arg: "N",
    help: "cap the database at N bytes; writes past it are refused cleanly (default: no cap)",
  },
  "accept-unsigned-user-frames": {
    type: "boolean",
    help: "accept unsigned frames from users (dialect C)",
    roles: ["server"],
  },
  "allow-unsigned-hello": {
    type: "boolean",
    help: "register unsigned hellos without a password (insecure)",
    roles: ["server"],
  },
  "log-level": { type: "string", arg: "LEVEL", help: "debug | info | warn | error (default info)" },
  "log-format": { type: "string", arg: "FMT", help: "json | text (default text)" },
  "crypto": {
    type: "string",
    arg: "NAME",
    help: "RSA backend: webcrypto | openssl (needs --allow-ffi) | auto (default webcrypto)",
  },
  "trim-memory": {
    type: "string",
    arg: "WHEN",
    help:
      "give freed memory back to the system: auto (when FFI is granted) | on (needs --allow-ffi) | off",
  },
  "tls-engine": {
    type: "string",
    arg: "NAME",
    help:
      "TLS of the listener: auto (OpenSSL when FFI is granted) | node | openssl (needs --allow-ffi)",
  },
  "allow-unpinned-introducer": {
    type: "boolean",
    help: "accept an introducer whose key the bootstrap list lacks (development)",
  },
  "accept-unverified-welcome": {
    type: "boolean",
    help:
      'join dialect A introducers ("dialect":"A" entries) without verifying their WELCOME (risky)',
  },
  "accept-unsigned-servers": {
    type: "boolean",
    help: 'join dialect B servers ("dialect":"B" entries with a pubkey): unsigned WELCOME',
  },
  "require-known-servers": {
    type: "boolean",
    help: "refuse links from servers whose key is not pinned yet",
  },
  "accept-joins": {
    type: "boolean",
    help: "also act as an introducer (answer SERVER_HELLO_JOIN)",
    roles: ["server"],
  },
  "help": { type: "boolean", help: "show this help" },
  "version": { type: "boolean", help: "print the version" },
};

function envName(flag: string): string {
  return "SOCP_" + flag.toUpperCase().replaceAll("-", "_");
}

/**
 * Every environment variable the roles read (for `--allow-env=…`).
 *
 * @example
 * ```ts
 * import { ENV_NAMES } from "./config.ts";
 * ENV_NAMES.includes("SOCP_PORT"); // true
 * ```
 */
export const ENV_NAMES: readonly string[] = Object.keys(FLAGS).filter((f) =>
  f !== "help" && f !== "version"
).map(
  envName,
);

/**
 * The `--help` text of a role.
 *
 * @example
 * ```ts
 * import { helpText } from "./config.ts";
 * helpText("server").includes("--introducer"); // true
 * ```
 */
export function helpText(role: Role): string {
  const name = role === "server" ? "socp-server" : "socp-introducer";
  const lines = Object.entries(FLAGS)
    .filter(([, spec]) => !spec.roles || spec.roles.includes(role))
    .map(([flag, spec]) => {
      const left = `  --${flag}${spec.arg ? ` ${spec.arg}` : ""}`;
      const env = flag === "help" || flag === "version" ? "" : `  [${envName(flag)}]`;
      return `${left.padEnd(34)}${spec.help}${env}`;
    });
  const what = role === "server"
    ? "Hosts users, links to every other server, gossips presence and routes end-to-end encrypted traffic."
    : "Bootstraps servers into the mesh: answers SERVER_HELLO_JOIN and hosts no users.";
  return `${name}: SOCP v1.3 ${role}. ${what}\n\nUsage: ${name} [options]\n\nOptions (environment fallback in brackets):\n${
    lines.join("\n")
  }\n`;
}

/**
 * Parses one `--introducer` value: `wss://host:port[/path][?pubkey=KEY]`
 * (`&dialect=A` or `B` for a dialect A or B introducer), `ws://…`, or bare
 * `host:port`.
 *
 * @example
 * ```ts
 * import { parseIntroducerUrl } from "./config.ts";
 * parseIntroducerUrl("wss://127.0.0.1:8765/ws?pubkey=MIIC")?.port; // 8765
 * ```
 */
export function parseIntroducerUrl(text: string): BootstrapEntry | null {
  let url: URL;
  try {
    url = new URL(/^wss?:\/\//.test(text) ? text : `wss://${text}`);
  } catch {
    return null;
  }
  const port = Number(url.port || (url.protocol === "ws:" ? 80 : 443));
  if (!url.hostname || !Number.isInteger(port) || port < 1 || port > 65535) return null;
  const host = url.hostname.replace(/^\[(.*)\]$/, "$1");
  const pubkey = url.searchParams.get("pubkey") ?? undefined;
  return {
    host,
    port,
    ...(pubkey ? { pubkey } : {}),
    ...entryDialect(url.searchParams.get("dialect")),
  };
}

/**
 * Reads the entries of a bootstrap file's JSON text (the seeds' format).
 *
 * @example
 * ```ts
 * import { parseBootstrapFile } from "./config.ts";
 * parseBootstrapFile('{"bootstrap_servers":[{"host":"h","port":1,"pubkey":"k"}]}').length; // 1
 * ```
 */
export function parseBootstrapFile(text: string): BootstrapEntry[] {
  const data = JSON.parse(text);
  const list = data?.bootstrap_servers;
  if (!Array.isArray(list)) throw new Error("bootstrap file needs a bootstrap_servers array");
  return list.map((e: unknown, i: number) => {
    const entry = e as Record<string, unknown>;
    const port = Number(entry?.port);
    if (typeof entry?.host !== "string" || !Number.isInteger(port) || port < 1 || port > 65535) {
      throw new Error(`bootstrap_servers[${i}] needs host and port`);
    }
    return {
      host: entry.host,
      port,
      ...(typeof entry.pubkey === "string" && entry.pubkey ? { pubkey: entry.pubkey } : {}),
      ...entryDialect(entry.dialect),
    };
  });
}

/** The `dialect` field of a bootstrap entry, when it names one we join differently. */
function entryDialect(value: unknown): Pick<BootstrapEntry, "dialect"> {
  return value === "A" || value === "B" ? { dialect: value } : {};
}

/** Numeric flags that set a limit: flag → [field of {@linkcode Limits}, minimum]. */
const LIMIT_FLAGS: Record<string, [keyof Limits, number]> = {
  "heartbeat-ms": ["heartbeatMs", 10],
  "timeout-ms": ["linkTimeoutMs", 10],
  "max-frame-bytes": ["maxFrameBytes", 1024],
  "first-frame-timeout-ms": ["firstFrameTimeoutMs", 10],
  "header-timeout-ms": ["headerTimeoutMs", 10],
  "clock-window-ms": ["clockWindowMs", 1000],
  "max-file-bytes": ["maxFileBytes", 0],
  "user-rate": ["userRatePerSec", 1],
  "user-burst": ["userBurst", 1],
  "max-conns-per-ip": ["connectionsPerIp", 1],
  "max-pending-per-ip": ["pendingConnectionsPerIp", 1],
  "max-local-users": ["maxLocalUsers", 1],
  "password-backoff-ms": ["passwordBackoffMs", 1],
  "queue-messages": ["queueMessagesPerRecipient", 0],
  "queue-bytes": ["queueBytesPerRecipient", 0],
  "queue-sender-messages": ["queueMessagesPerSender", 0],
  "queue-sender-bytes": ["queueBytesPerSender", 0],
  "queue-expiry-ms": ["queueExpiryMs", 1000],
};

function toInt(
  name: string,
  value: string | undefined,
  fallback: number,
  min = 0,
): number | string {
  if (value === undefined || value === "") return fallback;
  const n = Number(value);
  return Number.isSafeInteger(n) && n >= min ? n : `--${name} must be an integer >= ${min}`;
}

/**
 * Parses command-line arguments with environment fallbacks.
 *
 * @example
 * ```ts
 * import { parseConfig } from "./config.ts";
 * const r = parseConfig("server", ["--port", "0", "--insecure-plain"], {});
 * r.ok && r.config.port; // 0
 * ```
 */
export function parseConfig(role: Role, args: string[], env: Record<string, string>): ConfigResult {
  const options = Object.fromEntries(
    Object.entries(FLAGS)
      .filter(([, spec]) => !spec.roles || spec.roles.includes(role))
      .map(([flag, spec]) => [flag, { type: spec.type, multiple: spec.multiple ?? false }]),
  );
  let values: Record<string, string | boolean | (string | boolean)[] | undefined>;
  try {
    // `deno task server -- --port 9000` passes the separator through.
    const rest = args[0] === "--" ? args.slice(1) : args;
    values = parseArgs({ args: rest, options, strict: true, allowPositionals: false }).values;
  } catch (e) {
    return { ok: false, error: `${(e as Error).message}\nTry --help.` };
  }
  if (values.help) return { ok: false, help: helpText(role) };
  if (values.version) return { ok: false, help: `socp-${role} ${VERSION}` };

  const str = (flag: string): string | undefined =>
    (values[flag] as string | undefined) ?? env[envName(flag)];
  const bool = (flag: string): boolean => {
    if (values[flag] !== undefined) return values[flag] === true;
    return ["1", "true", "yes"].includes((env[envName(flag)] ?? "").toLowerCase());
  };

  const introducerTexts = (values.introducer as string[] | undefined) ??
    (env.SOCP_INTRODUCER
      ? env.SOCP_INTRODUCER.split(",").map((s) => s.trim()).filter(Boolean)
      : []);
  const introducers: BootstrapEntry[] = [];
  for (const text of introducerTexts) {
    const entry = parseIntroducerUrl(text);
    if (!entry) return { ok: false, error: `--introducer: cannot read ${JSON.stringify(text)}` };
    introducers.push(entry);
  }

  const port = toInt("port", str("port"), role === "server" ? 8443 : 8765);
  if (typeof port === "string") return { ok: false, error: port };
  if (port > 65535) return { ok: false, error: "--port must be at most 65535" };
  const limits: Limits = { ...DEFAULT_LIMITS };
  for (const [flag, [field, min]] of Object.entries(LIMIT_FLAGS)) {
    const value = toInt(flag, str(flag), DEFAULT_LIMITS[field], min);
    if (typeof value === "string") return { ok: false, error: value };
    limits[field] = value;
  }
  // A hello nonce must outlive every ts the window still accepts (SOCP.md §11: 240 s for 120 s).
  limits.helloReplayMs = 2 * limits.clockWindowMs;

  const logLevel = (str("log-level") ?? "info") as LogLevel;
  if (!["debug", "info", "warn", "error"].includes(logLevel)) {
    return { ok: false, error: "--log-level: debug|info|warn|error" };
  }
  const logFormat = (str("log-format") ?? "text") as LogFormat;
  if (!["json", "text"].includes(logFormat)) return { ok: false, error: "--log-format: json|text" };
  const crypto = str("crypto") ?? "webcrypto";
  if (!isCryptoChoice(crypto)) return { ok: false, error: "--crypto: webcrypto|openssl|auto" };
  const trimMemory = str("trim-memory") ?? "auto";
  if (!isTrimChoice(trimMemory)) return { ok: false, error: "--trim-memory: auto|on|off" };
  const tlsEngine = str("tls-engine") ?? "auto";
  if (!isTlsEngineChoice(tlsEngine)) return { ok: false, error: "--tls-engine: auto|node|openssl" };

  const insecurePlain = bool("insecure-plain");
  const tlsCert = str("tls-cert");
  const tlsKey = str("tls-key");
  if (!insecurePlain && (!tlsCert || !tlsKey)) {
    return {
      ok: false,
      error:
        "wss needs --tls-cert and --tls-key (or pass --insecure-plain for plain ws:// in tests)",
    };
  }
  const maxDbBytes = toInt("max-db-bytes", str("max-db-bytes"), 0, 0);
  if (typeof maxDbBytes === "string") return { ok: false, error: maxDbBytes };
  const host = str("host") ?? "127.0.0.1";
  return {
    ok: true,
    config: {
      role,
      host,
      port,
      publicHost: str("public-host") ?? (host === "0.0.0.0" || host === "::" ? "127.0.0.1" : host),
      dataDir: str("data") ?? `.socp/${role}`,
      introducers,
      introducersFile: str("introducers"),
      tlsCert: insecurePlain ? undefined : tlsCert,
      tlsKey: insecurePlain ? undefined : tlsKey,
      caFile: str("ca"),
      insecurePlain,
      logLevel,
      logFormat,
      crypto,
      trimMemory,
      tlsEngine,
      allowUnpinnedIntroducer: bool("allow-unpinned-introducer"),
      acceptUnverifiedWelcome: bool("accept-unverified-welcome"),
      acceptUnsignedServers: bool("accept-unsigned-servers"),
      requireKnownServers: bool("require-known-servers"),
      acceptUnsignedUserFrames: bool("accept-unsigned-user-frames"),
      allowUnsignedHello: bool("allow-unsigned-hello"),
      acceptJoins: role === "introducer" || bool("accept-joins"),
      hostsUsers: role === "server",
      limits,
      ...(maxDbBytes > 0 ? { maxDbBytes } : {}),
    },
  };
}
