/**
 * The receive pipeline of SOCP.md §6: size → parse → rate limit → known type
 * for this kind of link → ts window → `seen_ids` check (server links) →
 * signature → `seen_ids` insert → handler. Every step's failure becomes
 * effects (an ERROR, a close, or a silent drop); nothing here throws on
 * hostile input.
 *
 * @module
 */

import { dialectSigners } from "./dialects/signers.ts";
import { ignoredFromServer } from "./dialects/read.ts";
import { seenKey } from "../protocol/dedup.ts";
import { ErrorCode } from "../protocol/errors.ts";
import { parseFrame } from "../protocol/frame.ts";
import { verifyFrame } from "../protocol/transport_sig.ts";
import type { Frame, MessageType } from "../protocol/types.ts";
import {
  isRejection,
  type NodeContext,
  type Rejection,
  type Route,
  type RouteTable,
} from "./context.ts";
import { type Effect, error } from "./effects.ts";
import type { Link, LinkKind } from "./link.ts";

/** The route table of each link kind. */
export type RouteTables = Record<LinkKind, RouteTable>;

/** Types exempt from the ±120 s window: ordered by version, and v1.3 uses ts 0. */
function clockExempt(type: MessageType): boolean {
  return type.startsWith("PUBLIC_CHANNEL_");
}

function refuse(link: Link, r: Rejection): Effect[] {
  if (r.silent) return r.close ? [{ kind: "close", link, code: 1008, reason: r.error.detail }] : [];
  return [
    error(
      link,
      r.error.code,
      r.error.detail,
      r.close || link.kind === "pending" || link.kind === "joining",
    ),
  ];
}

/**
 * The first `"type":"…"` in a frame's text: a glance, not a parse.
 *
 * @example
 * ```ts
 * import { typeInText } from "./dispatch.ts";
 * typeInText.exec('{"type":"ACK"}')?.[1]; // "ACK"
 * ```
 */
export const typeInText: RegExp = /"type"\s*:\s*"([A-Z0-9_]{1,64})"/;

/**
 * Whether a frame, by a glance at its text, may start before the frames
 * ahead of it on its link are done: its link is bound and its type's route
 * is `concurrent`. A glance can be wrong (a payload may hold a "type" of its
 * own); {@linkcode receive} then waits for the earlier frames itself.
 *
 * @example
 * ```ts
 * import { mayRunConcurrently } from "./dispatch.ts";
 * // pipeline.push(mayRunConcurrently(tables, link, text), …)
 * ```
 */
export function mayRunConcurrently(tables: RouteTables, link: Link, text: string): boolean {
  if (link.kind !== "server" && link.kind !== "user") return false;
  const type = typeInText.exec(text)?.[1];
  const table: Record<string, { concurrent?: boolean } | undefined> = tables[link.kind];
  return type !== undefined && table[type]?.concurrent === true;
}

/**
 * Receives one text frame on `link` and returns the effects to apply.
 * `earlierApplied`, given when the frame started ahead of its turn, is
 * awaited if its route turns out not to be concurrent.
 *
 * @example
 * ```ts
 * import { receive } from "./dispatch.ts";
 * // const effects = await receive(ctx, tables, link, text);
 * ```
 */
