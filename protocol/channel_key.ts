/**
 * The channel-key extension (docs/PROTOCOL.md, "Channel-key delivery"): a
 * server hands each of its own clients that advertise the `"channel-key"`
 * capability only that client's wrap of the current public-channel key,
 * instead of PUBLIC_CHANNEL_UPDATED and KEY_SHARE frames that carry a wrap for
 * every member. One server signature over a Merkle root of all wraps vouches
 * for every member's frame, each of which carries its Merkle proof; so a
 * rotation costs one signature and O(n) bytes, not O(n²).
 *
 * @module
 */

import { decodeBase64url, encodeBase64url } from "./base64url.ts";
import { buildMerkleTree, leafHash, merkleProof, merkleRootOf } from "./merkle.ts";
import type { Identity } from "./builders.ts";
import { toHex } from "./hash.ts";
import type { PublicKey } from "./keys.ts";
import { signPayload, verifyPayload } from "./transport_sig.ts";
import type { ChannelWrap, FrameOf } from "./types.ts";

/** The capability a client lists in `meta.caps` to receive PUBLIC_CHANNEL_KEY. */
export const CHANNEL_KEY_CAP = "channel-key";

/** What the root signature covers: the state and the root of its wraps. */
function rootStatement(
  version: number,
  creator: string,
  count: number,
  root: Uint8Array,
  senderPubForm?: "pem",
) {
  const statement = { purpose: "socp-channel-key/1", version, creator, count, root: toHex(root) };
  return senderPubForm ? { ...statement, sender_pub_form: senderPubForm } : statement;
}

function leafOf(wrap: ChannelWrap): Promise<Uint8Array> {
  return leafHash(`${wrap.member_id}\n${wrap.wrapped_key}`);
}

/**
 * PUBLIC_CHANNEL_KEY frames from `server` for the `recipients` among the
 * wraps of state (`version`, `creator`), keyed by member id. Signs once.
 *
 * @example
 * ```ts
 * import { buildChannelKeyFrames, generateKeyPair, openChannelKey } from "@socp/socp";
 * const server = { id: crypto.randomUUID(), keys: await generateKeyPair() };
 * const wraps = [{ member_id: "alice", wrapped_key: "w1" }, { member_id: "bob", wrapped_key: "w2" }];
 * const frames = await buildChannelKeyFrames(server, 5, server.id, wraps, new Set(["bob"]));
 * (await openChannelKey(frames.get("bob")!, server.keys.publicKey))?.wrapped_key; // "w2"
 * ```
 */
export async function buildChannelKeyFrames(
  server: Identity,
  version: number,
  creator: string,
  wraps: readonly ChannelWrap[],
  recipients: ReadonlySet<string>,
  ts: number = Date.now(),
  senderPubForm?: "pem",
): Promise<Map<string, FrameOf<"PUBLIC_CHANNEL_KEY">>> {
  const frames = new Map<string, FrameOf<"PUBLIC_CHANNEL_KEY">>();
  const wanted = wraps.some((w) => recipients.has(w.member_id));
  if (!wanted) return frames;
  const levels = await buildMerkleTree(await Promise.all(wraps.map(leafOf)));
  const root = levels[levels.length - 1][0];
  const rootSig = await signPayload(
    server.keys.privateKey,
    rootStatement(version, creator, wraps.length, root, senderPubForm),
  );
  wraps.forEach((wrap, index) => {
    if (!recipients.has(wrap.member_id)) return;
    frames.set(wrap.member_id, {
      type: "PUBLIC_CHANNEL_KEY",
      from: server.id,
      to: wrap.member_id,
      ts,
      payload: {
        version,
        creator,
        count: wraps.length,
        index,
        member_id: wrap.member_id,
        wrapped_key: wrap.wrapped_key,
        proof: merkleProof(levels, index).map(encodeBase64url),
        root_sig: rootSig,
        ...(senderPubForm ? { sender_pub_form: senderPubForm } : {}),
      },
    });
  });
  return frames;
}

/**
 * Checks a PUBLIC_CHANNEL_KEY against the key of the server that sent it:
 * the Merkle proof leads from this wrap to a root the server signed for this
 * state. Returns the wrap, or `null` if anything does not hold.
 *
 * @example
 * ```ts
 * import { buildChannelKeyFrames, generateKeyPair, openChannelKey } from "@socp/socp";
 * const server = { id: crypto.randomUUID(), keys: await generateKeyPair() };
 * const wraps = [{ member_id: "bob", wrapped_key: "w" }];
 * const frames = await buildChannelKeyFrames(server, 1, server.id, wraps, new Set(["bob"]));
 * const frame = frames.get("bob")!;
 * const tampered = { ...frame, payload: { ...frame.payload, wrapped_key: "x" } };
 * await openChannelKey(tampered, server.keys.publicKey); // null: the proof no longer holds
 * ```
 */
export async function openChannelKey(
  frame: FrameOf<"PUBLIC_CHANNEL_KEY">,
  serverKey: PublicKey,
): Promise<ChannelWrap | null> {
  const p = frame.payload;
  const proof = p.proof.map(decodeBase64url);
  if (proof.some((h) => h === null || h.length !== 32)) return null;
  const wrap = { member_id: p.member_id, wrapped_key: p.wrapped_key };
  const root = await merkleRootOf(await leafOf(wrap), p.index, p.count, proof as Uint8Array[]);
  if (!root) return null;
  const signed = await verifyPayload(
    serverKey,
    rootStatement(p.version, p.creator, p.count, root, p.sender_pub_form),
    p.root_sig,
  );
  return signed ? wrap : null;
}
