// The benchmark report: one table of figures next to the limits they are
// compared with, printed and written into docs/BENCHMARKS.md between markers
// (the analysis around the markers is kept as written).

import type { Machine } from "./_machine.ts";
import type { ProfileSummary } from "./_profile.ts";
import type { Latency } from "./_stats.ts";
import type { Ceilings } from "./ceilings.ts";
import type { ConnectionsResult } from "./connections.ts";
import type { DmResult } from "./dm.ts";
import type { FanoutResult } from "./fanout.ts";
import type { FileResult } from "./files.ts";
import type { GossipResult } from "./gossip.ts";

/** Everything one run measured. */
export interface BenchResults {
  date: string;
  quick: boolean;
  seconds: number;
  machine: Machine;
  ceilings: Ceilings;
  dm?: DmResult;
  fanout?: FanoutResult;
  files?: FileResult;
  connections?: ConnectionsResult;
  gossip?: GossipResult;
}

/** One row: a figure, what it is compared with, and the target when there is one. */
interface Row {
  section: string;
  figure: string;
  value: string;
  limit: string;
  ratio: string;
  target: string;
  met: string;
}

const ms = (l: Latency) => `${l.p50} / ${l.p95} / ${l.p99} ms`;
const verdict = (ok: boolean) => (ok ? "yes" : "**no**");

function ceilingRows(c: Ceilings): Row[] {
  const row = (figure: string, value: string): Row => ({
    section: "1 ceilings",
    figure,
    value,
    limit: "",
    ratio: "",
    target: "",
    met: "",
  });
  return [
    row("RSA-4096 PSS sign/s (1 / 4 in flight)", `${c.sign.one} / ${c.sign.four}`),
    row("RSA-4096 PSS verify/s (1 / 4)", `${c.verify.one} / ${c.verify.four}`),
    row("RSA-OAEP encrypt/s (1 / 4)", `${c.oaepEncrypt.one} / ${c.oaepEncrypt.four}`),
    row("RSA-OAEP decrypt/s (1 / 4)", `${c.oaepDecrypt.one} / ${c.oaepDecrypt.four}`),
    row("AES-256-GCM MB/s (1 / 4)", `${c.aesMBps.one} / ${c.aesMBps.four}`),
    row("TLS WebSocket echo round trips/s (2.6 KB, 32 in flight)", `${c.wsEchoPerSec}`),
    row("bare TLS WebSocket server, RSS per idle connection", `${c.wsIdleKb} KB`),
  ];
}

function resultRows(r: BenchResults): Row[] {
  const rows: Row[] = [];
  const add = (section: string, figure: string, value: string, more: Partial<Row> = {}) =>
    rows.push({ section, figure, value, limit: "", ratio: "", target: "", met: "", ...more });
  const { dm, fanout, files, connections: conn, gossip } = r;
  if (dm) {
    add("2 DM", "delivered DM/s, A → B, closed loop", `${dm.deliveredPerSec}`, {
      limit: `${dm.signSharePerServer} signs/s per server (half the 4-in-flight ceiling)`,
      ratio: `${dm.ratio}`,
      target: "≥ 0.90",
      met: verdict(dm.ratio >= 0.9),
    });
    add("2 DM", "latency at peak p50 / p95 / p99", ms(dm.latencyAtPeak));
    add("2 DM", `latency at half peak (${dm.halfRate} DM/s)`, ms(dm.latencyAtHalf), {
      target: "p99 < 50 ms",
      met: verdict(dm.latencyAtHalf.p99 < 50),
    });
    add("2 DM", "end-to-end check: decrypts, content_sig and server sig verify", `${dm.verified}`);
  }
  if (fanout) {
    const f = fanout;
    add(
      "3 fan-out",
      `messages/s, ${f.servers} servers × ${f.membersPerServer} members`,
      `${f.messagesPerSec}`,
      {
        limit:
          `${f.deliveriesPerSec} deliveries/s vs ${r.ceilings.wsEchoPerSec} echo round trips/s`,
        ratio: `${f.deliveriesPerEcho}`,
      },
    );
    add("3 fan-out", "latency to the last member p50 / p95 / p99", ms(f.latencyToLast));
    add("3 fan-out", "end-to-end check on every server", `${f.verified}`);
  }
  if (files) {
    add(
      "4 file",
      `${Math.round(files.bytes / 1024)} KB across servers, RSA mode, KB/s`,
      `${files.kbPerSec}`,
      {
        limit: `${files.ceilingKbPerSec} KB/s receiver OAEP-decrypt ceiling`,
        ratio: `${files.ratio}`,
        target: "≥ 0.90",
        met: verdict(files.ratio >= 0.9),
      },
    );
    add("4 file", "byte-identical and verified", `${files.verified}`);
  }
  if (conn) {
    add("5 connections", `hellos/s up to ${conn.users} users`, `${conn.hellosPerSec}`, {
      limit: `${r.ceilings.sign.four} signs/s (4 in flight)`,
      ratio: `${conn.ratio}`,
      target: "≥ 0.90",
      met: verdict(conn.ratio >= 0.9),
    });
    add("5 connections", "server signatures per hello", `${conn.perHello.signs}`);
    add("5 connections", "server RSS per idle user", `${conn.rssPerUserKb} KB`, {
      limit: `${r.ceilings.wsIdleKb} KB bare WebSocket`,
      ratio: (conn.rssPerUserKb / r.ceilings.wsIdleKb).toFixed(2),
      target: "< 50 KB",
      met: verdict(conn.rssPerUserKb < 50),
    });
  }
  if (gossip) {
    add(
      "6 gossip",
      `hello → routable on all ${gossip.servers - 1} other servers, p50 / p99`,
      `${gossip.convergence.p50} / ${gossip.convergence.p99} ms`,
    );
    add("6 gossip", "hello → ACK p50 / p99", `${gossip.ack.p50} / ${gossip.ack.p99} ms`);
  }
  return rows;
}

