import assert from "node:assert/strict";
import {
  ENV_NAMES,
  helpText,
  parseBootstrapFile,
  parseConfig,
  parseIntroducerUrl,
} from "../../server/config.ts";

Deno.test("parseConfig reads flags, with SOCP_* environment fallbacks", () => {
  const r = parseConfig(
    "server",
    ["--port", "9000", "--insecure-plain", "--heartbeat-ms", "1000"],
    {
      SOCP_HOST: "0.0.0.0",
      SOCP_PUBLIC_HOST: "chat.example",
      SOCP_TIMEOUT_MS: "3000",
      SOCP_PORT: "1", // the flag wins
    },
  );
  assert.ok(r.ok);
  const c = r.config;
  assert.equal(c.port, 9000);
  assert.equal(c.host, "0.0.0.0");
  assert.equal(c.publicHost, "chat.example");
  assert.equal(c.limits.heartbeatMs, 1000);
  assert.equal(c.limits.linkTimeoutMs, 3000);
  assert.equal(c.limits.clockWindowMs, 120_000);
  assert.equal(c.limits.helloReplayMs, 240_000);
  assert.equal(c.dataDir, ".socp/server");
  assert.equal(c.hostsUsers, true);
  assert.equal(c.acceptJoins, false);
});

Deno.test("--clock-window-ms widens the ts window and the hello replay cache with it", () => {
  const r = parseConfig("server", ["--insecure-plain", "--clock-window-ms", "300000"], {});
  assert.ok(r.ok);
  assert.equal(r.config.limits.clockWindowMs, 300_000);
  assert.equal(r.config.limits.helloReplayMs, 600_000);
  const tooSmall = parseConfig("server", ["--insecure-plain", "--clock-window-ms", "10"], {});
  assert.ok(!tooSmall.ok && "error" in tooSmall && /clock-window-ms/.test(tooSmall.error));
});

Deno.test("parseConfig refuses plain ws unless asked, and bad values", () => {
  const noTls = parseConfig("server", [], {});
  assert.ok(!noTls.ok && "error" in noTls && /--insecure-plain/.test(noTls.error));
  for (
    const args of [["--port", "x"], ["--port", "70000"], ["--log-format", "xml"], ["--bogus"], [
      "--introducer",
      "::::",
    ]]
  ) {
    const r = parseConfig("server", [...args, "--insecure-plain"], {});
    assert.ok(!r.ok && "error" in r, args.join(" "));
  }
});

Deno.test("the introducer accepts joins and hosts no users; --help lists every flag with its variable", () => {
  const r = parseConfig("introducer", ["--tls-cert", "c", "--tls-key", "k"], {});
  assert.ok(r.ok && r.config.acceptJoins && !r.config.hostsUsers && r.config.port === 8765);
  const help = parseConfig("server", ["--help"], {});
  assert.ok(!help.ok && "help" in help);
  for (const name of ENV_NAMES) assert.ok(helpText("server").includes(name), name);
  assert.ok(!helpText("introducer").includes("--accept-joins"));
});

Deno.test("introducer URLs and bootstrap files", () => {
  assert.deepEqual(parseIntroducerUrl("wss://10.0.0.1:8765/ws?pubkey=MIIC"), {
    host: "10.0.0.1",
    port: 8765,
    pubkey: "MIIC",
  });
  assert.deepEqual(parseIntroducerUrl("example.org:9"), { host: "example.org", port: 9 });
  assert.deepEqual(parseIntroducerUrl("ws://[::1]:80"), { host: "::1", port: 80 });
  assert.equal(parseIntroducerUrl("wss://h:99999"), null);
  const entries = parseBootstrapFile(
    '{"bootstrap_servers":[{"host":"h","port":1,"pubkey":"k"},{"host":"g","port":"2"}]}',
  );
  assert.deepEqual(entries, [{ host: "h", port: 1, pubkey: "k" }, { host: "g", port: 2 }]);
  // Dialect A introducers are named, since nothing can be detected before joining them.
  assert.deepEqual(parseIntroducerUrl("wss://h:9/ws?dialect=A"), {
    host: "h",
    port: 9,
    dialect: "A",
  });
  assert.deepEqual(
    parseBootstrapFile('{"bootstrap_servers":[{"host":"h","port":1,"dialect":"A"}]}'),
    [
      { host: "h", port: 1, dialect: "A" },
    ],
  );
  assert.deepEqual(
    parseBootstrapFile('{"bootstrap_servers":[{"host":"h","port":1,"dialect":"Z"}]}'),
    [
      { host: "h", port: 1 },
    ],
  );
  assert.throws(() => parseBootstrapFile('{"servers":[]}'));
  assert.throws(() => parseBootstrapFile('{"bootstrap_servers":[{"host":"h"}]}'));
});
