// `deno task bundle`: the three executables, copied outside the repository,
// form a mesh and carry a cross-server DM; each runs with narrowed permissions.

import assert from "node:assert/strict";
import { ensureDevCertificates } from "../../certs/mkcert.ts";
import { writeIdentityKey } from "../../server/identity.ts";
import { bundleAll } from "../../tools/bundle.ts";
import { suiteKeys } from "../conformance/_broken_server.ts";
import { ClientProcess } from "../_client_proc.ts";
import { fixtureKeys, waitUntil } from "../_cluster.ts";
import { KEYS } from "../_vectors.ts";

/** A bundled node: its JSON log lines and its port once it listens. */
async function startNode(bin: string, cwd: string, args: string[]) {
  const child = new Deno.Command(bin, {
    args: [...args, "--log-format", "json", "--heartbeat-ms", "500", "--timeout-ms", "2000"],
    cwd,
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const lines: string[] = [];
  const collect = async (stream: ReadableStream<Uint8Array>) => {
    for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
      lines.push(...chunk.split("\n").filter(Boolean));
    }
  };
  const done = Promise.all([collect(child.stdout), collect(child.stderr)]);
  let port = 0;
  await waitUntil(
    () => {
      const listening = lines.map((l) => {
        try {
          return JSON.parse(l);
        } catch {
          return {};
        }
      }).find((e) => e.msg === "listening");
      port = listening?.port ?? 0;
      return port > 0;
    },
    20_000,
    `${bin} to listen (output: ${lines.join(" | ")})`,
  );
  return { child, port, lines, done };
}

Deno.test("bundled executables run from outside the repository and complete a cross-server DM", async () => {
  const outside = await Deno.makeTempDir({ prefix: "socp-bundle-" });
  const nodes: Awaited<ReturnType<typeof startNode>>[] = [];
  const clients: ClientProcess[] = [];
  try {
    const [introBin, serverBin, clientBin, conformanceBin] = await bundleAll(`${outside}/dist`);
    for (const bin of [introBin, serverBin, clientBin, conformanceBin]) {
      const head = (await Deno.readTextFile(bin)).split("\n", 1)[0];
      assert.equal(
        head,
        "#!/usr/bin/env -S deno run --allow-run=deno --allow-env=SOCP_*",
        "no broad permissions in the shebang",
      );
      assert.equal((await Deno.stat(bin)).mode! & 0o111, 0o111, "executable");
    }
    const certs = await ensureDevCertificates(`${outside}/certs`, ["127.0.0.1"]);
    const tls = [
      "--tls-cert",
      "certs/server.pem",
      "--tls-key",
      "certs/server-key.pem",
      "--ca",
      "certs/ca.pem",
    ];
    for (const [i, name] of ["intro", "a", "b"].entries()) {
      await Deno.mkdir(`${outside}/${name}`, { mode: 0o700 });
      await writeIdentityKey(`${outside}/${name}`, await fixtureKeys(i));
    }
    nodes.push(await startNode(introBin, outside, ["--port", "0", "--data", "intro", ...tls]));
    await waitUntil(
      () => Deno.stat(`${outside}/intro/bootstrap.json`).then(() => true, () => false),
      10_000,
      "bootstrap.json",
    );
    for (const name of ["a", "b"]) {
      // b runs on the OpenSSL backend: its launcher grants --allow-ffi for that flag only.
      const crypto = name === "b" ? ["--crypto", "openssl"] : [];
      nodes.push(
        await startNode(serverBin, outside, [
          "--port",
          "0",
          "--data",
          name,
          "--introducers",
          "intro/bootstrap.json",
          ...tls,
          ...crypto,
        ]),
      );
    }
    const backendOf = (n: number) =>
      nodes[n].lines.map((l) => l.includes('"crypto backend"') ? JSON.parse(l).backend : null)
        .find((b) => b);
    assert.equal(backendOf(1), "webcrypto");
    assert.equal(backendOf(2), "openssl");
    const url = (n: number) => `wss://127.0.0.1:${nodes[n].port}/ws`;
    for (const [n, name, keys] of [[1, "alice", KEYS.A], [2, "bob", KEYS.B]] as const) {
      clients.push(
        await ClientProcess.run([clientBin], {
          name,
          dataDir: `${outside}/user-${name}`,
          keys,
          url: url(n),
          caCert: certs.caCert,
          cwd: outside,
        }),
      );
    }
    const [alice, bob] = clients;
    await alice.next((e) => e.event === "presence" && e.display_name === "bob", 20_000);
    await alice.send("/tell bob hello from the bundle");
    const dm = await bob.next((e) => e.event === "dm");
    assert.equal(dm.text, "hello from the bundle");
    assert.equal(dm.verified, true);
    // The bundled conformance suite, narrowed to that server, checks it.
    const suite = await new Deno.Command(conformanceBin, {
      args: [
        "--server",
        url(1),
        "--ca",
        "certs/ca.pem",
        "--keys",
        await suiteKeys(outside),
        "--only",
        "hello.accept,dm.same-server",
        "--json",
      ],
      cwd: outside,
      stdout: "piped",
      stderr: "piped",
    }).output();
    const report = JSON.parse(new TextDecoder().decode(suite.stdout));
    assert.deepEqual(
      report.checks.map((c: { id: string; status: string }) => `${c.id} ${c.status}`),
      ["hello.accept PASS", "dm.same-server PASS"],
      new TextDecoder().decode(suite.stderr),
    );
    assert.equal(suite.code, 0);
    // The bundled server serves the web client from itself: no files beside it.
    const trust = Deno.createHttpClient({ caCerts: [await Deno.readTextFile(certs.caCert)] });
    const page = await (await fetch(`https://127.0.0.1:${nodes[1].port}/`, { client: trust }))
      .text();
    const script = page.match(/src="(\/assets\/app\.[0-9a-f]{16}\.js)"/)?.[1];
    assert.ok(script, "the page names its script");
    const app = await fetch(`https://127.0.0.1:${nodes[1].port}${script}`, { client: trust });
    assert.equal([app.status, (await app.text()).length > 1000].join(), "200,true");
    trust.close();
    // The relaunched server child holds only its own paths: no read access elsewhere.
    const ps = new TextDecoder().decode(
      (await new Deno.Command("ps", { args: ["-eo", "args"], stdout: "piped" }).output()).stdout,
    );
    const child = ps.split("\n").find((l) =>
      l.includes("--allow-write=a") && l.includes("deno run")
    );
    assert.ok(child, "the narrowed server child runs");
    assert.match(
      child,
      /--allow-read=a,certs\/server\.pem,certs\/server-key\.pem,certs\/ca\.pem,intro\/bootstrap\.json /,
    );
    assert.ok(!/--allow-all|-A |--allow-ffi/.test(child), "no FFI without --crypto");
    const opensslChild = ps.split("\n").find((l) =>
      l.includes("--allow-write=b") && l.includes("deno run")
    );
    assert.match(opensslChild ?? "", /--allow-ffi /, "FFI for --crypto openssl");
    const clientChild = ps.split("\n").find((l) =>
      l.includes("--allow-net=127.0.0.1:") && l.includes("user-alice")
    );
    assert.ok(clientChild, "the narrowed client child runs");
    assert.match(
      clientChild,
      new RegExp(`--allow-net=127\\.0\\.0\\.1:${nodes[1].port} `),
      "the client may reach its own server only",
    );
  } finally {
    for (const c of clients) await c.quit();
    for (const n of nodes) {
      n.child.kill("SIGTERM");
      await n.child.status;
      await n.done;
    }
    await Deno.remove(outside, { recursive: true });
  }
});
