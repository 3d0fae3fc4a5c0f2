/**
 * File relay (SOCP.md §8.2): the user's FILE_START / FILE_CHUNK / FILE_END
 * travel unchanged, with the user's signature. For local senders the server
 * keeps per-transfer state and enforces the limits: declared size, chunk
 * count and index range, chunk size by mode, concurrent transfers per user,
 * idle expiry. A refused transfer gets one ERROR; nothing more is relayed.
 *
 * @module
 */

import { decodeBase64url } from "../../protocol/base64url.ts";
import { ErrorCode } from "../../protocol/errors.ts";
import { MAX_FAST_CHUNK_BYTES, MAX_PUBLIC_CHUNK_BYTES, RSA_BYTES } from "../../protocol/limits.ts";
import { msgRef } from "../../protocol/dedup.ts";
import { FILE_ACK_CAP, type FrameOf } from "../../protocol/types.ts";
import { type NodeContext, type Route, signed } from "../context.ts";
import { type Effect, error, refusalOf, send, sendAll } from "../effects.ts";
import type { Link } from "../link.ts";
import { notFoundDetail, routeToUser } from "../routing.ts";
import type { Transfer } from "../state.ts";
import { type QueueItem, toAbsentUser } from "./offline.ts";
import { boundUserSigner, memberServerLinks, relayedUserSigner } from "./users.ts";

type FileFrame = FrameOf<"FILE_START"> | FrameOf<"FILE_CHUNK"> | FrameOf<"FILE_END">;
const AES_OVERHEAD = 32; // IV and tag of an AES-GCM blob

const isPublicTarget = (to: string) => to === "public" || to === "*";
const transferKey = (from: string, fileId: string) => `${from}:${fileId}`;

/**
 * Sends a local sender's frame on: to the recipient (dm) or to every member
 * (public); a DM file whose recipient was away at its start goes, frame by
 * frame, to the recipient's offline queue.
 */
async function relay(
  ctx: NodeContext,
  frame: FileFrame,
  link: Link,
  raw: string,
  transfer: Transfer,
): Promise<Effect[]> {
  if (transfer.mode === "public") {
    return [
      ...sendAll(ctx.state.localUserLinks(frame.from), raw),
      ...sendAll(memberServerLinks(ctx), raw),
    ];
  }
  const target = routeToUser(ctx, frame.to);
  if (!transfer.queued && (target.kind === "local" || target.kind === "remote")) {
    return [send(target.link, raw)];
  }
  if (transfer.queued || frame.type === "FILE_START") {
    const queued = await toAbsentUser(
      ctx,
      fileItem(frame, raw, await msgRef(frame.payload)),
      { link, viaServer: false },
      (home) => Promise.resolve([send(home, raw)]),
    );
    if (queued && !queued.some((e) => e.kind === "error")) {
      transfer.queued = true;
      return queued;
    }
    if (queued) {
      transfer.refused = true;
      return queued;
    }
  }
  transfer.refused = true; // the recipient is gone: stop relaying this transfer
  if (transfer.notFoundSent) return [];
  transfer.notFoundSent = true;
  return [refusalOf(link, ErrorCode.USER_NOT_FOUND, notFoundDetail(target), transfer.ref)];
}

/**
 * A DM file frame as an offline-queue item: FILE_START counts (for the whole
 * file: its declared size, sealed, base64url and signed, about 1.4 times),
 * FILE_END is confirmed.
 */
function fileItem(frame: FileFrame, raw: string, ref: string): QueueItem {
  const declared = frame.type === "FILE_START" ? frame.payload.size : 0;
  return {
    recipient: frame.to,
    sender: frame.from,
    kind: "file",
    item: raw,
    ref,
    notify: frame.type === "FILE_END",
    counts: frame.type === "FILE_START",
    quotaBytes: raw.length + Math.ceil(declared * 1.4),
  };
}

function refuse(
  ctx: NodeContext,
  link: Link,
  transfer: Transfer,
  code: ErrorCode,
  detail: string,
): Effect[] {
  transfer.refused = true;
  ctx.metrics.inc("file_transfers", "refused");
  // Naming its FILE_START (msg_ref): the sender knows which file failed.
  return [refusalOf(link, code, detail, transfer.ref)];
}

/** Bytes a chunk's ciphertext may decode to in this transfer's mode. */
function chunkFits(transfer: Transfer, ciphertext: string): boolean {
  const bytes = decodeBase64url(ciphertext)?.length ?? -1;
  if (transfer.mode === "public") {
    return bytes >= AES_OVERHEAD && bytes <= MAX_PUBLIC_CHUNK_BYTES + AES_OVERHEAD;
  }
  if (transfer.fast) return bytes >= AES_OVERHEAD && bytes <= MAX_FAST_CHUNK_BYTES + AES_OVERHEAD;
  return bytes === RSA_BYTES;
}

