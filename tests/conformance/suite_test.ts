// The conformance suite, run as users run it (a process, over TLS): socp's
// two-server mesh passes every MUST; deliberately broken servers fail the
// checks they break, with evidence; a peer answering nonsense never crashes
// it; the JSON and JUnit reports are well formed.

import assert from "node:assert/strict";
import { Cluster, fixtureKeys } from "../_cluster.ts";
import { DialectAServer } from "../dialects/a_server.ts";
import { brokenRelay, nonsenseServer, suiteKeys as keysDir } from "./_broken_server.ts";

const MAIN = new URL("../../conformance/main.ts", import.meta.url).pathname;

interface JsonCheck {
  id: string;
  section: string;
  level: "MUST" | "SHOULD";
  status: "PASS" | "FAIL" | "SKIP";
  detail: string;
}

async function suite(args: string[]) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-net", "--allow-read", "--allow-write", MAIN, ...args],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stdout = new TextDecoder().decode(out.stdout);
  const stderr = new TextDecoder().decode(out.stderr);
  let checks: JsonCheck[] = [];
  try {
    checks = JSON.parse(stdout).checks;
  } catch {
    // not --json, or a crash: the assertions below say which
  }
  return { code: out.code, stdout, stderr, checks };
}

const byId = (checks: JsonCheck[]) => Object.fromEntries(checks.map((c) => [c.id, c]));

Deno.test("conformance: socp's two-server mesh passes every MUST check", async () => {
  const { cluster, nodes: [s1, s2] } = await Cluster.mesh(["s1", "s2"]);
  try {
    const junit = `${cluster.dir}/report.xml`;
    const run = await suite([
      "--server",
      s1.url,
      "--server",
      s2.url,
      "--ca",
      cluster.certs.caCert,
      "--keys",
      await keysDir(cluster.dir),
      "--link-as-server",
      "--json",
      "--junit",
      junit,
    ]);
    const failed = run.checks.filter((c) => c.status === "FAIL");
    assert.deepEqual(failed, [], run.stderr);
    assert.equal(run.code, 0);
    assert.ok(run.checks.length >= 30, `${run.checks.length} checks`);
    for (const c of run.checks) {
      assert.match(c.section, /^\d+(\.\d+)?$/);
      assert.ok(c.level === "MUST" || c.level === "SHOULD");
    }
    const skipped = run.checks.filter((c) => c.status === "SKIP");
    assert.deepEqual(skipped, [], "two servers and a link: every check can be asked");
    assert.ok(run.checks.some((c) => c.id === "links.duplicates" && c.status === "PASS"));
    assert.match(run.stderr, /\[1\/\d+\] PASS transport\.endpoint-ws/, "progress on stderr");
    const xml = await Deno.readTextFile(junit);
    assert.match(
      xml,
      /^<\?xml version="1.0" encoding="UTF-8"\?>\n<testsuites name="socp-conformance" tests="\d+" failures="0">/,
    );
    assert.equal(xml.match(/<testcase /g)?.length, run.checks.length);
    assert.equal(xml.match(/<skipped /g), null);
  } finally {
    await cluster.close();
  }
});

