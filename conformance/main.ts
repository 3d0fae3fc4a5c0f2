/**
 * `deno task conformance -- --server wss://host:port/ws [options]`: the
 * SOCP v1.3 conformance suite, run over the network against any server
 * (docs/CONFORMANCE.md). Exit status 0 only when no MUST check fails.
 *
 * @module
 */

import type { CheckResult } from "./check.ts";
import { parseConformanceArgs } from "./options.ts";
import { humanReport, jsonReport, junitReport } from "./report.ts";
import { passed, runSuite } from "./suite.ts";

/** Runs the suite CLI with `args`; resolves with the exit status. */
export async function conformanceCli(args: string[]): Promise<number> {
  const parsed = parseConformanceArgs(args);
  if (!parsed.ok) {
    if ("help" in parsed) return (console.log(parsed.help), 0);
    console.error(`socp-conformance: ${parsed.error}`);
    return 2;
  }
  const o = parsed.options;
  let caCert: string | undefined;
  if (o.caFile) {
    try {
      caCert = await Deno.readTextFile(o.caFile);
    } catch (e) {
      console.error(`socp-conformance: --ca ${o.caFile}: ${(e as Error).message.split("\n")[0]}`);
      return 2;
    }
  }
  const progress = (r: CheckResult, i: number, total: number) =>
    console.error(`[${i + 1}/${total}] ${r.status.padEnd(4)} ${r.id} (${r.ms} ms)`);
  const results = await runSuite(
    {
      servers: o.servers,
      transport: { caCert, insecure: o.insecure },
      dialect: o.dialect,
      password: o.loginPassword,
      timeoutMs: o.timeoutMs,
      keysDir: o.keysDir,
      linkAsServer: o.linkAsServer,
    },
    { only: o.only, skip: o.skip },
    progress,
  );
  console.log(o.json ? jsonReport(results) : humanReport(results, o.servers.join(" + ")));
  if (o.junitFile) await Deno.writeTextFile(o.junitFile, junitReport(results));
  return passed(results) ? 0 : 1;
}

if (import.meta.main) Deno.exit(await conformanceCli(Deno.args));
