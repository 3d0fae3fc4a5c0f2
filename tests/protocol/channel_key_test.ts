import assert from "node:assert/strict";
import {
  buildChannelKeyFrames,
  buildMerkleTree,
  encodeBase64url,
  leafHash,
  MAX_PROOF_LENGTH,
  merkleProof,
  merkleRootOf,
  openChannelKey,
  parseFrame,
} from "../../mod.ts";
import { KEYS } from "../_vectors.ts";

const equal = (a: Uint8Array | null, b: Uint8Array) =>
  a !== null && a.length === b.length && a.every((x, i) => x === b[i]);

// `count` shapes the path but is bound by the signed statement, not the root (see below).
Deno.test("every leaf of trees of 1–33 leaves proves the root; any other index, leaf or proof does not", async () => {
  for (let count = 1; count <= 33; count++) {
    const leaves = await Promise.all(Array.from({ length: count }, (_, i) => leafHash(`m${i}`)));
    const levels = await buildMerkleTree(leaves);
    const root = levels[levels.length - 1][0];
    assert.ok(levels[levels.length - 1].length === 1);
    for (let i = 0; i < count; i++) {
      const proof = merkleProof(levels, i);
      assert.ok(proof.length <= Math.ceil(Math.log2(count)), `proof length ${count}/${i}`);
      assert.ok(equal(await merkleRootOf(leaves[i], i, count, proof), root), `${count}/${i}`);
      if (count > 1) {
        const other = (i + 1) % count;
        assert.ok(!equal(await merkleRootOf(leaves[i], other, count, proof), root), "index");
        assert.ok(!equal(await merkleRootOf(leaves[other], i, count, proof), root), "leaf");
      }
    }
  }
  const leaf = await leafHash("x");
  assert.equal(await merkleRootOf(leaf, 1, 1, []), null); // index out of range
  assert.equal(await merkleRootOf(leaf, 0, 2, []), null); // proof too short
  assert.equal(await merkleRootOf(leaf, 0, 1, [leaf]), null); // proof too long
  assert.equal(await merkleRootOf(leaf, 0, 2 ** 70, []), null); // not a safe integer
  const long = Array.from({ length: MAX_PROOF_LENGTH + 1 }, () => leaf);
  assert.equal(await merkleRootOf(leaf, 0, Number.MAX_SAFE_INTEGER, long), null);
});

Deno.test("a leaf and an inner node never collide (domain separation)", async () => {
  const [a, b] = [await leafHash("a"), await leafHash("b")];
  const levels = await buildMerkleTree([a, b]);
  const root = levels[1][0];
  // Presenting the inner node's preimage as a leaf does not give its hash.
  const asLeaf = await leafHash(new Uint8Array([1, ...a, ...b]));
  assert.ok(!equal(asLeaf, root));
});

const SERVER = { id: crypto.randomUUID(), keys: KEYS.A };
const OTHER_SERVER = KEYS.B;
const members: string[] = Array.from({ length: 7 }, () => crypto.randomUUID());
const wraps = members.map((member_id, i) => ({
  member_id,
  wrapped_key: encodeBase64url(new Uint8Array(512).fill(i + 1)),
}));

Deno.test("buildChannelKeyFrames signs once and gives each recipient a frame that opens to its own wrap", async () => {
  const recipients = new Set([members[0], members[3], members[6]]);
  const frames = await buildChannelKeyFrames(SERVER, 9, SERVER.id, wraps, recipients, 1234);
  assert.deepEqual([...frames.keys()].sort(), [...recipients].sort());
  const sigs = new Set([...frames.values()].map((f) => f.payload.root_sig));
  assert.equal(sigs.size, 1);
  for (const [member, frame] of frames) {
    const parsed = parseFrame(JSON.stringify(frame));
    assert.ok(parsed.ok && parsed.frame.type === "PUBLIC_CHANNEL_KEY");
    assert.equal(frame.to, member);
    const wrap = await openChannelKey(parsed.frame, SERVER.keys.publicKey);
    assert.deepEqual(wrap, wraps[members.indexOf(member)]);
    assert.equal(await openChannelKey(parsed.frame, OTHER_SERVER.publicKey), null);
  }
  const none = await buildChannelKeyFrames(SERVER, 9, SERVER.id, wraps, new Set(["x"]));
  assert.equal(none.size, 0);
});

Deno.test("openChannelKey refuses a changed wrap, member, index, count, state or proof", async () => {
  const frame = (await buildChannelKeyFrames(SERVER, 9, SERVER.id, wraps, new Set([members[2]])))
    .get(members[2])!;
  const tamper = async (change: (p: typeof frame.payload) => void) => {
    const copy = structuredClone(frame);
    change(copy.payload);
    return await openChannelKey(copy, SERVER.keys.publicKey);
  };
  assert.ok(await tamper(() => {}));
  assert.equal(await tamper((p) => p.wrapped_key = wraps[1].wrapped_key), null);
  assert.equal(await tamper((p) => p.member_id = members[1]), null);
  assert.equal(await tamper((p) => p.index = 1), null);
  assert.equal(await tamper((p) => p.count = 8), null);
  assert.equal(await tamper((p) => p.version = 10), null);
  assert.equal(await tamper((p) => p.creator = crypto.randomUUID()), null);
  assert.equal(await tamper((p) => p.proof = p.proof.slice(1)), null);
  assert.equal(await tamper((p) => p.proof[0] = "AAAA"), null);
  assert.equal(await tamper((p) => p.proof = [...p.proof].reverse()), null);
});

Deno.test("the PEM hint of a channel key is signed with its root: adding or removing it fails", async () => {
  const bob = new Set([members[2]]);
  const hinted = (await buildChannelKeyFrames(SERVER, 5, SERVER.id, wraps, bob, 1, "pem"))
    .get(members[2])!;
  assert.equal(hinted.payload.sender_pub_form, "pem");
  assert.ok(await openChannelKey(hinted, SERVER.keys.publicKey));
  const { sender_pub_form: _dropped, ...stripped } = hinted.payload;
  assert.equal(await openChannelKey({ ...hinted, payload: stripped }, SERVER.keys.publicKey), null);
  const plain = (await buildChannelKeyFrames(SERVER, 5, SERVER.id, wraps, bob, 1)).get(members[2])!;
  assert.equal(plain.payload.sender_pub_form, undefined);
  const forged = { ...plain, payload: { ...plain.payload, sender_pub_form: "pem" as const } };
  assert.equal(await openChannelKey(forged, SERVER.keys.publicKey), null);
});
