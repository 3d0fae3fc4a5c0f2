/**
 * socp's version, read from `deno.json` (its one place), for `--version` of
 * every role and the client's hello.
 *
 * @module
 */

import config from "./deno.json" with { type: "json" };

/**
 * The release version, e.g. "0.1.0".
 *
 * @example
 * ```ts
 * import { VERSION } from "./version.ts";
 * /^\d+\.\d+\.\d+/.test(VERSION); // true
 * ```
 */
export const VERSION: string = config.version;
