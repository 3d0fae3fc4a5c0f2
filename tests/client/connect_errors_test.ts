// What a user sees when the client cannot connect (issue 15, item 1): each
// cause gets its own message, with the fix where there is one, and only a
// refused connection (a server still starting) is retried. Real client
// processes against a real server, a closed port, and a server whose
// certificate expired.

import assert from "node:assert/strict";
import { generateDevCertificates } from "../../certs/mkcert.ts";
import { PASSWORD, provisionIdentity } from "../_client_proc.ts";
import { Cluster, fixtureKeys } from "../_cluster.ts";

const ENTRY = new URL("../../client/main.ts", import.meta.url).pathname;

/** Runs the client once (`--json`, stdin closed) and returns its exit code and error line. */
async function attempt(cluster: Cluster, url: string, extra: string[] = []) {
  const dataDir = await Deno.makeTempDir({ dir: cluster.dir });
  await provisionIdentity(dataDir, "ann", await fixtureKeys(2));
  const passwordFile = `${dataDir}/pw`;
  await Deno.writeTextFile(passwordFile, PASSWORD);
  const started = Date.now();
  const out = await new Deno.Command("deno", {
    args: [
      "run",
      "--allow-net",
      "--allow-read",
      `--allow-write=${dataDir}`,
      "--allow-env=SOCP_*",
      ENTRY,
      "--server",
      url,
      "--user",
      "ann",
      "--data",
      dataDir,
      "--password-file",
      passwordFile,
      "--json",
      ...extra,
    ],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const lines = new TextDecoder().decode(out.stdout).split("\n").filter(Boolean);
  const events = lines.map((l) => JSON.parse(l));
  const error = events.find((e) => e.event === "error");
  const retries = events.filter((e) => e.event === "disconnected").length;
  return { code: out.code, detail: error?.detail as string, retries, ms: Date.now() - started };
}

Deno.test("connection failures say what happened and what to do; only a refusal is retried", async () => {
  const cluster = await Cluster.create(0);
  try {
    const intro = await cluster.introducer("intro");
    const s = await cluster.server("s", [intro]);
    const url = `wss://127.0.0.1:${s.port}/ws`;
    const ca = ["--ca", cluster.certs.caCert];

    const noCa = await attempt(cluster, url);
    assert.equal(noCa.code, 1);
    assert.equal(
      noCa.detail,
      `cannot connect to ${url}: the server's certificate is not trusted: give the CA that ` +
        "signed it with --ca (for `deno task dev`: --ca certs/ca.pem)",
    );
    assert.equal(noCa.retries, 0, "a certificate does not heal by waiting");

    const otherCaFile = `${cluster.dir}/other-ca.pem`;
    await Deno.writeTextFile(otherCaFile, (await generateDevCertificates(["127.0.0.1"])).caCert);
    const wrongCa = await attempt(cluster, url, ["--ca", otherCaFile]);
    assert.equal(
      wrongCa.detail,
      `cannot connect to ${url}: the server's certificate is not trusted: the CA given with ` +
        "--ca did not sign it",
    );

    const wrongPath = `wss://127.0.0.1:${s.port}/wrong`;
    const notFound = await attempt(cluster, wrongPath, ca);
    assert.equal(
      notFound.detail,
      `cannot connect to ${wrongPath}: the server has nothing at /wrong (HTTP 404); its ` +
        "WebSocket endpoint is /ws",
    );
    assert.equal(notFound.retries, 0);

    // A closed port may be a server still starting: retried, then given up with the reason.
    const probe = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const closedPort = probe.addr.port;
    probe.close();
    const closedUrl = `wss://127.0.0.1:${closedPort}/ws`;
    const refused = await attempt(cluster, closedUrl, ca);
    assert.equal(
      refused.detail,
      `cannot connect to ${closedUrl}: connection refused (is a server running on ` +
        `127.0.0.1:${closedPort}?)`,
    );
    assert.equal(refused.retries, 3);

    const missing = await attempt(cluster, url, ["--ca", `${cluster.dir}/nope.pem`]);
    assert.equal(missing.code, 2);
  } finally {
    await cluster.close();
  }
});

Deno.test("an expired certificate (the server warns at start) or one for another name: the client says so", async () => {
  const cluster = await Cluster.create(0);
  try {
    const expired = await generateDevCertificates(["127.0.0.1"], -1);
    // Beside the cluster's certificates, which nodes may read.
    const dir = cluster.certs.caCert.replace(/\/[^/]+$/, "");
    const files = { ca: expired.caCert, cert: expired.cert, key: expired.key };
    for (const [name, text] of Object.entries(files)) {
      await Deno.writeTextFile(`${dir}/expired-${name}.pem`, text);
    }
    const intro = await cluster.introducer("intro");
    const s = await cluster.server("s", [intro], [
      "--tls-cert",
      `${dir}/expired-cert.pem`,
      "--tls-key",
      `${dir}/expired-key.pem`,
    ]);
    assert.ok(
      s.lines.some((l) =>
        l.includes('"level":"warn"') && l.includes("the TLS certificate expired")
      ),
      "the server warns at start",
    );
    const url = `wss://127.0.0.1:${s.port}/ws`;
    const result = await attempt(cluster, url, ["--ca", `${dir}/expired-ca.pem`]);
    assert.equal(
      result.detail,
      `cannot connect to ${url}: the server's certificate has expired or is not yet valid ` +
        "(check the server's certificate and both clocks)",
    );
    assert.equal(result.retries, 0);

    // A certificate for "localhost" only, reached as 127.0.0.1.
    const named = await generateDevCertificates(["localhost"]);
    await Deno.writeTextFile(`${dir}/named-cert.pem`, named.cert);
    await Deno.writeTextFile(`${dir}/named-key.pem`, named.key);
    await Deno.writeTextFile(`${dir}/named-ca.pem`, named.caCert);
    const n = await cluster.server("n", [intro], [
      "--tls-cert",
      `${dir}/named-cert.pem`,
      "--tls-key",
      `${dir}/named-key.pem`,
    ]);
    const byIp = `wss://127.0.0.1:${n.port}/ws`;
    const wrongName = await attempt(cluster, byIp, ["--ca", `${dir}/named-ca.pem`]);
    assert.equal(
      wrongName.detail,
      `cannot connect to ${byIp}: the server's certificate is not for 127.0.0.1 (connect with ` +
        "a name it lists)",
    );
    assert.equal(wrongName.retries, 0);
  } finally {
    await cluster.close();
  }
});
