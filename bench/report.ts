// The benchmark report: each figure once per RSA backend (WebCrypto,
// OpenSSL) with the OpenSSL / WebCrypto ratio, next to the limits it is
// compared with; the issue's targets with met / missed. Printed and written
// into docs/BENCHMARKS.md between markers (the analysis around the markers
// is kept as written).

import type { ProfileSummary } from "./_profile.ts";
import { type BackendRun, type BenchResults, LABEL } from "./_results.ts";
import { bothColumns, ceilingRows, resultRows, sharedRows } from "./_rows.ts";

export type { BackendRun, BenchResults, CryptoSetup, Step, Target } from "./_results.ts";
export { targets } from "./_results.ts";

export function markdownTable(r: BenchResults): string {
  const backends = r.crypto.backends;
  const head = [
    "section",
    "figure",
    ...backends.map((b) => LABEL[b]),
    ...(bothColumns(r) ? ["OpenSSL ÷ WebCrypto"] : []),
    "target",
    "met",
  ];
  const line = (cells: string[]) => `| ${cells.join(" | ")} |`;
  const rows = [...ceilingRows(r), ...resultRows(r)].map((x) =>
    line([
      x.section,
      x.figure,
      ...backends.map((b) => x.cells[b] ?? ""),
      ...(bothColumns(r) ? [x.change ?? ""] : []),
      x.target ?? "",
      x.met ?? "",
    ])
  );
  return [
    line(head),
    line(head.map(() => "---")),
    ...rows,
    "",
    "Measured once:",
    "",
    "| figure | value |",
    "|---|---|",
    ...sharedRows(r).map(([figure, value]) => line([figure, value])),
  ].join("\n");
}

/** The targets as a Markdown list. */
export function markdownTargets(r: BenchResults): string {
  return r.targets.map((t) =>
    `- ${t.what}: **${t.value}** (target ${t.target}): ${t.met ? "met" : "**missed**"}`
  ).join("\n");
}

/** The table as plain text for the terminal. */
export function textTable(r: BenchResults): string {
  const rows = [...ceilingRows(r), ...resultRows(r)];
  const width = Math.max(...rows.map((x) => x.figure.length));
  const lines = rows.map((x) => {
    const values = r.crypto.backends.map((b) => `${b} ${x.cells[b] ?? "-"}`).join("  ");
    const extra = [
      x.change && `openssl/webcrypto ${x.change}`,
      x.target && `target ${x.target}${x.met ? `: ${x.met.replaceAll("*", "")}` : ""}`,
    ].filter(Boolean).join("  ");
    return `${x.section.padEnd(14)} ${x.figure.padEnd(width)}  ${values}${
      extra ? `  (${extra})` : ""
    }`;
  });
  const shared = sharedRows(r).map(([figure, value]) =>
    `${"once".padEnd(14)} ${figure.padEnd(width)}  ${value}`
  );
  const goals = r.targets.map((t) =>
    `target         ${t.what}: ${t.value} (${t.target}) ${t.met ? "met" : "MISSED"}`
  );
  return [...lines, ...shared, ...goals].join("\n");
}

function profileLines(name: string, p: ProfileSummary | undefined): string[] {
  if (!p) return [];
  const pct = (v: number) => `${Math.round(v * 100)}%`;
  return [
    `**${name}** — main thread busy ${pct(p.busy)} of ${Math.round(p.wallMs)} ms ` +
    `(RSA itself runs on other threads and is not in this share; inspector overhead ${
      pct(p.profilerOverhead)
    } left out).`,
    `Top modules: ${p.modules.map((m) => `${m.name} ${pct(m.share)}`).join(", ")}.`,
    `Top functions: ${p.functions.map((f) => `${f.name} ${pct(f.share)}`).join(", ")}.`,
    "",
  ];
}

