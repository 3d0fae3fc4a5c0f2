/**
 * The suite's reports: a human one grouped by section (with the evidence
 * of every FAIL), one JSON document, and JUnit XML for CI.
 *
 * @module
 */

import type { CheckResult } from "./check.ts";

const bySection = (results: CheckResult[]) => {
  const groups = new Map<string, CheckResult[]>();
  for (const r of results) {
    const top = r.section.split(".")[0];
    groups.set(top, [...(groups.get(top) ?? []), r]);
  }
  return [...groups].sort(([a], [b]) => Number(a) - Number(b));
};

/** The human report. */
export function humanReport(results: CheckResult[], target: string): string {
  const lines = [`SOCP conformance of ${target}`, ""];
  for (const [section, group] of bySection(results)) {
    lines.push(`§${section}`);
    for (const r of group) {
      lines.push(
        `  ${r.status.padEnd(4)} ${r.level.padEnd(6)} ${r.id} (§${r.section}): ${r.title}`,
      );
      if (r.detail) lines.push(`         ${r.detail}`);
      if (r.status === "FAIL") {
        if (r.sent) lines.push(`         sent:     ${r.sent}`);
        if (r.expected) lines.push(`         expected: ${r.expected}`);
        if (r.got) lines.push(`         got:      ${r.got}`);
      }
    }
    lines.push("");
  }
  const count = (s: string, level?: string) =>
    results.filter((r) => r.status === s && (!level || r.level === level)).length;
  lines.push(
    `${count("PASS")} passed, ${count("FAIL")} failed (${count("FAIL", "MUST")} MUST, ${
      count("FAIL", "SHOULD")
    } SHOULD), ${count("SKIP")} skipped`,
  );
  return lines.join("\n");
}

/** The `--json` document. */
export function jsonReport(results: CheckResult[]): string {
  return JSON.stringify({
    checks: results.map((r) => ({
      id: r.id,
      section: r.section,
      level: r.level,
      status: r.status,
      detail: [
        r.detail,
        r.sent && `sent: ${r.sent}`,
        r.expected && `expected: ${r.expected}`,
        r.got && `got: ${r.got}`,
      ]
        .filter(Boolean).join("; "),
    })),
  });
}

const xml = (s: string) =>
  s.replace(
    /[<>&"']/g,
    (c) => ({ "<": "&lt;", ">": "&gt;", "&": "&amp;", '"': "&quot;", "'": "&apos;" })[c]!,
  )
    // deno-lint-ignore no-control-regex
    .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/g, "");

/** JUnit XML: one testsuite per section, a failure per FAIL, skipped per SKIP. */
export function junitReport(results: CheckResult[]): string {
  const out = ['<?xml version="1.0" encoding="UTF-8"?>'];
  const failures = results.filter((r) => r.status === "FAIL").length;
  out.push(`<testsuites name="socp-conformance" tests="${results.length}" failures="${failures}">`);
  for (const [section, group] of bySection(results)) {
    const f = group.filter((r) => r.status === "FAIL").length;
    const s = group.filter((r) => r.status === "SKIP").length;
    out.push(
      `  <testsuite name="§${section}" tests="${group.length}" failures="${f}" skipped="${s}">`,
    );
    for (const r of group) {
      const name = xml(`${r.id} [${r.level}] ${r.title}`);
      out.push(
        `    <testcase classname="socp.${xml(r.section)}" name="${name}" time="${
          (r.ms / 1000).toFixed(3)
        }">`,
      );
      if (r.status === "FAIL") {
        const body = [
          r.detail,
          r.sent && `sent: ${r.sent}`,
          r.expected && `expected: ${r.expected}`,
          r.got && `got: ${r.got}`,
        ]
          .filter(Boolean).join("\n");
        out.push(`      <failure message="${xml(r.detail)}">${xml(body)}</failure>`);
      } else if (r.status === "SKIP") {
        out.push(`      <skipped message="${xml(r.detail)}"/>`);
      }
      out.push("    </testcase>");
    }
    out.push("  </testsuite>");
  }
  out.push("</testsuites>", "");
  return out.join("\n");
}
