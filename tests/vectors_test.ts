// Every case of the SOCP v1.3 vectors (tests/fixtures/socp-vectors.json),
// checked against the protocol module. A missing file or a skipped case fails.

import assert from "node:assert/strict";
import {
  aesGcmDecrypt,
  canonicalJson,
  decryptWith,
  dmSigFieldsOf,
  encryptFor,
  fingerprint,
  type FrameOf,
  importPublicKey,
  parseFrame,
  parsePublicKey,
  publicSigFieldsOf,
  sha256Hex,
  SocpError,
  verifyDmContentSig,
  verifyFrame,
  verifyKeyShareContentSig,
  verifyPayload,
  verifyPublicContentSig,
} from "../mod.ts";
import { fromHex, type Json, KEYS, V, VECTORS_PATH } from "./_vectors.ts";

const checked = new Map<string, number>();
function count(section: string): void {
  checked.set(section, (checked.get(section) ?? 0) + 1);
}
const hexOf = (b: Uint8Array | null) => b && b.toHex();
const pub = (name: "A" | "B") => KEYS[name].publicKey;
const textEncoder = new TextEncoder();

for (const c of V.keys.validation as Json[]) {
  Deno.test(`keys ${c.id}`, async () => {
    const parsed = parsePublicKey(c.input);
    assert.equal(parsed.ok, c.valid, c.reason ?? "");
    if (parsed.ok) {
      const key = await importPublicKey(c.input);
      assert.equal(await fingerprint(key), c.spki_der_sha256_hex);
      assert.ok(key.equals(pub(c.same_key_as)));
    } else {
      assert.equal(parsed.error.code, c.error_code);
      await assert.rejects(
        importPublicKey(c.input),
        (e) => e instanceof SocpError && e.code === "BAD_KEY",
      );
    }
    count("keys");
  });
}

for (const c of V.canonical.cases as Json[]) {
  Deno.test(`canonical ${c.id}`, async () => {
    const value = JSON.parse(c.input_json);
    const ascii = canonicalJson(value);
    const utf8 = canonicalJson(value, { ascii: false });
    assert.equal(ascii, c.expected_ascii);
    assert.equal(utf8, c.expected_utf8);
    assert.equal(await sha256Hex(ascii), c.expected_ascii_sha256);
    assert.equal(await sha256Hex(utf8), c.expected_utf8_sha256);
    assert.equal(ascii !== utf8, c.forms_differ);
    count("canonical");
  });
}

for (const c of V.transport_sig.cases as Json[]) {
  Deno.test(`transport_sig ${c.id}`, async () => {
    const payload = JSON.parse(c.payload_json);
    assert.equal(canonicalJson(payload), c.canonical_ascii);
    assert.equal(canonicalJson(payload, { ascii: false }), c.canonical_utf8);
    assert.equal(await verifyPayload(pub(c.verify_with), payload, c.sig), c.valid, c.note);
    count("transport_sig");
  });
}

for (const c of V.oaep.cases as Json[]) {
  Deno.test(`oaep ${c.id}`, async () => {
    const B = KEYS[c.key as "B"];
    if (c.expect === "decrypts") {
      assert.equal(hexOf(await decryptWith(B.privateKey, c.ciphertext)), c.plaintext_hex);
    } else if (c.expect === "encrypt_fails") {
      await assert.rejects(
        encryptFor(B.publicKey, fromHex(c.plaintext_hex)),
        (e) => e instanceof SocpError && e.code === "TOO_LARGE",
      );
    } else {
      assert.equal(c.expect, "decrypt_fails");
      assert.equal(await decryptWith(B.privateKey, c.ciphertext), null);
    }
    count("oaep");
  });
}

function dmPreimage(c: Json): Uint8Array {
  const tail = textEncoder.encode(c.from + c.to + String(c.ts));
  const utf8 = textEncoder.encode(c.ciphertext + c.from + c.to + String(c.ts));
  const raw = Uint8Array.fromBase64(c.ciphertext, { alphabet: "base64url" });
  const rawConcat = new Uint8Array([...raw, ...tail]);
  return c.variant.startsWith("prehash")
    ? fromHex(c.signed_message_hex)
    : c.variant === "raw_concat"
    ? rawConcat
    : utf8;
}

for (const c of V.content_sig_dm.cases as Json[]) {
  Deno.test(`content_sig_dm ${c.id}`, async () => {
    const plain = await decryptWith(KEYS.B.privateKey, c.ciphertext);
    assert.equal(new TextDecoder().decode(plain!), V.content_sig_dm.plaintext_utf8);
    if (c.valid) {
      assert.equal(await sha256Hex(dmPreimage(c)), c.signed_message_sha256_hex);
    }
    const fields = { ciphertext: c.ciphertext, from: c.from, to: c.to, ts: c.ts };
    assert.equal(await verifyDmContentSig(pub(c.verify_with), fields, c.content_sig), c.valid);
    const parsed = parseFrame(c.envelope_json);
    assert.ok(parsed.ok);
    const frame = parsed.frame as FrameOf<"MSG_DIRECT">;
    assert.ok(await verifyFrame(pub("A"), frame));
    const senderKey = await importPublicKey(frame.payload.sender_pub);
    assert.equal(
      await verifyDmContentSig(senderKey, dmSigFieldsOf(frame), frame.payload.content_sig),
      c.valid,
    );
    count("content_sig_dm");
  });
}

