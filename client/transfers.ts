/**
 * Receiving files (SOCP.md §8.4): per-transfer state keyed by
 * `(from, file_id)`, chunks in any order (the first copy of an index wins),
 * decryption by mode, and a whole-file check at FILE_END: no gaps, exact
 * size, matching SHA-256. Nothing is handed out unless everything matches.
 * Chunks are decrypted a few at a time in parallel (an RSA-mode chunk costs
 * one private-key operation); FILE_END waits for them all.
 *
 * @module
 */

import { aesGcmDecrypt } from "../protocol/aes.ts";
import { concatBytes } from "../protocol/bytes.ts";
import { sha256Hex } from "../protocol/hash.ts";
import type { PrivateKey } from "../protocol/keys.ts";
import {
  DEFAULT_LIMITS,
  DM_CHUNK_BYTES,
  MAX_FAST_CHUNK_BYTES,
  MAX_PUBLIC_CHUNK_BYTES,
} from "../protocol/limits.ts";
import { decryptWith } from "../protocol/rsa.ts";
import type { FrameOf } from "../protocol/types.ts";
import type { ChannelKeys } from "./channel_keys.ts";
import { sanitizeFileName } from "./filename.ts";

/** Receive-side limits. */
export interface IncomingLimits {
  /** Largest file accepted, in bytes. */
  maxFileBytes: number;
  /** Transfers in progress at once. */
  maxIncoming: number;
  /** Transfers in progress per sender. */
  perSender: number;
  /** Idle time after which a transfer is discarded. */
  idleMs: number;
}

/** Defaults of SOCP.md §11. */
export const DEFAULT_INCOMING_LIMITS: IncomingLimits = {
  maxFileBytes: DEFAULT_LIMITS.maxFileBytes,
  maxIncoming: 8,
  perSender: 4,
  idleMs: DEFAULT_LIMITS.transferIdleMs,
};

/** A complete, checked file. */
export interface ReceivedFile {
  /** The transfer's id. */
  fileId: string;
  /** The sender's user id. */
  from: string;
  /** Sanitised name, safe to write. */
  name: string;
  /** Size in bytes. */
  size: number;
  /** Hex SHA-256 of the bytes (checked). */
  sha256: string;
  /** The file's contents. */
  bytes: Uint8Array;
  /** FILE_START carried a valid signature by the sender's key. */
  verified: boolean;
  /** Sent to us alone, or to the public channel. */
  mode: "dm" | "public";
}

interface Incoming {
  from: string;
  fileId: string;
  name: string;
  size: number;
  sha256: string;
  mode: "dm" | "public";
  fileKey?: Uint8Array;
  keyVersion?: number;
  chunks: Map<number, Uint8Array>;
  /** Indices taken (decrypting or done): the first copy wins. */
  claimed: Set<number>;
  /** Decryptions in progress. */
  pending: Set<Promise<void>>;
  /** Why the transfer failed, once a chunk did not check out. */
  failure?: string;
  received: number;
  verified: boolean;
  lastActivity: number;
}

/** Chunk decryptions in flight per transfer: enough to keep two cores busy in RSA mode. */
const PARALLEL_DECRYPTS = 4;

/** Why something was not accepted. */
export type Refusal = { ok: false; reason: string };

/**
 * Incoming transfers of one client.
 */
export class IncomingTransfers {
  readonly #userId: string;
  readonly #privateKey: PrivateKey;
  readonly #channel: ChannelKeys;
  readonly #limits: IncomingLimits;
  readonly #now: () => number;
  readonly #active = new Map<string, Incoming>();

  /** Transfers to `userId`, unwrapped with `privateKey`, public ones opened with `channel`. */
  constructor(
    userId: string,
    privateKey: PrivateKey,
    channel: ChannelKeys,
    limits: IncomingLimits = DEFAULT_INCOMING_LIMITS,
    now: () => number = Date.now,
  ) {
    this.#userId = userId;
    this.#privateKey = privateKey;
    this.#channel = channel;
    this.#limits = limits;
    this.#now = now;
  }

  /** Transfers in progress. */
  get size(): number {
    return this.#active.size;
  }

