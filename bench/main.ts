// deno task bench [--quick] [--only dm,fanout,files,connections,gossip]
//   [--results DIR] [--doc FILE]
//
// Measures socp against this machine's own limits, all in one run: ceilings
// first, then each section on fresh introducer/server processes over TLS.
// Prints a table, writes DIR/<date>.json and the generated part of FILE.

import { parseArgs } from "node:util";
import { join } from "node:path";
import { ensureDevCertificates } from "../certs/mkcert.ts";
import type { BenchEnv } from "./_env.ts";
import { machine } from "./_machine.ts";
import { measureCeilings } from "./ceilings.ts";
import { benchConnections } from "./connections.ts";
import { benchDm } from "./dm.ts";
import { benchFanout } from "./fanout.ts";
import { benchFiles } from "./files.ts";
import { benchGossip } from "./gossip.ts";
import { type BenchResults, markdownReport, spliceReport, textTable } from "./report.ts";

const SECTIONS = ["dm", "fanout", "files", "connections", "gossip"] as const;
type Section = typeof SECTIONS[number];

const HELP = `deno task bench [options]

Starts real introducer and server processes on 127.0.0.1 with TLS, drives them
with SDK clients, and compares every figure with this machine's ceilings
measured in the same run. About 9 minutes on 2 cores; --quick about 90 s
(its figures only prove the benchmark runs).

  --quick             small loads and short windows
  --only LIST         sections to run after the ceilings: ${SECTIONS.join(",")}
  --results DIR       where <date>.json goes (default bench/results)
  --doc FILE          Markdown report to update (default docs/BENCHMARKS.md;
                      a quick run writes none unless this is given)
  -h, --help          this text
`;

function options() {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      quick: { type: "boolean", default: false },
      only: { type: "string" },
      results: { type: "string" },
      doc: { type: "string" },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  if (values.help) {
    console.log(HELP);
    Deno.exit(0);
  }
  const only = values.only?.split(",").map((s) => s.trim()) ?? [...SECTIONS];
  const unknown = only.filter((s) => !SECTIONS.includes(s as Section));
  if (unknown.length) throw new Error(`unknown section(s): ${unknown.join(", ")}`);
  const root = new URL("..", import.meta.url).pathname;
  return {
    quick: values.quick,
    sections: new Set(only as Section[]),
    resultsDir: values.results ?? join(root, "bench/results"),
    doc: values.doc ?? (values.quick ? undefined : join(root, "docs/BENCHMARKS.md")),
  };
}

async function main(): Promise<void> {
  const opts = options();
  const started = performance.now();
  const dir = await Deno.makeTempDir({ prefix: "socp-bench-" });
  const certs = await ensureDevCertificates(join(dir, "certs"), ["127.0.0.1", "localhost"]);
  const client = Deno.createHttpClient({ caCerts: [await Deno.readTextFile(certs.caCert)] });
  const t0 = performance.now();
  const env: BenchEnv = {
    quick: opts.quick,
    certs,
    client,
    progress: (m) => console.error(`[${((performance.now() - t0) / 1000).toFixed(0)} s] ${m}`),
  };
  try {
    env.progress("ceilings: RSA, AES, TLS WebSocket");
    const ceilings = await measureCeilings(env, opts.quick ? 300 : 3000);
    const results: BenchResults = {
      date: new Date().toISOString(),
      quick: opts.quick,
      seconds: 0,
      machine: machine(),
      ceilings,
    };
    const run = opts.sections;
    if (run.has("dm")) results.dm = await benchDm(env, ceilings);
    if (run.has("fanout")) results.fanout = await benchFanout(env, ceilings);
    if (run.has("files")) results.files = await benchFiles(env, ceilings);
    if (run.has("connections")) results.connections = await benchConnections(env, ceilings);
    if (run.has("gossip")) results.gossip = await benchGossip(env);
    results.seconds = Math.round((performance.now() - started) / 1000);

    console.log(textTable(results));
    await Deno.mkdir(opts.resultsDir, { recursive: true });
    const day = results.date.slice(0, 10);
    const json = join(opts.resultsDir, `${day}${opts.quick ? "-quick" : ""}.json`);
    await Deno.writeTextFile(json, JSON.stringify(results, null, 2) + "\n");
    console.log(`\nresults: ${json}`);
    if (opts.doc) {
      const doc = await Deno.readTextFile(opts.doc).catch(() => "# Benchmarks\n");
      await Deno.writeTextFile(opts.doc, spliceReport(doc, markdownReport(results)));
      console.log(`report: ${opts.doc}`);
    }
  } finally {
    client.close();
    await Deno.remove(dir, { recursive: true });
  }
}

await main();