for (const c of V.content_sig_public.cases as Json[]) {
  Deno.test(`content_sig_public ${c.id}`, async () => {
    const fields = { ciphertext: c.ciphertext, from: c.from, ts: c.ts };
    assert.equal(await verifyPublicContentSig(pub(c.verify_with), fields, c.content_sig), c.valid);
    if (c.valid) {
      const key = fromHex(V.aes_gcm_public.group_key_hex);
      const plain = await aesGcmDecrypt(key, c.ciphertext);
      assert.equal(new TextDecoder().decode(plain!), V.content_sig_public.plaintext_utf8);
      assert.equal(
        await sha256Hex(textEncoder.encode(c.ciphertext + c.from + String(c.ts))),
        c.signed_message_sha256_hex,
      );
    }
    const parsed = parseFrame(c.envelope_json);
    assert.ok(parsed.ok);
    const frame = parsed.frame as FrameOf<"MSG_PUBLIC_CHANNEL">;
    assert.equal(frame.to, "public");
    assert.equal(
      await verifyPublicContentSig(pub("A"), publicSigFieldsOf(frame), frame.payload.content_sig),
      c.valid,
    );
    count("content_sig_public");
  });
}

for (const c of V.content_sig_keyshare.cases as Json[]) {
  Deno.test(`content_sig_keyshare ${c.id}`, async () => {
    const shares = JSON.parse(c.shares_json);
    assert.equal(canonicalJson(shares), c.canonical_shares);
    const creator = await importPublicKey(c.creator_pub);
    const fields = { shares, creatorPub: c.creator_pub };
    assert.equal(await verifyKeyShareContentSig(creator, fields, c.content_sig), c.valid, c.note);
    if (c.valid) {
      assert.equal(
        await sha256Hex(c.canonical_shares + c.creator_pub),
        c.signed_message_sha256_hex,
      );
      const ids = V.meta.ids;
      for (const share of shares) {
        const owner = share.member === ids.user_b ? KEYS.B : KEYS.A;
        const groupKey = await decryptWith(owner.privateKey, share.wrapped_public_channel_key);
        assert.equal(hexOf(groupKey), V.content_sig_keyshare.group_key_hex);
      }
    }
    const parsed = parseFrame(c.envelope_json);
    assert.ok(parsed.ok);
    assert.ok(await verifyFrame(pub("A"), parsed.frame));
    count("content_sig_keyshare");
  });
}

const aesCases: Json[] = [
  ...V.aes_gcm_public.cases,
  ...V.aes_gcm_public.alt_layout_iv12.cases,
];
for (const c of aesCases) {
  Deno.test(`aes_gcm_public ${c.id}`, async () => {
    const plain = await aesGcmDecrypt(fromHex(V.aes_gcm_public.group_key_hex), c.ciphertext);
    if (c.valid) {
      assert.equal(new TextDecoder().decode(plain!), c.plaintext_utf8);
    } else {
      assert.equal(plain, null);
    }
    count("aes_gcm_public");
  });
}

for (const c of V.envelopes.cases as Json[]) {
  Deno.test(`envelopes ${c.id}`, async () => {
    const result = parseFrame(c.json);
    assert.equal(result.ok, c.valid, c.reason);
    if (result.ok) {
      if (c.signer) assert.ok(await verifyFrame(pub(c.signer), result.frame));
    } else if (c.error_code !== null) {
      assert.equal(result.error.code, c.error_code, c.reason);
    }
    count("envelopes");
  });
}

// Registered last, so it runs after every case above.
Deno.test("vectors: every case of every section was checked", () => {
  const expected: Record<string, number> = {
    keys: V.keys.validation.length,
    canonical: V.canonical.cases.length,
    transport_sig: V.transport_sig.cases.length,
    oaep: V.oaep.cases.length,
    content_sig_dm: V.content_sig_dm.cases.length,
    content_sig_public: V.content_sig_public.cases.length,
    content_sig_keyshare: V.content_sig_keyshare.cases.length,
    aes_gcm_public: aesCases.length,
    envelopes: V.envelopes.cases.length,
  };
  // The README's case counts are a floor: a truncated file must not pass.
  const minimum = [15, 13, 23, 10, 7, 4, 4, 10, 26];
  Object.values(expected).forEach((n, i) =>
    assert.ok(n >= minimum[i], `section ${i} has ${n} cases`)
  );
  assert.deepEqual(Object.fromEntries(checked), expected, `vectors from ${VECTORS_PATH}`);
});
