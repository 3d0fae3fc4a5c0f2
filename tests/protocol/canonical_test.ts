import assert from "node:assert/strict";
import {
  CanonicalError,
  canonicalJson,
  compareCodePoints,
  hasNonAscii,
  sha256Hex,
} from "../../mod.ts";

const utf8Len = (s: string) => new TextEncoder().encode(s).length;

// The three worked examples of SOCP.md §4.3: input → canonical, length, SHA-256.
const WORKED = [
  {
    input:
      '{"pubkey":"MIICIjANBgkqhkiG9w0BAQEFAAOCAg8AMIICCgKCAgEA","port":8766,"host":"198.51.100.7"}',
    ascii: [91, "1dd4953c1975b0177b91621ef2fca35d599e780828f8c1c769d3fc3af31e3581"],
    utf8: [91, "1dd4953c1975b0177b91621ef2fca35d599e780828f8c1c769d3fc3af31e3581"],
  },
  {
    input:
      '{"user_id":"0f1e2d3c-4b5a-4968-8776-655443322110","server_id":"5b0c8c1e-6f0a-4d0e-9c3e-2f1a7b9d4e10","pubkey":"MIICIjAN","meta":{"pubkey":"MIICIjAN","display_name":"Zoë 🚀","caps":["file-aesgcm"],"extras":{"z":true,"a":null},"age":37}}',
    ascii: [250, "ca75983157b33c63e87e8f3f5e04a33fc5e66a69a0a34dce285bef53abb16004"],
    utf8: [238, "9bad4f5a3bc5dbe2b90068dac444b218d0d3cb93ee0abc637300c0e5705ff828"],
  },
  {
    input:
      '{"version":3,"shares":[{"wrapped_public_channel_key":"q83v","member":"9a8b7c6d-5e4f-4a3b-9c2d-1e0f2a3b4c5d"},{"wrapped_public_channel_key":"Ej4","member":"0f1e2d3c-4b5a-4968-8776-655443322110"}],"note":"say \\"hi\\"\\\\\\n\\tcafé\\u007f"}',
    ascii: [236, "b48a3c4e7784525c2714e311eedbc4f2d798eab5445086f807659e6fe3437df7"],
    utf8: [227, "fd7b2fd4d2fcb5fe521e1804e44268286622b51a86b387f9c406afddd4575ff9"],
  },
] as const;

for (const [i, example] of WORKED.entries()) {
  Deno.test(`canonicalJson reproduces SOCP.md worked example ${i + 1}`, async () => {
    const value = JSON.parse(example.input);
    for (const [form, [len, hash]] of [["ascii", example.ascii], ["utf8", example.utf8]] as const) {
      const out = canonicalJson(value, { ascii: form === "ascii" });
      assert.equal(utf8Len(out), len, form);
      assert.equal(await sha256Hex(out), hash, form);
    }
  });
}

Deno.test("canonicalJson sorts keys by code point at every depth and keeps array order", () => {
  assert.equal(
    canonicalJson({ b: [{ d: 1, c: 2 }, 3], a: { z: 0, "10": 1, "9": 2 } }),
    '{"a":{"10":1,"9":2,"z":0},"b":[{"c":2,"d":1},3]}',
  );
  assert.equal(canonicalJson({ "😀": 1, "～": 2 }, { ascii: false }), '{"～":2,"😀":1}');
});

Deno.test("canonicalJson escapes per form: ASCII form escapes DEL, U+2028 and non-BMP as lowercase surrogates", () => {
  const value = { s: '\u007f\u2028😀/"\\\b\f\n\r\t\u0001é' };
  assert.equal(
    canonicalJson(value),
    '{"s":"\\u007f\\u2028\\ud83d\\ude00/\\"\\\\\\b\\f\\n\\r\\t\\u0001\\u00e9"}',
  );
  assert.equal(
    canonicalJson(value, { ascii: false }),
    '{"s":"\u007f\u2028😀/\\"\\\\\\b\\f\\n\\r\\t\\u0001é"}',
  );
});

Deno.test("canonicalJson UTF-8 form equals JSON.stringify of a code-point-sorted copy, lone surrogates included", () => {
  const value = { k: "lone \ud800 and \udc00 and pair \ud83d\ude00" };
  assert.equal(canonicalJson(value, { ascii: false }), JSON.stringify(value));
  assert.equal(canonicalJson(value), '{"k":"lone \\ud800 and \\udc00 and pair \\ud83d\\ude00"}');
});

Deno.test("canonicalJson handles integers, -0, literals and empty containers", () => {
  assert.equal(
    canonicalJson({ a: -0, b: -1, c: Number.MAX_SAFE_INTEGER }),
    `{"a":0,"b":-1,"c":${Number.MAX_SAFE_INTEGER}}`,
  );
  assert.equal(canonicalJson([true, false, null, {}, []]), "[true,false,null,{},[]]");
  assert.equal(canonicalJson("x"), '"x"');
});

Deno.test("canonicalJson skips undefined members, as the wire text does", () => {
  assert.equal(canonicalJson({ a: 1, b: undefined }), '{"a":1}');
  assert.equal(canonicalJson({ a: 1, b: undefined }), JSON.stringify({ a: 1, b: undefined }));
});

Deno.test("canonicalJson refuses values a signature cannot cover", () => {
  const cyclic: Record<string, unknown> = {};
  cyclic.self = cyclic;
  for (
    const bad of [
      { x: 1.5 },
      { x: 2 ** 53 },
      { x: NaN },
      [undefined],
      { x: 1n },
      { f() {} },
      cyclic,
    ]
  ) {
    assert.throws(() => canonicalJson(bad), CanonicalError);
  }
});

Deno.test("canonicalJson allows a shared (non-cyclic) sub-object twice", () => {
  const shared = { b: 1 };
  assert.equal(canonicalJson({ x: shared, y: shared }), '{"x":{"b":1},"y":{"b":1}}');
});

Deno.test("compareCodePoints orders supplementary characters after U+E000–U+FFFF", () => {
  const keys = ["😀", "～", "\ue000", "z", "é", "a", "ab", "a_b"];
  assert.deepEqual(keys.sort(compareCodePoints), [
    "a",
    "a_b",
    "ab",
    "z",
    "é",
    "\ue000",
    "～",
    "😀",
  ]);
  assert.equal(compareCodePoints("same", "same"), 0);
});

Deno.test("hasNonAscii looks into keys, nested values and arrays", () => {
  assert.equal(hasNonAscii({ a: ["x", { b: 1 }] }), false);
  assert.equal(hasNonAscii({ a: ["x", { b: "é" }] }), true);
  assert.equal(hasNonAscii({ "é": 1 }), true);
  assert.equal(hasNonAscii({ a: "\u007f" }), true);
});
