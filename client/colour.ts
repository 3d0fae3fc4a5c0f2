/**
 * Colours of the REPL's lines: each user's name in a colour of its own
 * (stable: chosen by the user id), errors red, warnings about keys yellow,
 * our own lines bold. `NO_COLOR` (any value) and output that is not a
 * terminal get no colour at all.
 *
 * @module
 */

/** How parts of a line are drawn. */
export interface Palette {
  /** A user's name, coloured by `userId`. */
  name(userId: string, text: string): string;
  /** An error line. */
  error(text: string): string;
  /** A warning (a key change, an unverified message). */
  warn(text: string): string;
  /** What we sent ourselves. */
  own(text: string): string;
}

const identity = (text: string) => text;

/** No colour. */
export const PLAIN: Palette = {
  name: (_userId, text) => text,
  error: identity,
  warn: identity,
  own: identity,
};

// Readable on dark and light backgrounds; red and yellow are kept for errors and warnings.
const NAME_COLOURS = [32, 34, 35, 36, 92, 94, 95, 96];
const sgr = (code: string, text: string) => `\x1b[${code}m${text}\x1b[0m`;

/** Stable colour index of a user id (FNV-1a). */
function colourOf(userId: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < userId.length; i++) h = Math.imul(h ^ userId.charCodeAt(i), 0x01000193);
  return NAME_COLOURS[(h >>> 0) % NAME_COLOURS.length];
}

/** ANSI colours. */
export const ANSI: Palette = {
  name: (userId, text) => sgr(String(colourOf(userId)), text),
  error: (text) => sgr("31", text),
  warn: (text) => sgr("33", text),
  own: (text) => sgr("1", text),
};

/**
 * The palette for an output: colours only on a terminal, and never with
 * `NO_COLOR` set (https://no-color.org).
 *
 * @example
 * ```ts
 * import { paletteFor, PLAIN } from "./colour.ts";
 * paletteFor({ terminal: true, noColor: "1" }) === PLAIN; // true
 * ```
 */
export function paletteFor(output: { terminal: boolean; noColor?: string }): Palette {
  return output.terminal && !output.noColor ? ANSI : PLAIN;
}