/** The table as Markdown. */
export function markdownTable(r: BenchResults): string {
  const rows = [...ceilingRows(r.ceilings), ...resultRows(r)];
  const lines = [
    "| section | figure | value | compared with | ratio | target | met |",
    "|---|---|---|---|---|---|---|",
    ...rows.map((x) =>
      `| ${x.section} | ${x.figure} | ${x.value} | ${x.limit} | ${x.ratio} | ${x.target} | ${x.met} |`
    ),
  ];
  return lines.join("\n");
}

/** The table as plain text for the terminal. */
export function textTable(r: BenchResults): string {
  const rows = [...ceilingRows(r.ceilings), ...resultRows(r)];
  const width = Math.max(...rows.map((x) => x.figure.length));
  return rows.map((x) => {
    const extra = [
      x.limit && `vs ${x.limit}`,
      x.ratio && `ratio ${x.ratio}`,
      x.target && `target ${x.target}: ${x.met.replaceAll("*", "")}`,
    ]
      .filter(Boolean).join("  ");
    return `${x.section.padEnd(14)} ${x.figure.padEnd(width)}  ${x.value}${
      extra ? `  (${extra})` : ""
    }`;
  }).join("\n");
}

function profileLines(name: string, p: ProfileSummary | undefined): string[] {
  if (!p) return [];
  const pct = (v: number) => `${Math.round(v * 100)}%`;
  return [
    `**${name}** — main thread busy ${pct(p.busy)} of ${Math.round(p.wallMs)} ms ` +
    `(RSA runs on worker threads and is not in this share; inspector overhead ${
      pct(p.profilerOverhead)
    } left out).`,
    `Top modules: ${p.modules.map((m) => `${m.name} ${pct(m.share)}`).join(", ")}.`,
    `Top functions: ${p.functions.map((f) => `${f.name} ${pct(f.share)}`).join(", ")}.`,
    "",
  ];
}

/** The generated part of docs/BENCHMARKS.md. */
export function markdownReport(r: BenchResults): string {
  const m = r.machine;
  const lines = [
    `Run of ${r.date}${r.quick ? " (quick mode: smoke figures only)" : ""}: ${
      Math.round(r.seconds)
    } s in all.`,
    `Machine: **${m.cores} cores** (${m.cpu}), ${m.memoryGb} GB, ${m.os}; Deno ${m.deno}, V8 ${m.v8}.`,
    "",
    markdownTable(r),
    "",
  ];
  const { dm, fanout, connections: conn } = r;
  if (dm) {
    lines.push(
      `DM servers during the closed loop: A ${dm.servers.a.cores} cores, ${dm.servers.a.signPerSec} signs/s, ` +
        `${dm.servers.a.verifyPerSec} verifies/s; B ${dm.servers.b.cores} cores, ${dm.servers.b.signPerSec} signs/s, ` +
        `${dm.servers.b.verifyPerSec} verifies/s; ${dm.errors} errors.`,
      "",
    );
  }
  if (fanout) {
    lines.push(
      `Fan-out servers: ${
        fanout.nodes.map((n, i) => `${"abc"[i]} ${n.cores} cores, ${n.verifyPerSec} verifies/s`)
          .join("; ")
      }.`,
      "",
    );
  }
  if (r.files) {
    lines.push(
      `File: server a ${r.files.nodes.a.cores} cores, b ${r.files.nodes.b.cores} cores, receiving SDK client ${r.files.receiverCores} cores.`,
      "",
    );
  }
  if (conn) {
    lines.push(
      `Connections: bands ${
        conn.bands.map((b) => `≤${b.upTo}: ${b.hellosPerSec}/s`).join(", ")
      }; ` +
        `server ${conn.server.cores} cores, ${conn.perHello.signs} signs, ${conn.perHello.wraps} OAEP wraps and ` +
        `${conn.perHello.rotations} channel rotations per hello; load generator ${conn.driverCores} cores; ` +
        `RSS ${conn.rssBeforeMb} MB → ${conn.rssAfterMb} MB.`,
      "",
    );
  }
  lines.push(
    "Profiles (CPU, sampled through the inspector during a separate stretch of the same load):",
    "",
  );
  if (dm) {
    lines.push(
      ...profileLines("DM, server A", dm.profile.a),
      ...profileLines("DM, server B", dm.profile.b),
    );
  }
  if (fanout) lines.push(...profileLines("Fan-out, server a", fanout.profile));
  if (conn) lines.push(...profileLines("Connections, reconnecting tail", conn.profile));
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
