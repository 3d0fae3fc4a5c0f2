// Entry of the bundled `socp-introducer`: relaunches itself with the narrowest
// permissions its flags need (tools/permissions.ts), then runs the introducer.

import { parseConfig } from "../../server/config.ts";
import { readEnv, runCli } from "../../server/cli.ts";
import { isLaunched, relaunch } from "../launch.ts";
import { serverPermissions } from "../permissions.ts";

const parsed = isLaunched() ? undefined : parseConfig("introducer", Deno.args, readEnv());
if (parsed?.ok) {
  Deno.exit(
    await relaunch(new URL(import.meta.url).pathname, serverPermissions(parsed.config), Deno.args),
  );
}
await runCli("introducer", Deno.args); // the launched child, or --help and flag errors
