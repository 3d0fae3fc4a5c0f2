import assert from "node:assert/strict";
import {
  aesGcmDecrypt,
  aesGcmEncrypt,
  decodeBase64url,
  encodeBase64url,
  generateAesKey,
  importAesKey,
  SocpError,
} from "../../mod.ts";

const key = generateAesKey();
const text = new TextEncoder();

Deno.test("aesGcmEncrypt emits iv(16) ‖ tag(16) ‖ ct and decrypts back", async () => {
  const blob = await aesGcmEncrypt(key, "héllo");
  assert.equal(decodeBase64url(blob)!.length, 32 + text.encode("héllo").length);
  assert.equal(new TextDecoder().decode((await aesGcmDecrypt(key, blob))!), "héllo");
  const empty = await aesGcmEncrypt(key, new Uint8Array());
  assert.deepEqual(await aesGcmDecrypt(key, empty), new Uint8Array());
});

Deno.test("aesGcmEncrypt uses a fresh IV each time", async () => {
  const a = decodeBase64url(await aesGcmEncrypt(key, "same"))!.subarray(0, 16);
  const b = decodeBase64url(await aesGcmEncrypt(key, "same"))!.subarray(0, 16);
  assert.notDeepEqual(a, b);
});

Deno.test("aesGcmDecrypt reads the dialect iv(12) ‖ tag ‖ ct layout", async () => {
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const sealed = new Uint8Array(
    await crypto.subtle.encrypt(
      { name: "AES-GCM", iv },
      await importAesKey(key),
      text.encode("web"),
    ),
  );
  const blob = new Uint8Array([
    ...iv,
    ...sealed.subarray(sealed.length - 16),
    ...sealed.subarray(0, sealed.length - 16),
  ]);
  assert.equal(new TextDecoder().decode((await aesGcmDecrypt(key, encodeBase64url(blob)))!), "web");
});

Deno.test("aesGcmDecrypt binds AAD and returns null on a wrong key, AAD or truncation", async () => {
  const aad = text.encode("file:0");
  const blob = await aesGcmEncrypt(key, "chunk", aad);
  assert.equal(new TextDecoder().decode((await aesGcmDecrypt(key, blob, aad))!), "chunk");
  assert.equal(await aesGcmDecrypt(key, blob, text.encode("file:1")), null);
  assert.equal(await aesGcmDecrypt(key, blob), null);
  assert.equal(await aesGcmDecrypt(generateAesKey(), blob, aad), null);
  assert.equal(await aesGcmDecrypt(key, blob.slice(0, 20)), null);
  assert.equal(await aesGcmDecrypt(key, "!!"), null);
  assert.equal(await aesGcmDecrypt(new Uint8Array(5), blob), null);
});

Deno.test("importAesKey requires 32 bytes and the key works imported or raw", async () => {
  await assert.rejects(
    importAesKey(new Uint8Array(16)),
    (e) => e instanceof SocpError && e.code === "BAD_KEY",
  );
  const imported = await importAesKey(key);
  const blob = await aesGcmEncrypt(imported, "x");
  assert.deepEqual(await aesGcmDecrypt(key, blob), text.encode("x"));
});
