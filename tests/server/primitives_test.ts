import assert from "node:assert/strict";
import { Link } from "../../server/link.ts";
import { backoffMs, preferredLink } from "../../server/link_policy.ts";
import { TokenBucket, WindowCounter } from "../../server/rate.ts";
import { SeenIds } from "../../server/seen_ids.ts";

Deno.test("SeenIds: entries expire after the TTL", () => {
  const seen = new SeenIds(10, 1000);
  seen.add("a", 0);
  assert.ok(seen.has("a", 999));
  assert.ok(!seen.has("a", 1000));
});

Deno.test("SeenIds: when full, the oldest entry is evicted", () => {
  const seen = new SeenIds(3, 60_000);
  for (const [i, k] of ["a", "b", "c", "d"].entries()) seen.add(k, i);
  assert.ok(!seen.has("a", 10));
  assert.ok(seen.has("b", 10) && seen.has("d", 10));
  assert.equal(seen.size, 3);
});

Deno.test("TokenBucket: burst, then the steady rate", () => {
  const bucket = new TokenBucket(10, 5, 0);
  let taken = 0;
  for (let i = 0; i < 20; i++) if (bucket.take(0)) taken++;
  assert.equal(taken, 5);
  assert.ok(!bucket.take(50));
  assert.ok(bucket.take(100)); // 10/s refills one token in 100 ms
});

Deno.test("WindowCounter counts only the last window", () => {
  const c = new WindowCounter(1000);
  assert.equal(c.hit(0), 1);
  assert.equal(c.hit(500), 2);
  assert.equal(c.count(1200), 1);
});

Deno.test("backoffMs: 1, 2, 4, 8, 16 then 30 s, each within ±20 %", () => {
  const bases = [1000, 2000, 4000, 8000, 16000, 30000, 30000];
  for (const [attempt, base] of bases.entries()) {
    assert.equal(backoffMs(attempt, () => 0), base * 0.8);
    assert.equal(backoffMs(attempt, () => 1), base * 1.2);
  }
});

Deno.test("preferredLink: both ends keep the same link (dialled by the lower id; else the newer)", () => {
  const low = "11111111-1111-4111-8111-111111111111";
  const high = "22222222-2222-4222-8222-222222222222";
  const socket = {} as WebSocket;
  // At `low`: link A dialled by low (us), link B dialled by high (them).
  const aAtLow = Object.assign(new Link({ socket, remote: "", dialledByUs: true, now: 1 }), {
    peerId: high,
  });
  const bAtLow = Object.assign(new Link({ socket, remote: "", dialledByUs: false, now: 2 }), {
    peerId: high,
  });
  // The same two connections seen from `high`.
  const aAtHigh = Object.assign(new Link({ socket, remote: "", dialledByUs: false, now: 1 }), {
    peerId: low,
  });
  const bAtHigh = Object.assign(new Link({ socket, remote: "", dialledByUs: true, now: 2 }), {
    peerId: low,
  });
  assert.equal(preferredLink(low, aAtLow, bAtLow), aAtLow);
  assert.equal(preferredLink(low, bAtLow, aAtLow), aAtLow);
  assert.equal(preferredLink(high, aAtHigh, bAtHigh), aAtHigh);
  assert.equal(preferredLink(high, bAtHigh, aAtHigh), aAtHigh);
  // Both dialled by the same side: the newer wins.
  const older = Object.assign(new Link({ socket, remote: "", dialledByUs: true, now: 1 }), {
    peerId: high,
  });
  const newer = Object.assign(new Link({ socket, remote: "", dialledByUs: true, now: 5 }), {
    peerId: high,
  });
  assert.equal(preferredLink(low, older, newer), newer);
});
