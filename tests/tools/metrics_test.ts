// GET /metrics is valid Prometheus text and counts a DM's frames on both servers.

import assert from "node:assert/strict";
import { Cluster } from "../_cluster.ts";
import { TestUser } from "../_user.ts";
import { KEYS } from "../_vectors.ts";

/** Parses Prometheus text; throws on any malformed line. */
function parsePrometheus(text: string): Map<string, number> {
  const samples = new Map<string, number>();
  const typed = new Set<string>();
  for (const line of text.split("\n")) {
    if (!line) continue;
    const type = /^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|histogram|summary|untyped)$/
      .exec(line);
    if (type) typed.add(type[1]);
    if (line.startsWith("#")) {
      assert.match(line, /^# (HELP|TYPE) [a-zA-Z_:][a-zA-Z0-9_:]* .+$/, line);
      continue;
    }
    const m =
      /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\]|\\.)*",?)*\})? (-?[0-9.]+(?:e[+-]?\d+)?)$/
        .exec(line);
    assert.ok(m, `not Prometheus text: ${line}`);
    assert.ok(typed.has(m[1]), `${m[1]} has no TYPE line`);
    samples.set(m[1] + (m[2] ?? ""), Number(m[3]));
  }
  return samples;
}

Deno.test("/metrics parses as Prometheus text and counts the frames of a DM across servers", async () => {
  const cluster = await Cluster.create(3);
  const alice = new TestUser(KEYS.A, "Alice");
  const bob = new TestUser(KEYS.B, "Bob");
  try {
    const intro = await cluster.introducer("intro");
    const a = await cluster.server("a", [intro]);
    const b = await cluster.server("b", [intro]);
    await cluster.waitForMesh([intro, a, b]);
    await alice.connect(a.url, cluster.client);
    await bob.connect(b.url, cluster.client);
    await alice.socket.next((f) => f.type === "USER_ADVERTISE" && f.payload.user_id === bob.id);
    const metrics = async (url: string) => {
      const res = await fetch(`${url.replace("wss://", "https://").replace("/ws", "")}/metrics`, {
        client: cluster.client,
      });
      assert.match(res.headers.get("content-type") ?? "", /^text\/plain; version=0\.0\.4/);
      return parsePrometheus(await res.text());
    };
    const before = { a: await metrics(a.url), b: await metrics(b.url) };
    await alice.dm(bob, "counted");
    await bob.nextDm();
    const after = { a: await metrics(a.url), b: await metrics(b.url) };
    const delta = (side: "a" | "b", key: string) =>
      (after[side].get(key) ?? 0) - (before[side].get(key) ?? 0);
    assert.equal(delta("a", 'socp_frames_in_total{type="MSG_DIRECT"}'), 1);
    assert.equal(delta("a", 'socp_frames_out_total{type="SERVER_DELIVER"}'), 1);
    assert.equal(delta("b", 'socp_frames_in_total{type="SERVER_DELIVER"}'), 1);
    assert.equal(delta("b", 'socp_frames_out_total{type="USER_DELIVER"}'), 1);
    assert.ok(
      delta("a", 'socp_rsa_operations_total{op="verify"}') >= 1,
      "A verified alice's signature",
    );
    assert.ok(delta("b", 'socp_rsa_operations_total{op="sign"}') >= 1, "B signed the USER_DELIVER");
    assert.equal(after.a.get('socp_users{where="local"}'), 1);
    assert.equal(after.a.get('socp_users{where="remote"}'), 1);
    assert.equal(after.a.get('socp_links{kind="server"}'), 2);
  } finally {
    await alice.close().catch(() => {});
    await bob.close().catch(() => {});
    await cluster.close();
  }
});
