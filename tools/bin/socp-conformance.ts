// Entry of the bundled `socp-conformance`: relaunches itself with the
// narrowest permissions its flags need (tools/permissions.ts), then runs
// the suite.

import { conformanceCli } from "../../conformance/main.ts";
import { parseConformanceArgs } from "../../conformance/options.ts";
import { isLaunched, relaunch } from "../launch.ts";
import { conformancePermissions } from "../permissions.ts";

const parsed = isLaunched() ? undefined : parseConformanceArgs(Deno.args);
if (parsed?.ok) {
  Deno.exit(
    await relaunch(
      new URL(import.meta.url).pathname,
      conformancePermissions(parsed.options),
      Deno.args,
    ),
  );
}
Deno.exit(await conformanceCli(Deno.args)); // the launched child, or --help and flag errors