export async function receive(
  ctx: NodeContext,
  tables: RouteTables,
  link: Link,
  text: string,
  earlierApplied?: Promise<void>,
): Promise<Effect[]> {
  if (link.closedHere) return [];
  const { limits } = ctx.config;
  const parsed = parseFrame(text, {
    dialects: true,
    maxFrameBytes: limits.maxFrameBytes,
    maxJsonDepth: limits.maxJsonDepth,
  });
  const now = ctx.now();
  if (!parsed.ok) {
    if (link.kind === "server" && ignoredFromServer(link.dialect, parsed.type ?? "")) return [];
    ctx.metrics.inc("frames_rejected", parsed.error.code);
    // Oversize frames, and garbage from a server or a first frame, end the link.
    const malformed = parsed.error.code === ErrorCode.BAD_REQUEST && parsed.type === undefined;
    const close = parsed.error.code === ErrorCode.TOO_LARGE || link.kind !== "user" && malformed;
    return [error(link, parsed.error.code, parsed.error.detail, close || link.kind === "pending")];
  }
  const frame = parsed.frame;
  ctx.metrics.inc("frames_in", frame.type);

  if (link.rate && !link.rate.take(now)) {
    ctx.metrics.inc("frames_rate_limited", link.kind);
    if (link.kind === "server") {
      ctx.log.warn("server link over its rate; frame dropped", {
        link: link.describe(),
        type: frame.type,
      });
      return [];
    }
    link.overRateSince ??= now;
    const sustained = now - link.overRateSince > limits.userRateCloseSec * 1000;
    return [error(link, ErrorCode.RATE_LIMITED, "too many frames", sustained)];
  }
  link.overRateSince = undefined;

  const route = tables[link.kind][frame.type] as Route<typeof frame.type> | undefined;
  if (!route) {
    const detail = link.kind === "pending"
      ? `${frame.type} is not allowed as a first frame`
      : `${frame.type} is not accepted on a ${link.kind} link`;
    return [error(link, ErrorCode.UNKNOWN_TYPE, detail, link.kind === "pending")];
  }
  if (link.kind === "server" && ignoredFromServer(link.dialect, frame.type)) {
    ctx.metrics.inc("frames_ignored", frame.type);
    return [];
  }
  if (earlierApplied && !route.concurrent) {
    await earlierApplied;
    if (link.closedHere) return [];
  }

  if (
    !route.ownClock && !clockExempt(frame.type) && Math.abs(now - frame.ts) > limits.clockWindowMs
  ) {
    return refuse(link, {
      error: { code: ErrorCode.TIMEOUT, detail: "ts outside the clock window" },
    });
  }

  const dedup = link.kind === "server" && !route.noDedup;
  const key = dedup ? await seenKey(frame) : null;
  if (dedup && (key === null || ctx.state.seen.has(key, now))) {
    ctx.metrics.inc("frames_duplicate", frame.type);
    return [];
  }

  const signers = dialectSigners(ctx, link, frame, route.signers(ctx, frame as never, link));
  if (isRejection(signers)) return refuse(link, signers);
  if (signers !== "link" && !(await verifiedBy(ctx, frame, signers))) {
    return invalidSignature(ctx, link, frame);
  }
  if (key !== null) {
    // Another link may have delivered the same frame while this one verified.
    if (ctx.state.seen.has(key, ctx.now())) return [];
    ctx.state.seen.add(key, ctx.now());
  }
  link.lastValidAt = ctx.now();
  // Forward the received bytes when they are the frame; otherwise re-serialise it.
  const wire = parsed.rewritten ? JSON.stringify(frame) : text.trim();
  return await route.handle(ctx, frame as never, link, wire);
}

async function verifiedBy(
  ctx: NodeContext,
  frame: Frame,
  keys: Parameters<typeof verifyFrame>[0][],
): Promise<boolean> {
  if (frame.sig === undefined) return false;
  for (const key of keys) {
    ctx.metrics.inc("sig_verify");
    if (await verifyFrame(key, frame)) return true;
  }
  return false;
}

function invalidSignature(ctx: NodeContext, link: Link, frame: Frame): Effect[] {
  ctx.metrics.inc("sig_invalid", frame.type);
  const detail = frame.sig === undefined
    ? `${frame.type} must be signed`
    : `bad signature on ${frame.type}`;
  if (link.kind !== "server") {
    return [error(link, ErrorCode.INVALID_SIG, detail, link.kind !== "user")];
  }
  const failures = link.invalidSigs.hit(ctx.now());
  const tooMany = failures >= ctx.config.limits.invalidSigsPerMinute;
  if (tooMany) {
    ctx.log.warn("closing server link after repeated invalid signatures", {
      link: link.describe(),
      failures,
    });
  }
  return [error(link, ErrorCode.INVALID_SIG, detail, tooMany)];
}
