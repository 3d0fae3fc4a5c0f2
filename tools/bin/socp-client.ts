// Entry of the bundled `socp-client`: relaunches itself with the narrowest
// permissions its flags need (tools/permissions.ts), then runs the client.

import { runClientCli } from "../../client/main.ts";
import { parseClientOptions } from "../../client/options.ts";
import { isLaunched, relaunch } from "../launch.ts";
import { clientPermissions } from "../permissions.ts";

function env(): Record<string, string | undefined> {
  const names = [
    "SOCP_SERVER",
    "SOCP_USER",
    "SOCP_DATA",
    "SOCP_DOWNLOADS",
    "SOCP_CA",
    "SOCP_SERVER_DIALECT",
    "SOCP_LOGIN_PASSWORD",
    "SOCP_CRYPTO",
  ];
  return Object.fromEntries(names.map((n) => [n, Deno.env.get(n)]));
}

const parsed = isLaunched() ? undefined : parseClientOptions(Deno.args, env());
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
