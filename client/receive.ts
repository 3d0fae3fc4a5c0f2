/**
 * What a client does with each frame it receives, as a table from message
 * type to handler. Every message is verified before it is shown: a DM or
 * public message whose content signature fails, or whose `sender_pub`
 * differs from the sender's advertised key, becomes an event with
 * `verified: false` and no text (SOCP.md §6.2, §7.4, §8.4).
 *
 * @module
 */

import { decodeBase64url } from "../protocol/base64url.ts";
import type { Identity } from "../protocol/builders.ts";
import {
  dmSigFieldsOf,
  publicSigFieldsOf,
  verifyDmContentSig,
  verifyPublicContentSig,
} from "../protocol/content_sig.ts";
import { parsePublicKey, type PublicKey } from "../protocol/keys.ts";
import { decryptWith } from "../protocol/rsa.ts";
import { verifyFrame } from "../protocol/transport_sig.ts";
import type { Frame, FrameOf, MessageType } from "../protocol/types.ts";
import type { ChannelKeys } from "./channel_keys.ts";
import type { Contact, Directory, DirectoryChange } from "./directory.ts";
import type { ClientEvent } from "./events.ts";
import type { IncomingTransfers } from "./transfers.ts";

/** What the handlers need from the client. */
export interface ReceiveContext {
  /** The user this client is. */
  readonly identity: Identity;
  /** Who is online, and the keys known. */
  readonly directory: Directory;
  /** The public-channel keys held. */
  readonly channel: ChannelKeys;
  /** Files being received. */
  readonly incoming: IncomingTransfers;
  /** The connected server's id and key (from the hello ACK). */
  readonly server: { id?: string; key?: PublicKey };
  /** The contact of a user, looking up their advert if the directory lacks it (presence-lite). */
  contact(userId: string): Promise<Contact | undefined>;
  /** Reports an event to the client's listeners. */
  emit(event: ClientEvent): void;
  /** Stores a received file; returns where it went. */
  saveFile(name: string, bytes: Uint8Array): Promise<string>;
  /** Takes a verified ACK from our server (a confirmation awaited by msg_ref). */
  acknowledge(msgRef: string): void;
  /** Takes a refusal naming what we sent; true when a send was waiting for it (it reports it). */
  refused(msgRef: string, code: string, detail: string): boolean;
}

type Handler<T extends MessageType> = (
  ctx: ReceiveContext,
  frame: FrameOf<T>,
) => Promise<void> | void;

const utf8 = new TextDecoder("utf-8", { fatal: false }); // invalid bytes become U+FFFD

function nameOf(ctx: ReceiveContext, userId: string): string {
  return ctx.directory.name(userId) ?? userId;
}

/**
 * The key to check a user's content signature with: the advertised key, or
 * `sender_pub` when the sender is not in the directory (identity unverified).
 * A `sender_pub` that differs from the advertised key is refused.
 */
async function senderKey(
  ctx: ReceiveContext,
  from: string,
  senderPub: string,
): Promise<{ key?: PublicKey; known: boolean; warning?: string }> {
  const contact = await ctx.contact(from);
  const offered = parsePublicKey(senderPub);
  if (contact) {
    if (!offered.ok || !offered.key.equals(contact.pubkey)) {
      return {
        known: true,
        warning: "sender_pub is not the sender's advertised key; message rejected",
      };
    }
    return { key: contact.pubkey, known: true };
  }
  return offered.ok
    ? { key: offered.key, known: false }
    : { known: false, warning: "sender key unusable" };
}

async function onDeliver(ctx: ReceiveContext, frame: FrameOf<"USER_DELIVER">): Promise<void> {
  const p = frame.payload;
  const base = { from: p.sender, fromName: nameOf(ctx, p.sender), ts: frame.ts };
  // A message that waited on the home server while we were away (offline delivery).
  const dm = typeof p.queued_at === "number" ? { ...base, queuedAt: p.queued_at } : base;
  const { key, known, warning } = await senderKey(ctx, p.sender, p.sender_pub);
  if (!key) return ctx.emit({ type: "dm", ...dm, text: null, verified: false, warning });
  if (await verifyDmContentSig(key, dmSigFieldsOf(frame), p.content_sig)) {
    const plain = await decryptWith(ctx.identity.keys.privateKey, p.ciphertext);
    if (!plain) {
      return ctx.emit({
        type: "dm",
        ...dm,
        text: null,
        verified: false,
        warning: "could not decrypt",
      });
    }
    return ctx.emit({
      type: "dm",
      ...dm,
      text: utf8.decode(plain),
      verified: known,
      ...(known ? {} : { warning: "sender not in the directory: identity unverified" }),
    });
  }
  // Dialect A delivers public messages as USER_DELIVER (SOCP.md §6.2 step 3).
  if (await verifyPublicContentSig(key, publicSigFieldsOf(frame), p.content_sig)) {
    const plain = await ctx.channel.open(p.ciphertext);
    if (plain) {
      return ctx.emit({ type: "public", ...base, text: utf8.decode(plain), verified: known });
    }
  }
  ctx.emit({
    type: "dm",
    ...dm,
    text: null,
    verified: false,
    warning: "content signature does not verify; message rejected",
  });
}

