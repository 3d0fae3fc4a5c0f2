import assert from "node:assert/strict";
import { ensureDevCertificates, generateDevCertificates } from "../../certs/mkcert.ts";

Deno.test("dev certificates serve TLS that clients trusting the dev CA accept, for each listed host", async () => {
  const dir = await Deno.makeTempDir();
  const paths = await ensureDevCertificates(dir, ["127.0.0.1", "localhost"]);
  const server = Deno.serve({
    hostname: "127.0.0.1",
    port: 0,
    cert: await Deno.readTextFile(paths.cert),
    key: await Deno.readTextFile(paths.key),
    onListen() {},
  }, () => new Response("ok"));
  const trusting = Deno.createHttpClient({ caCerts: [await Deno.readTextFile(paths.caCert)] });
  const other = Deno.createHttpClient({
    caCerts: [(await generateDevCertificates(["127.0.0.1"])).caCert],
  });
  try {
    for (const host of ["127.0.0.1", "localhost"]) {
      const res = await fetch(`https://${host}:${server.addr.port}/`, { client: trusting });
      assert.equal(await res.text(), "ok");
    }
    await assert.rejects(fetch(`https://127.0.0.1:${server.addr.port}/`, { client: other }));
    for (const name of ["ca-key.pem", "server-key.pem"]) {
      assert.equal((await Deno.stat(`${dir}/${name}`)).mode! & 0o777, 0o600, name);
    }
  } finally {
    trusting.close();
    other.close();
    await server.shutdown();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("ensureDevCertificates keeps existing certificates", async () => {
  const dir = await Deno.makeTempDir();
  const first = await ensureDevCertificates(dir, ["127.0.0.1"]);
  const before = await Deno.readTextFile(first.cert);
  await ensureDevCertificates(dir, ["127.0.0.1"]);
  assert.equal(await Deno.readTextFile(first.cert), before);
  await Deno.remove(dir, { recursive: true });
});
