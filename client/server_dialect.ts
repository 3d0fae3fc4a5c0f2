/**
 * The dialect of the server a client talks to (docs/DIALECTS.md), in one
 * place: the hello it takes, how our frames are written for it, and how it
 * answers. Our own servers ACK a signed-fresh hello; dialect A servers want a
 * password and PEM keys and answer with adverts instead of an ACK; dialect B
 * servers want PEM keys, send no ACK, have no /list, and run an unencrypted
 * public channel.
 *
 * @module
 */

import { buildSigned, buildUserHello, CLIENT_NAME, type Identity } from "../protocol/builders.ts";
import { encodeBase64url } from "../protocol/base64url.ts";
import { exportPublicKey, parsePublicKey } from "../protocol/keys.ts";
import { signPresenceProof } from "../protocol/presence_proof.ts";
import { signFrame } from "../protocol/transport_sig.ts";
import type { Envelope, FrameOf, UserMeta } from "../protocol/types.ts";

/** Which server dialect a client speaks: ours, or the foreign servers A and B. */
export type ServerDialect = "socp" | "A" | "B";

/**
 * The USER_HELLO for a server of `dialect`. A `password` (a dialect A
 * login) goes out only when one is given; the hello is signed-fresh in every
 * dialect, since extra fields are ignored where they are not read.
 */
export async function helloFor(
  dialect: ServerDialect,
  identity: Identity,
  options: { meta: UserMeta; to: string; password?: string },
): Promise<FrameOf<"USER_HELLO">> {
  const { meta, to, password } = options;
  if (dialect === "socp" && password === undefined) {
    return await buildUserHello(identity, { meta, to, proof: true });
  }
  const ts = Date.now();
  const pubkey = keyFor(dialect, identity.keys.publicKey.b64);
  const payload: FrameOf<"USER_HELLO">["payload"] = {
    client: CLIENT_NAME,
    pubkey,
    enc_pubkey: pubkey,
    meta,
    auth_ts: ts,
    nonce: encodeBase64url(crypto.getRandomValues(new Uint8Array(16))),
    presence: await signPresenceProof(identity, to, ts),
  };
  if (password !== undefined) payload.password = password;
  return await buildSigned(identity, "USER_HELLO", to, payload, ts);
}

/** A key string as a server of `dialect` loads it: DER for ours, PEM text for A and B. */
export function keyFor(dialect: ServerDialect, key: string): string {
  if (dialect === "socp") return key;
  const parsed = parsePublicKey(key);
  return parsed.ok ? exportPublicKey(parsed.key, "pem") : key;
}

/**
 * A frame of ours as a server of `dialect` takes it: `sender_pub` as PEM
 * for A and B (their clients load only PEM), signed again when that changed
 * the payload (the content signature does not cover the key).
 */
export async function writeForServer<F extends Envelope<string, unknown>>(
  dialect: ServerDialect,
  identity: Identity,
  frame: F,
): Promise<F> {
  const payload = frame.payload as Record<string, unknown>;
  if (dialect === "socp" || typeof payload?.sender_pub !== "string") return frame;
  const pem = keyFor(dialect, payload.sender_pub);
  if (pem === payload.sender_pub) return frame;
  const { sig: _old, ...unsigned } = frame;
  return await signFrame(
    { ...unsigned, payload: { ...payload, sender_pub: pem } } as F,
    identity.keys.privateKey,
  );
}

/** Whether the server answers an accepted hello with an ACK (ours do; A and B just start). */
export function acksHello(dialect: ServerDialect): boolean {
  return dialect === "socp";
}

/** How /list is asked of a server: LIST_REQUEST (ours), COMMAND (A), or not at all (B). */
export function listForm(dialect: ServerDialect): "request" | "command" | "presence" {
  return dialect === "A" ? "command" : dialect === "B" ? "presence" : "request";
}

/** Why a server of `dialect` carries no encrypted public channel, if it does not. */
export function publicChannelProblem(dialect: ServerDialect): string | undefined {
  return dialect === "B"
    ? "this server (dialect B) runs its public channel unencrypted; socp does not send plaintext"
    : undefined;
}
