/**
 * USER_HELLO authentication (SOCP.md §10.2, §10.3): the login decision as a
 * pure function, and scrypt password hashes for dialect clients. Plaintext
 * passwords are never stored, logged or echoed.
 *
 * @module
 */

import { scrypt, timingSafeEqual } from "node:crypto";
import { decodeBase64url, encodeBase64url } from "../protocol/base64url.ts";
import { ErrorCode } from "../protocol/errors.ts";

const N = 32768;
const R = 8;
const P = 1;
const KEY_LEN = 32;
// N=32768 needs 32 MiB; node:crypto's default maxmem (32 MiB) is just too small.
const MAXMEM = 64 * 1024 * 1024;
// Each scrypt run costs ~32 MiB and tens of milliseconds: bound how many run at once.
const MAX_CONCURRENT = 2;
let running = 0;
const waiting: (() => void)[] = [];

async function derive(password: string, salt: Uint8Array): Promise<Uint8Array> {
  if (running >= MAX_CONCURRENT) await new Promise<void>((resolve) => waiting.push(resolve));
  running++;
  try {
    return await new Promise((resolve, reject) =>
      scrypt(
        password,
        salt,
        KEY_LEN,
        { N, r: R, p: P, maxmem: MAXMEM },
        (err, key) => err ? reject(err) : resolve(new Uint8Array(key)),
      )
    );
  } finally {
    running--;
    waiting.shift()?.();
  }
}

/**
 * Hashes a password as `scrypt$32768$8$1$<salt>$<hash>` (16-byte random salt,
 * 32-byte output, base64url).
 *
 * @example
 * ```ts
 * import { hashPassword, verifyPassword } from "./auth.ts";
 * const stored = await hashPassword("hunter2");
 * await verifyPassword("hunter2", stored); // true
 * ```
 */
export async function hashPassword(password: string): Promise<string> {
  const salt = crypto.getRandomValues(new Uint8Array(16));
  const hash = await derive(password, salt);
  return `scrypt$${N}$${R}$${P}$${encodeBase64url(salt)}$${encodeBase64url(hash)}`;
}

/**
 * Checks a password against a stored hash in constant time. Any malformed or
 * empty stored value fails.
 *
 * @example
 * ```ts
 * import { verifyPassword } from "./auth.ts";
 * await verifyPassword("x", ""); // false
 * ```
 */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const parts = stored.split("$");
  if (parts.length !== 6 || parts[0] !== "scrypt") return false;
  if (Number(parts[1]) !== N || Number(parts[2]) !== R || Number(parts[3]) !== P) return false;
  const salt = decodeBase64url(parts[4]);
  const expected = decodeBase64url(parts[5]);
  if (!salt || !expected || expected.length !== KEY_LEN) return false;
  const actual = await derive(password, salt);
  return timingSafeEqual(actual, expected);
}

/** The facts the login decision needs. */
export interface HelloFacts {
  /** `sig` was present. */
  signed: boolean;
  /** `sig` verified under `payload.pubkey`. */
  sigValid: boolean;
  /** Verified, `auth_ts` = `ts`, within the window, and the nonce unseen. */
  signedFresh: boolean;
  /** A `password` field was present. */
  passwordGiven: boolean;
  /** The password matched the stored hash (false when none is stored). */
  passwordMatches: boolean;
  /** The user id's mesh-wide binding: absent, the hello's key, or another key. */
  registration: "none" | "same-key" | "other-key";
  /** Whether this server is the id's home (holds its password hash and may change its key). */
  home: "here" | "elsewhere";
  /** `allow_unsigned_hello` is set. */
  allowUnsignedHello: boolean;
}

/** The outcome of a hello. */
export type HelloDecision =
  | { accept: true; register: boolean; replaceKey: boolean; roaming: boolean }
  | { accept: false; code: ErrorCode; detail: string };

/**
 * Decides a USER_HELLO per the table of SOCP.md §10.2, with the binding
 * mesh-wide (docs/PROTOCOL.md decision 42): away from its home, a user id
 * logs in only with its bound key and a signed-fresh hello.
 *
 * @example
 * ```ts
 * import { decideHello } from "./auth.ts";
 * const d = decideHello({ signed: true, sigValid: true, signedFresh: true, passwordGiven: false,
 *   passwordMatches: false, registration: "none", home: "here", allowUnsignedHello: false });
 * d.accept; // true (trust on first use)
 * ```
 */
export function decideHello(f: HelloFacts): HelloDecision {
  if (f.signed && !f.sigValid) {
    return {
      accept: false,
      code: ErrorCode.INVALID_SIG,
      detail: "hello signature does not verify",
    };
  }
  const accepted = { accept: true, register: false, replaceKey: false, roaming: false } as const;
  switch (f.registration) {
    case "none":
      if (f.signedFresh || f.passwordGiven) return { ...accepted, register: true };
      if (f.sigValid) {
        return { accept: false, code: ErrorCode.AUTH_FAILED, detail: "stale or replayed hello" };
      }
      if (!f.signed && f.allowUnsignedHello) return { ...accepted, register: true };
      return {
        accept: false,
        code: ErrorCode.INVALID_SIG,
        detail: "hello must be signed (fresh auth_ts and nonce)",
      };
    case "same-key":
      if (f.home === "elsewhere") {
        if (f.signedFresh) return { ...accepted, roaming: true };
        return {
          accept: false,
          code: ErrorCode.AUTH_FAILED,
          detail: "away from its home server a user logs in with a signed-fresh hello only",
        };
      }
      if (f.signedFresh || f.passwordMatches) return accepted;
      // Dialect B clients never sign their hello; the operator chose to let them in (insecure).
      if (!f.signed && !f.passwordGiven && f.allowUnsignedHello) return accepted;
      return {
        accept: false,
        code: ErrorCode.AUTH_FAILED,
        detail: "proof of possession failed (stale, replayed or unsigned hello)",
      };
    case "other-key":
      if (f.home === "here" && f.passwordMatches) return { ...accepted, replaceKey: true };
      if (f.home === "here" && f.passwordGiven) {
        return { accept: false, code: ErrorCode.AUTH_FAILED, detail: "wrong password" };
      }
      return {
        accept: false,
        code: ErrorCode.BAD_KEY,
        detail: f.home === "here"
          ? "this user id is registered with another key"
          : "this user id is registered with another key on another server of the mesh",
      };
  }
}
