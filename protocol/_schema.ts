// Tiny validation combinators for payloads. Each check returns null when the
// value is acceptable, or the ProtocolError to answer with. Checks never throw.

import { decodeBase64url } from "./base64url.ts";
import { ErrorCode, type ProtocolError, protocolError } from "./errors.ts";
import { isPeerId, isUuidV4 } from "./ids.ts";
import { parsePublicKey } from "./keys.ts";
import { DEFAULT_LIMITS } from "./limits.ts";
import { decodeSignature } from "./rsa.ts";

/** Validation context shared by every check of one frame. */
export interface CheckContext {
  /** Accept dialect forms (free-name ids, aliases). */
  dialects: boolean;
}

/** A check of one value at `path`. */
export type Check = (value: unknown, path: string, ctx: CheckContext) => ProtocolError | null;

const bad = (path: string, what: string) => protocolError(ErrorCode.BAD_REQUEST, `${path} ${what}`);

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

export function str(opts: { max?: number; min?: number; pattern?: RegExp } = {}): Check {
  const { max = 4096, min = 0, pattern } = opts;
  return (v, path) => {
    if (typeof v !== "string") return bad(path, "must be a string");
    if (v.length < min) return bad(path, "is too short");
    if (v.length > max) return bad(path, `exceeds ${max} characters`);
    if (pattern && !pattern.test(v)) return bad(path, "has an invalid format");
    return null;
  };
}

export function int(opts: { min?: number; max?: number } = {}): Check {
  const { min = 0, max = Number.MAX_SAFE_INTEGER } = opts;
  return (v, path) => {
    if (typeof v !== "number" || !Number.isSafeInteger(v)) return bad(path, "must be an integer");
    if (v < min || v > max) return bad(path, `must be within ${min}..${max}`);
    return null;
  };
}

export function bool(v: unknown, path: string): ProtocolError | null {
  return typeof v === "boolean" ? null : bad(path, "must be true or false");
}

export function oneOf(...values: string[]): Check {
  return (v, path) =>
    typeof v === "string" && values.includes(v)
      ? null
      : bad(path, `must be one of ${values.join(", ")}`);
}

/** A user or server id: UUIDv4, or a dialect free name in dialect mode. */
export function id(v: unknown, path: string, ctx: CheckContext): ProtocolError | null {
  return (ctx.dialects ? isPeerId(v) : isUuidV4(v)) ? null : bad(path, "must be a UUIDv4 id");
}

/** A UUIDv4 regardless of mode (local user ids). */
export function uuidV4(v: unknown, path: string): ProtocolError | null {
  return isUuidV4(v) ? null : bad(path, "must be a UUIDv4");
}

/** A public key in any accepted form; failures are BAD_KEY. */
export function key(v: unknown, path: string): ProtocolError | null {
  if (typeof v !== "string") return bad(path, "must be a key string");
  const parsed = parsePublicKey(v);
  return parsed.ok ? null : protocolError(ErrorCode.BAD_KEY, `${path}: ${parsed.error.detail}`);
}

/** An RSA-4096 signature string: exactly 512 bytes once decoded. */
export function signature(v: unknown, path: string): ProtocolError | null {
  if (typeof v !== "string") return bad(path, "must be a signature string");
  return decodeSignature(v)
    ? null
    : protocolError(ErrorCode.INVALID_SIG, `${path} is not a 512-byte signature`);
}

/** base64url text with an optional exact decoded length and a character cap. */
export function b64(opts: { bytes?: number; maxChars: number }): Check {
  return (v, path) => {
    if (typeof v !== "string") return bad(path, "must be a base64url string");
    if (v.length > opts.maxChars) return bad(path, `exceeds ${opts.maxChars} characters`);
    const bytes = decodeBase64url(v);
    if (!bytes) return bad(path, "is not base64url");
    if (opts.bytes !== undefined && bytes.length !== opts.bytes) {
      return bad(path, `must decode to ${opts.bytes} bytes`);
    }
    return null;
  };
}

export const hex64: Check = str({ min: 64, max: 64, pattern: /^[0-9a-fA-F]{64}$/ });

export function anyObject(v: unknown, path: string): ProtocolError | null {
  return isRecord(v) ? null : bad(path, "must be an object");
}

/**
 * An object with required and optional fields; unknown fields are allowed,
 * and an optional field whose value is null counts as absent.
 */
export function obj(required: Record<string, Check>, optional: Record<string, Check> = {}): Check {
  const req = Object.entries(required);
  const opt = Object.entries(optional);
  return (v, path, ctx) => {
    if (!isRecord(v)) return bad(path, "must be an object");
    for (const [name, check] of req) {
      if (!Object.hasOwn(v, name)) return bad(`${path}.${name}`, "is required");
      const err = check(v[name], `${path}.${name}`, ctx);
      if (err) return err;
    }
    for (const [name, check] of opt) {
      // An optional field sent as null is absent (dialect A's `"enc_pubkey": null`).
      if (!Object.hasOwn(v, name) || v[name] === undefined || v[name] === null) continue;
      const err = check(v[name], `${path}.${name}`, ctx);
      if (err) return err;
    }
    return null;
  };
}

/** An array of at most `max` entries (TOO_LARGE beyond), each passing `item`. */
export function list(item: Check, max = DEFAULT_LIMITS.maxListEntries): Check {
  return (v, path, ctx) => {
    if (!Array.isArray(v)) return bad(path, "must be an array");
    if (v.length > max) return protocolError(ErrorCode.TOO_LARGE, `${path} exceeds ${max} entries`);
    for (let i = 0; i < v.length; i++) {
      const err = item(v[i], `${path}[${i}]`, ctx);
      if (err) return err;
    }
    return null;
  };
}

/** Passes when any of the checks passes; reports the first check's error otherwise. */
export function anyOf(...checks: Check[]): Check {
  return (v, path, ctx) => {
    let first: ProtocolError | null = null;
    for (const check of checks) {
      const err = check(v, path, ctx);
      if (!err) return null;
      first ??= err;
    }
    return first;
  };
}

/** Runs `base`, then a whole-value rule that sees the checked value. */
export function refine(
  base: Check,
  rule: (v: Record<string, unknown>, path: string, ctx: CheckContext) => ProtocolError | null,
): Check {
  return (v, path, ctx) => base(v, path, ctx) ?? rule(v as Record<string, unknown>, path, ctx);
}

/** Maximum depth of nested arrays/objects in a value; stops counting past `limit`. */
export function jsonDepth(value: unknown, limit: number): number {
  if (typeof value !== "object" || value === null) return 0;
  if (limit < 0) return 1;
  let deepest = 0;
  for (const child of Array.isArray(value) ? value : Object.values(value)) {
    if (typeof child === "object" && child !== null) {
      const d = jsonDepth(child, limit - 1);
      if (d > deepest) deepest = d;
      if (deepest > limit) break;
    }
  }
  return deepest + 1;
}