Deno.test("conformance: servers that change a DM's ts or swallow USER_REMOVE fail those checks", async () => {
  const { cluster, nodes: [s1, s2] } = await Cluster.mesh(["s1", "s2"]);
  const bumpTs = brokenRelay(
    s1.url,
    cluster.caCert,
    (f) => f.type === "USER_DELIVER" ? { ...f, ts: f.ts + 1 } : f,
  );
  const noRemoves = brokenRelay(s1.url, cluster.caCert, (f) => f.type === "USER_REMOVE" ? null : f);
  try {
    const keys = await keysDir(cluster.dir);
    const common = ["--ca", cluster.certs.caCert, "--insecure", "--keys", keys, "--json"];
    const ts = await suite([
      "--server",
      bumpTs.url,
      "--server",
      s2.url,
      "--only",
      "dm.",
      ...common,
    ]);
    const dm = byId(ts.checks);
    assert.equal(ts.code, 1, "a MUST failed");
    assert.equal(dm["dm.same-server"].status, "FAIL");
    assert.match(dm["dm.same-server"].detail, /USER_DELIVER ts.*expected: the MSG_DIRECT's ts \d+/);
    assert.equal(dm["dm.cross-server"].status, "PASS", "the recipient on the honest server");
    const links = await suite(["--server", s1.url, "--only", "links.", ...common]);
    assert.ok(
      links.checks.every((c) => c.status === "SKIP" && /--link-as-server/.test(c.detail)),
      "server-link checks without --link-as-server are skipped with the reason",
    );
    assert.ok(ts.checks.every((c) => c.id.startsWith("dm.")), "--only dm.");

    const removes = await suite([
      "--server",
      noRemoves.url,
      "--only",
      "presence.same-server,hello.accept",
      ...common,
    ]);
    const p = byId(removes.checks);
    assert.equal(p["presence.same-server"].status, "FAIL");
    assert.match(p["presence.same-server"].detail, /USER_REMOVE of the leaver/);
    assert.equal(p["hello.accept"].status, "PASS");
  } finally {
    await bumpTs.close();
    await noRemoves.close();
    await cluster.close();
  }
});

Deno.test("conformance: a peer answering nonsense gets FAILs with evidence, never a crash", async () => {
  const fake = nonsenseServer();
  const dir = await Deno.makeTempDir();
  try {
    const run = await suite([
      "--server",
      fake.url,
      "--insecure",
      "--keys",
      await keysDir(dir),
      "--timeout-ms",
      "300",
      "--skip",
      "first-frame.timeout,limits.",
      "--json",
    ]);
    assert.equal(run.code, 1, run.stderr);
    assert.doesNotMatch(run.stderr, /error: Uncaught|\n\s+at /, "no stack trace");
    assert.ok(run.checks.length > 20);
    assert.ok(
      run.checks.every((c) => c.status !== "PASS" || c.id.startsWith("transport.endpoint")),
    );
    const accept = byId(run.checks)["hello.accept"];
    assert.equal(accept.status, "FAIL");
    assert.match(accept.detail, /expected: .*got: .*"soon"/, "what came back is shown");

    const usage = await suite([]);
    assert.equal(usage.code, 2);
    assert.match(usage.stderr, /give --server once or twice/);
  } finally {
    await fake.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("conformance --dialect A: the suite logs in to a dialect A server by password and reports what A lacks", async () => {
  const cluster = await Cluster.create(0);
  const tls = {
    cert: await Deno.readTextFile(cluster.certs.cert),
    key: await Deno.readTextFile(cluster.certs.key),
  };
  const a = new DialectAServer(await fixtureKeys(6), tls);
  try {
    const run = await suite([
      "--server",
      a.url,
      "--ca",
      cluster.certs.caCert,
      "--dialect",
      "A",
      "--login-password",
      "pw",
      "--keys",
      await keysDir(cluster.dir),
      "--only",
      "hello.,list.,files.dm,dm.same-server",
      "--timeout-ms",
      "1500",
      "--json",
    ]);
    const c = byId(run.checks);
    // A's hello form works: users log in, /list answers as COMMAND, files are relayed.
    for (const id of ["hello.name-in-use", "list.command", "files.dm"]) {
      assert.equal(c[id].status, "PASS", `${id}: ${c[id].detail}`);
    }
    // What A cannot be asked is skipped with the reason; what it does not do fails, with evidence.
    assert.equal(c["hello.accept"].status, "SKIP");
    assert.equal(c["dm.same-server"].status, "SKIP");
    assert.match(c["dm.same-server"].detail, /no key in its welcome/);
    assert.equal(c["hello.wrong-signature"].status, "FAIL");
    assert.match(c["hello.wrong-signature"].detail, /expected: ERROR INVALID_SIG or AUTH_FAILED/);
    assert.equal(run.code, 1);
  } finally {
    await a.stop();
    await cluster.close();
  }
});
