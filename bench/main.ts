// deno task bench [--quick] [--only dm,fanout,files,connections,gossip]
//   [--backends webcrypto,openssl] [--results DIR] [--doc FILE]
//
// Measures socp against this machine's own limits, all in one run, on both
// RSA backends: ceilings first (RSA once per backend), then each section on
// fresh introducer/server processes over TLS, once with WebCrypto nodes and
// once with OpenSSL nodes, back to back so that both figures of a ratio see
// the same machine. Prints a table, writes DIR/<date>.json and the generated
// part of FILE.

import { parseArgs } from "node:util";
import { join } from "node:path";
import { ensureDevCertificates } from "../certs/mkcert.ts";
import type { BackendName, BenchEnv } from "./_env.ts";
import { loadBackends } from "./_crypto.ts";
import { machine, StepClock } from "./_machine.ts";
import { measureCeilings } from "./ceilings.ts";
import { benchConnections } from "./connections.ts";
import { benchDm } from "./dm.ts";
import { benchFanout } from "./fanout.ts";
import { benchFiles } from "./files.ts";
import { benchGossip } from "./gossip.ts";
import {
  type BackendRun,
  type BenchResults,
  markdownReport,
  spliceReport,
  type Step,
  targets,
  textTable,
} from "./report.ts";

const SECTIONS = ["dm", "fanout", "files", "connections", "gossip"] as const;
type Section = typeof SECTIONS[number];

const BACKENDS: readonly BackendName[] = ["webcrypto", "openssl"];

const HELP = `deno task bench [options]

Starts real introducer and server processes on 127.0.0.1 with TLS, drives them
with SDK clients, and compares every figure with this machine's ceilings
measured in the same run. Sections dm, fanout, files and connections run once
with WebCrypto nodes and once with OpenSSL nodes (--crypto); gossip once, on
WebCrypto. The load generators in this process use OpenSSL when it loads.
About 6 minutes on 2 cores; --quick about 80 s (its figures only prove
the benchmark runs).

  --quick             small loads and short windows
  --only LIST         sections to run after the ceilings: ${SECTIONS.join(",")}
  --backends LIST     RSA backends to measure: ${BACKENDS.join(",")} (default both;
                      OpenSSL is left out with a note when it does not load)
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
      backends: { type: "string" },
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
  const backends = values.backends?.split(",").map((s) => s.trim()) ?? [...BACKENDS];
  const odd = backends.filter((b) => !BACKENDS.includes(b as BackendName));
  if (odd.length || !backends.length) throw new Error(`--backends: ${BACKENDS.join(",")}`);
  const root = new URL("..", import.meta.url).pathname;
  return {
    quick: values.quick,
    sections: new Set(only as Section[]),
    backends: new Set(backends as BackendName[]),
    resultsDir: values.results ?? join(root, "bench/results"),
    doc: values.doc ?? (values.quick ? undefined : join(root, "docs/BENCHMARKS.md")),
  };
}

/** Runs `task`, recording under `name` its seconds and the cores other processes used meanwhile. */
async function step<T>(
  steps: Record<string, Step>,
  name: string,
  task: () => Promise<T>,
): Promise<T> {
  const clock = new StepClock();
  try {
    return await task();
  } finally {
    steps[name] = clock.read();
  }
}

async function main(): Promise<void> {
  const opts = options();
  const started = performance.now();
  const dir = await Deno.makeTempDir({ prefix: "socp-bench-" });
  const certs = await ensureDevCertificates(join(dir, "certs"), ["127.0.0.1", "localhost"]);
  const client = Deno.createHttpClient({ caCerts: [await Deno.readTextFile(certs.caCert)] });
  const t0 = performance.now();
  const base: BenchEnv = {
    quick: opts.quick,
    crypto: "webcrypto",
    certs,
    client,
    progress: (m) => console.error(`[${((performance.now() - t0) / 1000).toFixed(0)} s] ${m}`),
  };
  try {
    const backends = loadBackends();
    backends.names = backends.names.filter((b) => opts.backends.has(b));
    if (!backends.names.length) throw new Error("--backends: none of them loads");
    const note = backends.opensslError &&
      `OpenSSL did not load (${backends.opensslError}): WebCrypto only, load generators included`;
    if (note) base.progress(note);
    else base.progress(`load generators on OpenSSL (${backends.openssl})`);
    const steps: Record<string, Step> = {};
    const ceilings = await step(
      steps,
      "ceilings",
      () => measureCeilings(base, backends, opts.quick ? 300 : 1000, opts.quick ? 1 : 3),
    );
    const results: BenchResults = {
      date: new Date().toISOString(),
      quick: opts.quick,
      seconds: 0,
      steps,
      machine: machine(backends.openssl),
      crypto: { backends: backends.names, loadGenerators: backends.load, note },
      ceilings,
      runs: {},
      targets: [],
    };
    const runs: Partial<Record<BackendName, BackendRun>> = results.runs;
    for (const b of backends.names) runs[b] = {};
    // Section by section, each backend in turn: a ratio's two figures see the same machine.
    const each = async <K extends keyof BackendRun>(
      section: K,
      bench: (env: BenchEnv) => Promise<BackendRun[K]>,
    ) => {
      if (!opts.sections.has(section)) return;
      for (const b of backends.names) {
        const env = { ...base, crypto: b };
        runs[b]![section] = await step(steps, `${section}/${b}`, () => bench(env));
      }
    };
    await each("dm", (env) => benchDm(env, ceilings));
    await each("fanout", (env) => benchFanout(env, ceilings));
    await each("files", (env) => benchFiles(env, ceilings, backends));
    await each("connections", (env) => benchConnections(env, ceilings));
    if (opts.sections.has("gossip")) {
      results.gossip = await step(
        steps,
        "gossip/webcrypto",
        () => benchGossip({ ...base, crypto: "webcrypto" }),
      );
    }
    results.seconds = Math.round((performance.now() - started) / 1000);
    results.targets = targets(results);

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
