// Smoke test of `deno task bench --quick`: every section runs against real
// processes on both RSA backends (WebCrypto, OpenSSL), the end-to-end checks
// hold, and the report is written. The figures of a quick run mean nothing,
// so only their presence is checked.

import assert from "node:assert/strict";
import { BEGIN, END } from "../../bench/report.ts";
import type { BenchResults } from "../../bench/report.ts";

Deno.test("deno task bench --quick runs every section on both backends and writes the JSON and the report", async () => {
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
    assert.ok(r.machine.cpu.length > 0 && r.machine.cpuModel.length > 0 && r.machine.deno);
    assert.match(r.machine.openssl ?? "", /^OpenSSL 3\./, "the OpenSSL version is recorded");
    assert.deepEqual(r.crypto.backends, ["webcrypto", "openssl"], "both backends are measured");
    assert.equal(r.crypto.loadGenerators, "openssl");
    assert.ok(r.ceilings.wsEchoPerSec > 0 && r.ceilings.wsIdleKb > 0);
    for (const backend of r.crypto.backends) {
      const c = r.ceilings.rsa[backend]!;
      assert.ok(c.sign.four > 0 && c.verify.four > 0, `${backend} RSA ceilings`);
      assert.ok(c.oaepEncrypt.four > 0 && c.oaepDecrypt.four > 0, `${backend} OAEP ceilings`);
      const run = r.runs[backend]!;
      assert.equal(run.dm!.crypto, backend);
      assert.ok(run.dm!.deliveredPerSec > 0);
      assert.equal(run.dm!.verified, true, `${backend}: a fresh DM opens and verifies end to end`);
      assert.equal(run.dm!.errors, 0);
      assert.equal(run.fanout!.crypto, backend);
      assert.ok(run.fanout!.messagesPerSec > 0);
      assert.equal(run.fanout!.verified, true, `${backend}: a fresh public message verifies`);
      assert.equal(run.files!.crypto, backend);
      assert.equal(run.files!.verified, true, `${backend}: the file arrives verified`);
      assert.equal(run.connections!.crypto, backend);
      assert.ok(run.connections!.hellosPerSec > 0 && run.connections!.users > 0);
      assert.ok(run.connections!.perHello.signs >= 1, "each hello costs the server a signature");
    }
    assert.equal(r.gossip!.convergence.n, r.gossip!.joins);
    const what = r.targets.map((t) => t.what).join("\n");
    assert.match(what, /OpenSSL ÷ WebCrypto/);
    assert.match(what, /half peak, WebCrypto/);
    assert.match(what, /half peak, OpenSSL/);

    const report = await Deno.readTextFile(doc);
    assert.match(report, /Hand-written analysis stays\./);
    assert.ok(report.includes(BEGIN) && report.includes(END));
    assert.match(report, /\| section \| figure \| WebCrypto \| OpenSSL \| OpenSSL ÷ WebCrypto \|/);
    assert.match(report, /\| 2 DM \| delivered DM\/s/);
    assert.match(report, /\| 1 ceilings \| RSA-4096 PSS sign\/s/);
    assert.match(report, new RegExp(`\\*\\*${r.machine.cores} cores\\*\\*`));
    assert.ok(report.includes(r.machine.openssl!), "the report names the OpenSSL version");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
