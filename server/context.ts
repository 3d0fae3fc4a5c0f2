/**
 * What every handler receives: the node's state, store (read-only use;
 * writes go through persist effects), configuration, logger, metrics and
 * clock, plus small helpers shared by handlers.
 *
 * @module
 */

import { buildSigned } from "../protocol/builders.ts";
import { ErrorCode, type ProtocolError, protocolError } from "../protocol/errors.ts";
import { parsePublicKey, type PublicKey } from "../protocol/keys.ts";
import type { FrameOf, MessageType, PayloadMap } from "../protocol/types.ts";
import type { NodeConfig } from "./config.ts";
import type { Effect } from "./effects.ts";
import type { Link } from "./link.ts";
import type { Logger } from "./log.ts";
import type { Metrics } from "./metrics.ts";
import type { ServerState } from "./state.ts";
import type { Store } from "./store.ts";

/** The environment of handlers. */
export interface NodeContext {
  readonly state: ServerState;
  readonly store: Store;
  readonly config: NodeConfig;
  readonly log: Logger;
  readonly metrics: Metrics;
  /** Current time in Unix milliseconds. */
  now(): number;
}

/** A refusal decided before a frame's handler runs. */
export interface Rejection {
  error: ProtocolError;
  /** Close the link after answering. */
  close?: boolean;
  /** Drop without answering. */
  silent?: boolean;
}

/** Keys a frame may be signed with, `"link"` (trusted because it arrived on this link), or a rejection. */
export type Signers = PublicKey[] | "link" | Rejection;

/** How one message type is received on one kind of link. */
export interface Route<T extends MessageType> {
  /** Which keys may have signed the frame. Runs after the dedup check, before verification. */
  signers(ctx: NodeContext, frame: FrameOf<T>, link: Link): Signers;
  /** Handles a verified frame. `raw` is its wire text, for forwarding unchanged. */
  handle(
    ctx: NodeContext,
    frame: FrameOf<T>,
    link: Link,
    raw: string,
  ): Effect[] | Promise<Effect[]>;
  /** Exempt from `seen_ids` (HEARTBEAT, link-local frames). */
  noDedup?: boolean;
  /** The handler applies the clock window itself (USER_HELLO: AUTH_FAILED, not TIMEOUT). */
  ownClock?: boolean;
  /**
   * Read-only: may be verified and handled while earlier frames of its link
   * still are (effects still apply in arrival order; server/_pipeline.ts).
   */
  concurrent?: boolean;
}

/** A dispatch table: message type → route. */
export type RouteTable = { [T in MessageType]?: Route<T> };

/**
 * A rejection value.
 *
 * @example
 * ```ts
 * import { rejection } from "./context.ts";
 * rejection("INVALID_SIG", "unknown server", { close: true }).close; // true
 * ```
 */
export function rejection(
  code: ErrorCode,
  detail: string,
  options: { close?: boolean; silent?: boolean } = {},
): Rejection {
  return { error: protocolError(code, detail), ...options };
}

/**
 * Whether a {@linkcode Signers} value is a rejection.
 *
 * @example
 * ```ts
 * import { isRejection, rejection } from "./context.ts";
 * isRejection(rejection("BAD_KEY", "x")); // true
 * isRejection("link"); // false
 * ```
 */
export function isRejection(value: Signers): value is Rejection {
  return typeof value === "object" && !Array.isArray(value);
}

/**
 * The pinned key of a server, as signers, or INVALID_SIG when it is unknown.
 *
 * @example
 * ```ts
 * import { pinnedSigner } from "./context.ts";
 * // pinnedSigner(ctx, serverId) → [key] or a rejection
 * ```
 */
export function pinnedSigner(ctx: NodeContext, serverId: string): Signers {
  const pin = ctx.state.pins.get(serverId);
  if (pin) return [pin];
  // Forwarded frames can outrun the origin's announcement; that is no fault of
  // the forwarding link, so drop without an ERROR or a strike against it.
  ctx.metrics.inc("frames_unknown_origin");
  return rejection(ErrorCode.INVALID_SIG, "frame from a server with no pinned key", {
    silent: true,
  });
}

/**
 * A key string already validated by the frame parser, as a {@linkcode PublicKey}.
 *
 * @example
 * ```ts
 * import { validatedKey } from "./context.ts";
 * // validatedKey(frame.payload.pubkey)
 * ```
 */
export function validatedKey(text: string): PublicKey {
  const parsed = parsePublicKey(text);
  if (!parsed.ok) {
    throw new Error(`key passed validation but does not parse: ${parsed.error.detail}`);
  }
  return parsed.key;
}

/**
 * A frame signed by this node.
 *
 * @example
 * ```ts
 * import { signed } from "./context.ts";
 * // await signed(ctx, "HEARTBEAT", peerId, {})
 * ```
 */
export function signed<T extends MessageType>(
  ctx: NodeContext,
  type: T,
  to: string,
  payload: PayloadMap[T],
  ts?: number,
): Promise<FrameOf<T>> {
  return buildSigned(ctx.state.self, type, to, payload, ts ?? ctx.now());
}
