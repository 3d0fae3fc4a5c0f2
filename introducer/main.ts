/**
 * `socp-introducer`: bootstraps servers into the mesh. It answers
 * SERVER_HELLO_JOIN, links to the servers it welcomes and to other
 * introducers, and hosts no users. Run with `--help`.
 *
 * @module
 */

import { runCli } from "../server/cli.ts";

if (import.meta.main) await runCli("introducer", Deno.args);
