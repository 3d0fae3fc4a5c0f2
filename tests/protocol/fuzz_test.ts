// parseFrame must never throw, whatever arrives: random bytes, truncations,
// and structure-aware mutations of valid frames of every type.

import assert from "node:assert/strict";
import { ErrorCode, MESSAGE_TYPES, parseFrame } from "../../mod.ts";
import { sampleFrames } from "../_samples.ts";

const SAMPLES = await sampleFrames();
const CODES = new Set<string>(Object.values(ErrorCode));
const TEXTS = MESSAGE_TYPES.map((t) => JSON.stringify(SAMPLES[t]));

// Deterministic PRNG so a failure reproduces (mulberry32).
function rng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const rand = rng(0x50c9);
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)];
const JUNK: unknown[] = [
  null,
  true,
  0,
  -1,
  1.5,
  2 ** 60,
  "",
  "x",
  "*",
  "public",
  [],
  {},
  [[{}]],
  { a: [1] },
  "é\u0000",
  "A".repeat(700),
];

function mutateValue(value: unknown, depth = 0): unknown {
  if (rand() < 0.15 || depth > 4) return pick(JUNK);
  if (Array.isArray(value)) return value.map((v) => (rand() < 0.3 ? mutateValue(v, depth + 1) : v));
  if (value && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      const r = rand();
      if (r < 0.1) continue; // drop the field
      out[r < 0.15 ? k.toUpperCase() : k] = r < 0.4 ? mutateValue(v, depth + 1) : v;
    }
    if (rand() < 0.1) {
      out[pick(["sig", "payload", "type", "ts", "__proto__", "constructor"])] = pick(JUNK);
    }
    return out;
  }
  return rand() < 0.5 ? pick(JUNK) : value;
}

function mutateText(text: string): string {
  const r = rand();
  const at = Math.floor(rand() * text.length);
  if (r < 0.25) return text.slice(0, at);
  if (r < 0.5) {
    return text.slice(0, at) + String.fromCharCode(Math.floor(rand() * 0x10000)) +
      text.slice(at + 1);
  }
  if (r < 0.7) {
    return text.slice(0, at) + pick(['"', "{", "}", "[", "]", ",", ":", "\\", "\u0000"]) +
      text.slice(at);
  }
  if (r < 0.75) {
    const frame = JSON.parse(text);
    frame.type = pick([
      "constructor",
      "__proto__",
      "toString",
      "MSG_PRIVATE",
      "SERVER_GOODBYE",
      "hasOwnProperty",
    ]);
    return JSON.stringify(frame);
  }
  return JSON.stringify(mutateValue(JSON.parse(text)));
}

function randomText(): string {
  const n = Math.floor(rand() * 200);
  let s = "";
  for (let i = 0; i < n; i++) {
    s += String.fromCharCode(Math.floor(rand() * (rand() < 0.8 ? 128 : 0x10000)));
  }
  return s;
}

Deno.test("parseFrame never throws on 6 000 random and mutated frames, and only answers with known codes", () => {
  let accepted = 0;
  for (let i = 0; i < 6000; i++) {
    const text = i % 6 === 0 ? randomText() : mutateText(pick(TEXTS));
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
