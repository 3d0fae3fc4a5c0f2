/**
 * How users are shown (SOCP.md §3): human names live only in
 * `meta.display_name`, at most 64 characters without control characters, and
 * display falls back to the user id. Routing and crypto never use names.
 *
 * @module
 */

import type { UserMeta } from "./types.ts";

/**
 * C0 and C1 control characters (and DEL), never allowed in a display name.
 *
 * @example
 * ```ts
 * import { CONTROL_CHARS } from "@socp/socp";
 * CONTROL_CHARS.test("a\u0007b"); // true
 * ```
 */
// deno-lint-ignore no-control-regex
export const CONTROL_CHARS: RegExp = /[\u0000-\u001f\u007f-\u009f]/;

const CONTROL_CHARS_GLOBAL = new RegExp(CONTROL_CHARS.source, "g");

/**
 * Removes every control character.
 *
 * @example
 * ```ts
 * import { stripControls } from "@socp/socp";
 * stripControls("a\u0000b\u009fc"); // "abc"
 * ```
 */
export function stripControls(text: string): string {
  return text.replace(CONTROL_CHARS_GLOBAL, "");
}

/** Longest display name, in characters. */
export const MAX_DISPLAY_NAME = 64;

/**
 * The name to show for a user: `display_name` with controls removed, clipped
 * to 64 characters, else the user id.
 *
 * @example
 * ```ts
 * import { displayName } from "@socp/socp";
 * displayName("u1", { display_name: "A\u0007lice" }); // "Alice"
 * displayName("u1", {}); // "u1"
 * ```
 */
export function displayName(userId: string, meta: UserMeta | undefined): string {
  const raw = typeof meta?.display_name === "string" ? meta.display_name : "";
  const name = [...stripControls(raw)].slice(0, MAX_DISPLAY_NAME).join("").trim();
  return name || userId;
}
