import assert from "node:assert/strict";
import { sha256, sha256Hex, toHex } from "../../mod.ts";

Deno.test("sha256Hex matches known digests of strings and bytes", async () => {
  assert.equal(
    await sha256Hex(""),
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
  );
  assert.equal(
    await sha256Hex(new TextEncoder().encode("abc")),
    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
  );
  assert.equal((await sha256("abc")).length, 32);
});

Deno.test("toHex is lowercase and zero-padded", () => {
  assert.equal(toHex(new Uint8Array([0, 10, 255])), "000aff");
});
