/**
 * What a conformance check is: an id, the SOCP.md section it tests, its
 * level (MUST or SHOULD, as the section says), and a function that passes,
 * fails with evidence (what was sent, what was expected, what came back),
 * or is skipped with the reason it could not be asked.
 *
 * @module
 */

import type { Frame } from "../protocol/types.ts";
import type { Target } from "./target.ts";

/** A check's outcome. */
export type Status = "PASS" | "FAIL" | "SKIP";

/** One result, as the reports print it. */
export interface CheckResult {
  id: string;
  section: string;
  level: "MUST" | "SHOULD";
  title: string;
  status: Status;
  detail: string;
  /** Evidence of a FAIL. */
  sent?: string;
  expected?: string;
  got?: string;
  ms: number;
}

/** A check of the suite. */
export interface Check {
  id: string;
  /** SOCP.md section, e.g. "6.2". */
  section: string;
  level: "MUST" | "SHOULD";
  title: string;
  /** What the target must offer, else the check is skipped. */
  needs?: "two-servers" | "socp-dialect";
  run(t: Target): Promise<string | void>;
}

/** A failed expectation, with its evidence. */
export class CheckFailure extends Error {
  readonly sent?: string;
  readonly expected: string;
  readonly got: string;

  constructor(what: string, evidence: { expected: string; got: unknown; sent?: unknown }) {
    super(what);
    this.expected = evidence.expected;
    this.got = describe(evidence.got);
    this.sent = evidence.sent === undefined ? undefined : describe(evidence.sent);
  }
}

/** A check that cannot be asked of this target (reported as SKIP with the reason). */
export class Skip extends Error {}

/** Short text of a frame or value for a report (long strings cut). */
export function describe(value: unknown): string {
  if (value === undefined) return "nothing";
  if (typeof value === "string") return value.length > 400 ? `${value.slice(0, 400)}…` : value;
  const text = JSON.stringify(
    value,
    (_k, v) => typeof v === "string" && v.length > 80 ? `${v.slice(0, 40)}…(${v.length} chars)` : v,
  );
  return text.length > 600 ? `${text.slice(0, 600)}…` : text;
}

/** Fails unless `ok`. */
export function expect(
  ok: boolean,
  what: string,
  evidence: { expected: string; got: unknown; sent?: unknown },
): asserts ok {
  if (!ok) throw new CheckFailure(what, evidence);
}

/** A matcher of ERROR frames (with one of `code`, when given). */
export function isError(code?: string | string[]): (f: Frame) => boolean {
  const codes = code === undefined ? undefined : Array.isArray(code) ? code : [code];
  return (f) =>
    f.type === "ERROR" && (!codes || codes.includes((f.payload as { code?: string }).code ?? ""));
}
