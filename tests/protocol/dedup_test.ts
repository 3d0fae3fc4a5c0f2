import assert from "node:assert/strict";
import { canonicalJson, msgRef, seenKey, sha256Hex } from "../../mod.ts";

const frame = {
  type: "USER_REMOVE",
  from: "s1",
  to: "*",
  ts: 1700000200000,
  payload: { user_id: "u", server_id: "s1" },
};

Deno.test("seenKey hashes type, from, to, ts and the canonical payload, newline-separated", async () => {
  const expected = await sha256Hex(
    `USER_REMOVE\ns1\n*\n1700000200000\n${canonicalJson(frame.payload)}`,
  );
  assert.equal(await seenKey(frame), expected);
});

Deno.test("seenKey ignores payload key order and sig, but not envelope fields", async () => {
  const k = await seenKey(frame);
  assert.equal(
    await seenKey(
      { ...frame, payload: { server_id: "s1", user_id: "u" }, sig: "x" } as typeof frame,
    ),
    k,
  );
  for (
    const change of [{ ts: frame.ts + 1 }, { to: "s2" }, { from: "s2" }, { type: "USER_ADVERTISE" }]
  ) {
    assert.notEqual(await seenKey({ ...frame, ...change }), k, JSON.stringify(change));
  }
});

Deno.test("seenKey is null for a payload that cannot be canonicalised", async () => {
  assert.equal(
    await seenKey({ ...frame, payload: { x: 0.5 } as unknown as typeof frame.payload }),
    null,
  );
});

Deno.test("msgRef is the hex SHA-256 of the canonical payload", async () => {
  assert.equal(await msgRef({ b: 1, a: "é" }), await sha256Hex('{"a":"\\u00e9","b":1}'));
});
