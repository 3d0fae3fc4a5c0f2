/**
 * Builders that produce valid, signed frames. {@linkcode makeFrame} covers
 * every type; the others do the crypto a frame needs (encryption, content
 * signatures) and keep `ts`/`to` of the original frame where SOCP.md §6
 * requires it.
 *
 * @module
 */

import { aesGcmEncrypt, type AesKey } from "./aes.ts";
import { encodeBase64url } from "./base64url.ts";
import { dmContentSig, keyShareContentSig, publicContentSig } from "./content_sig.ts";
import type { ErrorCode } from "./errors.ts";
import { nowMs } from "./ids.ts";
import { exportPublicKey, type KeyPair, type PublicKey } from "./keys.ts";
import { signPresenceProof } from "./presence_proof.ts";
import { encryptFor } from "./rsa.ts";
import { signFrame } from "./transport_sig.ts";
import type {
  DeliverPayload,
  FrameOf,
  KeyShare,
  MessageType,
  PayloadMap,
  ServerDeliverDmPayload,
  UserMeta,
} from "./types.ts";

/** A signer: its id (user or server) and its key pair. */
export interface Identity {
  /** user_id or server_id. */
  id: string;
  /** The identity's RSA-4096 key pair. */
  keys: KeyPair;
}

/**
 * Client string project clients send in USER_HELLO.
 *
 * @example
 * ```ts
 * import { CLIENT_NAME } from "@socp/socp";
 * CLIENT_NAME.startsWith("socp-ts/"); // true
 * ```
 */
export const CLIENT_NAME = "socp-ts/1.0";

/**
 * An unsigned frame of any type.
 *
 * @example
 * ```ts
 * import { makeFrame } from "@socp/socp";
 * const f = makeFrame("LIST_REQUEST", crypto.randomUUID(), "*", {});
 * f.type; // "LIST_REQUEST"
 * ```
 */
export function makeFrame<T extends MessageType>(
  type: T,
  from: string,
  to: string,
  payload: PayloadMap[T],
  ts: number = nowMs(),
): FrameOf<T> {
  return { type, from, to, ts, payload };
}

/**
 * A frame of any type signed by `signer` (whose id becomes `from`).
 *
 * @example
 * ```ts
 * import { buildSigned, generateKeyPair } from "@socp/socp";
 * const server = { id: crypto.randomUUID(), keys: await generateKeyPair() };
 * const hb = await buildSigned(server, "HEARTBEAT", crypto.randomUUID(), {});
 * typeof hb.sig; // "string"
 * ```
 */
export function buildSigned<T extends MessageType>(
  signer: Identity,
  type: T,
  to: string,
  payload: PayloadMap[T],
  ts: number = nowMs(),
): Promise<FrameOf<T>> {
  return signFrame(makeFrame(type, signer.id, to, payload, ts), signer.keys.privateKey);
}

/** Options for {@linkcode buildUserHello}. */
export interface UserHelloOptions {
  /** The server id when known; `"*"` otherwise. */
  to?: string;
  /** Metadata shown to others (display_name, caps). */
  meta?: UserMeta;
  /** Client software string; defaults to {@linkcode CLIENT_NAME}. */
  client?: string;
  /** Timestamp (defaults to now); `auth_ts` equals it. */
  ts?: number;
  /**
   * Add a presence proof (protocol/presence_proof.ts) naming `to`, so the
   * user can move from a server where it still looks live. Costs a second
   * signature.
   */
  proof?: boolean;
}

/**
 * A signed-fresh USER_HELLO (SOCP.md §6.2, §10.2): `enc_pubkey = pubkey`,
 * `auth_ts = ts`, a 16-byte random nonce, never a password.
 *
 * @example
 * ```ts
 * import { buildUserHello, generateKeyPair } from "@socp/socp";
 * const alice = { id: crypto.randomUUID(), keys: await generateKeyPair() };
 * const hello = await buildUserHello(alice, { meta: { display_name: "Alice" } });
 * hello.payload.auth_ts === hello.ts; // true
 * ```
 */
