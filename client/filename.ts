/**
 * Received file names made safe to write (SOCP.md §8.4, step 5).
 *
 * @module
 */

import { stripControls } from "../protocol/display.ts";

const WINDOWS_DEVICES = /^(con|prn|aux|nul|com[0-9¹²³]|lpt[0-9¹²³])(\..*)?$/i;
const MAX_NAME_BYTES = 255;

/**
 * Sanitises a sender-chosen file name: the part after the last `/` or `\`,
 * without controls and leading dots, other characters than letters, digits,
 * space and `._-()+` mapped to `_`, at most 255 UTF-8 bytes, Windows device
 * names prefixed with `_`, and `file-<id>` when nothing is left.
 *
 * @example
 * ```ts
 * import { sanitizeFileName } from "./filename.ts";
 * sanitizeFileName("../../etc/passwd", "x"); // "passwd"
 * sanitizeFileName("C:\\evil\\..\\CON.txt", "x"); // "_CON.txt"
 * sanitizeFileName("...", "c2d4"); // "file-c2d4"
 * ```
 */
export function sanitizeFileName(name: string, fileId: string): string {
  let base = String(name).split(/[/\\]/).pop() ?? "";
  base = stripControls(base).replace(/^\.+/, "");
  base = base.replace(/[^\p{L}\p{N} ._\-()+]/gu, "_").trim();
  const encoder = new TextEncoder();
  while (encoder.encode(base).length > MAX_NAME_BYTES) base = [...base].slice(0, -1).join("");
  if (WINDOWS_DEVICES.test(base)) base = `_${base}`;
  return base || `file-${fileId}`;
}
