import assert from "node:assert/strict";
import {
  canonicalJson,
  dmContentSig,
  dmSigFieldsOf,
  encryptFor,
  type Envelope,
  type FrameOf,
  keyShareContentSig,
  publicContentSig,
  publicSigFieldsOf,
  type ServerDeliverDmPayload,
  sha256,
  verifyBytes,
  verifyDmContentSig,
  verifyKeyShareContentSig,
  verifyPublicContentSig,
} from "../../mod.ts";
import { KEYS } from "../_vectors.ts";

const { A, B } = KEYS;
const enc = new TextEncoder();
const alice = crypto.randomUUID();
const bob = crypto.randomUUID();
const ts = 1_700_000_400_000;
const ciphertext = await encryptFor(B.publicKey, "hi");
const raw = Uint8Array.fromBase64(ciphertext, { alphabet: "base64url" });
const v1 = enc.encode(ciphertext + alice + bob + String(ts));
const v2 = new Uint8Array([...raw, ...enc.encode(alice + bob + String(ts))]);

async function pss(message: Uint8Array, saltLength = 478): Promise<string> {
  const sig = await crypto.subtle.sign(
    { name: "RSA-PSS", saltLength },
    A.privateKey.pss,
    message as BufferSource,
  );
  return new Uint8Array(sig).toBase64({ alphabet: "base64url", omitPadding: true });
}

Deno.test("dmContentSig signs exactly the V1 preimage", async () => {
  const sig = await dmContentSig(A.privateKey, { ciphertext, from: alice, to: bob, ts });
  assert.ok(await verifyBytes(A.publicKey, v1, sig));
  assert.ok(!(await verifyBytes(A.publicKey, v2, sig)));
});

Deno.test("verifyDmContentSig accepts V1–V4 with salt 478 or 32", async () => {
  const fields = { ciphertext, from: alice, to: bob, ts };
  const variants = [v1, v2, await sha256(v1), await sha256(v2)];
  for (const [i, preimage] of variants.entries()) {
    for (const salt of [478, 32]) {
      assert.ok(
        await verifyDmContentSig(A.publicKey, fields, await pss(preimage, salt)),
        `V${i + 1}/${salt}`,
      );
    }
  }
});

Deno.test("verifyDmContentSig rejects a changed from, to, ts, ciphertext or signer", async () => {
  const fields = { ciphertext, from: alice, to: bob, ts };
  const sig = await dmContentSig(A.privateKey, fields);
  assert.ok(!(await verifyDmContentSig(A.publicKey, { ...fields, from: bob }, sig)));
  assert.ok(!(await verifyDmContentSig(A.publicKey, { ...fields, to: alice }, sig)));
  assert.ok(!(await verifyDmContentSig(A.publicKey, { ...fields, ts: ts + 1 }, sig)));
  assert.ok(
    !(await verifyDmContentSig(A.publicKey, { ...fields, ciphertext: ciphertext.slice(1) }, sig)),
  );
  assert.ok(!(await verifyDmContentSig(B.publicKey, fields, sig)));
});

Deno.test("dmSigFieldsOf reads sender, recipient and dialect timestamps from each DM frame", async () => {
  const content_sig = await dmContentSig(A.privateKey, { ciphertext, from: alice, to: bob, ts });
  const s1 = crypto.randomUUID(), s2 = crypto.randomUUID();
  const sender_pub = A.publicKey.b64;
  const direct: FrameOf<"MSG_DIRECT"> = {
    type: "MSG_DIRECT",
    from: alice,
    to: bob,
    ts,
    payload: { ciphertext, sender_pub, content_sig },
  };
  const server: Envelope<"SERVER_DELIVER", ServerDeliverDmPayload> = {
    type: "SERVER_DELIVER",
    from: s1,
    to: s2,
    ts,
    payload: { user_id: bob, ciphertext, sender: alice, sender_pub, content_sig },
  };
  // A dialect server that re-stamped ts but kept the original in orig_ts.
  const restamped = {
    type: "USER_DELIVER" as const,
    from: s2,
    to: bob,
    ts: ts + 999,
    payload: { ciphertext, sender: alice, sender_pub, content_sig, orig_ts: ts },
  };
  for (const frame of [direct, server, restamped]) {
    const fields = dmSigFieldsOf(frame);
    assert.equal(fields.from, alice);
    assert.equal(fields.to, bob);
    assert.ok(await verifyDmContentSig(A.publicKey, fields, content_sig), frame.type);
  }
});