export async function buildUserHello(
  user: Identity,
  options: UserHelloOptions = {},
): Promise<FrameOf<"USER_HELLO">> {
  const ts = options.ts ?? nowMs();
  const pubkey = user.keys.publicKey.b64;
  const payload: PayloadMap["USER_HELLO"] = {
    client: options.client ?? CLIENT_NAME,
    pubkey,
    enc_pubkey: pubkey,
    auth_ts: ts,
    nonce: encodeBase64url(crypto.getRandomValues(new Uint8Array(16))),
  };
  if (options.meta) payload.meta = options.meta;
  const to = options.to ?? "*";
  if (options.proof) payload.presence = await signPresenceProof(user, to, ts);
  return buildSigned(user, "USER_HELLO", to, payload, ts);
}

/**
 * An end-to-end encrypted MSG_DIRECT: OAEP under the recipient's key, a V1
 * content signature and a transport signature.
 *
 * @throws {SocpError} `TOO_LARGE` if the text exceeds 446 UTF-8 bytes.
 *
 * @example
 * ```ts
 * import { buildMsgDirect, generateKeyPair } from "@socp/socp";
 * const alice = { id: crypto.randomUUID(), keys: await generateKeyPair() };
 * const bob = await generateKeyPair();
 * const dm = await buildMsgDirect(alice, crypto.randomUUID(), bob.publicKey, "hi Bob");
 * dm.payload.sender_pub === alice.keys.publicKey.b64; // true
 * ```
 */
export async function buildMsgDirect(
  sender: Identity,
  to: string,
  recipientKey: PublicKey,
  text: string | Uint8Array,
  ts: number = nowMs(),
): Promise<FrameOf<"MSG_DIRECT">> {
  const ciphertext = await encryptFor(recipientKey, text);
  const content_sig = await dmContentSig(sender.keys.privateKey, {
    ciphertext,
    from: sender.id,
    to,
    ts,
  });
  const payload = { ciphertext, sender_pub: sender.keys.publicKey.b64, content_sig };
  return await buildSigned(sender, "MSG_DIRECT", to, payload, ts);
}

/**
 * The SERVER_DELIVER a sender's server emits for a MSG_DIRECT: same `ts`,
 * ciphertext and signatures untouched, `to` = the recipient's server.
 *
 * @example
 * ```ts
 * import { buildMsgDirect, buildServerDeliver, generateKeyPair } from "@socp/socp";
 * const keys = await generateKeyPair();
 * const alice = { id: crypto.randomUUID(), keys };
 * const dm = await buildMsgDirect(alice, crypto.randomUUID(), keys.publicKey, "hi");
 * const s1 = { id: crypto.randomUUID(), keys };
 * (await buildServerDeliver(s1, dm, crypto.randomUUID())).ts === dm.ts; // true
 * ```
 */
export function buildServerDeliver(
  server: Identity,
  dm: FrameOf<"MSG_DIRECT">,
  recipientServer: string,
): Promise<FrameOf<"SERVER_DELIVER">> {
  const payload: ServerDeliverDmPayload = {
    user_id: dm.to,
    ciphertext: dm.payload.ciphertext,
    sender: dm.from,
    sender_pub: dm.payload.sender_pub,
    content_sig: dm.payload.content_sig,
  };
  return buildSigned(server, "SERVER_DELIVER", recipientServer, payload, dm.ts);
}

/**
 * The USER_DELIVER the recipient's server emits, from a local MSG_DIRECT or a
 * SERVER_DELIVER: `to` is the recipient and `ts` the original.
 *
 * @example
 * ```ts
 * import { buildMsgDirect, buildUserDeliver, generateKeyPair } from "@socp/socp";
 * const keys = await generateKeyPair();
 * const dm = await buildMsgDirect({ id: crypto.randomUUID(), keys }, crypto.randomUUID(), keys.publicKey, "hi");
 * const d = await buildUserDeliver({ id: crypto.randomUUID(), keys }, dm);
 * d.payload.sender === dm.from; // true
 * ```
 */
export function buildUserDeliver(
  server: Identity,
  dm: FrameOf<"MSG_DIRECT"> | FrameOf<"SERVER_DELIVER">,
): Promise<FrameOf<"USER_DELIVER">> {
  const p = dm.payload as ServerDeliverDmPayload;
  const fromDirect = dm.type === "MSG_DIRECT";
  const payload: DeliverPayload = {
    ciphertext: p.ciphertext,
    sender: fromDirect ? dm.from : p.sender,
    sender_pub: p.sender_pub,
    content_sig: p.content_sig,
  };
  if (!fromDirect && typeof p.queued_at === "number") payload.queued_at = p.queued_at;
  // The sender's ts (which its content signature covers), also when a dialect C server re-stamped.
  const ts = fromDirect ? dm.ts : p.orig_ts ?? dm.ts;
  return buildSigned(server, "USER_DELIVER", fromDirect ? dm.to : p.user_id, payload, ts);
}

