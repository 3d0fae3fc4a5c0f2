// Minimal DER reader for RSA public keys: enough to check modulus size and
// exponent synchronously (so frame validation never awaits or throws), and to
// wrap PKCS#1 `RSA PUBLIC KEY` bodies into SubjectPublicKeyInfo.

import { bits, seq, tlv } from "./der.ts";

/** The fields of an RSA public key read from DER. */
export interface RsaPublicKeyFields {
  /** DER SubjectPublicKeyInfo bytes. */
  spki: Uint8Array;
  /** Modulus length in bits. */
  modulusBits: number;
  /** Public exponent, or -1 when it does not fit in 32 bits. */
  exponent: number;
}

interface Tlv {
  tag: number;
  start: number; // first content byte
  end: number; // one past the last content byte
}

function readTlv(buf: Uint8Array, pos: number, limit: number): Tlv | null {
  if (pos + 2 > limit) return null;
  const tag = buf[pos];
  let len = buf[pos + 1];
  let start = pos + 2;
  if (len & 0x80) {
    const count = len & 0x7f;
    if (count === 0 || count > 3 || start + count > limit) return null;
    len = 0;
    for (let i = 0; i < count; i++) len = len * 256 + buf[start + i];
    start += count;
  }
  const end = start + len;
  return end > limit ? null : { tag, start, end };
}

// OID 1.2.840.113549.1.1.1 (rsaEncryption), DER-encoded content bytes.
const RSA_OID = [0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01];

function isRsaAlgorithm(buf: Uint8Array, alg: Tlv): boolean {
  const oid = readTlv(buf, alg.start, alg.end);
  if (!oid || oid.tag !== 0x06 || oid.end - oid.start !== RSA_OID.length) return false;
  for (let i = 0; i < RSA_OID.length; i++) if (buf[oid.start + i] !== RSA_OID[i]) return false;
  return true;
}

/** Reads `SEQUENCE { INTEGER n, INTEGER e }` spanning exactly [start, end). */
function readRsaPublicKey(
  buf: Uint8Array,
  start: number,
  end: number,
): { modulusBits: number; exponent: number } | null {
  const seq = readTlv(buf, start, end);
  if (!seq || seq.tag !== 0x30 || seq.end !== end) return null;
  const n = readTlv(buf, seq.start, seq.end);
  if (!n || n.tag !== 0x02 || n.end <= n.start) return null;
  const e = readTlv(buf, n.end, seq.end);
  if (!e || e.tag !== 0x02 || e.end !== seq.end || e.end <= e.start) return null;
  // Negative integers are malformed keys.
  if (buf[n.start] & 0x80 || buf[e.start] & 0x80) return null;
  let i = n.start;
  while (i < n.end && buf[i] === 0) i++;
  const modulusBits = i === n.end ? 0 : (n.end - i - 1) * 8 + (32 - Math.clz32(buf[i]));
  let j = e.start;
  while (j < e.end && buf[j] === 0) j++;
  let exponent = 0;
  if (e.end - j > 4) exponent = -1;
  else for (; j < e.end; j++) exponent = exponent * 256 + buf[j];
  return { modulusBits, exponent };
}

/**
 * Parses DER SubjectPublicKeyInfo holding an RSA key. Returns null for any
 * other structure, including trailing bytes.
 */
export function readRsaSpki(spki: Uint8Array): RsaPublicKeyFields | null {
  const outer = readTlv(spki, 0, spki.length);
  if (!outer || outer.tag !== 0x30 || outer.end !== spki.length) return null;
  const alg = readTlv(spki, outer.start, outer.end);
  if (!alg || alg.tag !== 0x30 || !isRsaAlgorithm(spki, alg)) return null;
  const bits = readTlv(spki, alg.end, outer.end);
  if (!bits || bits.tag !== 0x03 || bits.end !== outer.end || spki[bits.start] !== 0) return null;
  const key = readRsaPublicKey(spki, bits.start + 1, bits.end);
  return key && { spki, ...key };
}

/** Wraps a PKCS#1 `RSAPublicKey` into SubjectPublicKeyInfo, or null if malformed. */
export function wrapPkcs1(pkcs1: Uint8Array): RsaPublicKeyFields | null {
  if (!readRsaPublicKey(pkcs1, 0, pkcs1.length)) return null;
  const algorithm = seq(tlv(0x06, new Uint8Array(RSA_OID)), tlv(0x05));
  const spki = seq(algorithm, bits(pkcs1));
  return readRsaSpki(spki);
}
