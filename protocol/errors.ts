/**
 * Error codes of the SOCP profile (SOCP.md §6.5) and the error value every
 * validator returns instead of throwing.
 *
 * @module
 */

/**
 * The ERROR codes of SOCP v1.3 plus the project extras.
 *
 * @example
 * ```ts
 * import { ErrorCode } from "@socp/socp";
 * const code: ErrorCode = ErrorCode.BAD_KEY; // "BAD_KEY"
 * ```
 */
export const ErrorCode = {
  USER_NOT_FOUND: "USER_NOT_FOUND",
  INVALID_SIG: "INVALID_SIG",
  BAD_KEY: "BAD_KEY",
  TIMEOUT: "TIMEOUT",
  UNKNOWN_TYPE: "UNKNOWN_TYPE",
  NAME_IN_USE: "NAME_IN_USE",
  BAD_REQUEST: "BAD_REQUEST",
  AUTH_FAILED: "AUTH_FAILED",
  RATE_LIMITED: "RATE_LIMITED",
  TOO_LARGE: "TOO_LARGE",
  /** Project extra: the server could not complete it (its database refused a write); retry later. */
  SERVER_ERROR: "SERVER_ERROR",
} as const;

/** One of the {@linkcode ErrorCode} values. */
export type ErrorCode = typeof ErrorCode[keyof typeof ErrorCode];

/**
 * The six codes defined by SOCP v1.3 itself; the rest are project extras.
 *
 * @example
 * ```ts
 * import { STANDARD_CODES } from "@socp/socp";
 * STANDARD_CODES.has("BAD_KEY"); // true
 * ```
 */
export const STANDARD_CODES: ReadonlySet<string> = new Set([
  ErrorCode.USER_NOT_FOUND,
  ErrorCode.INVALID_SIG,
  ErrorCode.BAD_KEY,
  ErrorCode.TIMEOUT,
  ErrorCode.UNKNOWN_TYPE,
  ErrorCode.NAME_IN_USE,
]);

const STANDARD_FALLBACK: ReadonlyMap<string, ErrorCode> = new Map([
  [ErrorCode.AUTH_FAILED, ErrorCode.INVALID_SIG],
  [ErrorCode.RATE_LIMITED, ErrorCode.TIMEOUT],
  [ErrorCode.BAD_REQUEST, ErrorCode.UNKNOWN_TYPE],
  [ErrorCode.TOO_LARGE, ErrorCode.UNKNOWN_TYPE],
  [ErrorCode.SERVER_ERROR, ErrorCode.TIMEOUT],
]);

/**
 * Maps a project-extra code to the standard code sent to non-project clients,
 * because some dialect clients stop reading on unknown codes (SOCP.md §6.5).
 *
 * @example
 * ```ts
 * import { toStandardCode } from "@socp/socp";
 * toStandardCode("RATE_LIMITED"); // "TIMEOUT"
 * toStandardCode("BAD_KEY"); // "BAD_KEY"
 * ```
 */
export function toStandardCode(code: ErrorCode): ErrorCode {
  return STANDARD_FALLBACK.get(code) ?? code;
}

/**
 * Why a frame or field was rejected. Returned as a value by every validator;
 * `detail` never holds secrets or user content and is at most 200 characters.
 */
export interface ProtocolError {
  /** The ERROR code to answer with. */
  code: ErrorCode;
  /** Short human-readable reason. */
  detail: string;
}

/**
 * Maximum length of an ERROR `detail` (SOCP.md §6.5).
 *
 * @example
 * ```ts
 * import { MAX_ERROR_DETAIL, protocolError } from "./errors.ts";
 * protocolError("BAD_REQUEST", "x".repeat(999)).detail.length === MAX_ERROR_DETAIL; // true
 * ```
 */
export const MAX_ERROR_DETAIL = 200;

/**
 * Builds a {@linkcode ProtocolError}, clipping `detail` to 200 characters.
 *
 * @example
 * ```ts
 * import { protocolError } from "@socp/socp";
 * const err = protocolError("BAD_REQUEST", "payload.port must be an integer");
 * err.code; // "BAD_REQUEST"
 * ```
 */
export function protocolError(code: ErrorCode, detail: string): ProtocolError {
  return {
    code,
    detail: detail.length > MAX_ERROR_DETAIL ? detail.slice(0, MAX_ERROR_DETAIL) : detail,
  };
}

/**
 * Thrown by the crypto helpers when the caller (not a peer) asks for something
 * the profile forbids, such as OAEP-encrypting more than 446 bytes.
 *
 * @example
 * ```ts
 * import { SocpError } from "@socp/socp";
 * try {
 *   throw new SocpError("TOO_LARGE", "plaintext is 447 bytes; the limit is 446");
 * } catch (e) {
 *   if (e instanceof SocpError) console.log(e.code);
 * }
 * ```
 */
export class SocpError extends Error {
  /** The profile error code that describes the failure. */
  readonly code: ErrorCode;
  /**
   * Creates the error.
   *
   * @param code profile error code
   * @param message human-readable reason
   */
  constructor(code: ErrorCode, message: string) {
    super(message);
    this.name = "SocpError";
    this.code = code;
  }
}
