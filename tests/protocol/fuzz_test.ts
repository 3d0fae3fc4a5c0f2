// parseFrame must never throw, whatever arrives: random bytes, truncations,
// and structure-aware mutations of valid frames of every type.

import assert from "node:assert/strict";
import { ErrorCode, MESSAGE_TYPES, parseFrame } from "../../mod.ts";
import { Mutator } from "../_mutate.ts";
import { sampleFrames } from "../_samples.ts";

const SAMPLES = await sampleFrames();
const CODES = new Set<string>(Object.values(ErrorCode));
const TEXTS = MESSAGE_TYPES.map((t) => JSON.stringify(SAMPLES[t]));

const mutator = new Mutator(0x50c9);

Deno.test("parseFrame never throws on 6 000 random and mutated frames, and only answers with known codes", () => {
  let accepted = 0;
  for (let i = 0; i < 6000; i++) {
    const text = i % 6 === 0 ? mutator.randomText() : mutator.mutateText(mutator.pick(TEXTS));
    let result;
    try {
      result = parseFrame(text, { dialects: i % 2 === 0 });
    } catch (e) {
      assert.fail(`parseFrame threw on case ${i}: ${e}\n${text.slice(0, 300)}`);
    }
    if (result.ok) {
      accepted++;
      assert.equal(typeof result.frame.type, "string");
      assert.equal(typeof result.frame.payload, "object");
    } else {
      assert.ok(CODES.has(result.error.code), result.error.code);
      assert.ok(result.error.detail.length <= 200);
    }
  }
  // The corpus must exercise both paths, or it is not testing the validators.
  assert.ok(accepted > 100 && accepted < 5000, `accepted ${accepted}`);
});

Deno.test("parseFrame rejects Object.prototype names as types in both modes", () => {
  for (const type of ["constructor", "__proto__", "toString", "hasOwnProperty", "valueOf"]) {
    for (const dialects of [false, true]) {
      const result = parseFrame(JSON.stringify({ type, from: "a", to: "b", ts: 1, payload: {} }), {
        dialects,
      });
      assert.ok(!result.ok && result.error.code === "UNKNOWN_TYPE", `${type} dialects=${dialects}`);
    }
  }
});

Deno.test("parseFrame never throws on non-string and pathological inputs", () => {
  for (
    const input of [
      undefined,
      null,
      42,
      {},
      "",
      " ",
      "null",
      "1",
      '"s"',
      "{}",
      '{"type":"__proto__"}',
      "\ufeff{}",
    ]
  ) {
    const result = parseFrame(input as unknown as string);
    assert.ok(!result.ok);
  }
});