function detailLines(label: string, run: BackendRun): string[] {
  const lines: string[] = [];
  const { dm, fanout, files, connections: conn } = run;
  if (dm) {
    const { a, b } = dm.servers;
    lines.push(
      `${label} DM servers during the closed loop: A ${a.cores} cores, ${a.signPerSec} signs/s, ` +
        `${a.verifyPerSec} verifies/s; B ${b.cores} cores, ${b.signPerSec} signs/s, ` +
        `${b.verifyPerSec} verifies/s; ${dm.errors} errors.`,
      "",
    );
  }
  if (fanout) {
    lines.push(
      `${label} fan-out servers: ${
        fanout.nodes.map((n, i) => `${"abc"[i]} ${n.cores} cores, ${n.verifyPerSec} verifies/s`)
          .join("; ")
      }.`,
      "",
    );
  }
  if (files) {
    lines.push(
      `${label} file: ${files.seconds} s; server a ${files.nodes.a.cores} cores, ` +
        `b ${files.nodes.b.cores} cores, receiving SDK client ${files.receiverCores} cores.`,
      "",
    );
  }
  if (conn) {
    lines.push(
      `${label} connections: bands ${
        conn.bands.map((b) => `≤${b.upTo}: ${b.hellosPerSec}/s`).join(", ")
      }; ` +
        `server ${conn.server.cores} cores, ${conn.perHello.signs} signs, ${conn.perHello.wraps} OAEP wraps and ` +
        `${conn.perHello.rotations} channel rotations per hello; load generator ${conn.driverCores} cores; ` +
        `RSS ${conn.rssBeforeMb} MB → ${conn.rssAfterMb} MB, measured ${conn.settleSeconds} s after the ramp ` +
        `(CPU idle and the server's memory trims done; TLS engine ${conn.tlsEngine}); ` +
        `hellos presigned in ${conn.presignSeconds} s.`,
      "",
    );
  }
  return lines;
}

/** The generated part of docs/BENCHMARKS.md. */
export function markdownReport(r: BenchResults): string {
  const m = r.machine;
  const load = LABEL[r.crypto.loadGenerators];
  const steps = Object.entries(r.steps).map(([k, v]) => `${k} ${v.seconds} s`).join(", ");
  const busy = Object.entries(r.steps).filter(([, v]) => v.otherCores >= 0.1)
    .map(([k, v]) => `${k} ${v.otherCores}`).join(", ");
  const lines = [
    `Run of ${r.date}${r.quick ? " (quick mode: smoke figures only)" : ""}: ${
      Math.round(r.seconds)
    } s in all (${steps}).`,
    `Machine: **${m.cores} cores** (${m.cpu}; ${m.cpuModel}, ${m.cpuMHz} MHz${
      m.virtual ? ", virtual machine" : ""
    }), ${m.memoryGb} GB, ${m.os}; Deno ${m.deno}, V8 ${m.v8}; ${m.openssl ?? "no OpenSSL 3"}.`,
    `Backends measured: ${r.crypto.backends.map((b) => LABEL[b]).join(", ")}; ` +
    `the bench process's load generators ran ${load} in every run${
      r.crypto.note ? ` (${r.crypto.note})` : ""
    }; gossip ran once${r.gossip ? `, on ${LABEL[r.gossip.crypto]}` : ""}.`,
    `Cores taken by other processes (or hypervisor steal) meanwhile: ${
      busy ? `${busy} (other steps below 0.1)` : "below 0.1 in every step"
    }.`,
    "",
    markdownTable(r),
    "",
    "Targets:",
    "",
    markdownTargets(r),
    "",
  ];
  for (const b of r.crypto.backends) {
    const run = r.runs[b];
    if (run) lines.push(...detailLines(LABEL[b], run));
  }
  lines.push(
    "Profiles (CPU, sampled through the inspector during a separate stretch of the same load):",
    "",
  );
  for (const b of r.crypto.backends) {
    const run = r.runs[b];
    if (!run) continue;
    const label = LABEL[b];
    if (run.dm) {
      lines.push(
        ...profileLines(`${label}, DM, server A`, run.dm.profile.a),
        ...profileLines(`${label}, DM, server B`, run.dm.profile.b),
      );
    }
    if (run.fanout) lines.push(...profileLines(`${label}, fan-out, server a`, run.fanout.profile));
    if (run.connections) {
      lines.push(
        ...profileLines(`${label}, connections, reconnecting tail`, run.connections.profile),
      );
    }
  }
  return lines.join("\n");
}

export const BEGIN = "<!-- bench:begin (generated by deno task bench) -->";
export const END = "<!-- bench:end -->";

/** `doc` with the generated part replaced (or appended when the markers are missing). */
export function spliceReport(doc: string, generated: string): string {
  const block = `${BEGIN}\n${generated}\n${END}`;
  const at = doc.indexOf(BEGIN);
  const end = doc.indexOf(END);
  if (at < 0 || end < at) return `${doc.trimEnd()}\n\n${block}\n`;
  return doc.slice(0, at) + block + doc.slice(end + END.length);
}
