/**
 * Parsing and structural validation of whole frames (SOCP.md §2, §3, §6): a
 * text frame goes in, a typed frame or an error value with its code comes out.
 * Checks here need no directory, clock or signature maths; those belong to
 * the receiver.
 *
 * @module
 */

import { ErrorCode, type ProtocolError, protocolError } from "./errors.ts";
import { isHostPort, isPeerId, isUuidV4 } from "./ids.ts";
import { DEFAULT_LIMITS } from "./limits.ts";
import { validatePayload } from "./payloads.ts";
import { decodeSignature } from "./rsa.ts";
import { type Frame, isMessageType, type MessageType, SERVER_SIGNED_TYPES } from "./types.ts";
import { type CheckContext, isRecord, jsonDepth } from "./_schema.ts";

/**
 * Server types dialect B never signs (SOCP.md §12): the parser lets them
 * through unsigned in dialect mode; the receiver decides whether a link
 * vouches for them (server/dialects/signers.ts).
 *
 * @example
 * ```ts
 * import { B_UNSIGNED_TYPES } from "./frame.ts";
 * B_UNSIGNED_TYPES.has("SERVER_WELCOME"); // true
 * ```
 */
export const B_UNSIGNED_TYPES: ReadonlySet<string> = new Set([
  "SERVER_HELLO_JOIN",
  "SERVER_HELLO_LINK",
  "SERVER_WELCOME",
  "SERVER_ANNOUNCE",
]);

/** Options for {@linkcode parseFrame}. */
export interface ParseOptions {
  /**
   * Accept the dialect forms of SOCP.md §12 (default `false`): free-name ids
   * from peers, the aliases `MSG_PRIVATE` (→ MSG_DIRECT) and `SERVER_GOODBYE`
   * (→ CTRL_CLOSE), and the bare `{"type":"CTRL_CLOSE"}`. The strict default
   * is the v1.3 structural parser the shared vectors describe.
   */
  dialects?: boolean;
  /** Largest frame in UTF-8 bytes (default 8 MiB); larger gets `TOO_LARGE`. */
  maxFrameBytes?: number;
  /** Deepest JSON nesting (default 32); deeper gets `BAD_REQUEST`. */
  maxJsonDepth?: number;
}

/** A rejected frame: the error to answer with, plus what could be read of it. */
export interface FrameRejection {
  /** Always false: the frame was rejected. */
  ok: false;
  /** The error to answer with. */
  error: ProtocolError;
  /** The frame's `type`, when it was a string. */
  type?: string;
  /** The frame's `from`, when it was a string. */
  from?: string;
}

/** An accepted frame. */
export interface FrameAcceptance {
  /** Always true: the frame was accepted. */
  ok: true;
  /** The frame, typed by `type`. */
  frame: Frame;
  /**
   * Whether parsing normalised the frame (an alias renamed, an empty `sig`
   * removed, a bare envelope completed), so its wire text must not be
   * forwarded as is.
   */
  rewritten: boolean;
}

/** Result of {@linkcode parseFrame}. */
export type ParseResult = FrameAcceptance | FrameRejection;

/** How `to` is checked for each type. */
type ToRule = "id" | "any" | "broadcast" | "public" | "join";

const TO_RULES: Readonly<Record<MessageType, ToRule>> = {
  SERVER_HELLO_JOIN: "join",
  SERVER_WELCOME: "id",
  SERVER_HELLO_LINK: "broadcast",
  SERVER_ANNOUNCE: "broadcast",
  USER_ADVERTISE: "broadcast",
  USER_REMOVE: "broadcast",
  SERVER_DELIVER: "id",
  HEARTBEAT: "any",
  USER_HELLO: "any",
  MSG_DIRECT: "id",
  USER_DELIVER: "id",
  LIST_REQUEST: "any",
  LIST_RESPONSE: "id",
  COMMAND: "any",
  COMMAND_RESPONSE: "id",
  PUBLIC_CHANNEL_ADD: "broadcast",
  PUBLIC_CHANNEL_UPDATED: "broadcast",
  PUBLIC_CHANNEL_KEY_SHARE: "broadcast",
  PUBLIC_CHANNEL_KEY: "id",
  PRESENCE: "broadcast",
  USER_LOOKUP: "any",
  USER_BINDINGS: "id",
  MSG_QUEUED: "id",
  MSG_PUBLIC_CHANNEL: "public",
  FILE_START: "public",
  FILE_CHUNK: "public",
  FILE_END: "public",
  ACK: "id",
  ERROR: "any",
  CTRL_CLOSE: "any",
};

