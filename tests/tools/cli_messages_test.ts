// Friendly command lines (issue 15): every role answers --version, the
// certificate tool answers --help without creating anything, and a port in
// use is named with its likely cause. Real processes, exact texts.

import assert from "node:assert/strict";
import { VERSION } from "../../version.ts";
import { Cluster, waitUntil } from "../_cluster.ts";

const root = new URL("../../", import.meta.url).pathname;

async function run(args: string[], cwd = root) {
  const out = await new Deno.Command("deno", {
    args: ["run", "--allow-all", ...args],
    cwd,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = (b: Uint8Array) => new TextDecoder().decode(b).trim();
  return { code: out.code, stdout: text(out.stdout), stderr: text(out.stderr) };
}

Deno.test("every role prints its version, the one in deno.json", async () => {
  const config = JSON.parse(await Deno.readTextFile(`${root}deno.json`));
  assert.equal(VERSION, config.version);
  for (
    const [role, entry] of [
      ["server", "server/main.ts"],
      ["introducer", "introducer/main.ts"],
      ["client", "client/main.ts"],
    ]
  ) {
    const out = await run([`${root}${entry}`, "--version"]);
    assert.deepEqual([out.code, out.stdout], [0, `socp-${role} ${VERSION}`]);
  }
});

Deno.test("certs/mkcert.ts --help explains itself and creates nothing", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const out = await run([`${root}certs/mkcert.ts`, "--help"], dir);
    assert.equal(out.code, 0);
    assert.match(out.stdout, /^certs\/mkcert\.ts \[DIR\] \[HOST…\]/);
    assert.deepEqual([...Deno.readDirSync(dir)], []);
    const bad = await run([`${root}certs/mkcert.ts`, "--hosts"], dir);
    assert.deepEqual([bad.code, bad.stderr], [2, "mkcert: unknown option --hosts (try --help)"]);
    assert.deepEqual([...Deno.readDirSync(dir)], []);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a port in use is named, with the likely cause", async () => {
  const taken = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const data = await Deno.makeTempDir();
  try {
    const port = taken.addr.port;
    const out = await run([
      `${root}server/main.ts`,
      "--insecure-plain",
      "--port",
      String(port),
      "--data",
      data,
    ]);
    assert.equal(out.code, 1);
    assert.equal(
      out.stderr.split("\n").at(-1),
      `socp-server: port ${port} on 127.0.0.1 is already in use (another socp node, or ` +
        "`deno task dev`, may be running there): stop it or choose --port",
    );
  } finally {
    taken.close();
    await Deno.remove(data, { recursive: true });
  }
});

Deno.test("deno task dev explains its flags and refuses unknown ones without a trace", async () => {
  const help = await run([`${root}tools/dev.ts`, "--help"]);
  assert.equal(help.code, 0);
  for (const flag of ["--ports", "--data", "--certs"]) assert.ok(help.stdout.includes(flag), flag);
  const bad = await run([`${root}tools/dev.ts`, "--bogus"]);
  assert.deepEqual(
    [bad.code, bad.stderr],
    [2, "socp dev: Unknown option '--bogus' (try --help)"],
  );
});

Deno.test("each role's --help lists its own flags only", async () => {
  const intro = (await run([`${root}introducer/main.ts`, "--help"])).stdout;
  const server = (await run([`${root}server/main.ts`, "--help"])).stdout;
  for (const userFlag of ["--max-local-users", "--user-rate", "--allow-unsigned-hello"]) {
    assert.ok(server.includes(userFlag), `server has ${userFlag}`);
    assert.ok(!intro.includes(userFlag), `introducer has no ${userFlag}`);
  }
  assert.ok(server.includes("--version") && intro.includes("--version"));
});

Deno.test("with --log-format json, every line an introducer prints is JSON", async () => {
  const cluster = await Cluster.create(0);
  try {
    const intro = await cluster.introducer("intro");
    await waitUntil(
      () => intro.entries().some((e) => e.msg === "bootstrap entry written"),
      10_000,
      "the bootstrap entry line",
    );
    const notJson = intro.lines.filter((l) => {
      try {
        return typeof JSON.parse(l) !== "object";
      } catch {
        return true;
      }
    });
    assert.deepEqual(notJson, []);
    // Keys appear in logs by fingerprint only (the key itself is in the bootstrap file).
    const listening = intro.entries().find((e) => e.msg === "listening")!;
    assert.match(String(listening.key_fingerprint), /^[0-9a-f]{64}$/);
    const withKey = intro.lines.filter((l) => l.includes(intro.pubkey.slice(0, 60)));
    assert.deepEqual(withKey, [], "no log line carries the key");
  } finally {
    await cluster.close();
  }
});
