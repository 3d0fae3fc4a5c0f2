/**
 * End-to-end content signatures (SOCP.md §5.2). Senders sign the V1 preimage
 * with salt 478; verifiers accept V1–V4 with salt 478 or 32, so every dialect
 * of §12 verifies.
 *
 * @module
 */

import { decodeBase64url } from "./base64url.ts";
import { concatBytes } from "./bytes.ts";
import { CanonicalError, canonicalJson, hasNonAscii } from "./canonical.ts";
import { sha256 } from "./hash.ts";
import type { PrivateKey, PublicKey } from "./keys.ts";
import { signBytes, verifyBytes } from "./rsa.ts";
import type {
  DeliverPayload,
  Envelope,
  MsgDirectPayload,
  ServerDeliverDmPayload,
} from "./types.ts";

const encoder = new TextEncoder();

/** The values a DM content signature covers, from the original MSG_DIRECT. */
export interface DmSigFields {
  /** The `ciphertext` string exactly as sent. */
  ciphertext: string;
  /** The sender's user id. */
  from: string;
  /** The recipient's user id. */
  to: string;
  /** The original `ts` of the MSG_DIRECT. */
  ts: number;
  /** Verify only: further `ts` candidates a dialect carried (`orig_ts`, …). */
  altTs?: readonly number[];
}

/** The values a public-channel content signature covers. */
export interface PublicSigFields {
  /** The `ciphertext` blob exactly as sent. */
  ciphertext: string;
  /** The sender's user id. */
  from: string;
  /** The original `ts` of the MSG_PUBLIC_CHANNEL. */
  ts: number;
  /** Verify only: further `ts` candidates. */
  altTs?: readonly number[];
}

/** The values a key-share content signature covers. */
export interface KeyShareSigFields {
  /** The `shares` array exactly as received (entry field names preserved). */
  shares: readonly unknown[];
  /** The creator's key string exactly as sent. */
  creatorPub: string;
}

function v1(ciphertext: string, ids: string, ts: number): Uint8Array {
  return encoder.encode(ciphertext + ids + String(ts));
}

/** V1–V4 preimages of a DM (`ids` = from+to) or public message (`ids` = from). */
async function messagePreimages(
  ciphertext: string,
  ids: string,
  tsCandidates: readonly number[],
): Promise<Uint8Array[]> {
  const raw = decodeBase64url(ciphertext);
  const out: Uint8Array[] = [];
  for (const ts of new Set(tsCandidates)) {
    const first = v1(ciphertext, ids, ts);
    const second = raw && concatBytes(raw, encoder.encode(ids + String(ts)));
    out.push(first);
    if (second) out.push(second);
    out.push(await sha256(first));
    if (second) out.push(await sha256(second));
  }
  return out;
}

/**
 * Signs a DM: PSS-478 over UTF8(ciphertext + from + to + str(ts)).
 *
 * @example
 * ```ts
 * import { dmContentSig, encryptFor, generateKeyPair, verifyDmContentSig } from "@socp/socp";
 * const alice = await generateKeyPair();
 * const fields = { ciphertext: await encryptFor(alice.publicKey, "hi"), from: "a", to: "b", ts: 1 };
 * const sig = await dmContentSig(alice.privateKey, fields);
 * await verifyDmContentSig(alice.publicKey, fields, sig); // true
 * ```
 */
export function dmContentSig(key: PrivateKey, fields: DmSigFields): Promise<string> {
  return signBytes(key, v1(fields.ciphertext, fields.from + fields.to, fields.ts));
}

/**
 * Verifies a DM content signature under every accepted variant (V1–V4, salt
 * 478 or 32, each `ts` candidate). Never throws.
 *
 * @example
 * ```ts
 * import { generateKeyPair, verifyDmContentSig } from "@socp/socp";
 * const alice = await generateKeyPair();
 * await verifyDmContentSig(alice.publicKey, { ciphertext: "AA", from: "a", to: "b", ts: 1 }, "bad"); // false
 * ```
 */
export async function verifyDmContentSig(
  key: PublicKey,
  fields: DmSigFields,
  contentSig: string,
): Promise<boolean> {
  const ts = [fields.ts, ...(fields.altTs ?? [])];
  const preimages = await messagePreimages(fields.ciphertext, fields.from + fields.to, ts);
  return await verifyBytes(key, preimages, contentSig);
}

/**
 * Signs a public-channel message: PSS-478 over UTF8(ciphertext + from + str(ts)).
 *
 * @example
 * ```ts
 * import { generateKeyPair, publicContentSig, verifyPublicContentSig } from "@socp/socp";
 * const bob = await generateKeyPair();
 * const fields = { ciphertext: "blob", from: "bob", ts: 5 };
 * await verifyPublicContentSig(bob.publicKey, fields, await publicContentSig(bob.privateKey, fields)); // true
 * ```
 */
export function publicContentSig(key: PrivateKey, fields: PublicSigFields): Promise<string> {
  return signBytes(key, v1(fields.ciphertext, fields.from, fields.ts));
}

/**
 * Verifies a public-channel content signature under every accepted variant.
 *
 * @example
 * ```ts
 * import { generateKeyPair, verifyPublicContentSig } from "@socp/socp";
 * const bob = await generateKeyPair();
 * await verifyPublicContentSig(bob.publicKey, { ciphertext: "x", from: "bob", ts: 5 }, "bad"); // false
 * ```
 */