  /** Starts a transfer; `verified` says whether FILE_START's signature checked out. */
  async start(
    frame: FrameOf<"FILE_START">,
    verified: boolean,
  ): Promise<{ ok: true; size: number; name: string } | Refusal> {
    this.expire();
    const p = frame.payload;
    const key = `${frame.from}:${p.file_id}`;
    if (this.#active.has(key)) return { ok: false, reason: "duplicate FILE_START" };
    if (p.size > this.#limits.maxFileBytes) {
      return { ok: false, reason: `file of ${p.size} bytes exceeds the limit` };
    }
    if (this.#active.size >= this.#limits.maxIncoming) {
      return { ok: false, reason: "too many incoming transfers" };
    }
    const fromSender = [...this.#active.values()].filter((t) => t.from === frame.from).length;
    if (fromSender >= this.#limits.perSender) {
      return { ok: false, reason: "too many transfers from this sender" };
    }
    let fileKey: Uint8Array | undefined;
    if (p.enc === "aes-256-gcm") {
      fileKey = (await decryptWith(this.#privateKey, p.wrapped_key ?? "")) ?? undefined;
      if (!fileKey || fileKey.length !== 32) {
        return { ok: false, reason: "cannot unwrap the file key" };
      }
    }
    const name = sanitizeFileName(p.name, p.file_id);
    this.#active.set(key, {
      from: frame.from,
      fileId: p.file_id,
      name,
      size: p.size,
      sha256: p.sha256.toLowerCase(),
      mode: p.mode,
      fileKey,
      keyVersion: p.key_version,
      chunks: new Map(),
      claimed: new Set(),
      pending: new Set(),
      received: 0,
      verified,
      lastActivity: this.#now(),
    });
    return { ok: true, size: p.size, name };
  }

  async #decrypt(t: Incoming, index: number, ciphertext: string): Promise<Uint8Array | null> {
    if (t.fileKey) {
      const aad = new TextEncoder().encode(`${t.fileId}:${index}`);
      const plain = await aesGcmDecrypt(t.fileKey, ciphertext, aad);
      return plain && plain.length <= MAX_FAST_CHUNK_BYTES ? plain : null;
    }
    if (t.mode === "dm") {
      const plain = await decryptWith(this.#privateKey, ciphertext);
      return plain && plain.length >= 1 && plain.length <= DM_CHUNK_BYTES ? plain : null;
    }
    const plain = await this.#channel.open(ciphertext, t.keyVersion);
    return plain && plain.length <= MAX_PUBLIC_CHUNK_BYTES ? plain : null;
  }

  /**
   * Adds a chunk: its decryption starts at once, with at most
   * PARALLEL_DECRYPTS per transfer in flight. Returns the bytes received so
   * far, or a refusal (the transfer is then dropped) once a chunk has failed.
   */
  async chunk(
    frame: FrameOf<"FILE_CHUNK">,
  ): Promise<
    { ok: true; received: number; total: number; name: string; mode: "dm" | "public" } | Refusal
  > {
    const key = `${frame.from}:${frame.payload.file_id}`;
    const t = this.#active.get(key);
    if (!t) return { ok: false, reason: "chunk of an unknown transfer" };
    const { index, ciphertext } = frame.payload;
    t.lastActivity = this.#now();
    if (index < 0 || index >= DEFAULT_LIMITS.maxChunks) {
      return this.#abort(key, "chunk index out of range");
    }
    if (!t.claimed.has(index) && !t.failure) {
      t.claimed.add(index);
      const job = this.#decrypt(t, index, ciphertext).then((plain) => {
        if (!plain) t.failure ??= `chunk ${index} does not decrypt`;
        else if (t.received + plain.length > t.size) {
          t.failure ??= "more data than the declared size";
        } else {
          t.chunks.set(index, plain);
          t.received += plain.length;
        }
      }, () => void (t.failure ??= `chunk ${index} does not decrypt`));
      t.pending.add(job);
      job.finally(() => t.pending.delete(job));
      while (t.pending.size >= PARALLEL_DECRYPTS) await Promise.race(t.pending);
    }
    if (t.failure) return this.#abort(key, t.failure);
    return { ok: true, received: t.received, total: t.size, name: t.name, mode: t.mode };
  }

  /** Completes a transfer: the whole file, checked, or a refusal. */
  async end(frame: FrameOf<"FILE_END">): Promise<{ ok: true; file: ReceivedFile } | Refusal> {
    const key = `${frame.from}:${frame.payload.file_id}`;
    const t = this.#active.get(key);
    if (!t) return { ok: false, reason: "FILE_END of an unknown transfer" };
    this.#active.delete(key);
    await Promise.all(t.pending);
    if (t.failure) return { ok: false, reason: t.failure };
    const parts: Uint8Array[] = [];
    for (let i = 0; i < t.chunks.size; i++) {
      const part = t.chunks.get(i);
      if (!part) return { ok: false, reason: `chunk ${i} is missing` };
      parts.push(part);
    }
    const bytes = concatBytes(...parts);
    if (bytes.length !== t.size) {
      return { ok: false, reason: `got ${bytes.length} of ${t.size} bytes` };
    }
    if (await sha256Hex(bytes) !== t.sha256) return { ok: false, reason: "SHA-256 does not match" };
    return {
      ok: true,
      file: {
        fileId: t.fileId,
        from: t.from,
        name: t.name,
        size: t.size,
        sha256: t.sha256,
        bytes,
        verified: t.verified,
        mode: t.mode,
      },
    };
  }

  #abort(key: string, reason: string): Refusal {
    this.#active.delete(key);
    return { ok: false, reason };
  }

  /** Discards transfers idle for longer than the limit; returns how many. */
  expire(): number {
    const cutoff = this.#now() - this.#limits.idleMs;
    let dropped = 0;
    for (const [key, t] of this.#active) {
      if (t.lastActivity < cutoff) {
        this.#active.delete(key);
        dropped++;
      }
    }
    return dropped;
  }
}
