/**
 * The presence proof (project extension, docs/PROTOCOL.md decision 43): a
 * statement signed by a user's own key that it is connected to one server at
 * one time. Servers carry it in the user's USER_ADVERTISE, so that a server
 * peer cannot claim a user who is live elsewhere without the user's word.
 *
 * The signed bytes are the canonical JSON of
 * `{"purpose":"socp-presence/1","server_id","ts","user_id"}`, PSS like every
 * signature of the profile. A project client puts it in its USER_HELLO
 * (`payload.presence`), naming the server's id when it knows it (from an
 * earlier ACK) and `"*"` otherwise; only a named proof may move a user who
 * is live on another server.
 *
 * @module
 */

import { canonicalJson } from "./canonical.ts";
import type { PrivateKey, PublicKey } from "./keys.ts";
import { nowMs } from "./ids.ts";
import { signBytes, verifyBytes } from "./rsa.ts";
import type { PresenceProof } from "./types.ts";

const PURPOSE = "socp-presence/1";

function statement(userId: string, serverId: string, ts: number): Uint8Array {
  return new TextEncoder().encode(
    canonicalJson({ purpose: PURPOSE, server_id: serverId, ts, user_id: userId }),
  );
}

/**
 * Signs a presence proof for `user` on `serverId`.
 *
 * @example
 * ```ts
 * import { generateKeyPair, signPresenceProof, verifyPresenceProof } from "@socp/socp";
 * const alice = { id: crypto.randomUUID(), keys: await generateKeyPair() };
 * const server = crypto.randomUUID();
 * const proof = await signPresenceProof(alice, server);
 * await verifyPresenceProof(alice.keys.publicKey, alice.id, proof); // true
 * ```
 */
export async function signPresenceProof(
  user: { id: string; keys: { privateKey: PrivateKey } },
  serverId: string,
  ts: number = nowMs(),
): Promise<PresenceProof> {
  return {
    server_id: serverId,
    ts,
    sig: await signBytes(user.keys.privateKey, statement(user.id, serverId, ts)),
  };
}

/**
 * Whether `proof` is `userId`'s signature under `key`. Never throws.
 *
 * @example
 * ```ts
 * import { generateKeyPair, verifyPresenceProof } from "@socp/socp";
 * const someone = await generateKeyPair();
 * await verifyPresenceProof(someone.publicKey, "u", { server_id: "s", ts: 1, sig: "x" }); // false
 * ```
 */
export async function verifyPresenceProof(
  key: PublicKey,
  userId: string,
  proof: PresenceProof,
): Promise<boolean> {
  try {
    return await verifyBytes(key, statement(userId, proof.server_id, proof.ts), proof.sig);
  } catch {
    return false; // an unsignable value (a float ts) is a failed proof
  }
}
