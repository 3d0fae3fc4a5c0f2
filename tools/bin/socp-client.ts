// Entry of the bundled `socp-client`: relaunches itself with the narrowest
// permissions its flags need (tools/permissions.ts), then runs the client.

import { runClientCli } from "../../client/main.ts";
import { clientEnv, parseClientOptions } from "../../client/options.ts";
import { isLaunched, relaunch } from "../launch.ts";
import { clientPermissions } from "../permissions.ts";

const parsed = isLaunched() ? undefined : parseClientOptions(Deno.args, clientEnv());
if (parsed?.ok) {
  Deno.exit(
    await relaunch(
      new URL(import.meta.url).pathname,
      clientPermissions(parsed.options),
      Deno.args,
      {
        // In a terminal, a file outside --files is read after the user allows it (see --help).
        prompt: Deno.stdin.isTerminal() && !parsed.options.json,
      },
    ),
  );
}
Deno.exit(await runClientCli(Deno.args)); // the launched child, or --help and flag errors
