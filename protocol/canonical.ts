/**
 * Canonical JSON, the input to every transport signature (SOCP.md §4.3).
 *
 * The ASCII form equals Python's
 * `json.dumps(v, sort_keys=True, separators=(",", ":"))`; the UTF-8 form
 * (verify only) leaves non-ASCII raw, like `JSON.stringify` of a sorted copy.
 *
 * @module
 */

/** Options for {@linkcode canonicalJson}. */
export interface CanonicalOptions {
  /**
   * `true` (default): escape every code unit outside U+0020–U+007E as
   * `\uXXXX`. `false`: the alternative form, which escapes only `"`, `\` and
   * C0 controls and keeps the rest raw.
   */
  ascii?: boolean;
}

/**
 * Raised when a value cannot be canonicalised: floats, unsafe integers,
 * `undefined` in arrays, functions, symbols, bigints, or cycles. Such a
 * payload is unsignable, and a verifier treats it as a failure.
 *
 * @example
 * ```ts
 * import { canonicalJson, CanonicalError } from "@socp/socp";
 * try { canonicalJson({ x: 1.5 }); } catch (e) { e instanceof CanonicalError; }
 * ```
 */
export class CanonicalError extends TypeError {
  /**
   * Creates the error.
   *
   * @param message why the value cannot be canonicalised
   */
  constructor(message: string) {
    super(message);
    this.name = "CanonicalError";
  }
}

/**
 * Serialises a JSON value canonically: object keys sorted by Unicode code
 * point at every depth, no whitespace, integers only, and string escaping per
 * the chosen form. Object members whose value is `undefined` are skipped, as
 * `JSON.stringify` does, so a frame's wire text and its canonical form agree.
 *
 * @throws {CanonicalError} for values outside the canonical domain.
 *
 * @example
 * ```ts
 * import { canonicalJson } from "@socp/socp";
 * canonicalJson({ port: 8766, host: "h" }); // '{"host":"h","port":8766}'
 * canonicalJson({ n: "Zoë" }); // '{"n":"Zo\\u00eb"}'
 * canonicalJson({ n: "Zoë" }, { ascii: false }); // '{"n":"Zoë"}'
 * ```
 */
export function canonicalJson(value: unknown, options: CanonicalOptions = {}): string {
  const out: string[] = [];
  write(value, options.ascii !== false, out, new Set());
  return out.join("");
}

/**
 * Whether any string or key in the value holds a character at or above
 * U+007F, i.e. whether the two canonical forms can differ.
 *
 * @example
 * ```ts
 * import { hasNonAscii } from "@socp/socp";
 * hasNonAscii({ a: "plain" }); // false
 * hasNonAscii({ a: "café" }); // true
 * ```
 */
export function hasNonAscii(value: unknown): boolean {
  if (typeof value === "string") return NON_ASCII.test(value);
  if (Array.isArray(value)) return value.some(hasNonAscii);
  if (value !== null && typeof value === "object") {
    for (const [k, v] of Object.entries(value)) {
      if (NON_ASCII.test(k) || hasNonAscii(v)) return true;
    }
  }
  return false;
}

/**
 * Compares two strings by Unicode code point (not UTF-16 code unit), the
 * order canonical JSON sorts keys in.
 *
 * @example
 * ```ts
 * import { compareCodePoints } from "@socp/socp";
 * ["😀", "～"].sort(compareCodePoints); // ["～", "😀"]
 * ```
 */
export function compareCodePoints(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) {
      // Surrogates (D800–DFFF) encode code points above FFFF, so they must sort
      // after E000–FFFF; shift them up past that range and everything else still compares.
      if (x >= 0xd800 && y >= 0xd800) return codeUnitRank(x) - codeUnitRank(y);
      return x - y;
    }
  }
  return a.length - b.length;
}

function codeUnitRank(unit: number): number {
  if (unit <= 0xdfff) return unit + 0x2000;
  return unit - 0x800;
}

// deno-lint-ignore no-control-regex
const NON_ASCII = /[^\x00-\x7e]/;
// Characters that need escaping in the ASCII form: quote, backslash, and every
// code unit outside the printable ASCII range.
// deno-lint-ignore no-control-regex
const NEEDS_ESCAPE_ASCII = /["\\\x00-\x1f\x7f-\uffff]/;
// In the UTF-8 form: quote, backslash, C0 controls and lone surrogates (which
// JSON.stringify escapes rather than emit as invalid UTF-16).
const NEEDS_ESCAPE_UTF8 =
  // deno-lint-ignore no-control-regex
  /["\\\x00-\x1f]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

const SHORT_ESCAPES: Record<number, string> = {
  0x22: '\\"',
  0x5c: "\\\\",
  0x08: "\\b",
  0x0c: "\\f",
  0x0a: "\\n",
  0x0d: "\\r",
  0x09: "\\t",
};

function unicodeEscape(unit: number): string {
  return "\\u" + unit.toString(16).padStart(4, "0");
}

function quote(s: string, ascii: boolean): string {
  if (!(ascii ? NEEDS_ESCAPE_ASCII : NEEDS_ESCAPE_UTF8).test(s)) return '"' + s + '"';
  let out = '"';
  for (let i = 0; i < s.length; i++) {
    const unit = s.charCodeAt(i);
    const short = SHORT_ESCAPES[unit];
    if (short !== undefined) out += short;
    else if (unit < 0x20) out += unicodeEscape(unit);
    else if (ascii) out += unit <= 0x7e ? s[i] : unicodeEscape(unit);
    else if (unit >= 0xd800 && unit <= 0xdbff) {
      const next = s.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        out += s[i] + s[i + 1];
        i++;
      } else out += unicodeEscape(unit);
    } else if (unit >= 0xdc00 && unit <= 0xdfff) out += unicodeEscape(unit);
    else out += s[i];
  }
  return out + '"';
}

function write(value: unknown, ascii: boolean, out: string[], stack: Set<object>): void {
  switch (typeof value) {
    case "string":
      out.push(quote(value, ascii));
      return;
    case "number":
      if (!Number.isSafeInteger(value)) {
        throw new CanonicalError(`not a safe integer: ${value}`);
      }
      out.push(String(value)); // String(-0) is "0", as required
      return;
    case "boolean":
      out.push(value ? "true" : "false");
      return;
    case "object":
      break;
    default:
      throw new CanonicalError(`unsupported value of type ${typeof value}`);
  }
  if (value === null) {
    out.push("null");
    return;
  }
  if (stack.has(value)) throw new CanonicalError("cyclic value");
  stack.add(value);
  if (Array.isArray(value)) {
    out.push("[");
    for (let i = 0; i < value.length; i++) {
      if (i > 0) out.push(",");
      if (value[i] === undefined) throw new CanonicalError("undefined in array");
      write(value[i], ascii, out, stack);
    }
    out.push("]");
  } else {
    const record = value as Record<string, unknown>;
    const keys = Object.keys(record).filter((k) => record[k] !== undefined).sort(
      compareCodePoints,
    );
    out.push("{");
    for (let i = 0; i < keys.length; i++) {
      if (i > 0) out.push(",");
      out.push(quote(keys[i], ascii), ":");
      write(record[keys[i]], ascii, out, stack);
    }
    out.push("}");
  }
  stack.delete(value);
}
