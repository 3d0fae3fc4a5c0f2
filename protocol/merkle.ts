/**
 * A SHA-256 Merkle tree with domain-separated leaves (`0x00 ‖ data`) and
 * nodes (`0x01 ‖ left ‖ right`). A level with an odd count promotes its last
 * node unchanged. One signature over the root then vouches for every leaf,
 * each checked with a proof of about log2(n) hashes: the channel-key
 * extension uses it to give each member only its own wrap.
 *
 * @module
 */

import { concatBytes } from "./bytes.ts";
import { sha256 } from "./hash.ts";

const LEAF = new Uint8Array([0]);
const NODE = new Uint8Array([1]);

/** Most levels a proof may climb (2^64 leaves): bounds work on hostile input. */
export const MAX_PROOF_LENGTH = 64;

/**
 * The hash of one leaf.
 *
 * @example
 * ```ts
 * import { leafHash } from "@socp/socp";
 * (await leafHash("alice\nwrap")).length; // 32
 * ```
 */
export function leafHash(data: Uint8Array | string): Promise<Uint8Array> {
  const bytes = typeof data === "string" ? new TextEncoder().encode(data) : data;
  return sha256(concatBytes(LEAF, bytes));
}

function nodeHash(left: Uint8Array, right: Uint8Array): Promise<Uint8Array> {
  return sha256(concatBytes(NODE, left, right));
}

/**
 * Every level of the tree over `leaves` (leaf hashes), from the leaves up to
 * the one-element root level.
 *
 * @throws {RangeError} when `leaves` is empty.
 *
 * @example
 * ```ts
 * import { buildMerkleTree, leafHash } from "@socp/socp";
 * const levels = await buildMerkleTree([await leafHash("a"), await leafHash("b")]);
 * levels.length; // 2: the leaves and the root
 * ```
 */
export async function buildMerkleTree(leaves: Uint8Array[]): Promise<Uint8Array[][]> {
  if (leaves.length === 0) throw new RangeError("a Merkle tree needs at least one leaf");
  const levels = [leaves];
  while (levels[levels.length - 1].length > 1) {
    const below = levels[levels.length - 1];
    const pairs = [];
    for (let i = 0; i < below.length; i += 2) {
      pairs.push(i + 1 < below.length ? nodeHash(below[i], below[i + 1]) : below[i]);
    }
    levels.push(await Promise.all(pairs));
  }
  return levels;
}

/**
 * The proof for leaf `index`: its sibling at each level that has one.
 *
 * @example
 * ```ts
 * import { buildMerkleTree, leafHash, merkleProof } from "@socp/socp";
 * const levels = await buildMerkleTree([await leafHash("a"), await leafHash("b"), await leafHash("c")]);
 * merkleProof(levels, 2).length; // 1: "c" is promoted past the first level
 * ```
 */
export function merkleProof(levels: Uint8Array[][], index: number): Uint8Array[] {
  const proof: Uint8Array[] = [];
  let i = index;
  for (const level of levels.slice(0, -1)) {
    const sibling = i % 2 === 1 ? i - 1 : i + 1;
    if (sibling < level.length) proof.push(level[sibling]);
    i = Math.floor(i / 2);
  }
  return proof;
}

/**
 * The root that leaf `index` of `count` leaves and `proof` lead to, or `null`
 * when the shape is impossible (index out of range, proof too short or long).
 *
 * @example
 * ```ts
 * import { buildMerkleTree, leafHash, merkleProof, merkleRootOf } from "@socp/socp";
 * const leaves = [await leafHash("a"), await leafHash("b"), await leafHash("c")];
 * const levels = await buildMerkleTree(leaves);
 * const root = await merkleRootOf(leaves[1], 1, 3, merkleProof(levels, 1));
 * root?.every((b, i) => b === levels[2][0][i]); // true
 * ```
 */
export async function merkleRootOf(
  leaf: Uint8Array,
  index: number,
  count: number,
  proof: readonly Uint8Array[],
): Promise<Uint8Array | null> {
  if (!Number.isSafeInteger(count) || count < 1 || !Number.isSafeInteger(index)) return null;
  if (index < 0 || index >= count || proof.length > MAX_PROOF_LENGTH) return null;
  let hash = leaf;
  let i = index;
  let n = count;
  let used = 0;
  while (n > 1) {
    if (i % 2 === 1) {
      if (used >= proof.length) return null;
      hash = await nodeHash(proof[used++], hash);
    } else if (i + 1 < n) {
      if (used >= proof.length) return null;
      hash = await nodeHash(hash, proof[used++]);
    } // else: the last node of an odd level is promoted unchanged
    i = Math.floor(i / 2);
    n = Math.ceil(n / 2);
  }
  return used === proof.length ? hash : null;
}
