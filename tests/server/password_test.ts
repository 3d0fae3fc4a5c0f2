// Password guessing against dialect logins (SOCP.md §10.3): failed checks are
// throttled per user id and per address with growing delays, and logged; the
// right password works again once the delay has passed.

import assert from "node:assert/strict";
import { buildSigned, type Frame, type Identity } from "../../mod.ts";
import { PasswordThrottle } from "../../server/password_throttle.ts";
import { Cluster, waitUntil } from "../_cluster.ts";
import { TestUser } from "../_user.ts";
import { KEYS } from "../_vectors.ts";

const RIGHT = "correct horse battery staple";

/** A dialect-A hello: the plaintext password, signed by the run's key. */
function passwordHello(identity: Identity, password: string) {
  return buildSigned(identity, "USER_HELLO", "server", {
    client: "cli-v1",
    pubkey: identity.keys.publicKey.b64,
    enc_pubkey: identity.keys.publicKey.b64,
    password,
  });
}

async function login(
  cluster: Cluster,
  url: string,
  id: string,
  password: string,
): Promise<{ type: string; detail: string }> {
  const user = new TestUser(KEYS.A, "Dee", id);
  const reply: Frame = await user.connect(
    url,
    cluster.client,
    await passwordHello(user.identity, password),
  );
  await user.close().catch(() => {});
  const detail = reply.type === "ERROR" ? reply.payload.detail : "";
  return { type: reply.type, detail };
}

Deno.test("failed passwords are throttled per user and per address with growing delays", async () => {
  const cluster = await Cluster.create(0);
  try {
    const server = await cluster.server("solo", [], ["--password-backoff-ms", "600"]);
    const dee = crypto.randomUUID();
    const erin = crypto.randomUUID();
    assert.equal((await login(cluster, server.url, dee, RIGHT)).type, "ACK");
    assert.equal((await login(cluster, server.url, erin, RIGHT)).type, "ACK");

    // Three free failures, then each further one imposes a delay (600 ms, then 1.2 s).
    for (let i = 0; i < 4; i++) {
      const wrong = await login(cluster, server.url, dee, `guess ${i}`);
      assert.equal(wrong.type, "ERROR");
      assert.doesNotMatch(wrong.detail, /too many/);
    }
    const started = Date.now();
    // During the delay even the right password is not checked, for dee and for this address.
    assert.match(
      (await login(cluster, server.url, dee, RIGHT)).detail,
      /too many failed passwords/,
    );
    assert.match((await login(cluster, server.url, erin, RIGHT)).detail, /too many failed/);
    // Once it has passed, the right password works again.
    await waitUntil(
      async () => (await login(cluster, server.url, dee, RIGHT)).type === "ACK",
      5000,
      "the right password to work after the delay",
    );
    assert.ok(Date.now() - started >= 500, "the delay was kept");
    // The failures were logged with the user and address, never the password.
    const failures = server.entries().filter((e) => e.msg === "failed password");
    assert.equal(failures.length, 4);
    assert.equal(failures[3].user, dee);
    assert.ok((failures[3].delay_ms as number) >= 600);
    assert.ok(!server.lines.some((l) => l.includes("guess ") || l.includes(RIGHT)));
  } finally {
    await cluster.close();
  }
});

Deno.test("PasswordThrottle: free failures, doubling delays up to the cap, forgotten after quiet", () => {
  const throttle = new PasswordThrottle({
    freeFailures: 2,
    baseDelayMs: 100,
    maxDelayMs: 350,
    forgetMs: 10_000,
  });
  const keys = ["user:u", "ip:10.0.0.1"];
  assert.deepEqual([0, 0, 100, 200, 350, 350].map(() => throttle.failed(keys, 0)), [
    0,
    0,
    100,
    200,
    350,
    350,
  ]);
  assert.equal(throttle.waitMs(["ip:10.0.0.1"], 100), 250);
  assert.equal(throttle.waitMs(["ip:10.0.0.2"], 100), 0);
  throttle.succeeded("user:u"); // the address keeps its count
  assert.equal(throttle.waitMs(["user:u"], 100), 0);
  assert.equal(throttle.waitMs(["ip:10.0.0.1"], 100), 250);
  assert.equal(throttle.failed(["ip:10.0.0.1"], 20_000), 0, "forgotten after a quiet period");
});
