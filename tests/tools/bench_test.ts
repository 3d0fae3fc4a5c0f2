// Smoke test of `deno task bench --quick`: every section runs against real
// processes, the end-to-end checks hold, and the report is written. The
// figures of a quick run mean nothing, so only their presence is checked.

import assert from "node:assert/strict";
import { BEGIN, END } from "../../bench/report.ts";
import type { BenchResults } from "../../bench/report.ts";

Deno.test("deno task bench --quick runs every section and writes the JSON and the report", async () => {
  const dir = await Deno.makeTempDir({ prefix: "socp-bench-test-" });
  try {
    const doc = `${dir}/BENCHMARKS.md`;
    await Deno.writeTextFile(doc, "# Benchmarks\n\nHand-written analysis stays.\n");
    const root = new URL("../..", import.meta.url).pathname;
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["task", "bench", "--quick", "--results", dir, "--doc", doc],
      cwd: root,
      stdout: "piped",
      stderr: "piped",
    }).output();
    const stdout = new TextDecoder().decode(out.stdout);
    assert.equal(out.code, 0, new TextDecoder().decode(out.stderr).slice(-3000));
    assert.match(stdout, /RSA-4096 PSS sign\/s/);

    const [json] = [...Deno.readDirSync(dir)].filter((e) => e.name.endsWith("-quick.json"));
    const r = JSON.parse(await Deno.readTextFile(`${dir}/${json.name}`)) as BenchResults;
    assert.ok(r.machine.cores > 0);
    assert.ok(r.ceilings.sign.four > 0 && r.ceilings.wsEchoPerSec > 0 && r.ceilings.wsIdleKb > 0);
    assert.ok(r.dm!.deliveredPerSec > 0);
    assert.equal(r.dm!.verified, true, "a fresh DM opens and verifies end to end");
    assert.equal(r.dm!.errors, 0);
    assert.ok(r.fanout!.messagesPerSec > 0);
    assert.equal(r.fanout!.verified, true, "a fresh public message verifies on every server");
    assert.equal(r.files!.verified, true, "the file arrives byte-identical and verified");
    assert.ok(r.connections!.hellosPerSec > 0 && r.connections!.users > 0);
    assert.ok(r.connections!.perHello.signs >= 1, "each hello costs the server a signature");
    assert.equal(r.gossip!.convergence.n, r.gossip!.joins);

    const report = await Deno.readTextFile(doc);
    assert.match(report, /Hand-written analysis stays\./);
    assert.ok(report.includes(BEGIN) && report.includes(END));
    assert.match(report, /\| 2 DM \| delivered DM\/s/);
    assert.match(report, new RegExp(`\\*\\*${r.machine.cores} cores\\*\\*`));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
