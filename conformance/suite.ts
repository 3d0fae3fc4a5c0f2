/**
 * Runs the conformance checks against a target, one at a time, each with
 * its own users and a time limit. A check that throws anything but a
 * CheckFailure or Skip is a FAIL with the error as evidence: a target that
 * answers nonsense never crashes the suite.
 *
 * @module
 */

import { type Check, CheckFailure, type CheckResult, Skip } from "./check.ts";
import { DM_CHECKS } from "./checks/dm.ts";
import { ENVELOPE_CHECKS } from "./checks/envelope.ts";
import { FILE_CHECKS } from "./checks/files.ts";
import { HELLO_CHECKS } from "./checks/hello.ts";
import { LIMIT_CHECKS } from "./checks/limits.ts";
import { LINK_CHECKS } from "./checks/links.ts";
import { PRESENCE_CHECKS } from "./checks/presence.ts";
import { PUBLIC_CHECKS } from "./checks/public.ts";
import { TRANSPORT_CHECKS } from "./checks/transport.ts";
import { keyPool, Target, type TargetOptions } from "./target.ts";

/** Every check, in the order they run. */
export const CHECKS: readonly Check[] = [
  ...TRANSPORT_CHECKS,
  ...HELLO_CHECKS,
  ...ENVELOPE_CHECKS,
  ...DM_CHECKS,
  ...PRESENCE_CHECKS,
  ...PUBLIC_CHECKS,
  ...FILE_CHECKS,
  ...LIMIT_CHECKS,
  ...LINK_CHECKS,
];

/** Which checks run: ids or sections (`6.2`, or an id prefix such as `hello.`). */
export interface Selection {
  only?: string[];
  skip?: string[];
}

const picks = (check: Check, patterns: string[]) =>
  patterns.some((p) =>
    check.id === p || check.id.startsWith(p) || check.section === p ||
    check.section.startsWith(`${p}.`)
  );

/** Runs the selected checks; `progress` hears each result as it comes. */
export async function runSuite(
  options: TargetOptions,
  selection: Selection = {},
  progress: (result: CheckResult, index: number, total: number) => void = () => {},
): Promise<CheckResult[]> {
  const keys = await keyPool(options.keysDir);
  const chosen = CHECKS.filter((c) =>
    (!selection.only?.length || picks(c, selection.only)) &&
    !(selection.skip?.length && picks(c, selection.skip))
  );
  const results: CheckResult[] = [];
  for (const [i, check] of chosen.entries()) {
    const result = await runOne(check, new Target(options, keys), options);
    results.push(result);
    progress(result, i, chosen.length);
  }
  return results;
}

async function runOne(check: Check, target: Target, options: TargetOptions): Promise<CheckResult> {
  const base = { id: check.id, section: check.section, level: check.level, title: check.title };
  const started = Date.now();
  const done = (status: CheckResult["status"], detail: string, extra = {}): CheckResult => ({
    ...base,
    status,
    detail,
    ...extra,
    ms: Date.now() - started,
  });
  if (check.needs === "two-servers" && target.serverCount < 2) {
    return done("SKIP", "needs two servers of one mesh: give --server twice");
  }
  if (check.needs === "socp-dialect" && options.dialect !== "socp") {
    return done("SKIP", `dialect ${options.dialect} has no such answer (docs/SOCP.md §12)`);
  }
  const limit = Math.max(30_000, options.timeoutMs * 4);
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    const outcome = await Promise.race([
      check.run(target),
      new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`the check took longer than ${limit} ms`)),
          limit,
        );
      }),
    ]);
    return done("PASS", outcome ?? "");
  } catch (e) {
    if (e instanceof Skip) return done("SKIP", e.message);
    if (e instanceof CheckFailure) {
      return done("FAIL", e.message, { sent: e.sent, expected: e.expected, got: e.got });
    }
    return done("FAIL", `${(e as Error).message ?? e}`);
  } finally {
    clearTimeout(timer);
    await target.cleanup();
  }
}

/** Whether the results pass: no MUST failed. */
export function passed(results: CheckResult[]): boolean {
  return !results.some((r) => r.level === "MUST" && r.status === "FAIL");
}
