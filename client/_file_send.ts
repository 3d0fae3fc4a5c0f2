// The frames of an outgoing file: mode choice (fast AES-GCM for recipients
// that advertise it, RSA blocks otherwise, the channel key for "public"),
// then FILE_START, sealed and signed chunks, FILE_END. Chunks are sealed and
// signed a few at a time in parallel, and yielded in order. sendFileFrames
// sends them with back-pressure, progress, cancellation and the server's
// confirmation.

import { aesGcmEncrypt, generateAesKey } from "../protocol/aes.ts";
import { buildSigned, type Identity } from "../protocol/builders.ts";
import { ErrorCode, SocpError } from "../protocol/errors.ts";
import { sha256Hex } from "../protocol/hash.ts";
import { DM_CHUNK_BYTES, MAX_FAST_CHUNK_BYTES, PUBLIC_CHUNK_BYTES } from "../protocol/limits.ts";
import { encryptFor } from "../protocol/rsa.ts";
import { msgRef } from "../protocol/dedup.ts";
import type { Frame, PayloadMap } from "../protocol/types.ts";
import type { PendingAcks, Refusal } from "./_acks.ts";
import type { ChannelKey } from "./channel_keys.ts";
import type { Contact } from "./directory.ts";

/** The capability that enables fast (AES-GCM) DM files (SOCP.md §8.5). */
export const FAST_FILES = "file-aesgcm";

/** Chunks sealed and signed at once: enough to keep two cores busy in RSA mode. */
const IN_FLIGHT = 4;

/** Where a file goes: a contact, or the public channel under its current key. */
export type FileTarget = { contact: Contact } | { channel: ChannelKey | undefined };

/**
 * A file's frames, in order, and the plaintext bytes each chunk frame completes:
 * FILE_START, the sealed and signed chunks (4 prepared at a time), FILE_END.
 * The SDK sends them as they come; a load generator may build them ahead.
 */
export async function* fileFrames(
  identity: Identity,
  target: FileTarget,
  name: string,
  bytes: Uint8Array,
): AsyncGenerator<{ frame: Frame; sent: number }> {
  const fileId = crypto.randomUUID();
  const isPublic = "channel" in target;
  const to = isPublic ? "public" : target.contact.userId;
  const start: PayloadMap["FILE_START"] = {
    file_id: fileId,
    name,
    size: bytes.length,
    sha256: await sha256Hex(bytes),
    mode: isPublic ? "public" : "dm",
  };
  let seal: (chunk: Uint8Array, index: number) => Promise<string>;
  let chunkSize: number;
  if (isPublic) {
    const current = target.channel;
    if (!current) throw new SocpError(ErrorCode.BAD_REQUEST, "no public channel key yet");
    start.key_version = current.version;
    chunkSize = PUBLIC_CHUNK_BYTES;
    seal = (chunk) => aesGcmEncrypt(current.key, chunk);
  } else if (target.contact.caps.includes(FAST_FILES)) {
    const fileKey = generateAesKey();
    Object.assign(start, {
      enc: "aes-256-gcm",
      wrapped_key: await encryptFor(target.contact.encKey, fileKey),
      chunk_size: MAX_FAST_CHUNK_BYTES,
    });
    chunkSize = MAX_FAST_CHUNK_BYTES;
    seal = (chunk, index) =>
      aesGcmEncrypt(fileKey, chunk, new TextEncoder().encode(`${fileId}:${index}`));
  } else {
    chunkSize = DM_CHUNK_BYTES;
    seal = (chunk) => encryptFor(target.contact.encKey, chunk);
  }
  yield { frame: await buildSigned(identity, "FILE_START", to, start), sent: 0 };
  const count = Math.ceil(bytes.length / chunkSize);
  const build = async (index: number) => {
    const ciphertext = await seal(
      bytes.subarray(index * chunkSize, (index + 1) * chunkSize),
      index,
    );
    return await buildSigned(identity, "FILE_CHUNK", to, { file_id: fileId, index, ciphertext });
  };
  const ahead: Promise<Frame>[] = [];
  for (let index = 0; index < count; index++) {
    while (ahead.length < IN_FLIGHT && index + ahead.length < count) {
      ahead.push(build(index + ahead.length));
    }
    yield { frame: await ahead.shift()!, sent: Math.min(bytes.length, (index + 1) * chunkSize) };
  }
  yield {
    frame: await buildSigned(identity, "FILE_END", to, { file_id: fileId }),
    sent: bytes.length,
  };
}

/** What sending a file needs from the client. */
export interface FileSendIo {
  /** Sends one frame. */
  send(frame: Frame): void;
  /** Waits until at most `limit` bytes (default: the back-pressure mark) wait in the socket. */
  drain(limit?: number): Promise<void>;
  /** Confirmations from the server, or undefined when it gives none (a dialect server). */
  acks?: PendingAcks;
  /** Progress of the chunks sent. */
  progress(fileId: string, sent: number): void;
}

/** How long the server has to confirm a file after its FILE_END. */
const FILE_ACK_TIMEOUT_MS = 30_000;

/**
 * Sends a file's frames; resolves with its id once the server confirmed the
 * whole file (or, without confirmations, once every byte left the socket).
 * `signal` stops it between frames.
 */
export async function sendFileFrames(
  io: FileSendIo,
  identity: Identity,
  target: FileTarget,
  name: string,
  bytes: Uint8Array,
  signal?: AbortSignal,
): Promise<string> {
  let fileId = "";
  let confirmed: Promise<boolean> | undefined;
  let startRef: string | undefined;
  let refused: Refusal | undefined;
  let refusal: Promise<Refusal> = new Promise(() => {});
  const acks = io.acks;
  try {
    for await (const { frame, sent } of fileFrames(identity, target, name, bytes)) {
      signal?.throwIfAborted();
      if (refused) throw new SocpError(refused.code as ErrorCode, refused.detail);
      if (frame.type === "FILE_START") {
        fileId = (frame.payload as { file_id: string }).file_id;
        // A refusal names the FILE_START: the send stops at once instead of waiting for an ACK.
        if (acks) {
          startRef = await msgRef(frame.payload);
          refusal = acks.refusal(startRef);
          refusal.then((r) => (refused = r));
        }
      }
      await io.drain();
      signal?.throwIfAborted();
      if (frame.type === "FILE_END" && acks) {
        confirmed = msgRef(frame.payload).then((ref) =>
          acks.wait(ref, FILE_ACK_TIMEOUT_MS, signal)
        );
      }
      io.send(frame);
      if (frame.type === "FILE_CHUNK") io.progress(fileId, sent);
    }
    if (!confirmed) {
      await io.drain(0);
      return fileId;
    }
    const ok = await Promise.race([confirmed, refusal.then(() => false)]);
    if (refused) throw new SocpError(refused.code as ErrorCode, refused.detail);
    if (!ok) {
      signal?.throwIfAborted();
      throw new SocpError(
        ErrorCode.TIMEOUT,
        `the server did not confirm ${name}; it may not have reached the recipient`,
      );
    }
    return fileId;
  } finally {
    if (startRef) acks?.forget(startRef);
  }
}
