import assert from "node:assert/strict";
import {
  canonicalJson,
  makeFrame,
  signBytes,
  signFrame,
  signPayload,
  verifyFrame,
  verifyPayload,
} from "../../mod.ts";
import { KEYS } from "../_vectors.ts";

const { A, B } = KEYS;
const enc = new TextEncoder();

Deno.test("signPayload/verifyPayload round-trip regardless of key order", async () => {
  const sig = await signPayload(A.privateKey, {
    user_id: "u",
    server_id: "s",
    meta: { b: 1, a: 2 },
  });
  assert.ok(
    await verifyPayload(A.publicKey, { meta: { a: 2, b: 1 }, server_id: "s", user_id: "u" }, sig),
  );
});

Deno.test("verifyPayload fails for another key, a changed payload or a missing sig", async () => {
  const payload = { x: "y" };
  const sig = await signPayload(A.privateKey, payload);
  assert.ok(!(await verifyPayload(B.publicKey, payload, sig)));
  assert.ok(!(await verifyPayload(A.publicKey, { x: "z" }, sig)));
  for (const none of [undefined, null, ""]) {
    assert.ok(!(await verifyPayload(A.publicKey, payload, none)));
  }
});

Deno.test("the signature covers the ASCII canonical form", async () => {
  const payload = { name: "Zoë" };
  const sig = await signPayload(A.privateKey, payload);
  const ascii = enc.encode(canonicalJson(payload));
  const ok = await crypto.subtle.verify(
    { name: "RSA-PSS", saltLength: 478 },
    await A.publicKey.pss(),
    Uint8Array.fromBase64(sig, { alphabet: "base64url" }),
    ascii,
  );
  assert.ok(ok);
});

Deno.test("verifyPayload accepts a signature over the raw UTF-8 alternative form", async () => {
  const payload = { name: "Zoë 🦊" };
  const sig = await signBytes(A.privateKey, enc.encode(canonicalJson(payload, { ascii: false })));
  assert.ok(await verifyPayload(A.publicKey, payload, sig));
  // An ASCII-only payload has a single form; a signature over other bytes fails.
  const other = await signBytes(A.privateKey, enc.encode(JSON.stringify({ b: 1, a: 2 })));
  assert.ok(!(await verifyPayload(A.publicKey, { b: 1, a: 2 }, other)));
});

Deno.test("floats make a payload unsignable and unverifiable", async () => {
  await assert.rejects(signPayload(A.privateKey, { f: 0.5 }));
  const sig = await signPayload(A.privateKey, { f: 1 });
  assert.ok(!(await verifyPayload(A.publicKey, { f: 0.5 }, sig)));
});

Deno.test("signFrame adds a sig over the payload only; verifyFrame checks it", async () => {
  const frame = makeFrame("HEARTBEAT", crypto.randomUUID(), crypto.randomUUID(), {});
  const signed = await signFrame(frame, A.privateKey);
  assert.equal(frame.sig, undefined, "the input frame is not mutated");
  assert.ok(await verifyFrame(A.publicKey, signed));
  assert.ok(
    await verifyFrame(A.publicKey, { ...signed, ts: 1, to: "*" }),
    "envelope fields are unprotected",
  );
  assert.ok(!(await verifyFrame(A.publicKey, { ...signed, payload: { a: 1 } })));
});
