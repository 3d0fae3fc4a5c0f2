// Replays every frame of dialect-frames.json (the exact shapes dialects A, B
// and C put on the wire) through socp's parser and crypto: each frame is
// accepted or refused as recorded below, verifiable signatures verify, and
// what a member should decrypt decrypts. The refusals are the pairings the
// dialect appendix (docs/PROTOCOL.md decision 50) lists as not working.

import assert from "node:assert/strict";
import {
  aesGcmDecrypt,
  decryptWith,
  DEFAULT_LIMITS,
  dmSigFieldsOf,
  type Frame,
  type FrameOf,
  parseFrame,
  parsePublicKey,
  publicSigFieldsOf,
  toHex,
  verifyDmContentSig,
  verifyFrame,
  verifyKeyShareContentSig,
  verifyPublicContentSig,
} from "../../mod.ts";
import { KEYS } from "../_vectors.ts";

// An optional external copy beside the repository, read only if present; the
// in-repo source is tests/fixtures/dialect-frames.json.
const CANDIDATES = [
  new URL("../../../shared/vectors/dialect-frames.json", import.meta.url).pathname,
  new URL("../fixtures/dialect-frames.json", import.meta.url).pathname,
];

async function load() {
  for (const path of CANDIDATES) {
    try {
      return JSON.parse(await Deno.readTextFile(path));
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
    }
  }
  throw new Error("dialect-frames.json not found");
}

interface Vector {
  id: string;
  type: string;
  json: string;
  transport_sig: { signer_key?: "A" | "B"; verifiable_by_receiver?: boolean };
  content_sig?: { variant: string };
  group_key_hex?: string;
}

/**
 * Frames socp refuses, with the code and why. Every other frame must be accepted
 * by the parser (B's unsigned WELCOME too: only a link to a pinned B server, with
 * --accept-unsigned-servers, vouches for it; b_servers_test.ts).
 */
const REFUSED: Record<string, [string, string]> = {
  "B-reject-empty-sig": ["INVALID_SIG", 'a server frame with "sig":"" is unsigned'],
  "B-public-channel-updated": ["BAD_REQUEST", "B's wraps hold member public keys, not wraps"],
  "B-key-share-trimmed": ["BAD_REQUEST", "B's per-member trimmed share has no shares list"],
  "C-local-register": ["UNKNOWN_TYPE", "C's own client protocol is out of scope"],
  "C-login-request": ["UNKNOWN_TYPE", "C's own client protocol is out of scope"],
  "C-client-welcome": ["UNKNOWN_TYPE", "C's own client protocol is out of scope"],
  "C-pubkey-request": ["UNKNOWN_TYPE", "C's own client protocol is out of scope"],
  "C-pubkey-response": ["UNKNOWN_TYPE", "C's own client protocol is out of scope"],
  "C-list-response": ["BAD_REQUEST", "C lists `online_users`, not `users`"],
  "C-file-start": ["BAD_REQUEST", "C's FILE_START has no sha256 and no mode"],
  "C-user-advertise": ["BAD_KEY", "C's adverts carry no key"],
  "C-public-channel-updated": ["BAD_REQUEST", "C's UPDATED lists added/removed, no wraps"],
  "C-server-welcome": ["BAD_REQUEST", "C's WELCOME: null assigned_id, object locations"],
  "C-server-announce-snapshot": ["BAD_REQUEST", "C's snapshot ANNOUNCE has no address or key"],
};

const vectors: Vector[] = (await load()).frames;
const limits = { maxFrameBytes: DEFAULT_LIMITS.maxFrameBytes, maxJsonDepth: 32 };

for (const v of vectors) {
  Deno.test(`dialect frame ${v.id}`, async () => {
    const parsed = parseFrame(v.json, { dialects: true, ...limits });
    const refusal = REFUSED[v.id];
    if (refusal) {
      assert.equal(parsed.ok, false, `${v.id} must be refused: ${refusal[1]}`);
      if (!parsed.ok) assert.equal(parsed.error.code, refusal[0], parsed.error.detail);
      return;
    }
    assert.ok(parsed.ok, parsed.ok ? "" : `${v.id}: ${parsed.error.code} ${parsed.error.detail}`);
    const frame = parsed.frame;
    const sig = v.transport_sig;
    if (sig.verifiable_by_receiver && sig.signer_key) {
      assert.ok(await verifyFrame(KEYS[sig.signer_key].publicKey, frame), "transport sig");
    }
    await checkContent(v, frame);
  });
}

/** content_sig, DM decryption (key B receives) and group keys, where socp can check them. */
async function checkContent(v: Vector, frame: Frame): Promise<void> {
  const p = frame.payload as Record<string, unknown>;
  const senderKey = (text: unknown) => {
    const parsed = parsePublicKey(text);
    assert.ok(parsed.ok, "sender key loads");
    return parsed.key;
  };
  const dm = ["MSG_DIRECT", "USER_DELIVER", "SERVER_DELIVER"].includes(frame.type) &&
    v.content_sig?.variant.match(/^V[12]/);
  if (dm) {
    const f = frame as FrameOf<"MSG_DIRECT">;
    assert.ok(
      await verifyDmContentSig(senderKey(p.sender_pub), dmSigFieldsOf(f), f.payload.content_sig),
    );
    assert.ok(await decryptWith(KEYS.B.privateKey, p.ciphertext as string), "recipient B decrypts");
  }
  const group = v.group_key_hex ? Uint8Array.fromHex(v.group_key_hex) : undefined;
  if (v.content_sig?.variant.startsWith("public") && frame.type !== "FILE_CHUNK") {
    const f = frame as FrameOf<"MSG_PUBLIC_CHANNEL">;
    assert.ok(
      await verifyPublicContentSig(
        senderKey(p.sender_pub),
        publicSigFieldsOf(f),
        f.payload.content_sig,
      ),
    );
    if (group) assert.ok(await aesGcmDecrypt(group, f.payload.ciphertext), "members open it");
  }
  if (frame.type === "PUBLIC_CHANNEL_KEY_SHARE") {
    const f = frame as FrameOf<"PUBLIC_CHANNEL_KEY_SHARE">;
    const creatorPub = f.payload.creator_pub;
    assert.ok(
      await verifyKeyShareContentSig(
        senderKey(creatorPub),
        { shares: f.payload.shares, creatorPub },
        f.payload.content_sig,
      ),
    );
  }
  // Empty-label OAEP wraps (A) open for the member; C labels its wraps, which SOCP does not use.
  if (group && v.id.startsWith("A-public-channel-")) {
    const entries = (p.wraps ?? p.shares) as Record<string, string>[];
    const mine = entries.map((e) => e.wrapped_key ?? e.wrapped_public_channel_key);
    const opened = await Promise.all(mine.map((w) => decryptWith(KEYS.B.privateKey, w)));
    assert.ok(opened.some((k) => k && toHex(k) === v.group_key_hex), "member B opens its wrap");
  }
}
