import assert from "node:assert/strict";
import {
  aesGcmDecrypt,
  buildError,
  decodeBase64url,
  decryptWith,
  dmSigFieldsOf,
  type FrameOf,
  MESSAGE_TYPES,
  openChannelKey,
  parseFrame,
  type ServerDeliverDmPayload,
  verifyDmContentSig,
  verifyFrame,
  verifyKeyShareContentSig,
  verifyPublicContentSig,
} from "../../mod.ts";
import { ALICE, BOB, GROUP_KEY, S1, S2, sampleFrames } from "../_samples.ts";

const SAMPLES = await sampleFrames();
const SIGNERS: Record<string, typeof S1> = {
  [S1.id]: S1,
  [S2.id]: S2,
  [ALICE.id]: ALICE,
  [BOB.id]: BOB,
};

Deno.test("every message type has a builder whose frame parses and verifies under its sender's key", async () => {
  for (const type of MESSAGE_TYPES) {
    const built = SAMPLES[type];
    const parsed = parseFrame(JSON.stringify(built));
    assert.ok(parsed.ok, `${type}: ${parsed.ok ? "" : parsed.error.detail}`);
    assert.equal(parsed.frame.type, type);
    const key = SIGNERS[built.from].keys.publicKey;
    const valid = parsed.frame.type === "PUBLIC_CHANNEL_KEY"
      ? await openChannelKey(parsed.frame, key) !== null // signed through its Merkle root
      : await verifyFrame(key, parsed.frame);
    assert.ok(valid, type);
  }
});

Deno.test("buildUserHello is signed-fresh: auth_ts = ts, 16-byte nonce, enc_pubkey = pubkey, no password", () => {
  const hello = SAMPLES.USER_HELLO;
  assert.equal(hello.from, ALICE.id);
  assert.equal(hello.to, "*");
  assert.equal(hello.payload.auth_ts, hello.ts);
  assert.equal(decodeBase64url(hello.payload.nonce!)!.length, 16);
  assert.equal(hello.payload.enc_pubkey, hello.payload.pubkey);
  assert.ok(hello.payload.client.startsWith("socp-ts/"));
  assert.ok(!("password" in hello.payload));
});

Deno.test("buildMsgDirect encrypts to the recipient and signs content end to end", async () => {
  const dm = SAMPLES.MSG_DIRECT;
  assert.equal(
    new TextDecoder().decode((await decryptWith(BOB.keys.privateKey, dm.payload.ciphertext))!),
    "hello bob",
  );
  assert.equal(await decryptWith(ALICE.keys.privateKey, dm.payload.ciphertext), null);
  assert.ok(
    await verifyDmContentSig(ALICE.keys.publicKey, dmSigFieldsOf(dm), dm.payload.content_sig),
  );
});

Deno.test("deliveries keep the original ts, ciphertext and content_sig; to becomes recipient server, then user", async () => {
  const dm = SAMPLES.MSG_DIRECT;
  const server = SAMPLES.SERVER_DELIVER as FrameOf<"SERVER_DELIVER"> & {
    payload: ServerDeliverDmPayload;
  };
  assert.equal(server.ts, dm.ts);
  assert.equal(server.to, S2.id);
  assert.deepEqual(server.payload, {
    user_id: BOB.id,
    ciphertext: dm.payload.ciphertext,
    sender: ALICE.id,
    sender_pub: dm.payload.sender_pub,
    content_sig: dm.payload.content_sig,
  });
  const user = SAMPLES.USER_DELIVER;
  assert.equal(user.ts, dm.ts);
  assert.equal(user.to, BOB.id);
  assert.equal(user.payload.sender, ALICE.id);
  assert.ok(
    await verifyDmContentSig(ALICE.keys.publicKey, dmSigFieldsOf(user), user.payload.content_sig),
  );
  assert.ok(
    await verifyDmContentSig(
      ALICE.keys.publicKey,
      dmSigFieldsOf(server),
      server.payload.content_sig,
    ),
  );
});

Deno.test("buildMsgPublic seals under the group key with key_version and a public content sig", async () => {
  const msg = SAMPLES.MSG_PUBLIC_CHANNEL;
  assert.equal(msg.payload.key_version, 5);
  assert.equal(
    new TextDecoder().decode((await aesGcmDecrypt(GROUP_KEY, msg.payload.ciphertext))!),
    "hello all",
  );
  const fields = { ciphertext: msg.payload.ciphertext, from: msg.from, ts: msg.ts };
  assert.ok(await verifyPublicContentSig(BOB.keys.publicKey, fields, msg.payload.content_sig));
});

Deno.test("buildKeyShare names its creator and signs the shares", async () => {
  const share = SAMPLES.PUBLIC_CHANNEL_KEY_SHARE;
  assert.equal(share.payload.creator_pub, S1.keys.publicKey.b64);
  const fields = { shares: share.payload.shares, creatorPub: share.payload.creator_pub };
  assert.ok(await verifyKeyShareContentSig(S1.keys.publicKey, fields, share.payload.content_sig));
  const mine = share.payload.shares.find((s) => s.member === BOB.id)!;
  assert.deepEqual(
    await decryptWith(BOB.keys.privateKey, mine.wrapped_public_channel_key!),
    GROUP_KEY,
  );
});

Deno.test("buildError clips detail and carries msg_ref when given", async () => {
  const err = await buildError(S1, BOB.id, "BAD_REQUEST", "d".repeat(300), "ab".repeat(32));
  assert.equal(err.payload.detail.length, 200);
  assert.equal(err.payload.msg_ref, "ab".repeat(32));
  assert.ok(parseFrame(JSON.stringify(err)).ok);
});
