/**
 * `socp-server`: hosts users, links to every other server, gossips presence
 * and routes end-to-end encrypted traffic it cannot read. Run with `--help`.
 *
 * @module
 */

import { runCli } from "./cli.ts";

if (import.meta.main) await runCli("server", Deno.args);
