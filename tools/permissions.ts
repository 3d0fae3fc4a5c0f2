/**
 * The narrowest Deno permissions each role needs, computed from its flags:
 * network, the files and directories the flags name, and `SOCP_*` variables.
 * Used by the bundled executables, which relaunch themselves with them.
 *
 * @module
 */

import type { ClientCliOptions } from "../client/options.ts";
import type { ConformanceOptions } from "../conformance/options.ts";
import type { NodeConfig } from "../server/config.ts";

function list(flag: string, paths: (string | undefined)[]): string {
  const present = paths.filter((p): p is string => !!p);
  for (const p of present) {
    if (p.includes(",")) throw new Error(`paths with commas cannot be granted to Deno: ${p}`);
  }
  return `${flag}=${[...new Set(present)].join(",")}`;
}

/**
 * Permissions of `socp-server` and `socp-introducer`: any network (peers are
 * learned at run time), read on its data directory and the files it is
 * given, write on its data directory only.
 *
 * @example
 * ```ts
 * import { serverPermissions } from "./permissions.ts";
 * import { parseConfig } from "../server/config.ts";
 * const r = parseConfig("server", ["--insecure-plain", "--data", "/srv/socp"], {});
 * r.ok && serverPermissions(r.config); // ["--allow-net", "--allow-read=/srv/socp", "--allow-write=/srv/socp", "--allow-env=SOCP_*"]
 * ```
 */
export function serverPermissions(config: NodeConfig): string[] {
  return [
    "--allow-net",
    list("--allow-read", [
      config.dataDir,
      config.tlsCert,
      config.tlsKey,
      config.caFile,
      config.introducersFile,
    ]),
    list("--allow-write", [config.dataDir]),
    "--allow-env=SOCP_*",
    // `--trim-memory on` and `--tls-engine openssl` reach glibc and libssl through FFI too;
    // their `auto` uses FFI only when granted anyway.
    ...(config.trimMemory === "on" || config.tlsEngine === "openssl"
      ? ["--allow-ffi"]
      : ffiFor(config.crypto)),
  ];
}

/** `--allow-ffi` only for a backend that loads libcrypto (`--crypto openssl|auto`). */
function ffiFor(crypto: string): string[] {
  return crypto === "webcrypto" ? [] : ["--allow-ffi"];
}

/**
 * Permissions of `socp-client`: its server only (and FFI for `--crypto openssl|auto`), read on its data and
 * downloads directories, CA, password file and `--files` directories, write
 * on its data and downloads directories. Other files it sends need the
 * user's consent at run time.
 *
 * @example
 * ```ts
 * import { clientPermissions } from "./permissions.ts";
 * clientPermissions({ server: "wss://chat.example:8443/ws", user: "a", dataDir: "d", downloads: "d/dl", files: [], insecure: false, json: false, serverDialect: "socp", crypto: "webcrypto", history: true })[0];
 * // "--allow-net=chat.example:8443"
 * ```
 */
export function clientPermissions(options: ClientCliOptions): string[] {
  const url = new URL(options.server);
  const port = url.port || (url.protocol === "ws:" ? "80" : "443");
  return [
    `--allow-net=${url.hostname}:${port}`,
    list("--allow-read", [
      options.dataDir,
      options.downloads,
      options.caFile,
      options.passwordFile,
      ...options.files,
    ]),
    list("--allow-write", [options.dataDir, options.downloads]),
    "--allow-env=SOCP_*,NO_COLOR",
    ...ffiFor(options.crypto),
  ];
}

/**
 * Permissions of `socp-conformance`: the servers under test only, read on
 * its CA file and key directory, write on the key directory and the JUnit
 * file, and `SOCP_*` variables.
 *
 * @example
 * ```ts
 * import { conformancePermissions } from "./permissions.ts";
 * import { parseConformanceArgs } from "../conformance/options.ts";
 * const r = parseConformanceArgs(["--server", "wss://chat.example:8443/ws"]);
 * r.ok && conformancePermissions(r.options)[0]; // "--allow-net=chat.example:8443"
 * ```
 */
export function conformancePermissions(options: ConformanceOptions): string[] {
  const hosts = options.servers.map((s) => {
    const url = new URL(s);
    return `${url.hostname}:${url.port || (url.protocol === "ws:" ? "80" : "443")}`;
  });
  return [
    `--allow-net=${[...new Set(hosts)].join(",")}`,
    list("--allow-read", [options.keysDir, options.caFile]),
    list("--allow-write", [options.keysDir, options.junitFile]),
    "--allow-env=SOCP_*",
  ];
}
