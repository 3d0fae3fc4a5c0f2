import assert from "node:assert/strict";
import { decodeBase64url, encodeBase64url, encodeBase64urlText } from "../../mod.ts";

Deno.test("encodeBase64url emits the url alphabet without padding", () => {
  assert.equal(encodeBase64url(new Uint8Array([0xfb, 0xff])), "-_8");
  assert.equal(encodeBase64url(new Uint8Array([97])), "YQ");
  assert.equal(encodeBase64url(new Uint8Array()), "");
  assert.equal(encodeBase64urlText("hi"), "aGk");
});

Deno.test("decodeBase64url accepts padding, the standard alphabet and whitespace", () => {
  const expected = [0xfb, 0xff, 0x61];
  for (const text of ["-_9h", "+/9h", "-_9h\n", " -_ 9h"]) {
    assert.deepEqual([...decodeBase64url(text)!], expected, text);
  }
  assert.deepEqual([...decodeBase64url("YQ==")!], [97]);
  assert.deepEqual([...decodeBase64url("YQ")!], [97]);
});

Deno.test("decodeBase64url returns null for non-base64 input instead of throwing", () => {
  for (const text of ["!!", "Y", "a=b", "é"]) assert.equal(decodeBase64url(text), null, text);
  assert.equal(decodeBase64url(42 as unknown as string), null);
});