/**
 * A MSG_PUBLIC_CHANNEL: the text as an AES-GCM blob under the channel key,
 * `key_version`, a public-form content signature and a transport signature.
 * `senderPubForm: "pem"` sends our key as PEM text, for channels whose
 * members include dialect A servers (their clients load only PEM).
 *
 * @example
 * ```ts
 * import { buildMsgPublic, generateAesKey, generateKeyPair } from "@socp/socp";
 * const bob = { id: crypto.randomUUID(), keys: await generateKeyPair() };
 * const msg = await buildMsgPublic(bob, generateAesKey(), 3, "hello all");
 * msg.to; // "public"
 * const forA = await buildMsgPublic(bob, generateAesKey(), 3, "hi", { senderPubForm: "pem" });
 * forA.payload.sender_pub.startsWith("LS0tLS1CRUdJTi"); // true: base64url of "-----BEGIN"
 * ```
 */
export async function buildMsgPublic(
  sender: Identity,
  groupKey: AesKey,
  keyVersion: number,
  text: string,
  options: { ts?: number; senderPubForm?: "der" | "pem" } = {},
): Promise<FrameOf<"MSG_PUBLIC_CHANNEL">> {
  const ts = options.ts ?? nowMs();
  const ciphertext = await aesGcmEncrypt(groupKey, text);
  const content_sig = await publicContentSig(sender.keys.privateKey, {
    ciphertext,
    from: sender.id,
    ts,
  });
  const payload = {
    ciphertext,
    sender_pub: options.senderPubForm === "pem"
      ? exportPublicKey(sender.keys.publicKey, "pem")
      : sender.keys.publicKey.b64,
    content_sig,
    key_version: keyVersion,
  };
  return await buildSigned(sender, "MSG_PUBLIC_CHANNEL", "public", payload, ts);
}

/**
 * A PUBLIC_CHANNEL_KEY_SHARE from its creator: `creator_pub` is the creator's
 * key and `content_sig` covers canonical(shares) + creator_pub.
 *
 * @example
 * ```ts
 * import { buildKeyShare, encryptFor, generateAesKey, generateKeyPair } from "@socp/socp";
 * const keys = await generateKeyPair();
 * const s1 = { id: crypto.randomUUID(), keys };
 * const wrapped = await encryptFor(keys.publicKey, generateAesKey());
 * const share = await buildKeyShare(s1, [{ member: crypto.randomUUID(), wrapped_public_channel_key: wrapped }], 1);
 * share.payload.version; // 1
 * ```
 */
export async function buildKeyShare(
  creator: Identity,
  shares: KeyShare[],
  version: number,
  ts: number = nowMs(),
): Promise<FrameOf<"PUBLIC_CHANNEL_KEY_SHARE">> {
  const creatorPub = creator.keys.publicKey.b64;
  const content_sig = await keyShareContentSig(creator.keys.privateKey, { shares, creatorPub });
  const payload = { shares, creator_pub: creatorPub, content_sig, version };
  return await buildSigned(creator, "PUBLIC_CHANNEL_KEY_SHARE", "*", payload, ts);
}

/**
 * A signed ERROR. `detail` is clipped to 200 characters and must hold no
 * secrets or user content.
 *
 * @example
 * ```ts
 * import { buildError, generateKeyPair } from "@socp/socp";
 * const s1 = { id: crypto.randomUUID(), keys: await generateKeyPair() };
 * const e = await buildError(s1, crypto.randomUUID(), "USER_NOT_FOUND", "recipient is not online");
 * e.payload.code; // "USER_NOT_FOUND"
 * ```
 */
export function buildError(
  signer: Identity,
  to: string,
  code: ErrorCode,
  detail: string,
  msgRef?: string,
): Promise<FrameOf<"ERROR">> {
  const payload: PayloadMap["ERROR"] = { code, detail: detail.slice(0, 200) };
  if (msgRef) payload.msg_ref = msgRef;
  return buildSigned(signer, "ERROR", to, payload);
}