async function onPublic(ctx: ReceiveContext, frame: FrameOf<"MSG_PUBLIC_CHANNEL">): Promise<void> {
  const p = frame.payload;
  const base = { from: frame.from, fromName: nameOf(ctx, frame.from), ts: frame.ts };
  const { key, known, warning } = await senderKey(ctx, frame.from, p.sender_pub);
  if (!key) return ctx.emit({ type: "public", ...base, text: null, verified: false, warning });
  if (!(await verifyPublicContentSig(key, publicSigFieldsOf(frame), p.content_sig))) {
    return ctx.emit({
      type: "public",
      ...base,
      text: null,
      verified: false,
      warning: "content signature does not verify; message rejected",
    });
  }
  const plain = await ctx.channel.open(p.ciphertext, p.key_version);
  if (plain) {
    return ctx.emit({ type: "public", ...base, text: utf8.decode(plain), verified: known });
  }
  // Dialect B's public channel is not encrypted: its "ciphertext" is the text itself.
  const clear = unencryptedText(p.ciphertext);
  if (clear !== null) {
    return ctx.emit({
      type: "public",
      ...base,
      text: clear,
      verified: known,
      warning: "sent unencrypted (a dialect B client): anyone who relayed it could read it",
    });
  }
  ctx.emit({
    type: "public",
    ...base,
    text: null,
    verified: known,
    warning: "no channel key opens this message",
  });
}

const strictUtf8 = new TextDecoder("utf-8", { fatal: true });

/**
 * The text of a dialect B public message (base64url of UTF-8, no control
 * characters but tab and newline), or null. An encrypted blob this client
 * cannot open is never valid UTF-8 of that kind (the chance is nil at ≥ 32
 * bytes), so it is not mistaken for text.
 */
function unencryptedText(ciphertext: string): string | null {
  const bytes = decodeBase64url(ciphertext);
  if (!bytes || bytes.length === 0) return null;
  try {
    const text = strictUtf8.decode(bytes);
    const controls = [...text].some((c) => c !== "\n" && c !== "\t" && (c < " " || c === "\u007f"));
    return controls ? null : text;
  } catch {
    return null;
  }
}

/**
 * Whether a client accepts an advert: from the hosting server, or re-issued
 * (and then verifiably signed) by our own server (dialect A); never our own.
 */
export async function acceptsAdvert(
  ctx: Pick<ReceiveContext, "server" | "identity">,
  frame: FrameOf<"USER_ADVERTISE">,
): Promise<boolean> {
  const fromOwnServer = frame.from === ctx.server.id;
  if (frame.payload.server_id !== frame.from && !fromOwnServer) return false;
  if (fromOwnServer && ctx.server.key && !(await verifyFrame(ctx.server.key, frame))) return false;
  return frame.payload.user_id !== ctx.identity.id;
}

function emitChange(ctx: ReceiveContext, change: DirectoryChange | null): void {
  if (change?.kind === "online" || change?.kind === "offline") {
    const c = change.contact;
    if (c.userId === ctx.identity.id) return;
    ctx.emit({
      type: "presence",
      userId: c.userId,
      displayName: c.name,
      online: change.kind === "online",
      serverId: c.serverId,
    });
  } else if (change?.kind === "key-changed") {
    const c = change.contact;
    ctx.emit({
      type: "key-change",
      userId: c.userId,
      displayName: c.name,
      fingerprint: c.fingerprint,
      offered: change.offeredFingerprint,
    });
  }
}

async function onAdvertise(ctx: ReceiveContext, frame: FrameOf<"USER_ADVERTISE">): Promise<void> {
  if (await acceptsAdvert(ctx, frame)) emitChange(ctx, await ctx.directory.advertise(frame));
}

function onRemove(ctx: ReceiveContext, frame: FrameOf<"USER_REMOVE">): void {
  const serverId = frame.payload.server_id ?? frame.from;
  if (serverId !== frame.from && frame.from !== ctx.server.id) return;
  emitChange(ctx, ctx.directory.remove(frame.payload.user_id));
}

/** PRESENCE (presence-lite) comes only from our own server, signed by it. */
async function onPresence(ctx: ReceiveContext, frame: FrameOf<"PRESENCE">): Promise<void> {
  if (frame.from !== ctx.server.id || !ctx.server.key) return;
  if (!(await verifyFrame(ctx.server.key, frame))) return;
  for (const change of ctx.directory.presence(frame.payload)) emitChange(ctx, change);
}