Deno.test("public content sig: V1 signed, all variants verified, from and ts bound", async () => {
  const blob = "aXYtdGFnLWN0";
  const fields = { ciphertext: blob, from: alice, ts };
  const sig = await publicContentSig(A.privateKey, fields);
  assert.ok(await verifyBytes(A.publicKey, enc.encode(blob + alice + String(ts)), sig));
  assert.ok(await verifyPublicContentSig(A.publicKey, fields, sig));
  const rawBlob = Uint8Array.fromBase64(blob, { alphabet: "base64url" });
  const v2pub = new Uint8Array([...rawBlob, ...enc.encode(alice + String(ts))]);
  assert.ok(await verifyPublicContentSig(A.publicKey, fields, await pss(v2pub, 32)));
  assert.ok(await verifyPublicContentSig(A.publicKey, fields, await pss(await sha256(v2pub))));
  assert.ok(!(await verifyPublicContentSig(A.publicKey, { ...fields, from: bob }, sig)));
  assert.ok(!(await verifyPublicContentSig(A.publicKey, { ...fields, ts: 1 }, sig)));
  const frame = {
    type: "MSG_PUBLIC_CHANNEL",
    from: alice,
    to: "public",
    ts,
    payload: { ciphertext: blob },
  };
  assert.ok(await verifyPublicContentSig(A.publicKey, publicSigFieldsOf(frame), sig));
  const viaDeliver = {
    type: "USER_DELIVER",
    from: "s",
    to: bob,
    ts,
    payload: { ciphertext: blob, sender: alice },
  };
  assert.ok(await verifyPublicContentSig(A.publicKey, publicSigFieldsOf(viaDeliver), sig));
});

Deno.test("key-share content sig: V1 signed; V2, V3, the UTF-8 form and `wrapped` accepted", async () => {
  const creatorPub = A.publicKey.b64;
  const shares = [{ member: bob, wrapped_public_channel_key: ciphertext }];
  const sig = await keyShareContentSig(A.privateKey, { shares, creatorPub });
  assert.ok(await verifyBytes(A.publicKey, enc.encode(canonicalJson(shares) + creatorPub), sig));
  assert.ok(await verifyKeyShareContentSig(A.publicKey, { shares, creatorPub }, sig));

  const v2ks = new Uint8Array([...await sha256(canonicalJson(shares)), ...A.publicKey.der]);
  assert.ok(await verifyKeyShareContentSig(A.publicKey, { shares, creatorPub }, await pss(v2ks)));
  const v1ks = enc.encode(canonicalJson(shares) + creatorPub);
  assert.ok(
    await verifyKeyShareContentSig(
      A.publicKey,
      { shares, creatorPub },
      await pss(await sha256(v1ks), 32),
    ),
  );

  const dialect = [{ member: "Zoë", wrapped: ciphertext }];
  const utf8 = enc.encode(canonicalJson(dialect, { ascii: false }) + creatorPub);
  assert.ok(
    await verifyKeyShareContentSig(A.publicKey, { shares: dialect, creatorPub }, await pss(utf8)),
  );

  assert.ok(!(await verifyKeyShareContentSig(A.publicKey, { shares: [], creatorPub }, sig)));
  assert.ok(
    !(await verifyKeyShareContentSig(A.publicKey, { shares: [{ f: 0.5 }], creatorPub }, sig)),
  );
});
