import assert from "node:assert/strict";
import {
  decodeSignature,
  decryptWith,
  encryptFor,
  signBytes,
  SocpError,
  verifyBytes,
} from "../../mod.ts";
import { KEYS } from "../_vectors.ts";

const { A, B } = KEYS;
const msg = new TextEncoder().encode("socp");

Deno.test("encryptFor carries exactly 446 bytes and refuses 447 with TOO_LARGE", async () => {
  const max = new Uint8Array(446).fill(7);
  const ct = await encryptFor(B.publicKey, max);
  assert.equal(ct.length, 683);
  assert.deepEqual(await decryptWith(B.privateKey, ct), max);
  await assert.rejects(
    encryptFor(B.publicKey, new Uint8Array(447)),
    (e) => e instanceof SocpError && e.code === "TOO_LARGE" && /446/.test(e.message),
  );
});

Deno.test("encryptFor counts UTF-8 bytes, not characters", async () => {
  await encryptFor(B.publicKey, "é".repeat(223)); // 446 bytes
  await assert.rejects(encryptFor(B.publicKey, "é".repeat(224)), SocpError);
});

Deno.test("decryptWith returns null for another key, tampering or garbage", async () => {
  const ct = await encryptFor(B.publicKey, "secret");
  assert.equal(await decryptWith(A.privateKey, ct), null);
  const flipped = ct.slice(0, 10) + (ct[10] === "A" ? "B" : "A") + ct.slice(11);
  assert.equal(await decryptWith(B.privateKey, flipped), null);
  assert.equal(await decryptWith(B.privateKey, "not base64!"), null);
  assert.equal(await decryptWith(B.privateKey, "AAAA"), null);
});

Deno.test("signBytes signs with salt 478 (a salt-32 verifier rejects it)", async () => {
  const sig = decodeSignature(await signBytes(A.privateKey, msg)) as Uint8Array<ArrayBuffer>;
  const key = await A.publicKey.pss();
  assert.ok(await crypto.subtle.verify({ name: "RSA-PSS", saltLength: 478 }, key, sig, msg));
  assert.ok(!(await crypto.subtle.verify({ name: "RSA-PSS", saltLength: 32 }, key, sig, msg)));
});

Deno.test("verifyBytes accepts salt 32 signatures and any listed candidate message", async () => {
  const sig32 = new Uint8Array(
    await crypto.subtle.sign({ name: "RSA-PSS", saltLength: 32 }, A.privateKey.pss, msg),
  );
  assert.ok(await verifyBytes(A.publicKey, msg, sig32));
  assert.ok(await verifyBytes(A.publicKey, [new Uint8Array([1]), msg], sig32));
  assert.ok(!(await verifyBytes(A.publicKey, [new Uint8Array([1])], sig32)));
  assert.ok(!(await verifyBytes(B.publicKey, msg, sig32)));
});

Deno.test("decodeSignature requires exactly 512 bytes", () => {
  assert.equal(decodeSignature("MDEyMzQ1Njc4OQ"), null);
  assert.equal(decodeSignature(null), null);
  assert.equal(decodeSignature("A".repeat(683))?.length, 512);
});
