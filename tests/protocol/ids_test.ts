import assert from "node:assert/strict";
import { displayTime, isHostPort, isPeerId, isUuidV4, newId, nowMs } from "../../mod.ts";

Deno.test("isUuidV4 accepts v4 in either case and rejects other versions and shapes", () => {
  assert.ok(isUuidV4("0f1e2d3c-4b5a-4968-8776-655443322110"));
  assert.ok(isUuidV4("0F1E2D3C-4B5A-4968-8776-655443322110"));
  assert.ok(!isUuidV4("6ba7b810-9dad-11d1-80b4-00c04fd430c8"));
  assert.ok(!isUuidV4("0f1e2d3c-4b5a-4968-c776-655443322110")); // bad variant
  assert.ok(!isUuidV4("Bob"));
  assert.ok(!isUuidV4(7));
  assert.ok(isUuidV4(newId()));
});

Deno.test("isPeerId accepts dialect free names but never reserved words", () => {
  assert.ok(isPeerId("Bob"));
  assert.ok(isPeerId("server_1:8765"));
  assert.ok(isPeerId("a@b.c-d"));
  for (const bad of ["*", "public", "system", "", "a b", "x".repeat(65), "é"]) {
    assert.ok(!isPeerId(bad), bad);
  }
});

Deno.test("isHostPort accepts host:port with a valid port only", () => {
  assert.ok(isHostPort("192.0.2.10:8443"));
  assert.ok(isHostPort("example.org:1"));
  assert.ok(isHostPort("[::1]:8080"));
  for (const bad of ["192.0.2.10", "h:0", "h:70000", "h:port", ":80", "a b:80"]) {
    assert.ok(!isHostPort(bad), bad);
  }
});

Deno.test("nowMs is integer milliseconds and displayTime reads small values as seconds", () => {
  assert.ok(Number.isSafeInteger(nowMs()) && nowMs() > 1e12);
  assert.equal(displayTime(1_700_000_000).getTime(), 1_700_000_000_000);
  assert.equal(displayTime(1_700_000_000_000).getTime(), 1_700_000_000_000);
});