// A Map, not an object literal: a hostile `type` such as "constructor" must not
// reach Object.prototype.
const DIALECT_ALIASES: ReadonlyMap<string, MessageType> = new Map([
  ["MSG_PRIVATE", "MSG_DIRECT"],
  ["SERVER_GOODBYE", "CTRL_CLOSE"],
]);

const TYPE_PATTERN = /^[A-Z0-9_]{1,64}$/;
const MAX_TO_CHARS = 256;

function isId(value: unknown, ctx: CheckContext): boolean {
  return ctx.dialects ? isPeerId(value) : isUuidV4(value);
}

function checkTo(rule: ToRule, to: string, ctx: CheckContext): boolean {
  switch (rule) {
    case "any":
      return to.length <= MAX_TO_CHARS;
    case "join":
      // Dialect C joins (and links) with to "*" (SOCP.md §3 allows it).
      return isHostPort(to) || to === "*" || isId(to, ctx);
    case "broadcast":
      return to === "*" || isId(to, ctx);
    case "public":
      return to === "public" || to === "*" || isId(to, ctx);
    case "id":
      return isId(to, ctx);
  }
}

/** Whether the UTF-8 encoding of `text` exceeds `max` bytes, encoding only when it must. */
function exceedsBytes(text: string, max: number): boolean {
  // A UTF-16 unit is 1 to 3 UTF-8 bytes, so the length alone often decides.
  if (text.length > max) return true;
  if (text.length * 3 <= max) return false;
  return new TextEncoder().encode(text).length > max;
}

function reject(
  code: ErrorCode,
  detail: string,
  obj?: Record<string, unknown>,
): FrameRejection {
  const rejection: FrameRejection = { ok: false, error: protocolError(code, detail) };
  if (typeof obj?.type === "string") rejection.type = obj.type;
  if (typeof obj?.from === "string") rejection.from = obj.from;
  return rejection;
}

/**
 * Parses one WebSocket text frame. Never throws: every fault is a
 * {@linkcode FrameRejection} carrying the profile's error code (`BAD_REQUEST`
 * for malformed frames, `UNKNOWN_TYPE`, `INVALID_SIG` for missing or
 * malformed signatures on server-originated types, `BAD_KEY`, `TOO_LARGE`).
 * Surrounding whitespace is stripped; `sig` of `null` or `""` is removed.
 * Unknown fields are kept so forwarded frames stay unchanged.
 *
 * @example
 * ```ts
 * import { parseFrame } from "@socp/socp";
 * const r = parseFrame('{"type":"heartbeat","from":"x","to":"y","ts":1,"payload":{}}');
 * if (!r.ok) console.log(r.error.code); // "UNKNOWN_TYPE"
 * ```
 */
export function parseFrame(text: string, options: ParseOptions = {}): ParseResult {
  const ctx: CheckContext = { dialects: options.dialects ?? false };
  const maxBytes = options.maxFrameBytes ?? DEFAULT_LIMITS.maxFrameBytes;
  if (typeof text !== "string") return reject(ErrorCode.BAD_REQUEST, "frame is not text");
  if (exceedsBytes(text, maxBytes)) {
    return reject(ErrorCode.TOO_LARGE, `frame exceeds ${maxBytes} bytes`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text.trim());
  } catch {
    return reject(ErrorCode.BAD_REQUEST, "frame is not valid JSON");
  }
  if (!isRecord(value)) return reject(ErrorCode.BAD_REQUEST, "frame is not a JSON object");
  const maxDepth = options.maxJsonDepth ?? DEFAULT_LIMITS.maxJsonDepth;
  if (jsonDepth(value, maxDepth) > maxDepth) {
    return reject(ErrorCode.BAD_REQUEST, `frame nests deeper than ${maxDepth}`, value);
  }
  return validateEnvelope(value, ctx);
}