/** A FILE_START counts as verified when its signature checks out under the sender's advertised key. */
async function fileVerified(ctx: ReceiveContext, frame: Frame): Promise<boolean> {
  const contact = await ctx.contact(frame.from);
  return !!contact && await verifyFrame(contact.pubkey, frame);
}

async function onFileStart(ctx: ReceiveContext, frame: FrameOf<"FILE_START">): Promise<void> {
  const started = await ctx.incoming.start(frame, await fileVerified(ctx, frame));
  if (started.ok) {
    ctx.emit({
      type: "receiving",
      fileId: frame.payload.file_id,
      from: frame.from,
      fromName: nameOf(ctx, frame.from),
      name: started.name,
      received: 0,
      total: started.size,
      mode: frame.payload.mode,
    });
  } else {
    ctx.emit({
      type: "error",
      code: "FILE_REFUSED",
      detail: `file from ${nameOf(ctx, frame.from)}: ${started.reason}`,
    });
  }
}

async function onFileChunk(ctx: ReceiveContext, frame: FrameOf<"FILE_CHUNK">): Promise<void> {
  const added = await ctx.incoming.chunk(frame);
  if (added.ok) {
    ctx.emit({
      type: "receiving",
      fileId: frame.payload.file_id,
      from: frame.from,
      fromName: nameOf(ctx, frame.from),
      name: added.name,
      received: added.received,
      total: added.total,
      mode: added.mode,
    });
  } else if (added.reason !== "chunk of an unknown transfer") {
    ctx.emit({
      type: "error",
      code: "FILE_REFUSED",
      detail: `file from ${nameOf(ctx, frame.from)}: ${added.reason}`,
    });
  }
}

async function onFileEnd(ctx: ReceiveContext, frame: FrameOf<"FILE_END">): Promise<void> {
  const done = await ctx.incoming.end(frame);
  if (!done.ok) {
    ctx.emit({
      type: "error",
      code: "FILE_REFUSED",
      detail: `file from ${nameOf(ctx, frame.from)}: ${done.reason}; nothing saved`,
    });
    return;
  }
  const f = done.file;
  const path = await ctx.saveFile(f.name, f.bytes);
  ctx.emit({
    type: "file",
    fileId: f.fileId,
    from: f.from,
    fromName: nameOf(ctx, f.from),
    name: f.name,
    path,
    size: f.size,
    sha256: f.sha256,
    verified: f.verified,
    mode: f.mode,
  });
}

/** MSG_QUEUED from our server: something we sent waits for an offline recipient. */
async function onQueued(ctx: ReceiveContext, frame: FrameOf<"MSG_QUEUED">): Promise<void> {
  if (frame.from !== ctx.server.id || !ctx.server.key) return;
  if (!(await verifyFrame(ctx.server.key, frame))) return;
  const p = frame.payload;
  ctx.emit({
    type: "queued",
    to: p.user_id,
    toName: ctx.directory.name(p.user_id) ?? p.user_id,
    msgRef: p.msg_ref,
    queuedAt: p.queued_at ?? Date.now(),
  });
}

/** An ACK after the welcome confirms something we sent, when our server signed it. */
async function onAck(ctx: ReceiveContext, frame: FrameOf<"ACK">): Promise<void> {
  if (frame.from !== ctx.server.id || !ctx.server.key) return;
  if (await verifyFrame(ctx.server.key, frame)) ctx.acknowledge(frame.payload.msg_ref);
}

function onError(ctx: ReceiveContext, frame: FrameOf<"ERROR">): void {
  const { code, detail = "", msg_ref } = frame.payload;
  // A refusal of a file being sent: that send fails with it (and says so).
  if (msg_ref !== undefined && ctx.refused(msg_ref, code, detail)) return;
  // The answer to a USER_LOOKUP (it names the lookup): the lookup takes it, the user needs not.
  if (code === "USER_NOT_FOUND" && msg_ref !== undefined) return;
  ctx.emit({ type: "error", code: frame.payload.code, detail: frame.payload.detail ?? "" });
}

/** The client's dispatch table. Types not listed are ignored (SOCP.md §6.6). */
export const RECEIVE: { [T in MessageType]?: Handler<T> } = {
  USER_DELIVER: onDeliver,
  MSG_PUBLIC_CHANNEL: onPublic,
  USER_ADVERTISE: onAdvertise,
  USER_REMOVE: onRemove,
  PRESENCE: onPresence,
  PUBLIC_CHANNEL_UPDATED: async (ctx, frame) => void await ctx.channel.fromUpdated(frame),
  PUBLIC_CHANNEL_KEY_SHARE: async (ctx, frame) => void await ctx.channel.fromKeyShare(frame),
  PUBLIC_CHANNEL_KEY: async (ctx, frame) =>
    void await ctx.channel.fromChannelKey(frame, ctx.server.key),
  FILE_START: onFileStart,
  FILE_CHUNK: onFileChunk,
  FILE_END: onFileEnd,
  ACK: onAck,
  MSG_QUEUED: onQueued,
  ERROR: onError,
};
