// deno run --allow-all tools/fuzz.ts [--frames N] [--seed S] [--rate R]
//   [--peer-share F] [--servers K] [--rss-bound-mb MB] [--node-arg FLAG]… [--logs DIR] [--json]
//
// Runs the mesh fuzz driver (tests/_fuzz.ts) against fresh introducer and
// server processes over TLS, prints a summary, and exits 1 if an honest user
// lost service or a server's memory grew past the bound. Same seed, same
// frames: a failure reproduces with its --seed.

import { parseArgs } from "node:util";
import { type FuzzReport, runFuzz } from "../tests/_fuzz.ts";

const HELP = `deno run --allow-all tools/fuzz.ts [options]

  --frames N         mutated frames to send over both fuzzing links (default 100000)
  --seed S           PRNG seed (default: random, printed)
  --rate R           frames per second over both links (default 800)
  --peer-share F     fraction of frames on the server link (default 0.6)
  --servers K        servers besides the introducer, at least 2 (default 2)
  --rss-bound-mb MB  allowed RSS growth per node (default 200)
  --node-arg FLAG    extra flag for every node, repeatable (e.g. --node-arg=--max-pending-per-ip=1000)
  --logs DIR         write each node's log lines to DIR/<node>.log
  --json             print the report as JSON instead of text
  -h, --help         this text
`;

function options() {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      frames: { type: "string", default: "100000" },
      seed: { type: "string" },
      rate: { type: "string", default: "800" },
      "peer-share": { type: "string", default: "0.6" },
      servers: { type: "string", default: "2" },
      "rss-bound-mb": { type: "string", default: "200" },
      "node-arg": { type: "string", multiple: true, default: [] },
      logs: { type: "string" },
      json: { type: "boolean", default: false },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  if (values.help) {
    console.log(HELP);
    Deno.exit(0);
  }
  const number = (name: string, text: string) => {
    const n = Number(text);
    if (!Number.isFinite(n) || n < 0) {
      console.error(`--${name}: expected a non-negative number, got ${text}`);
      Deno.exit(2);
    }
    return n;
  };
  return {
    frames: Math.floor(number("frames", values.frames)),
    seed: values.seed === undefined
      ? Math.floor(Math.random() * 2 ** 31)
      : Math.floor(number("seed", values.seed)),
    rate: number("rate", values.rate),
    peerShare: number("peer-share", values["peer-share"]),
    servers: Math.floor(number("servers", values.servers)),
    rssBoundMb: number("rss-bound-mb", values["rss-bound-mb"]),
    nodeArgs: values["node-arg"].flatMap((a) => a.split("=")),
    logs: values.logs,
    json: values.json,
  };
}

function table(rows: [string, number][]): string {
  return rows.sort(([a], [b]) => a < b ? -1 : 1).map(([k, v]) => `    ${k.padEnd(22)} ${v}`)
    .join("\n") || "    (none)";
}

const mb = (kb: number) => (kb / 1024).toFixed(1);

function summary(r: FuzzReport): string {
  const sent = Object.values(r.sentByKind).reduce((n, v) => n + v, 0);
  const c = r.checks;
  const lines = [
    `seed ${r.seed}: ${r.frames} frames planned, ${sent} sent in ${
      Math.round(r.durationMs / 1000)
    } s`,
    "  frames sent, by link and kind:",
    table(Object.entries(r.sentByKind)),
    `  not sent, link down: user ${r.droppedLinkDown.user}, peer ${r.droppedLinkDown.peer}`,
    `  fuzzing peer: ${r.peer.links} links, ${r.peer.failedReconnects} failed reconnects`,
    `  fuzzing user: ${r.user.links} links, ${r.user.failedReconnects} failed reconnects`,
    "  errors received by the fuzzing user, by code:",
    table(Object.entries(r.errorsByCode.user)),
    "  errors received by the fuzzing peer, by code:",
    table(Object.entries(r.errorsByCode.peer)),
    ...Object.keys(r.aCounters).filter((f) => f !== "frames_out").flatMap((f) => [
      `  server A counter ${f}:`,
      table(Object.entries(r.aCounters[f] ?? {})),
    ]),
    "  RSS per node (MB): before → peak during the run → after (growth)",
    ...c.rss.map((x) =>
      `    ${x.name.padEnd(8)} ${mb(x.beforeKb)} → ${mb(x.peakKb)} → ${mb(x.afterKb)} (${
        x.growthMb >= 0 ? "+" : ""
      }${x.growthMb})`
    ),
    `  users online after the run: ${c.online.map((o) => `${o.name} ${o.online}`).join(", ")}`,
    `  honest DM Alice → Bob: ${c.dm.aliceToBob}`,
    `  honest DM Bob → Alice: ${c.dm.bobToAlice}`,
    ...c.freshConnect.map((f) =>
      `  new user on ${f.name}: connect ${f.connect}; channel key ${f.channel}`
    ),
    `  ids: ${Object.entries(r.ids).map(([k, v]) => `${k} ${v}`).join(", ")}`,
    `  handler/cleanup errors logged: ${r.handlerErrors.length}`,
    ...r.handlerErrors.slice(0, 5).map((e) => `    ${e}`),
    r.failures.length === 0 ? "PASS" : `FAIL (${r.failures.length}):`,
    ...r.failures.map((f) => `  - ${f}`),
  ];
  return lines.join("\n");
}

if (import.meta.main) {
  const opts = options();
  const report = await runFuzz({
    frames: opts.frames,
    seed: opts.seed,
    rate: opts.rate,
    peerShare: opts.peerShare,
    servers: opts.servers,
    rssBoundMb: opts.rssBoundMb,
    nodeArgs: opts.nodeArgs,
    progress: opts.json ? undefined : (line) => console.log(line),
  });
  if (opts.logs) {
    await Deno.mkdir(opts.logs, { recursive: true });
    for (const node of report.nodes) {
      await Deno.writeTextFile(`${opts.logs}/${node.name}.log`, node.lines.join("\n") + "\n");
    }
  }
  if (opts.json) {
    const { nodes: _nodes, ...plain } = report;
    console.log(JSON.stringify(plain, null, 2));
  } else console.log(summary(report));
  Deno.exit(report.failures.length === 0 ? 0 : 1);
}