/**
 * Validates an already-parsed JSON object as a frame (for callers that
 * parsed it themselves, e.g. the wrapped frame inside a SERVER_DELIVER).
 * The object may be normalised in place (aliases, empty `sig`).
 *
 * @example
 * ```ts
 * import { validateEnvelope } from "@socp/socp";
 * validateEnvelope({ type: "HEARTBEAT" }, { dialects: false }).ok; // false
 * ```
 */
export function validateEnvelope(obj: Record<string, unknown>, ctx: CheckContext): ParseResult {
  const rawType = obj.type;
  if (typeof rawType !== "string") {
    return reject(ErrorCode.BAD_REQUEST, "type must be a string", obj);
  }
  const type = ctx.dialects ? DIALECT_ALIASES.get(rawType) ?? rawType : rawType;
  let rewritten = type !== rawType;
  obj.type = type;
  if (!TYPE_PATTERN.test(type) || !isMessageType(type)) {
    return reject(ErrorCode.UNKNOWN_TYPE, `unknown type ${type.slice(0, 64)}`, obj);
  }
  if (ctx.dialects && type === "CTRL_CLOSE") rewritten = fillBareEnvelope(obj) || rewritten;

  for (const field of ["from", "to", "ts", "payload"]) {
    if (!Object.hasOwn(obj, field)) {
      return reject(ErrorCode.BAD_REQUEST, `${field} is required`, obj);
    }
  }
  const { from, to, ts, payload } = obj;
  // Local users have UUIDv4 ids; dialect A clients, which log in with a password, use free names.
  const passwordHello = type === "USER_HELLO" && isRecord(payload) &&
    typeof payload.password === "string";
  const fromOk = type === "USER_HELLO" && !(ctx.dialects && passwordHello)
    ? isUuidV4(from)
    : isId(from, ctx);
  if (!fromOk) return reject(ErrorCode.BAD_REQUEST, "from must be a UUIDv4 id", obj);
  if (typeof to !== "string" || !checkTo(TO_RULES[type], to, ctx)) {
    return reject(ErrorCode.BAD_REQUEST, `to is not valid for ${type}`, obj);
  }
  if (typeof ts !== "number" || !Number.isSafeInteger(ts) || ts < 0) {
    return reject(ErrorCode.BAD_REQUEST, "ts must be a non-negative integer", obj);
  }
  if (!isRecord(payload)) return reject(ErrorCode.BAD_REQUEST, "payload must be an object", obj);

  if (obj.sig === null || obj.sig === "") {
    delete obj.sig;
    rewritten = true;
  }
  if (obj.sig === undefined) {
    // Dialect B sends its hellos, WELCOME and ANNOUNCE unsigned: whether a link
    // may vouch for one is the receiver's decision, not the parser's.
    // An ACK carrying the user's signed advert is vouched for by it (ADVERT_ACK_CAP).
    const advertAck = type === "ACK" && isRecord(payload) && isRecord(payload.advert);
    if (
      SERVER_SIGNED_TYPES.has(type) && !advertAck && !(ctx.dialects && B_UNSIGNED_TYPES.has(type))
    ) {
      return reject(ErrorCode.INVALID_SIG, `${type} must be signed`, obj);
    }
  } else if (!decodeSignature(obj.sig)) {
    return reject(ErrorCode.INVALID_SIG, "sig is not a 512-byte signature", obj);
  }

  const err = validatePayload(type, payload, ctx);
  if (err) return reject(err.code, err.detail, obj);
  return { ok: true, frame: obj as unknown as Frame, rewritten };
}

// Dialects send CTRL_CLOSE without an envelope; complete it so the typed frame
// is whole. The placeholder sender is a valid dialect id and is never routed.
function fillBareEnvelope(obj: Record<string, unknown>): boolean {
  const bare = obj.from === undefined || obj.to === undefined || obj.ts === undefined ||
    obj.payload === undefined;
  obj.from ??= "unknown";
  obj.to ??= "*";
  obj.ts ??= 0;
  obj.payload ??= {};
  return bare;
}
