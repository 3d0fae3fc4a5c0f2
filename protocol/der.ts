/**
 * A minimal DER (ASN.1) writer: the types SPKI wrapping and X.509
 * certificates need. Pure; used by key parsing and by the development
 * certificate generator.
 *
 * @example
 * ```ts
 * import { oid, seq } from "./der.ts";
 * seq(oid("1.2.840.113549.1.1.1")).length; // 13
 * ```
 *
 * @module
 */

import { concatBytes } from "./bytes.ts";

export type Der = Uint8Array;

function length(n: number): number[] {
  if (n < 0x80) return [n];
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
  return [0x80 | bytes.length, ...bytes];
}

export function tlv(tag: number, ...content: Der[]): Der {
  const body = concatBytes(...content);
  return concatBytes(new Uint8Array([tag, ...length(body.length)]), body);
}

export const seq = (...items: Der[]): Der => tlv(0x30, ...items);
export const set = (...items: Der[]): Der => tlv(0x31, ...items);
export const explicit = (n: number, inner: Der): Der => tlv(0xa0 + n, inner);
export const bool = (v: boolean): Der => tlv(0x01, new Uint8Array([v ? 0xff : 0]));
export const octets = (bytes: Uint8Array): Der => tlv(0x04, bytes);
export const utf8 = (s: string): Der => tlv(0x0c, new TextEncoder().encode(s));

/** Unsigned big-endian integer bytes, minimally encoded as a positive INTEGER. */
export function uint(bytes: Uint8Array): Der {
  let i = 0;
  while (i < bytes.length - 1 && bytes[i] === 0) i++;
  const trimmed = bytes.subarray(i);
  return tlv(0x02, trimmed[0] & 0x80 ? concatBytes(new Uint8Array([0]), trimmed) : trimmed);
}

export const smallInt = (n: number): Der => uint(new Uint8Array([n]));

export function oid(dotted: string): Der {
  const parts = dotted.split(".").map(Number);
  const bytes = [parts[0] * 40 + parts[1]];
  for (const part of parts.slice(2)) {
    const chunk = [part & 0x7f];
    for (let v = Math.floor(part / 128); v > 0; v = Math.floor(v / 128)) {
      chunk.unshift(0x80 | (v & 0x7f));
    }
    bytes.push(...chunk);
  }
  return tlv(0x06, new Uint8Array(bytes));
}

/** BIT STRING with the given number of unused trailing bits. */
export const bits = (bytes: Uint8Array, unused = 0): Der =>
  tlv(0x03, new Uint8Array([unused]), bytes);

/** UTCTime (valid for years 1950–2049), as X.509 requires for such dates. */
export function utcTime(date: Date): Der {
  const pad = (n: number) => String(n).padStart(2, "0");
  const s = pad(date.getUTCFullYear() % 100) + pad(date.getUTCMonth() + 1) +
    pad(date.getUTCDate()) +
    pad(date.getUTCHours()) + pad(date.getUTCMinutes()) + pad(date.getUTCSeconds()) + "Z";
  return tlv(0x17, new TextEncoder().encode(s));
}