export async function verifyPublicContentSig(
  key: PublicKey,
  fields: PublicSigFields,
  contentSig: string,
): Promise<boolean> {
  const ts = [fields.ts, ...(fields.altTs ?? [])];
  const preimages = await messagePreimages(fields.ciphertext, fields.from, ts);
  return await verifyBytes(key, preimages, contentSig);
}

/**
 * Signs a key share: PSS-478 over UTF8(canonical(shares) + creator_pub).
 *
 * @example
 * ```ts
 * import { generateKeyPair, keyShareContentSig, verifyKeyShareContentSig } from "@socp/socp";
 * const server = await generateKeyPair();
 * const fields = { shares: [{ member: "u", wrapped_public_channel_key: "k" }], creatorPub: server.publicKey.b64 };
 * await verifyKeyShareContentSig(server.publicKey, fields, await keyShareContentSig(server.privateKey, fields)); // true
 * ```
 */
export async function keyShareContentSig(
  key: PrivateKey,
  fields: KeyShareSigFields,
): Promise<string> {
  return await signBytes(key, encoder.encode(canonicalJson(fields.shares) + fields.creatorPub));
}

/**
 * Verifies a key-share content signature: V1, V2 (SHA256(shares) ‖ DER) and
 * V3 (SHA256(V1)), with the shares in either canonical form. Never throws.
 *
 * @example
 * ```ts
 * import { generateKeyPair, verifyKeyShareContentSig } from "@socp/socp";
 * const server = await generateKeyPair();
 * await verifyKeyShareContentSig(server.publicKey, { shares: [], creatorPub: "x" }, "bad"); // false
 * ```
 */
export async function verifyKeyShareContentSig(
  key: PublicKey,
  fields: KeyShareSigFields,
  contentSig: string,
): Promise<boolean> {
  let forms: string[];
  try {
    forms = [canonicalJson(fields.shares)];
    if (hasNonAscii(fields.shares)) forms.push(canonicalJson(fields.shares, { ascii: false }));
  } catch (e) {
    if (e instanceof CanonicalError) return false;
    throw e;
  }
  const creatorRaw = decodeBase64url(fields.creatorPub);
  const preimages: Uint8Array[] = [];
  for (const form of forms) {
    const first = encoder.encode(form + fields.creatorPub);
    preimages.push(first);
    if (creatorRaw) preimages.push(concatBytes(await sha256(form), creatorRaw));
    preimages.push(await sha256(first));
  }
  return await verifyBytes(key, preimages, contentSig);
}

const ALT_TS_FIELDS = ["orig_ts", "original_ts", "cts"] as const;

function altTimestamps(payload: Record<string, unknown>): number[] {
  const out: number[] = [];
  for (const name of ALT_TS_FIELDS) {
    const v = payload[name];
    if (typeof v === "number" && Number.isSafeInteger(v)) out.push(v);
  }
  return out;
}

/**
 * The DM signature fields of a MSG_DIRECT, USER_DELIVER or SERVER_DELIVER
 * frame: the sender is `payload.sender` on deliveries, the recipient is the
 * envelope `to` (SERVER_DELIVER: `payload.user_id`), and `ts` is the envelope
 * `ts` plus any `orig_ts`/`original_ts`/`cts` the payload carries.
 *
 * @example
 * ```ts
 * import { dmSigFieldsOf } from "@socp/socp";
 * const f = dmSigFieldsOf({ type: "USER_DELIVER", from: "s1", to: "alice", ts: 9,
 *   payload: { ciphertext: "c", sender: "bob", sender_pub: "k", content_sig: "s" } });
 * f.from; // "bob"
 * ```
 */
export function dmSigFieldsOf(
  frame:
    | Envelope<"MSG_DIRECT", MsgDirectPayload>
    | Envelope<"USER_DELIVER", DeliverPayload>
    | Envelope<"SERVER_DELIVER", ServerDeliverDmPayload>,
): DmSigFields {
  const p = frame.payload as unknown as Record<string, unknown>;
  const from = frame.type === "MSG_DIRECT" ? frame.from : (p.sender as string);
  const to = frame.type === "SERVER_DELIVER" ? (p.user_id as string) : frame.to;
  return { ciphertext: frame.payload.ciphertext, from, to, ts: frame.ts, altTs: altTimestamps(p) };
}

/**
 * The public signature fields of a MSG_PUBLIC_CHANNEL (or of a USER_DELIVER
 * a dialect used to deliver a public message).
 *
 * @example
 * ```ts
 * import { publicSigFieldsOf } from "@socp/socp";
 * const frame = { type: "MSG_PUBLIC_CHANNEL", from: "bob", to: "public", ts: 3, payload: { ciphertext: "c" } };
 * publicSigFieldsOf(frame).from; // "bob"
 ```
 */
export function publicSigFieldsOf(
  frame: Envelope<string, { ciphertext: string; sender?: string }>,
): PublicSigFields {
  const p = frame.payload as unknown as Record<string, unknown>;
  const from = frame.type === "USER_DELIVER" ? (p.sender as string) : frame.from;
  return { ciphertext: frame.payload.ciphertext, from, ts: frame.ts, altTs: altTimestamps(p) };
}