const startFromUser: Route<"FILE_START"> = {
  signers: boundUserSigner,
  async handle(ctx, frame, link, raw) {
    const { state, config } = ctx;
    const p = frame.payload;
    const ref = await msgRef(p);
    const key = transferKey(frame.from, p.file_id);
    if (state.transfers.has(key)) {
      return [error(link, ErrorCode.BAD_REQUEST, "duplicate FILE_START")];
    }
    const publicMode = p.mode === "public";
    if (publicMode !== isPublicTarget(frame.to)) {
      return [
        error(link, ErrorCode.BAD_REQUEST, 'mode "public" goes to "public", mode "dm" to a user'),
      ];
    }
    const transfer: Transfer = {
      from: frame.from,
      fileId: p.file_id,
      to: frame.to,
      mode: p.mode,
      fast: p.enc === "aes-256-gcm",
      size: p.size,
      // Every chunk carries at least one byte, and no transfer more than 65 536 chunks.
      maxChunks: Math.min(config.limits.maxChunks, p.size),
      chunks: 0,
      lastActivity: ctx.now(),
      ref,
    };
    state.transfers.set(key, transfer);
    if (p.size > config.limits.maxFileBytes) {
      return refuse(
        ctx,
        link,
        transfer,
        ErrorCode.TOO_LARGE,
        `file exceeds ${config.limits.maxFileBytes} bytes`,
      );
    }
    const active =
      [...state.transfers.values()].filter((t) => t.from === frame.from && !t.refused).length;
    if (active > config.limits.transfersPerUser) {
      state.transfers.delete(key);
      ctx.metrics.inc("file_transfers", "refused");
      return [
        refusalOf(
          link,
          ErrorCode.RATE_LIMITED,
          `at most ${config.limits.transfersPerUser} transfers at once`,
          ref,
        ),
      ];
    }
    ctx.metrics.inc("file_transfers", "started");
    return relay(ctx, frame, link, raw, transfer);
  },
};

const chunkFromUser: Route<"FILE_CHUNK"> = {
  signers: boundUserSigner,
  handle(ctx, frame, link, raw) {
    const p = frame.payload;
    const transfer = ctx.state.transfers.get(transferKey(frame.from, p.file_id));
    if (!transfer) {
      return [error(link, ErrorCode.BAD_REQUEST, "FILE_CHUNK for an unknown transfer")];
    }
    if (transfer.refused) return []; // one ERROR was enough
    transfer.lastActivity = ctx.now();
    if (p.index >= transfer.maxChunks) {
      return refuse(
        ctx,
        link,
        transfer,
        ErrorCode.TOO_LARGE,
        `chunk index ${p.index} out of range for ${transfer.size} bytes`,
      );
    }
    if (++transfer.chunks > transfer.maxChunks) {
      return refuse(ctx, link, transfer, ErrorCode.TOO_LARGE, "more chunks than the file can hold");
    }
    if (!chunkFits(transfer, p.ciphertext)) {
      return refuse(
        ctx,
        link,
        transfer,
        ErrorCode.BAD_REQUEST,
        `chunk ciphertext has the wrong size for ${transfer.mode} mode`,
      );
    }
    return relay(ctx, frame, link, raw, transfer);
  },
};

/**
 * The end of a local sender's transfer: relayed, and for a sender listing
 * `file-ack`, confirmed by a signed ACK naming the FILE_END payload
 * (decision 60), unless the transfer was refused or its recipient is gone.
 */
const endFromUser: Route<"FILE_END"> = {
  signers: boundUserSigner,
  async handle(ctx, frame, link, raw) {
    const key = transferKey(frame.from, frame.payload.file_id);
    const transfer = ctx.state.transfers.get(key);
    if (!transfer) return [error(link, ErrorCode.BAD_REQUEST, "FILE_END for an unknown transfer")];
    ctx.state.transfers.delete(key);
    if (transfer.refused) return [];
    ctx.metrics.inc("file_transfers", "completed");
    const effects = await relay(ctx, frame, link, raw, transfer);
    if (!link.caps.has(FILE_ACK_CAP) || effects.some((e) => e.kind === "error")) return effects;
    const ack = await signed(ctx, "ACK", frame.from, { msg_ref: await msgRef(frame.payload) });
    return [...effects, send(link, ack)];
  },
};

/** A user's FILE_* frame relayed by another server: deliver, or forward towards the recipient. */
function fromServer<T extends "FILE_START" | "FILE_CHUNK" | "FILE_END">(): Route<T> {
  return {
    signers: relayedUserSigner,
    async handle(ctx, frame, link, raw) {
      if (isPublicTarget(frame.to)) return sendAll(ctx.state.localUserLinks(frame.from), raw);
      const target = routeToUser(ctx, frame.to, link);
      if (target.kind === "local" || target.kind === "remote") return [send(target.link, raw)];
      // A DM file for one of our users who is away: into our queue (we are the home).
      const queued = await toAbsentUser(
        ctx,
        fileItem(frame as FileFrame, raw, await msgRef(frame.payload)),
        { link, viaServer: true },
        () => Promise.resolve([]),
      );
      if (queued) return queued;
      // Answer once per transfer (at its start); chunks of a lost recipient are dropped.
      return frame.type === "FILE_START"
        ? [error(link, ErrorCode.USER_NOT_FOUND, notFoundDetail(target), false)]
        : [];
    },
  };
}

/** File routes on user links. */
export const FILE_USER_ROUTES = {
  FILE_START: startFromUser,
  FILE_CHUNK: chunkFromUser,
  FILE_END: endFromUser,
} as const;

/** File routes on server links. */
export const FILE_SERVER_ROUTES = {
  FILE_START: fromServer<"FILE_START">(),
  FILE_CHUNK: fromServer<"FILE_CHUNK">(),
  FILE_END: fromServer<"FILE_END">(),
} as const;

/**
 * Drops transfers idle for longer than the limit (SOCP.md §11: 60 s).
 *
 * @example
 * ```ts
 * import { expireTransfers } from "./files.ts";
 * // expireTransfers(ctx) — called periodically by the node
 * ```
 */
export function expireTransfers(ctx: NodeContext): number {
  const cutoff = ctx.now() - ctx.config.limits.transferIdleMs;
  let dropped = 0;
  for (const [key, transfer] of ctx.state.transfers) {
    if (transfer.lastActivity < cutoff) {
      ctx.state.transfers.delete(key);
      ctx.metrics.inc("file_transfers", "expired");
      dropped++;
    }
  }
  return dropped;
}
