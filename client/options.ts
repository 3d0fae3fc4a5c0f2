/**
 * `socp-client` flags, with `SOCP_*` environment fallbacks. Pure: the
 * launcher of the bundled client reuses it to compute permissions.
 *
 * @module
 */

import { VERSION } from "../version.ts";
import { type CryptoChoice, isCryptoChoice } from "../crypto/select.ts";
import { parseArgs } from "node:util";
import { sanitizeFileName } from "./filename.ts";

/** Everything the client CLI is told. */
export interface ClientCliOptions {
  server: string;
  user: string;
  dataDir: string;
  downloads: string;
  caFile?: string;
  passwordFile?: string;
  /** Directories the user may send files from without being asked. */
  files: string[];
  insecure: boolean;
  json: boolean;
  /** The server's dialect (docs/DIALECTS.md); ours by default. */
  serverDialect: "socp" | "A" | "B";
  /** A password the server checks (dialect A servers); sent only when given. */
  loginPassword?: string;
  /** The RSA backend (`--crypto`). */
  crypto: CryptoChoice;
  /** Keep the input history in DATA/history (`--no-history` turns it off). */
  history: boolean;
}

/** The environment variables the client reads (flag fallbacks and the identity password's). */
export const CLIENT_ENV_NAMES: readonly string[] = [
  "SOCP_SERVER",
  "SOCP_USER",
  "SOCP_DATA",
  "SOCP_DOWNLOADS",
  "SOCP_CA",
  "SOCP_SERVER_DIALECT",
  "SOCP_LOGIN_PASSWORD",
  "SOCP_CRYPTO",
];

/** The values of {@linkcode CLIENT_ENV_NAMES} in this process's environment. */
export function clientEnv(): Record<string, string | undefined> {
  return Object.fromEntries(CLIENT_ENV_NAMES.map((n) => [n, Deno.env.get(n)]));
}

/** Result of {@linkcode parseClientOptions}. */
export type ClientOptionsResult = { ok: true; options: ClientCliOptions } | {
  ok: false;
  error: string;
} | { ok: false; help: string };

/** The `--help` text. */
export const CLIENT_HELP = `socp-client: end-to-end encrypted SOCP v1.3 chat.

Usage: socp-client --server URL --user NAME [options]

  --server URL          server endpoint, e.g. wss://127.0.0.1:8443/ws        [SOCP_SERVER]
  --user NAME           your display name                                     [SOCP_USER]
  --data DIR            identity and state (default .socp/clients/NAME)       [SOCP_DATA]
  --downloads DIR       where received files go (default DATA/downloads)      [SOCP_DOWNLOADS]
  --ca FILE             CA certificate (PEM) to trust for wss://              [SOCP_CA]
  --password-file FILE  identity password (else SOCP_PASSWORD, else a prompt)
  --files DIR           a directory you may send files from (repeatable); in a terminal,
                        other files are sent after you allow reading them
  --insecure            allow plain ws:// (development only; never disables certificate checks)
  --server-dialect D    the server's dialect: socp (default), A or B (docs/DIALECTS.md)
                                                                              [SOCP_SERVER_DIALECT]
  --login-password PW   a password the server checks (dialect A servers need one); sent to
                        the server only when given; prefer the variable, a flag shows in ps
                                                                              [SOCP_LOGIN_PASSWORD]
  --crypto NAME         RSA backend: webcrypto (default), openssl (system libcrypto;
                        needs --allow-ffi) or auto (openssl when it loads)       [SOCP_CRYPTO]
  --no-history          do not keep what you type in DATA/history (mode 0600; a line
                        typed with a leading space is never kept)
  --json                one JSON object per line on stdout for every event
  --version             print the version
  --help                this help

In the chat: /list, /tell <name|id> <text>, /all <text>, /file <name|id|public> <path>, /help, /quit.
Colours only on a terminal, and never with NO_COLOR set.
Exit codes: 0 done, 1 cannot connect or refused, 2 usage, 3 wrong password or bad identity file.
`;

/**
 * Parses client flags (a leading `--`, as `deno task` passes it, is ignored).
 *
 * @example
 * ```ts
 * import { parseClientOptions } from "./options.ts";
 * const r = parseClientOptions(["--server", "wss://h:1/ws", "--user", "Ann"], {});
 * r.ok && r.options.dataDir; // ".socp/clients/Ann"
 * ```
 */
export function parseClientOptions(
  args: string[],
  env: Record<string, string | undefined>,
): ClientOptionsResult {
  let values;
  try {
    values = parseArgs({
      args: args[0] === "--" ? args.slice(1) : args,
      strict: true,
      options: {
        server: { type: "string" },
        user: { type: "string" },
        data: { type: "string" },
        downloads: { type: "string" },
        ca: { type: "string" },
        "password-file": { type: "string" },
        files: { type: "string", multiple: true },
        insecure: { type: "boolean" },
        json: { type: "boolean" },
        "no-history": { type: "boolean" },
        "server-dialect": { type: "string" },
        "login-password": { type: "string" },
        crypto: { type: "string" },
        help: { type: "boolean" },
        version: { type: "boolean" },
      },
    }).values;
  } catch (e) {
    return { ok: false, error: `${(e as Error).message} (try --help)` };
  }
  if (values.help) return { ok: false, help: CLIENT_HELP };
  if (values.version) return { ok: false, help: `socp-client ${VERSION}` };
  const server = values.server ?? env.SOCP_SERVER;
  const user = values.user ?? env.SOCP_USER;
  if (!server || !user) {
    return { ok: false, error: "--server URL and --user NAME are required (try --help)" };
  }
  try {
    const scheme = new URL(server).protocol;
    if (scheme !== "wss:" && scheme !== "ws:") throw new Error();
  } catch {
    return { ok: false, error: `--server must be a wss:// URL, got ${JSON.stringify(server)}` };
  }
  const serverDialect = values["server-dialect"] ?? env.SOCP_SERVER_DIALECT ?? "socp";
  if (serverDialect !== "socp" && serverDialect !== "A" && serverDialect !== "B") {
    return { ok: false, error: "--server-dialect must be socp, A or B" };
  }
  const loginPassword = values["login-password"] ?? env.SOCP_LOGIN_PASSWORD;
  if (serverDialect === "A" && !loginPassword) {
    return {
      ok: false,
      error: "a dialect A server logs users in by password: give --login-password " +
        "(or SOCP_LOGIN_PASSWORD)",
    };
  }
  const crypto = values.crypto ?? env.SOCP_CRYPTO ?? "webcrypto";
  if (!isCryptoChoice(crypto)) return { ok: false, error: "--crypto: webcrypto|openssl|auto" };
  const dataDir = values.data ?? env.SOCP_DATA ?? `.socp/clients/${sanitizeFileName(user, "user")}`;
  return {
    ok: true,
    options: {
      server,
      user,
      dataDir,
      downloads: values.downloads ?? env.SOCP_DOWNLOADS ?? `${dataDir}/downloads`,
      caFile: values.ca ?? env.SOCP_CA,
      passwordFile: values["password-file"],
      files: values.files ?? [],
      insecure: values.insecure ?? false,
      json: values.json ?? false,
      history: !values["no-history"],
      serverDialect,
      crypto,
      ...(loginPassword ? { loginPassword } : {}),
    },
  };
}
